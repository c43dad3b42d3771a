//! The flow table: packets in, bidirectional flow records out. Owns flow creation, orientation
//! (who is the client), idle timeouts on capture time, the `max_flows` cap with eviction, IP
//! fragment attribution and tying ICMP errors to the flow they quote. Must not read the clock,
//! look at payload bytes, or decide services (it hands the payload to the caller, who classifies).

use std::hash::BuildHasher;
use std::net::IpAddr;

use hashbrown::{HashMap, HashTable};
/// foldhash (hashbrown's own hash) with a fresh random seed per table: attacker-chosen addresses
/// and ports cannot be aimed at one probe sequence without the seed, and rdsflows never shows
/// its hashes or table order, so there is nothing to learn the seed from (foldhash's README:
/// "minimally DoS-resistant", against attackers who cannot observe the hashes). SipHash, std's
/// keyed hash, was 6 % of a one-thread `analyze` (issue 6); foldhash costs a few nanoseconds.
type KeyedHasher = foldhash::quality::RandomState;

use super::key::{protocol, FlowKey, Side};
use super::record::{Direction, EndReason, FlowRecord, IcmpReject};
use super::slab::{Slab, MAX_SLOTS};
use crate::capture::PacketPos;
use crate::decode::tcp_flags::{ACK, SYN};
use crate::decode::{IcmpMessage, IpPacket, Transport};
use crate::time::{Duration, Timestamp};

/// Limits of the flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowTableConfig {
    /// At most this many live flows; beyond it the least recently active are evicted.
    pub max_flows: usize,
    /// TCP idle timeout.
    pub tcp_idle: Duration,
    /// How long a TCP flow lingers after both sides closed (late ACKs, retransmitted FINs).
    pub tcp_closed: Duration,
    /// UDP idle timeout.
    pub udp_idle: Duration,
    /// ICMP idle timeout.
    pub icmp_idle: Duration,
}

impl Default for FlowTableConfig {
    /// TCP 15 minutes: longer than Zeek's 5 because RDP sessions sit idle for minutes and a
    /// shorter timeout splits one session into several (reference 2.6). UDP 2 minutes (NFStream),
    /// ICMP 1 minute (Zeek), closed TCP 30 seconds.
    fn default() -> Self {
        Self {
            max_flows: 1_000_000,
            tcp_idle: Duration::from_secs(15 * 60),
            tcp_closed: Duration::from_secs(30),
            udp_idle: Duration::from_secs(120),
            icmp_idle: Duration::from_secs(60),
        }
    }
}

/// Server ports known from the signature set: a midstream flow is oriented towards them.
#[derive(Clone, Debug)]
pub struct ServicePorts {
    tcp: Vec<u64>,
    udp: Vec<u64>,
}

impl Default for ServicePorts {
    fn default() -> Self {
        Self {
            tcp: vec![0; 1024],
            udp: vec![0; 1024],
        }
    }
}

impl ServicePorts {
    /// Marks a server port.
    pub fn insert(&mut self, protocol: u8, port: u16) {
        let bits = if protocol == protocol::TCP {
            &mut self.tcp
        } else {
            &mut self.udp
        };
        if let Some(word) = bits.get_mut(usize::from(port / 64)) {
            *word |= 1 << (port % 64);
        }
    }

    /// True for a marked port, or any port below 1024 (the IANA well-known range).
    pub fn contains(&self, protocol: u8, port: u16) -> bool {
        let bits = if protocol == protocol::TCP {
            &self.tcp
        } else {
            &self.udp
        };
        port < 1024
            || bits
                .get(usize::from(port / 64))
                .is_some_and(|word| word & (1 << (port % 64)) != 0)
    }
}

/// Counters the table keeps about itself (reported in the summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended, by reason (index = position in [`EndReason::ALL`]).
    pub ended: [u64; 5],
    /// The most flows alive at once.
    pub peak_flows: u64,
    /// Non-first IP fragments counted toward their flow.
    pub fragments_attributed: u64,
    /// Non-first IP fragments whose first fragment was never seen.
    pub fragments_orphaned: u64,
    /// ICMP unreachable errors tied to the flow they quote.
    pub icmp_errors_tied: u64,
    /// ICMP unreachable errors whose flow was not in the table.
    pub icmp_errors_untied: u64,
    /// The most memory the flow table held at once, in bytes: the record slab's chunks plus the
    /// key index (buckets and control bytes), as allocated (capacity, not just what is used).
    pub peak_table_bytes: u64,
}

