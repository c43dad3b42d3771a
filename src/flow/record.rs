//! The flow record: everything rdsflows keeps about one conversation, and the per-packet update
//! of its counters and TCP state. Owns the record layout (the stable contract every later stage
//! reads); must not look at payload bytes or decide services.

use std::net::IpAddr;

use serde::Serialize;

use super::key::{protocol, FlowKey, Side};
use super::state::{self, ConnState, EndpointState, History};
use crate::capture::PacketPos;
use crate::classify::details::FlowDetails;
use crate::classify::verdict::FlowClass;
use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};
use crate::decode::TcpSegment;
use crate::time::{Duration, Timestamp};

/// Which way a packet travels, named after the roles (Suricata's to_server / to_client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the originator (client) to the responder (server).
    ToServer,
    /// From the responder back to the originator.
    ToClient,
}

impl Direction {
    /// 0 for to-server, 1 for to-client: an index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Self::ToServer => 0,
            Self::ToClient => 1,
        }
    }
}

/// Counters for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    /// Packets (IP fragments count one each).
    pub packets: u64,
    /// IP bytes on the wire, headers included (Zeek's `*_ip_bytes`).
    pub ip_bytes: u64,
    /// Transport payload bytes on the wire (Zeek's `*_bytes`).
    pub payload_bytes: u64,
    /// OR of every TCP flag byte sent.
    pub tcp_flags: u8,
    /// True once `next_seq` holds a sequence number. A flag beside a bare `u32` rather than an
    /// `Option<u32>`, whose tag takes four bytes: 40 bytes per direction instead of 48 (issue 6).
    has_next_seq: bool,
    /// One past the highest TCP sequence number seen with data (for retransmission detection).
    next_seq: u32,
    retransmits: u32,
    zero_windows: u32,
}

/// How an ICMP error answered the flow (RFC 792 type 3; RFC 4443 type 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IcmpReject {
    /// The unreachable code (e.g. 3 port unreachable, 13 administratively prohibited).
    pub code: u8,
    /// True when the error was ICMPv6.
    pub v6: bool,
    /// The router or host that sent the error.
    pub from: IpAddr,
}

/// Why a flow record was closed and written out (YAF-style end reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No packet for longer than the transport's idle timeout.
    Idle,
    /// Both sides finished (FIN/RST) and the closing grace period passed.
    Closed,
    /// A new connection reused the same addresses and ports.
    PortReuse,
    /// The flow table was full (`--max-flows`): the least recently active flows were evicted.
    Evicted,
    /// The input ended with the flow still open.
    EndOfInput,
}

impl EndReason {
    /// Every reason, in report order.
    pub const ALL: [Self; 5] = [
        Self::Idle,
        Self::Closed,
        Self::PortReuse,
        Self::Evicted,
        Self::EndOfInput,
    ];

    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Closed => "closed",
            Self::PortReuse => "port_reuse",
            Self::Evicted => "evicted",
            Self::EndOfInput => "end_of_input",
        }
    }
}

/// What became of the flow, in the words an administrator uses about a firewall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The responder answered (handshake completed, or any reply).
    Answered,
    /// Refused: a RST answered the SYN, or an ICMP unreachable came back.
    Rejected,
    /// Nothing came back.
    Unanswered,
}

impl Outcome {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Rejected => "rejected",
            Self::Unanswered => "unanswered",
        }
    }
}

/// A stable flow id in Zeek's style (`C` + 11 base62 digits), derived from the client and
/// server endpoints, the protocol and the first-packet time (FNV-1a), so the same capture gives
/// the same ids on every run and machine, and a record can name another flow by those values.
pub fn uid_of(
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    proto: u8,
    first_seen: Timestamp,
) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(client.0.to_string().as_bytes());
    feed(&client.1.to_be_bytes());
    feed(server.0.to_string().as_bytes());
    feed(&server.1.to_be_bytes());
    feed(&[proto]);
    feed(&first_seen.as_nanos().to_be_bytes());
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut uid = String::with_capacity(12);
    uid.push('C');
    for _ in 0..11 {
        let digit = usize::try_from(hash % 62).unwrap_or_default();
        uid.push(char::from(ALPHABET.get(digit).copied().unwrap_or(b'0')));
        hash /= 62;
    }
    uid
}

