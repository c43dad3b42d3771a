//! The conversation builder: turns "this client talks to that server like so" into Ethernet
//! frames with consistent TCP sequence numbers, ACKs, IPv4 identification, TTLs and timing, and
//! keeps a ledger of every flow it created (what `describe` reports).
//! Owns packet framing (through etherparse's `PacketBuilder`) and the TCP/UDP/ICMP state
//! machines; must not know about any scenario or any protocol above the transport, must not read
//! the clock, and must not write files (that is `write_pcap`).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use etherparse::{
    icmpv4::DestUnreachableHeader, ArpHardwareId, ArpOperation, ArpPacket, EtherType, Icmpv4Type,
    IpHeaders, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder, TcpHeader,
};

use super::rng::Rng;
use super::{ExpectedFlow, Frame};
use crate::time::{Duration, Timestamp};

/// Windows' default TCP/IP TTL and IPv6 hop limit (the `DefaultTTL` registry value).
pub const WINDOWS_TTL: u8 = 128;
/// The smallest Ethernet frame without FCS; shorter frames are zero padded (IEEE 802.3 3.2.7).
const MIN_ETHERNET_FRAME: usize = 60;
/// Maximum segment size on a 1500-byte Ethernet path.
pub const TCP_MSS: usize = 1460;
/// The options a Windows 10/11/Server 2019+ SYN and SYN+ACK carry: MSS 1460, NOP, window scale 8,
/// NOP, NOP, SACK permitted (RFC 9293 3.2, RFC 7323 2, RFC 2018 2).
const WINDOWS_SYN_OPTIONS: [u8; 12] = [
    0x02, 0x04, 0x05, 0xB4, 0x01, 0x03, 0x03, 0x08, 0x01, 0x01, 0x04, 0x02,
];
/// Windows' delayed-ACK timer (TcpAckFrequency default: every second segment or 200 ms).
const DELAYED_ACK_NS: i64 = 200_000_000;
/// The HSRP virtual MAC of the core router every off-subnet frame passes (Cisco 0000.0c9f.f001).
pub const ROUTER_MAC: [u8; 6] = [0x00, 0x00, 0x0C, 0x9F, 0xF0, 0x01];

/// One network endpoint as the capture sees it: its address, the MAC its frames carry, and the
/// TTL its packets arrive with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Host {
    /// IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// Source MAC of its frames (the router's for hosts behind it).
    pub mac: [u8; 6],
    /// TTL / hop limit as captured (128 for a local Windows host; less for remote ones).
    pub ttl: u8,
    /// True for hosts reached across the internet (longer round-trip times).
    pub remote: bool,
}

impl Host {
    /// A Windows machine on a local segment (TTL 128, LAN round-trip times).
    pub fn local_windows(ip: IpAddr, mac: [u8; 6]) -> Self {
        Self {
            ip,
            mac,
            ttl: WINDOWS_TTL,
            remote: false,
        }
    }

    /// A local machine with another TTL (e.g. 64 for Linux appliances).
    pub fn local(ip: IpAddr, mac: [u8; 6], ttl: u8) -> Self {
        Self {
            ip,
            mac,
            ttl,
            remote: false,
        }
    }

    /// A host on the internet: its frames carry the router's MAC, its TTL is what is left after
    /// the hops.
    pub fn remote(ip: IpAddr, ttl: u8) -> Self {
        Self {
            ip,
            mac: ROUTER_MAC,
            ttl,
            remote: true,
        }
    }
}

/// Which way a payload travels, named after the roles (STYLE 3.4), not src/dst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the connection's initiator to the listener.
    ToServer,
    /// From the listener back to the initiator.
    ToClient,
}

/// How a TCP session ends inside the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// Client FIN+ACK, server FIN+ACK, client ACK.
    Fin,
    /// The server aborts with RST+ACK.
    RstByServer,
    /// The client aborts with RST+ACK (what many Windows clients do on disconnect).
    RstByClient,
    /// Still open when the capture ends.
    Open,
}

/// One application payload in a conversation, sent `gap` after the previous packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Who sends it.
    pub dir: Direction,
    /// Idle time before it (think time, server processing, network delay).
    pub gap: Duration,
    /// The bytes (split into MSS-sized segments for TCP).
    pub data: Vec<u8>,
}