/// What the table did with a packet: the flow it belongs to, which way it went, and its payload
/// (borrowed from the packet) for the classifier.
#[derive(Debug)]
pub struct PacketUpdate<'t, 'p> {
    /// The flow, already counted.
    pub flow: &'t mut FlowRecord,
    /// The packet's direction.
    pub dir: Direction,
    /// True when this packet created the flow.
    pub is_new: bool,
    /// Transport payload present in the capture (empty for fragments and ICMP).
    pub payload: &'p [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FragmentKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

/// Fragment bookkeeping is bounded: an attacker sending endless first fragments cannot grow it.
const MAX_FRAGMENT_ENTRIES: usize = 65_536;
/// A fragment arriving later than this after its first fragment is not attributed (RFC 791
/// suggests a 15-second reassembly timer; Linux uses 30).
const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Sweep for idle flows at most once per second of capture time.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// With no packets (a quiet live link), sweep at most this often: flows end at most this late.
const IDLE_SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The flow table.
///
/// Records live in a slab of fixed-size chunks, found through a hash index of `u32` slot ids
/// keyed by the record's `FlowKey` (issue 6: a hash map of whole records kept, at a million flows,
/// two million slots of ~300 bytes, most of them empty; an empty index slot costs 5 bytes).
#[derive(Debug)]
pub struct FlowTable {
    config: FlowTableConfig,
    ports: ServicePorts,
    flows: Slab<FlowRecord>,
    /// Slot ids in `flows`, hashed by their record's key with `hasher`.
    index: HashTable<u32>,
    hasher: KeyedHasher,
    fragments: HashMap<FragmentKey, (FlowKey, Side, Timestamp), KeyedHasher>,
    ended: Vec<(FlowRecord, EndReason)>,
    stats: TableStats,
    now: Timestamp,
    last_sweep: Timestamp,
    packets_since_sweep: u64,
    scratch: Vec<Timestamp>,
}

impl FlowTable {
    /// An empty table.
    pub fn new(config: FlowTableConfig, ports: ServicePorts) -> Self {
        Self {
            config: FlowTableConfig {
                // Slot ids are `u32`: a cap beyond that could not be held in memory anyway.
                max_flows: config.max_flows.clamp(1, MAX_SLOTS),
                ..config
            },
            ports,
            flows: Slab::new(),
            index: HashTable::new(),
            hasher: KeyedHasher::default(),
            fragments: HashMap::with_hasher(KeyedHasher::default()),
            ended: Vec::new(),
            stats: TableStats::default(),
            now: Timestamp::ZERO,
            last_sweep: Timestamp::ZERO,
            packets_since_sweep: 0,
            scratch: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &FlowTableConfig {
        &self.config
    }

    /// Counters about the table.
    pub fn stats(&self) -> &TableStats {
        &self.stats
    }

    /// Live flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when no flow is live.
    pub fn is_empty(&self) -> bool {
        self.flows.len() == 0
    }

    /// A live flow by key.
    pub fn get(&self, key: &FlowKey) -> Option<&FlowRecord> {
        let id = self.find_key(key)?;
        self.flows.get(id)
    }

    /// The slot id of the live flow `key`.
    fn find_key(&self, key: &FlowKey) -> Option<u32> {
        self.find(self.hasher.hash_one(key), key)
    }

    /// The slot id of the live flow `key`, whose hash is `hash`.
    fn find(&self, hash: u64, key: &FlowKey) -> Option<u32> {
        let flows = &self.flows;
        self.index
            .find(hash, |&id| flows.get(id).is_some_and(|f| f.key == *key))
            .copied()
    }

    /// Takes the live flow in slot `id` out of the slab and the index.
    fn take(&mut self, id: u32) -> Option<FlowRecord> {
        let record = self.flows.remove(id)?;
        let hash = self.hasher.hash_one(record.key);
        if let Ok(entry) = self.index.find_entry(hash, |&other| other == id) {
            entry.remove();
        }
        Some(record)
    }

    /// Memory held by the slab and the index now, in bytes.
    fn allocation_size(&self) -> usize {
        self.flows.allocation_size() + self.index.allocation_size()
    }

    /// The capture clock: the latest packet time seen (or given to [`Self::advance`]).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Moves the capture clock forward without sweeping: a sharded run tells each shard's table
    /// the time of the whole input, so every shard judges timeouts on the same clock.
    pub fn set_clock(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
    }

    /// Every flow whose [`end_time`] is earlier than this has ended already (it is the
    /// clock at the last sweep). A caller that reorders ended flows by end time may release
    /// those before it: no later flow will sort before them.
    pub fn swept_through(&self) -> Timestamp {
        self.last_sweep
    }

    /// True when flows have ended since the last [`Self::drain_ended`]: after most packets,
    /// none have, and the caller need not set up a drain.
    pub fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }

    /// Flows that ended since the last call, oldest first within each batch. The caller
    /// classifies and reports them; the buffer is reused, so nothing is allocated per packet.
    pub fn drain_ended(&mut self) -> std::vec::Drain<'_, (FlowRecord, EndReason)> {
        self.ended.drain(..)
    }