/// One bidirectional flow.
#[derive(Clone, Debug)]
pub struct FlowRecord {
    /// The canonical key.
    pub key: FlowKey,
    /// Which side of the key originated the flow (the client).
    pub client_side: Side,
    /// True when the originator was inferred against the first packet's direction (Zeek's `^`).
    pub flipped: bool,
    /// Capture time of the first packet.
    pub first_seen: Timestamp,
    /// Capture time of the last packet.
    pub last_seen: Timestamp,
    /// Where the first packet is in the input.
    pub first_pos: PacketPos,
    /// Counters per direction, indexed by [`Direction::index`].
    pub dirs: [DirStats; 2],
    /// TCP endpoint states (originator, responder).
    pub tcp_states: [EndpointState; 2],
    /// Zeek history letters.
    pub history: History,
    /// SYNs the originator sent again before any answer (retries of one attempt).
    pub syn_retries: u32,
    /// The originator's initial sequence number, when a SYN was seen.
    pub client_isn: Option<u32>,
    /// An ICMP error that refused this flow. Boxed: few flows have one, and inline it would
    /// add 11 bytes to every record (issue 6); the box is allocated once, for the first error.
    pub icmp_reject: Option<Box<IcmpReject>>,
    /// For ICMP flows: the originator's message type (reported as `id.orig_p`, as Zeek does).
    pub icmp_type: Option<u8>,
    /// What the classifier concluded.
    pub class: FlowClass,
    /// The protocol fields the payload checks extracted: `None` until a check recognises
    /// something, then allocated once for the flow (the per-packet path of a flow whose details
    /// exist allocates nothing).
    pub details: Option<Box<FlowDetails>>,
}

impl FlowRecord {
    /// A new record; `client_side` is who originated it.
    pub fn new(
        key: FlowKey,
        client_side: Side,
        flipped: bool,
        ts: Timestamp,
        pos: PacketPos,
    ) -> Self {
        let mut history = History::default();
        if flipped {
            history.once(b'^');
        }
        Self {
            key,
            client_side,
            flipped,
            first_seen: ts,
            last_seen: ts,
            first_pos: pos,
            dirs: [DirStats::default(); 2],
            tcp_states: [EndpointState::Inactive; 2],
            history,
            syn_retries: 0,
            client_isn: None,
            icmp_reject: None,
            icmp_type: None,
            class: FlowClass::default(),
            details: None,
        }
    }

    /// The flow's stable id (see [`uid_of`]).
    pub fn uid(&self) -> String {
        uid_of(
            self.client(),
            self.server(),
            self.key.protocol,
            self.first_seen,
        )
    }