impl Exchange {
    /// An exchange sent `gap_us` microseconds after the previous packet.
    pub fn new(dir: Direction, gap_us: i64, data: Vec<u8>) -> Self {
        Self {
            dir,
            gap: Duration::from_nanos(gap_us.saturating_mul(1000)),
            data,
        }
    }
}

/// TCP flag bits as the builder keeps them.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
    rst: bool,
}

/// A transport-layer packet waiting to be framed.
#[derive(Clone, Debug)]
enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: Flags,
        window: u16,
        payload: Vec<u8>,
    },
    Udp {
        sport: u16,
        dport: u16,
        payload: Vec<u8>,
    },
    Echo {
        request: bool,
        id: u16,
        seq: u16,
    },
    /// ICMP destination unreachable (port) quoting the IP datagram of packet number `quoted`.
    PortUnreachable {
        quoted: usize,
    },
    Arp {
        reply: bool,
    },
}

/// A packet with its endpoints and time, framed only in `finish` (so IPv4 identification can
/// follow capture order per host, as Windows' global counter does).
#[derive(Clone, Debug)]
struct Pending {
    ts: Timestamp,
    /// Creation number: orders equal timestamps and names the packet an ICMP error quotes.
    seq: usize,
    src: Host,
    dst: Host,
    l4: L4,
}

/// A flow in the ledger, with the time of its first packet for ordering.
#[derive(Clone, Debug)]
struct LedgerEntry {
    first: Timestamp,
    flow: ExpectedFlow,
}

/// The seeded conversation builder.
///
/// Every method appends packets and one ledger entry; `finish` sorts everything by time (stable,
/// so equal timestamps keep creation order) and frames it. Same seed + same calls = same bytes.
/// A long run can instead take the frames earlier than a time with [`Self::take_frames`] as it
/// goes, so only the packets of conversations still in progress stay in memory.
#[derive(Debug)]
pub struct Synth {
    rng: Rng,
    /// Packets not framed yet.
    packets: Vec<Pending>,
    /// Packets created so far (framed or not): the next `Pending::seq`.
    pushed: usize,
    ledger: Vec<LedgerEntry>,
    used_ports: HashSet<(IpAddr, u16)>,
    icmp_seq: HashMap<IpAddr, u16>,
    /// Next IPv4 identification per sending host, kept across `take_frames` calls.
    ip_ids: HashMap<IpAddr, u16>,
    /// IP datagrams an ICMP error not framed yet will quote, by `Pending::seq`.
    kept_ip: HashMap<usize, Vec<u8>>,
}

/// The per-direction state of one TCP connection.
struct TcpConv {
    client: Host,
    server: Host,
    cport: u16,
    sport: u16,
    /// Next sequence number each side sends: [client, server].
    next_seq: [u32; 2],
    /// Segments each side has received and not yet acknowledged: [client, server].
    unacked: [u32; 2],
    /// The conversation's clock: time of the last packet emitted.
    now: Timestamp,
    rtt: i64,
    packets: u64,
}