    /// Moves capture time forward without a packet: a live source saw nothing for a while and
    /// read `now` from the clock its packet timestamps come from. Flows idle past their timeout
    /// then end (collect them with [`Self::drain_ended`]) although no later packet arrives.
    /// Sweeps at most once per five seconds of capture time; time never goes backwards.
    pub fn advance(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        if self.now.since(self.last_sweep) >= IDLE_SWEEP_INTERVAL {
            self.sweep();
        }
    }

    /// Ends every live flow (the input is over), in order of first packet. Flows already past
    /// their timeout end for that reason, as a sweep at this moment would have ended them:
    /// how a flow ends never depends on when the last sweep happened to run.
    pub fn finish(&mut self) {
        self.sweep();
        let start = self.ended.len();
        self.index.clear();
        for record in self.flows.drain() {
            self.ended.push((record, EndReason::EndOfInput));
            self.stats.ended[reason_index(EndReason::EndOfInput)] += 1;
        }
        sort_batch(&mut self.ended[start..]);
        self.fragments.clear();
    }

    /// Counts an IP packet toward its flow.
    ///
    /// Returns `None` for packets that belong to no flow (ICMP errors, which mark the flow they
    /// quote instead; orphan fragments; other IP protocols).
    pub fn update<'p>(
        &mut self,
        ts: Timestamp,
        pos: PacketPos,
        ip: &IpPacket<'p>,
    ) -> Option<PacketUpdate<'_, 'p>> {
        self.now = self.now.max(ts);
        self.packets_since_sweep += 1;
        self.maybe_sweep();

        let (src_port, dst_port, proto, payload_len, payload) = match ip.transport {
            Transport::Tcp(seg) => (
                seg.src_port,
                seg.dst_port,
                protocol::TCP,
                seg.payload_len,
                seg.payload,
            ),
            Transport::Udp {
                src_port,
                dst_port,
                payload_len,
                payload,
            } => (src_port, dst_port, protocol::UDP, payload_len, payload),
            Transport::Icmp(message) => {
                if message.is_unreachable() {
                    self.tie_icmp_error(ip.src, &message);
                    return None;
                }
                let (a, b) = icmp_ports(&message);
                let proto = if message.v6 {
                    protocol::ICMPV6
                } else {
                    protocol::ICMP
                };
                (a, b, proto, 0, &[][..])
            }
            Transport::Fragment {
                protocol,
                payload_len,
            } => {
                return self.count_fragment(ts, ip, protocol, payload_len);
            }
            Transport::Other { .. } => return None,
        };

        let (key, side) = FlowKey::new(ip.src, src_port, ip.dst, dst_port, proto);
        if let Some(fragment) = ip.fragment.filter(|f| f.first) {
            self.remember_fragment(ip, fragment.id, key, side, ts);
        }

        // Does the packet continue the live flow, or end it and start a new one? One hash and,
        // for a packet of a live flow (nearly all), one probe.
        let hash = self.hasher.hash_one(key);
        let mut live = None;
        if let Some(id) = self.find(hash, &key) {
            let existing = self.flows.get(id)?;
            match self.ends_before(existing, side, ip) {
                Some(reason) => {
                    if let Some(old) = self.take(id) {
                        self.end(old, reason);
                    }
                }
                None => live = Some(id),
            }
        }
        let is_new = live.is_none();
        let id = match live {
            Some(id) => id,
            None => {
                self.make_room();
                let (client_side, flipped) = self.orient(side, ip, src_port, dst_port, proto);
                let mut record = FlowRecord::new(key, client_side, flipped, ts, pos);
                if let Transport::Icmp(m) = ip.transport {
                    record.icmp_type = Some(if flipped {
                        echo_request_type(m.v6)
                    } else {
                        m.icmp_type
                    });
                }
                // Cannot fail: `make_room` keeps live flows below `max_flows` <= `MAX_SLOTS`.
                let id = self.flows.insert(record).ok()?;
                let (flows, hasher) = (&self.flows, &self.hasher);
                self.index.insert_unique(hash, id, |&other| {
                    flows.get(other).map_or(0, |f| hasher.hash_one(f.key))
                });
                self.stats.created += 1;
                self.stats.peak_flows = self.stats.peak_flows.max(self.flows.len() as u64);
                self.stats.peak_table_bytes = self
                    .stats
                    .peak_table_bytes
                    .max(self.allocation_size() as u64);
                id
            }
        };
        let flow = self.flows.get_mut(id)?;
        let dir = flow.direction(side);
        flow.count(dir, ts, ip.ip_len, payload_len);
        if let Transport::Tcp(seg) = &ip.transport {
            flow.apply_tcp(dir, seg);
        }
        Some(PacketUpdate {
            flow,
            dir,
            is_new,
            payload,
        })
    }