    /// The direction of a packet sent by `side`.
    pub fn direction(&self, side: Side) -> Direction {
        if side == self.client_side {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Client address and port.
    pub fn client(&self) -> (IpAddr, u16) {
        self.key.endpoint(self.client_side)
    }

    /// Server address and port.
    pub fn server(&self) -> (IpAddr, u16) {
        self.key.endpoint(self.client_side.flip())
    }

    /// Counters to the server.
    pub fn to_server(&self) -> &DirStats {
        &self.dirs[0]
    }

    /// Counters to the client.
    pub fn to_client(&self) -> &DirStats {
        &self.dirs[1]
    }

    /// Total packets both ways.
    pub fn packets(&self) -> u64 {
        self.dirs[0].packets + self.dirs[1].packets
    }

    /// Total IP bytes both ways.
    pub fn ip_bytes(&self) -> u64 {
        self.dirs[0].ip_bytes + self.dirs[1].ip_bytes
    }

    /// Time from first to last packet.
    pub fn duration(&self) -> Duration {
        self.last_seen.since(self.first_seen)
    }

    /// True for TCP flows.
    pub fn is_tcp(&self) -> bool {
        self.key.protocol == protocol::TCP
    }

    /// True once the responder has sent a SYN+ACK (or, midstream, anything at all).
    pub fn responder_answered(&self) -> bool {
        if self.is_tcp() {
            self.dirs[1].tcp_flags & (SYN | ACK) == (SYN | ACK)
                || (self.client_isn.is_none() && self.dirs[1].packets > 0)
        } else {
            self.dirs[1].packets > 0
        }
    }

    /// True when both sides are done (FIN or RST) after an answered handshake.
    pub fn is_closed(&self) -> bool {
        let [o, r] = self.tcp_states;
        let done = |s: EndpointState| matches!(s, EndpointState::Closed | EndpointState::Reset);
        self.is_tcp()
            && self.responder_answered()
            && ((done(o) && done(r)) || o == EndpointState::Reset || r == EndpointState::Reset)
    }

    /// Zeek's `conn_state`.
    pub fn conn_state(&self) -> ConnState {
        match self.key.protocol {
            protocol::TCP => state::tcp_conn_state(
                self.tcp_states[0],
                self.tcp_states[1],
                self.dirs[0].payload_bytes,
                self.dirs[1].payload_bytes,
                self.history.text().as_str(),
            ),
            _ => state::udp_conn_state(self.dirs[0].packets > 0, self.dirs[1].packets > 0),
        }
    }

    /// Answered, rejected or unanswered.
    pub fn outcome(&self) -> Outcome {
        if self.is_tcp() && self.conn_state() == ConnState::REJ {
            Outcome::Rejected
        } else if self.responder_answered() {
            Outcome::Answered
        } else if self.icmp_reject.is_some() {
            Outcome::Rejected
        } else {
            Outcome::Unanswered
        }
    }

    /// Counts a packet of `ip_len` bytes carrying `payload_len` bytes, sent in `dir`.
    pub fn count(&mut self, dir: Direction, ts: Timestamp, ip_len: u32, payload_len: u32) {
        let stats = &mut self.dirs[dir.index()];
        stats.packets += 1;
        stats.ip_bytes += u64::from(ip_len);
        stats.payload_bytes += u64::from(payload_len);
        // Capture time can go backwards between packets (clock steps, merged interfaces); the
        // flow's span only ever grows.
        self.last_seen = self.last_seen.max(ts);
        self.first_seen = self.first_seen.min(ts);
        if payload_len > 0 {
            let upper = dir == Direction::ToServer;
            self.history.once(if upper { b'D' } else { b'd' });
        }
    }

    /// Applies a TCP segment sent in `dir`: states, history, retries, retransmissions.
    pub fn apply_tcp(&mut self, dir: Direction, segment: &TcpSegment<'_>) {
        let upper = dir == Direction::ToServer;
        let letter = |c: u8| if upper { c.to_ascii_uppercase() } else { c };
        let flags = segment.flags;
        let (syn, ack, fin, rst) = (
            flags & SYN != 0,
            flags & ACK != 0,
            flags & FIN != 0,
            flags & RST != 0,
        );

        if syn && (fin || rst) {
            self.history.once(letter(b'q'));
        }
        if syn && !ack {
            if dir == Direction::ToServer {
                match self.client_isn {
                    None => self.client_isn = Some(segment.seq),
                    // Any further SYN before an answer is a retry of the same attempt.
                    Some(_) if !self.responder_answered() => self.syn_retries += 1,
                    Some(_) => {}
                }
            }
            self.history.once(letter(b's'));
        } else if syn && ack {
            self.history.once(letter(b'h'));
        } else if fin {
            self.history.once(letter(b'f'));
        } else if rst {
            self.history.once(letter(b'r'));
        } else if ack && segment.payload_len == 0 {
            self.history.once(letter(b'a'));
        }
        if rst && (syn || fin) {
            self.history.once(letter(b'r'));
        }
        if fin && (syn || rst) {
            self.history.once(letter(b'f'));
        }

        let stats = &mut self.dirs[dir.index()];
        stats.tcp_flags |= flags;
        if segment.window == 0 && !rst && !syn {
            stats.zero_windows += 1;
            let n = stats.zero_windows;
            self.history.counted(letter(b'w'), n);
        }
        if segment.payload_len > 0 {
            let end = segment.seq.wrapping_add(segment.payload_len);
            let stats = &mut self.dirs[dir.index()];
            // RFC 1982-style serial comparison: data ending at or before what was already seen
            // is a retransmission.
            if stats.has_next_seq && (stats.next_seq.wrapping_sub(end) as i32) >= 0 {
                stats.retransmits += 1;
                let n = stats.retransmits;
                self.history.counted(letter(b't'), n);
            } else {
                stats.next_seq = end;
                stats.has_next_seq = true;
            }
        }

        let [orig, resp] = &mut self.tcp_states;
        match dir {
            Direction::ToServer => state::tcp_transition(orig, resp, flags),
            Direction::ToClient => state::tcp_transition(resp, orig, flags),
        }
    }

    /// Retransmitted data segments per direction.
    pub fn retransmits(&self) -> [u32; 2] {
        [self.dirs[0].retransmits, self.dirs[1].retransmits]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 6: the flow table's memory is mostly records (a million flows, 216 MB of them). A
    /// field added to the record should be a deliberate choice, so this fails when it grows.
    #[test]
    fn flow_record_stays_small() {
        assert_eq!(size_of::<DirStats>(), 40);
        assert_eq!(size_of::<FlowRecord>(), 216);
    }
}