impl Synth {
    /// A builder whose every random choice (ISNs, ports, payload bytes, jitter) follows `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            packets: Vec::new(),
            pushed: 0,
            ledger: Vec::new(),
            used_ports: HashSet::new(),
            icmp_seq: HashMap::new(),
            ip_ids: HashMap::new(),
            kept_ip: HashMap::new(),
        }
    }

    /// The builder's random generator, for payloads and timing decided by the caller.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Number of packets (frames) so far, less those already taken with [`Self::take_frames`].
    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }

    /// Number of flows (ledger entries) so far.
    pub fn flow_count(&self) -> usize {
        self.ledger.len()
    }

    /// Marks `port` on `host` as taken (a listening port), so `ephemeral_port` never returns it.
    pub fn reserve_port(&mut self, host: &Host, port: u16) {
        self.used_ports.insert((host.ip, port));
    }

    /// A free port in Windows' dynamic range 49152–65535 (RFC 6335 6) for `host`.
    pub fn ephemeral_port(&mut self, host: &Host) -> u16 {
        self.ephemeral_port_in(host, 49_152, 65_535)
    }

    /// A free port in `lo..=hi` for `host` (a widened dynamic range, KB 929851). Loops until it
    /// draws a free one: the caller keeps the ports it asks for below the range's size.
    pub fn ephemeral_port_in(&mut self, host: &Host, lo: u16, hi: u16) -> u16 {
        loop {
            let p = self.rng.range(u64::from(lo), u64::from(hi)) as u16;
            if self.used_ports.insert((host.ip, p)) {
                return p;
            }
        }
    }

    /// A round-trip time for a path: 0.2–0.6 ms on the LAN, 18–45 ms across the internet.
    fn rtt_ns(&mut self, a: &Host, b: &Host) -> i64 {
        if a.remote || b.remote {
            self.rng.range(18_000_000, 45_000_000) as i64
        } else {
            self.rng.range(200_000, 600_000) as i64
        }
    }

    /// A small host processing delay (20–120 µs).
    fn think_ns(&mut self) -> i64 {
        self.rng.range(20_000, 120_000) as i64
    }

    fn push(&mut self, ts: Timestamp, src: Host, dst: Host, l4: L4) -> usize {
        let seq = self.pushed;
        self.pushed += 1;
        self.packets.push(Pending {
            ts,
            seq,
            src,
            dst,
            l4,
        });
        seq
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the full 5-tuple + time + verdict is the record"
    )]
    fn record(
        &mut self,
        first: Timestamp,
        client: &Host,
        server: &Host,
        transport: &'static str,
        client_port: u16,
        server_port: u16,
        outcome: &'static str,
        packets: u64,
    ) {
        self.ledger.push(LedgerEntry {
            first,
            flow: ExpectedFlow {
                client: client.ip,
                server: server.ip,
                transport,
                client_port,
                server_port,
                outcome,
                packets,
            },
        });
    }

    // -----------------------------------------------------------------------------------------
    // TCP (RFC 9293 3.5 connection establishment, 3.6 closing, 3.10 RST).
    // -----------------------------------------------------------------------------------------

    /// A complete TCP conversation: three-way handshake with Windows SYN options, the exchanges
    /// (gaps chosen automatically: a round trip plus processing), then `close`.
    /// Returns the time of the last packet.
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the lead's documented API"
    )]
    pub fn tcp_session(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        exchanges: &[(Direction, Vec<u8>)],
        close: Close,
    ) -> Timestamp {
        let rtt = self.rtt_ns(client, server);
        let timed: Vec<Exchange> = exchanges
            .iter()
            .map(|(dir, data)| {
                let gap = rtt / 2 + self.think_ns() + self.rng.range(0, 400_000) as i64;
                Exchange {
                    dir: *dir,
                    gap: Duration::from_nanos(gap),
                    data: data.clone(),
                }
            })
            .collect();
        self.tcp_session_with_rtt(
            client,
            server,
            client_port,
            server_port,
            start,
            &timed,
            close,
            rtt,
        )
    }

    /// Like [`Synth::tcp_session`], with the caller's gaps (interactive sessions over minutes).
    #[expect(clippy::too_many_arguments, reason = "mirrors tcp_session")]
    pub fn tcp_session_timed(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        exchanges: &[Exchange],
        close: Close,
    ) -> Timestamp {
        let rtt = self.rtt_ns(client, server);
        self.tcp_session_with_rtt(
            client,
            server,
            client_port,
            server_port,
            start,
            exchanges,
            close,
            rtt,
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "internal worker of the two above"
    )]
    fn tcp_session_with_rtt(
        &mut self,
        client: &Host,
        server: &Host,
        cport: u16,
        sport: u16,
        start: Timestamp,
        exchanges: &[Exchange],
        close: Close,
        rtt: i64,
    ) -> Timestamp {
        let c_isn = self.rng.next_u32();
        let s_isn = self.rng.next_u32();
        let mut conv = TcpConv {
            client: *client,
            server: *server,
            cport,
            sport,
            next_seq: [c_isn, s_isn],
            unacked: [0, 0],
            now: start,
            rtt,
            packets: 0,
        };
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        self.tcp_emit(&mut conv, Direction::ToServer, 0, syn, Vec::new(), 64_240);
        conv.next_seq[0] = conv.next_seq[0].wrapping_add(1);
        let synack = Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        };
        self.tcp_emit(
            &mut conv,
            Direction::ToClient,
            rtt,
            synack,
            Vec::new(),
            65_535,
        );
        conv.next_seq[1] = conv.next_seq[1].wrapping_add(1);
        let ack = Flags {
            ack: true,
            ..Flags::default()
        };
        let think = self.think_ns();
        self.tcp_emit(&mut conv, Direction::ToServer, think, ack, Vec::new(), 1026);

        for (i, ex) in exchanges.iter().enumerate() {
            let sender = ex.dir;
            let receiver = flip(sender);
            let segments: Vec<&[u8]> = ex.data.chunks(TCP_MSS).collect();
            let last = segments.len().saturating_sub(1);
            for (k, seg) in segments.iter().enumerate() {
                let gap = if k == 0 {
                    ex.gap.as_nanos().max(1_000)
                } else if conv.client.remote || conv.server.remote {
                    self.rng.range(100_000, 900_000) as i64
                } else {
                    self.rng.range(12_000, 40_000) as i64
                };
                let flags = Flags {
                    ack: true,
                    psh: k == last,
                    ..Flags::default()
                };
                let window = window_for(sender);
                self.tcp_emit(&mut conv, sender, gap, flags, seg.to_vec(), window);
                conv.next_seq[idx(sender)] =
                    conv.next_seq[idx(sender)].wrapping_add(seg.len() as u32);
                conv.unacked[idx(sender)] = 0;
                conv.unacked[idx(receiver)] += 1;
                if conv.unacked[idx(receiver)] >= 2 && k != last {
                    // RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: ACK at least every second full segment.
                    let d = self.rng.range(10_000, 60_000) as i64;
                    self.tcp_emit(
                        &mut conv,
                        receiver,
                        d,
                        ack,
                        Vec::new(),
                        window_for(receiver),
                    );
                    conv.unacked[idx(receiver)] = 0;
                }
            }
            if conv.unacked[idx(receiver)] > 0 {
                let next = exchanges.get(i + 1);
                let piggyback = matches!(next, Some(n) if n.dir == receiver && n.gap.as_nanos() <= DELAYED_ACK_NS);
                if !piggyback {
                    let next_gap = next.map_or(i64::MAX, |n| n.gap.as_nanos());
                    let delay = if conv.unacked[idx(receiver)] >= 2 {
                        conv.rtt / 2 + self.think_ns()
                    } else {
                        DELAYED_ACK_NS
                    };
                    let delay = delay.min(next_gap / 2).max(1_000);
                    self.tcp_emit(
                        &mut conv,
                        receiver,
                        delay,
                        ack,
                        Vec::new(),
                        window_for(receiver),
                    );
                    conv.unacked[idx(receiver)] = 0;
                }
            }
        }

        match close {
            Close::Fin => {
                let fin = Flags {
                    fin: true,
                    ack: true,
                    ..Flags::default()
                };
                let d = self.rng.range(1_000_000, 30_000_000) as i64;
                self.tcp_emit(&mut conv, Direction::ToServer, d, fin, Vec::new(), 1026);
                conv.next_seq[0] = conv.next_seq[0].wrapping_add(1);
                let d = conv.rtt + self.think_ns();
                self.tcp_emit(&mut conv, Direction::ToClient, d, fin, Vec::new(), 8212);
                conv.next_seq[1] = conv.next_seq[1].wrapping_add(1);
                let d = self.think_ns();
                self.tcp_emit(&mut conv, Direction::ToServer, d, ack, Vec::new(), 1026);
            }
            Close::RstByServer | Close::RstByClient => {
                let rst = Flags {
                    rst: true,
                    ack: true,
                    ..Flags::default()
                };
                let dir = if close == Close::RstByServer {
                    Direction::ToClient
                } else {
                    Direction::ToServer
                };
                let d = self.rng.range(1_000_000, 30_000_000) as i64;
                self.tcp_emit(&mut conv, dir, d, rst, Vec::new(), 0);
            }
            Close::Open => {}
        }
        self.record(
            start,
            client,
            server,
            "tcp",
            cport,
            sport,
            "answered",
            conv.packets,
        );
        conv.now
    }

    fn tcp_emit(
        &mut self,
        conv: &mut TcpConv,
        dir: Direction,
        delay_ns: i64,
        flags: Flags,
        payload: Vec<u8>,
        window: u16,
    ) {
        conv.now = conv.now.plus(Duration::from_nanos(delay_ns.max(1_000)));
        let (src, dst, sport, dport) = match dir {
            Direction::ToServer => (conv.client, conv.server, conv.cport, conv.sport),
            Direction::ToClient => (conv.server, conv.client, conv.sport, conv.cport),
        };
        let seq = conv.next_seq[idx(dir)];
        let ack = if flags.ack {
            conv.next_seq[idx(flip(dir))]
        } else {
            0
        };
        self.push(
            conv.now,
            src,
            dst,
            L4::Tcp {
                sport,
                dport,
                seq,
                ack,
                flags,
                window,
                payload,
            },
        );
        conv.packets += 1;
    }

    /// A connection attempt refused by the server's stack: SYN, then RST+ACK (RFC 9293 3.10.7.1:
    /// a segment to a CLOSED port is answered with a reset acknowledging it).
    pub fn tcp_rejected(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
    ) -> Timestamp {
        let isn = self.rng.next_u32();
        self.syn(client, server, client_port, server_port, start, isn);
        let rtt = self.rtt_ns(client, server);
        let t = start.plus(Duration::from_nanos(rtt));
        let rst = Flags {
            rst: true,
            ack: true,
            ..Flags::default()
        };
        self.push(
            t,
            *server,
            *client,
            L4::Tcp {
                sport: server_port,
                dport: client_port,
                seq: 0,
                ack: isn.wrapping_add(1),
                flags: rst,
                window: 0,
                payload: Vec::new(),
            },
        );
        self.record(
            start,
            client,
            server,
            "tcp",
            client_port,
            server_port,
            "rejected",
            2,
        );
        t
    }

    /// A connection attempt nobody answers (a silent drop): the SYN and `retries` retransmissions
    /// with the same ISN after 1 s, 2 s, 4 s, … (Windows' initial RTO of 1 s, doubled each time;
    /// TcpMaxSynRetransmissions defaults to 2).
    pub fn tcp_unanswered(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        retries: u32,
    ) -> Timestamp {
        let isn = self.rng.next_u32();
        let mut t = start;
        for attempt in 0..=retries {
            if attempt > 0 {
                let backoff = 1_000_000_000i64 << (attempt - 1).min(10);
                t = t.plus(Duration::from_nanos(
                    backoff + self.rng.range(0, 15_000_000) as i64,
                ));
            }
            self.syn(client, server, client_port, server_port, t, isn);
        }
        self.record(
            start,
            client,
            server,
            "tcp",
            client_port,
            server_port,
            "unanswered",
            u64::from(retries) + 1,
        );
        t
    }

    fn syn(
        &mut self,
        client: &Host,
        server: &Host,
        cport: u16,
        sport: u16,
        t: Timestamp,
        isn: u32,
    ) {
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        self.push(
            t,
            *client,
            *server,
            L4::Tcp {
                sport: cport,
                dport: sport,
                seq: isn,
                ack: 0,
                flags: syn,
                window: 64_240,
                payload: Vec::new(),
            },
        );
    }

    // -----------------------------------------------------------------------------------------
    // UDP (RFC 768) and ICMP (RFC 792).
    // -----------------------------------------------------------------------------------------

    /// A UDP conversation of several datagrams in either direction, each `gap` after the
    /// previous one. Answered when the server sent at least one datagram.
    /// Payloads longer than 65,507 bytes (the IPv4 UDP maximum) are cut.
    pub fn udp_flow(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        datagrams: &[Exchange],
    ) -> Timestamp {
        let mut t = start;
        let mut answered = false;
        for (i, d) in datagrams.iter().enumerate() {
            if i > 0 {
                t = t.plus(Duration::from_nanos(d.gap.as_nanos().max(1_000)));
            }
            let (src, dst, sp, dp) = match d.dir {
                Direction::ToServer => (client, server, client_port, server_port),
                Direction::ToClient => {
                    answered = true;
                    (server, client, server_port, client_port)
                }
            };
            let mut payload = d.data.clone();
            payload.truncate(65_507);
            self.push(
                t,
                *src,
                *dst,
                L4::Udp {
                    sport: sp,
                    dport: dp,
                    payload,
                },
            );
        }
        let outcome = if answered { "answered" } else { "unanswered" };
        self.record(
            start,
            client,
            server,
            "udp",
            client_port,
            server_port,
            outcome,
            datagrams.len() as u64,
        );
        t
    }

    /// One request datagram and, if given, its answer one round trip later.
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the lead's documented API"
    )]
    pub fn udp_exchange(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        request: Vec<u8>,
        response: Option<Vec<u8>>,
    ) -> Timestamp {
        let mut d = vec![Exchange::new(Direction::ToServer, 0, request)];
        if let Some(r) = response {
            let rtt = self.rtt_ns(client, server) + self.think_ns();
            d.push(Exchange {
                dir: Direction::ToClient,
                gap: Duration::from_nanos(rtt),
                data: r,
            });
        }
        self.udp_flow(client, server, client_port, server_port, start, &d)
    }

    /// A datagram nobody answers, sent again `retries` times after 1 s, 2 s, 4 s, ….
    #[expect(
        clippy::too_many_arguments,
        reason = "5-tuple + time + payload + retries"
    )]
    pub fn udp_unanswered(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        payload: &[u8],
        retries: u32,
    ) -> Timestamp {
        let payloads = vec![payload.to_vec(); retries as usize + 1];
        self.udp_unanswered_each(client, server, client_port, server_port, start, payloads)
    }

    /// Like [`Synth::udp_unanswered`] when each retransmission differs (DTLS puts a new record
    /// sequence number on every retransmitted ClientHello, RFC 4347 4.1).
    pub fn udp_unanswered_each(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        payloads: Vec<Vec<u8>>,
    ) -> Timestamp {
        let d: Vec<Exchange> = payloads
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let backoff = if i == 0 {
                    0
                } else {
                    (1_000_000_000i64 << (i - 1).min(10)) + self.rng.range(0, 15_000_000) as i64
                };
                Exchange {
                    dir: Direction::ToServer,
                    gap: Duration::from_nanos(backoff),
                    data: p,
                }
            })
            .collect();
        self.udp_flow(client, server, client_port, server_port, start, &d)
    }

    /// A UDP datagram to a port nobody listens on, answered by ICMP destination unreachable,
    /// code 3 port unreachable, quoting the datagram (RFC 792; RFC 1122 3.2.2.1, 4.1.3.1).
    /// The ledger counts the UDP datagram as the flow's one packet, outcome `icmp-rejected`; the
    /// ICMP error is an extra frame.
    pub fn icmp_port_unreachable(
        &mut self,
        client: &Host,
        server: &Host,
        client_port: u16,
        server_port: u16,
        start: Timestamp,
        payload: Vec<u8>,
    ) -> Timestamp {
        let quoted = self.push(
            start,
            *client,
            *server,
            L4::Udp {
                sport: client_port,
                dport: server_port,
                payload,
            },
        );
        let rtt = self.rtt_ns(client, server);
        let t = start.plus(Duration::from_nanos(rtt));
        self.push(t, *server, *client, L4::PortUnreachable { quoted });
        self.record(
            start,
            client,
            server,
            "udp",
            client_port,
            server_port,
            "icmp-rejected",
            1,
        );
        t
    }

    /// `count` ICMP echo requests one second apart, each answered (RFC 792), with Windows'
    /// identifier 1 and a per-host sequence counter. Recorded as transport `icmp`, port 0.
    pub fn icmp_echo(
        &mut self,
        client: &Host,
        server: &Host,
        start: Timestamp,
        count: u16,
    ) -> Timestamp {
        let mut t = start;
        for i in 0..count {
            if i > 0 {
                t = t.plus(Duration::from_nanos(
                    1_000_000_000 + self.rng.range(0, 8_000_000) as i64,
                ));
            }
            let counter = self.icmp_seq.entry(client.ip).or_insert(1);
            let seq = *counter;
            *counter = counter.wrapping_add(1);
            self.push(
                t,
                *client,
                *server,
                L4::Echo {
                    request: true,
                    id: 1,
                    seq,
                },
            );
            let rtt = self.rtt_ns(client, server);
            self.push(
                t.plus(Duration::from_nanos(rtt)),
                *server,
                *client,
                L4::Echo {
                    request: false,
                    id: 1,
                    seq,
                },
            );
        }
        self.record(
            start,
            client,
            server,
            "icmp",
            0,
            0,
            "answered",
            u64::from(count) * 2,
        );
        t
    }

    /// An ARP request (broadcast) from `asker` for `target`'s address and the unicast reply
    /// (RFC 826). Not a flow: no ledger entry. Both hosts must be IPv4.
    pub fn arp(&mut self, asker: &Host, target: &Host, start: Timestamp) -> Timestamp {
        self.push(start, *asker, *target, L4::Arp { reply: false });
        let t = start.plus(Duration::from_nanos(self.rng.range(80_000, 400_000) as i64));
        self.push(t, *target, *asker, L4::Arp { reply: true });
        t
    }

    // -----------------------------------------------------------------------------------------
    // Finishing: order, IPv4 identification, framing.
    // -----------------------------------------------------------------------------------------

    /// The flows recorded so far, ordered by first packet (creation order among equal times).
    pub fn flows(&self) -> Vec<ExpectedFlow> {
        let mut order: Vec<usize> = (0..self.ledger.len()).collect();
        order.sort_by_key(|&i| (self.ledger[i].first, i));
        order
            .into_iter()
            .map(|i| self.ledger[i].flow.clone())
            .collect()
    }

    /// Frames every packet, sorted by time. IPv4 identification counts up per sending host in
    /// capture order, starting from a random value (Windows keeps one global counter).
    pub fn finish(mut self) -> (Vec<Frame>, Vec<ExpectedFlow>) {
        let flows = self.flows();
        let frames = self.take_frames(None);
        (frames, flows)
    }

    /// Frames the packets earlier than `before` (all of them with `None`), sorted by time, and
    /// forgets them. The caller promises that nothing it adds later is earlier than `before`:
    /// then taking frames in steps gives the same frames as one `finish` would for the same
    /// calls, except that IPv4 identification draws its random starts in a different order.
    pub fn take_frames(&mut self, before: Option<Timestamp>) -> Vec<Frame> {
        let Self {
            rng,
            packets,
            ip_ids,
            kept_ip,
            ..
        } = self;
        let quoted: HashSet<usize> = packets
            .iter()
            .filter_map(|p| match p.l4 {
                L4::PortUnreachable { quoted } => Some(quoted),
                _ => None,
            })
            .collect();
        packets.sort_unstable_by_key(|p| (p.ts, p.seq));
        let cut = before.map_or(packets.len(), |t| packets.partition_point(|p| p.ts < t));
        let mut frames = Vec::with_capacity(cut);
        for p in packets.drain(..cut) {
            let id = {
                let counter = ip_ids
                    .entry(p.src.ip)
                    .or_insert_with(|| rng.range(0x0400, 0x7FFF) as u16);
                let id = *counter;
                *counter = counter.wrapping_add(1);
                id
            };
            let quote = match p.l4 {
                L4::PortUnreachable { quoted } => kept_ip.remove(&quoted),
                _ => None,
            };
            if let Some(data) = frame_packet(&p, id, quote.as_deref()) {
                if quoted.contains(&p.seq) {
                    // The IP datagram starts after the 14-byte Ethernet II header.
                    let ip_len = ip_datagram_len(&data);
                    kept_ip.insert(
                        p.seq,
                        data.get(14..14 + ip_len).unwrap_or_default().to_vec(),
                    );
                }
                frames.push(Frame { ts: p.ts, data });
            }
        }
        frames
    }
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn flip(dir: Direction) -> Direction {
    match dir {
        Direction::ToServer => Direction::ToClient,
        Direction::ToClient => Direction::ToServer,
    }
}