    /// Whether `existing` must end before this packet is counted, and why.
    fn ends_before(
        &self,
        existing: &FlowRecord,
        side: Side,
        ip: &IpPacket<'_>,
    ) -> Option<EndReason> {
        // The same test a sweep makes, on the same clock (the latest time seen, not this
        // packet's, which can be earlier): whether a flow timed out never depends on when the
        // sweeps ran, so every sharding of the table ends the same flows the same way.
        if let Some(reason) = expiry(&self.config, self.now, existing) {
            return Some(reason);
        }
        if let Transport::Tcp(seg) = &ip.transport {
            let bare_syn = seg.flags & (SYN | ACK) == SYN;
            // A fresh SYN after an answered connection is a new connection on the same ports;
            // before any answer it is a retry of the same attempt (counted, not a new flow).
            if bare_syn && existing.responder_answered() {
                let same_attempt = existing.direction(side) == Direction::ToServer
                    && existing.client_isn() == Some(seg.seq)
                    && !existing.is_closed();
                if !same_attempt {
                    return Some(EndReason::PortReuse);
                }
            }
        }
        None
    }

    /// Who originated a new flow: the SYN's sender; the receiver of a SYN+ACK; otherwise the
    /// sender, unless only the source port is a known service port (then the capture began
    /// mid-conversation and the first packet is a reply).
    fn orient(
        &self,
        side: Side,
        ip: &IpPacket<'_>,
        src_port: u16,
        dst_port: u16,
        proto: u8,
    ) -> (Side, bool) {
        let flipped = match ip.transport {
            Transport::Tcp(seg) if seg.flags & SYN != 0 => seg.flags & ACK != 0,
            Transport::Icmp(m) => matches!((m.v6, m.icmp_type), (false, 0) | (true, 129)),
            _ => {
                let src_known = self.ports.contains(proto, src_port);
                let dst_known = self.ports.contains(proto, dst_port);
                src_known && !dst_known
            }
        };
        if flipped {
            (side.flip(), true)
        } else {
            (side, false)
        }
    }

    fn tie_icmp_error(&mut self, from: IpAddr, message: &IcmpMessage) {
        let Some(q) = message
            .quoted
            .filter(|q| matches!(q.protocol, protocol::TCP | protocol::UDP))
        else {
            self.stats.icmp_errors_untied += 1;
            return;
        };
        let (key, _) = FlowKey::new(q.src, q.src_port, q.dst, q.dst_port, q.protocol);
        let id = self.find_key(&key);
        match id.and_then(|id| self.flows.get_mut(id)) {
            Some(flow) => {
                flow.set_icmp_reject_once(IcmpReject {
                    code: message.code,
                    v6: message.v6,
                    from,
                });
                self.stats.icmp_errors_tied += 1;
            }
            None => self.stats.icmp_errors_untied += 1,
        }
    }

    fn remember_fragment(
        &mut self,
        ip: &IpPacket<'_>,
        id: u32,
        key: FlowKey,
        side: Side,
        ts: Timestamp,
    ) {
        if self.fragments.len() >= MAX_FRAGMENT_ENTRIES {
            let now = self.now;
            self.fragments
                .retain(|_, (_, _, seen)| now.since(*seen) <= FRAGMENT_TIMEOUT);
            if self.fragments.len() >= MAX_FRAGMENT_ENTRIES {
                self.fragments.clear();
            }
        }
        let fragment_key = FragmentKey {
            src: ip.src,
            dst: ip.dst,
            protocol: key.protocol,
            id,
        };
        self.fragments.insert(fragment_key, (key, side, ts));
    }

    fn count_fragment<'p>(
        &mut self,
        ts: Timestamp,
        ip: &IpPacket<'p>,
        proto: u8,
        payload_len: u32,
    ) -> Option<PacketUpdate<'_, 'p>> {
        let id = ip.fragment?.id;
        let fragment_key = FragmentKey {
            src: ip.src,
            dst: ip.dst,
            protocol: proto,
            id,
        };
        let found = self
            .fragments
            .get(&fragment_key)
            .filter(|(_, _, seen)| ts.since(*seen) <= FRAGMENT_TIMEOUT)
            .map(|(key, side, _)| (*key, *side));
        let Some((key, side)) = found else {
            self.stats.fragments_orphaned += 1;
            return None;
        };
        let id = self.find_key(&key);
        let Some(flow) = id.and_then(|id| self.flows.get_mut(id)) else {
            self.stats.fragments_orphaned += 1;
            return None;
        };
        self.stats.fragments_attributed += 1;
        let dir = flow.direction(side);
        flow.count(dir, ts, ip.ip_len, payload_len);
        Some(PacketUpdate {
            flow,
            dir,
            is_new: false,
            payload: &[],
        })
    }

    fn end(&mut self, record: FlowRecord, reason: EndReason) {
        self.stats.ended[reason_index(reason)] += 1;
        self.ended.push((record, reason));
    }

    /// Ends idle flows. Runs at most once per second of capture time and, on a big table, only
    /// after enough packets to pay for the walk (amortised O(1) per packet); flows that expire
    /// between sweeps are still ended exactly when their next packet arrives (`ends_before`).
    fn maybe_sweep(&mut self) {
        let due = self.now.since(self.last_sweep) >= SWEEP_INTERVAL
            && (self.packets_since_sweep >= (self.flows.len() as u64 / 4).max(1024)
                || self.now.since(self.last_sweep) >= Duration::from_secs(60));
        if due {
            self.sweep();
        }
    }

    fn sweep(&mut self) {
        let now = self.now;
        let start = self.ended.len();
        let config = self.config;
        // A walk of the slab in id order: sequential memory, unlike a walk of the index.
        for id in slot_ids(&self.flows) {
            let reason = self.flows.get(id).and_then(|f| expiry(&config, now, f));
            if let Some(reason) = reason {
                if let Some(flow) = self.take(id) {
                    self.end(flow, reason);
                }
            }
        }
        sort_batch(&mut self.ended[start..]);
        self.fragments
            .retain(|_, (_, _, seen)| now.since(*seen) <= FRAGMENT_TIMEOUT);
        self.last_sweep = now;
        self.packets_since_sweep = 0;
    }

    /// Keeps the table under `max_flows` with one walk per batch: flows past their timeout end
    /// as idle or closed, and the least recently active eighth is evicted. The eviction
    /// threshold is the batch's quantile of a sample of the table (every slab slot on a table no
    /// larger than the sample, else slots at an even stride over the whole slab, so old and
    /// recent slots are both represented), so no sort of the whole table is needed; a batch
    /// therefore costs one O(n) walk paid for by n/8 insertions.
    fn make_room(&mut self) {
        if self.flows.len() < self.config.max_flows {
            return;
        }
        let len = self.flows.len();
        let batch = (self.config.max_flows / 8).max(1);
        let stride = if len <= EVICTION_SAMPLE {
            1
        } else {
            (self.flows.slots() / EVICTION_SAMPLE).max(1)
        };
        self.scratch.clear();
        self.scratch.extend(
            self.flows
                .iter()
                .filter(|(id, _)| (*id as usize).is_multiple_of(stride))
                .take(EVICTION_SAMPLE)
                .map(|(_, f)| f.last_seen),
        );
        // The batch-th smallest of the sample, scaled: on a table no larger than the sample this
        // is exactly the batch oldest flows.
        let rank = (batch * self.scratch.len())
            .div_ceil(len)
            .saturating_sub(1)
            .min(self.scratch.len().saturating_sub(1));
        let (_, nth, _) = self.scratch.select_nth_unstable(rank);
        let threshold = *nth;
        let (now, config) = (self.now, self.config);
        let start = self.ended.len();
        let mut taken = 0;
        for id in slot_ids(&self.flows) {
            let Some(flow) = self.flows.get(id) else {
                continue;
            };
            let reason = match expiry(&config, now, flow) {
                Some(reason) => reason,
                None if taken < batch && flow.last_seen <= threshold => {
                    taken += 1;
                    EndReason::Evicted
                }
                None => continue,
            };
            if let Some(flow) = self.take(id) {
                self.end(flow, reason);
            }
        }
        sort_batch(&mut self.ended[start..]);
    }
}