/// Window field after the handshake (scaled by 2^8): a client's 262 KiB, a server's 2 MiB.
fn window_for(dir: Direction) -> u16 {
    match dir {
        Direction::ToServer => 1026,
        Direction::ToClient => 8212,
    }
}

/// Total length of the IPv4/IPv6 datagram in an Ethernet frame (without padding).
fn ip_datagram_len(frame: &[u8]) -> usize {
    match etherparse::SlicedPacket::from_ethernet(frame) {
        Ok(s) => match s.net {
            Some(etherparse::NetSlice::Ipv4(v4)) => usize::from(v4.header().total_len()),
            Some(etherparse::NetSlice::Ipv6(v6)) => 40 + usize::from(v6.header().payload_length()),
            _ => 0,
        },
        Err(_) => 0,
    }
}

/// Frames one packet with etherparse. `None` only if etherparse refuses the sizes, which the
/// builder rules out (TCP segments ≤ MSS, UDP payloads ≤ 65,507 bytes).
fn frame_packet(p: &Pending, ip_id: u16, quote: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(128);
    if let L4::Arp { reply } = p.l4 {
        let (IpAddr::V4(sip), IpAddr::V4(tip)) = (p.src.ip, p.dst.ip) else {
            return None;
        };
        let (op, dst_mac, target_mac) = if reply {
            (ArpOperation::REPLY, p.dst.mac, p.dst.mac)
        } else {
            (ArpOperation::REQUEST, [0xFF; 6], [0u8; 6])
        };
        let arp = ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            op,
            &p.src.mac,
            &sip.octets(),
            &target_mac,
            &tip.octets(),
        )
        .ok()?;
        PacketBuilder::ethernet2(p.src.mac, dst_mac)
            .arp(arp)
            .write(&mut buf)
            .ok()?;
        pad(&mut buf);
        return Some(buf);
    }
    let proto = match p.l4 {
        L4::Tcp { .. } => IpNumber::TCP,
        L4::Udp { .. } => IpNumber::UDP,
        _ => IpNumber::ICMP,
    };
    let ip = match (p.src.ip, p.dst.ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = Ipv4Header::new(0, p.src.ttl, proto, s.octets(), d.octets()).ok()?;
            h.identification = ip_id;
            // Windows sets DF on TCP (path MTU discovery), not on its UDP and ICMP.
            h.dont_fragment = matches!(p.l4, L4::Tcp { .. });
            IpHeaders::Ipv4(h, Default::default())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => IpHeaders::Ipv6(
            Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::try_new(u32::from(ip_id) & 0xF_FFFF).ok()?,
                payload_length: 0,
                next_header: proto,
                hop_limit: p.src.ttl,
                source: s.octets(),
                destination: d.octets(),
            },
            Default::default(),
        ),
        _ => return None,
    };
    let eth = PacketBuilder::ethernet2(p.src.mac, p.dst.mac).ip(ip);
    match &p.l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            payload,
        } => {
            let mut th = TcpHeader::new(*sport, *dport, *seq, *window);
            th.syn = flags.syn;
            th.fin = flags.fin;
            th.rst = flags.rst;
            th.psh = flags.psh;
            th.ack = flags.ack;
            th.acknowledgment_number = *ack;
            if flags.syn {
                th.set_options_raw(&WINDOWS_SYN_OPTIONS).ok()?;
            }
            eth.tcp_header(th).write(&mut buf, payload).ok()?;
        }
        L4::Udp {
            sport,
            dport,
            payload,
        } => eth.udp(*sport, *dport).write(&mut buf, payload).ok()?,
        L4::Echo { request, id, seq } => {
            let b = if *request {
                eth.icmpv4_echo_request(*id, *seq)
            } else {
                eth.icmpv4_echo_reply(*id, *seq)
            };
            b.write(&mut buf, super::payload::WINDOWS_PING_DATA).ok()?;
        }
        L4::PortUnreachable { .. } => eth
            .icmpv4(Icmpv4Type::DestinationUnreachable(
                DestUnreachableHeader::Port,
            ))
            .write(&mut buf, quote.unwrap_or_default())
            .ok()?,
        L4::Arp { .. } => return None,
    }
    pad(&mut buf);
    Some(buf)
}

/// IEEE 802.3: frames shorter than 60 bytes (without FCS) are padded with zeros.
fn pad(buf: &mut Vec<u8>) {
    if buf.len() < MIN_ETHERNET_FRAME {
        buf.resize(MIN_ETHERNET_FRAME, 0);
    }
}