/// Entries sampled to estimate the eviction threshold.
const EVICTION_SAMPLE: usize = 4096;

/// Every slot id of the slab, live or free (a range: the walk may take flows out as it goes).
fn slot_ids(flows: &Slab<FlowRecord>) -> std::ops::Range<u32> {
    0..u32::try_from(flows.slots()).unwrap_or(u32::MAX)
}

/// Why a flow has timed out at capture time `now`, if it has.
fn expiry(config: &FlowTableConfig, now: Timestamp, flow: &FlowRecord) -> Option<EndReason> {
    let idle = now.since(flow.last_seen);
    if flow.is_closed() && idle > config.tcp_closed {
        Some(EndReason::Closed)
    } else if idle > timeout_for(config, flow) {
        Some(EndReason::Idle)
    } else {
        None
    }
}

/// When a flow that ended for `reason` ended, by a rule that depends only on its own packets
/// and the clock `now` at which it ended, never on when a sweep noticed it: the moment its
/// timeout ran out (last packet plus the timeout, exactly the instant after which `expiry`
/// says so), or, for a port reuse or an eviction, `now`; the end of input sorts last. Flows
/// whose end time is before [`FlowTable::swept_through`] have all ended already.
pub fn end_time(
    config: &FlowTableConfig,
    now: Timestamp,
    flow: &FlowRecord,
    reason: EndReason,
) -> Timestamp {
    match reason {
        EndReason::Closed => flow.last_seen.plus(config.tcp_closed),
        EndReason::Idle => flow.last_seen.plus(timeout_for(config, flow)),
        EndReason::PortReuse | EndReason::Evicted => now,
        EndReason::EndOfInput => Timestamp::MAX,
    }
}

fn timeout_for(config: &FlowTableConfig, flow: &FlowRecord) -> Duration {
    match flow.key.protocol {
        protocol::TCP => config.tcp_idle,
        protocol::UDP => config.udp_idle,
        _ => config.icmp_idle,
    }
}

fn reason_index(reason: EndReason) -> usize {
    EndReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or(0)
}

/// Orders a batch of ended flows by first packet, then key: the order of the table's walk (slab
/// slots, reused as flows end) must never leak into the output.
fn sort_batch(batch: &mut [(FlowRecord, EndReason)]) {
    batch.sort_unstable_by_key(|(a, _)| (a.first_seen, a.key));
}

/// ICMP flows are keyed like Zeek's: echo request and reply share the identifier as both
/// "ports"; other messages use (type, code).
fn icmp_ports(message: &IcmpMessage) -> (u16, u16) {
    match message.echo_id {
        Some(id) => (id, id),
        None => (u16::from(message.icmp_type), u16::from(message.code)),
    }
}

fn echo_request_type(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        8
    }
}

#[cfg(test)]
mod tests;
