//! Synthetic capture traffic: a deterministic generator of realistic Remote Desktop Services
//! captures, for the samples, the integration tests and the benchmarks.
//!
//! Owns the scenarios (`scenarios`), the seeded conversation builder (`builder`), the protocol
//! payload bytes (`rdp`, `payload`) and the list of flows each scenario is known to contain
//! (`describe`), so tests can assert the analyser's findings against ground truth.
//! Must not read the clock, the OS's randomness or any file: a scenario name fully decides every
//! byte. Must not be used by `decode`, `flow` or `classify` (they analyse captures; this makes
//! them).
//!
//! Payloads are real protocol bytes, each builder citing its specification; what would be
//! encrypted on the wire (TLS application data, Kerberos ciphertexts, SMB3 encrypted messages) is
//! random bytes inside correct framing.

pub mod bench;
pub mod builder;
pub mod flood;
pub mod payload;
pub mod rdp;
pub mod rng;
mod scenarios;

use std::io;
use std::net::IpAddr;

use crate::capture::writer::PcapWriter;
use crate::capture::LinkType;
use crate::time::Timestamp;

pub use builder::{Close, Direction, Exchange, Host, Synth};
pub use rng::Rng;

/// The snapshot length written into generated pcap headers (tcpdump's default).
pub const SNAPLEN: u32 = 262_144;

/// One generated Ethernet II frame and its capture time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture timestamp.
    pub ts: Timestamp,
    /// The whole frame, from the destination MAC on (no FCS).
    pub data: Vec<u8>,
}

/// One flow a scenario contains, as ground truth for tests: who opened it, to which service, and
/// how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpectedFlow {
    /// The initiator (sent the first SYN or datagram).
    pub client: IpAddr,
    /// The responder.
    pub server: IpAddr,
    /// `"tcp"`, `"udp"` or `"icmp"`.
    pub transport: &'static str,
    /// The initiator's port (0 for ICMP). Added to the lead's sketch so a flow can be matched by
    /// its full 5-tuple.
    pub client_port: u16,
    /// The service port (0 for ICMP echo).
    pub server_port: u16,
    /// `"answered"` (SYN+ACK or a reply datagram seen), `"rejected"` (RST+ACK to the SYN),
    /// `"unanswered"` (no reply at all) or `"icmp-rejected"` (ICMP port unreachable).
    pub outcome: &'static str,
    /// Frames of this 5-tuple in both directions. For `icmp-rejected`, the UDP datagrams only:
    /// the ICMP error that answers each is an extra frame.
    pub packets: u64,
}

/// The scenarios `generate` and `describe` know, in a stable order.
pub fn scenario_names() -> &'static [&'static str] {
    scenarios::NAMES
}

/// Generates the frames of scenario `name`, sorted by timestamp; `None` for an unknown name.
pub fn generate(name: &str) -> Option<Vec<Frame>> {
    scenarios::build(name).map(|s| s.finish().0)
}

/// The flows scenario `name` contains, ordered by their first packet; `None` for an unknown name.
pub fn describe(name: &str) -> Option<Vec<ExpectedFlow>> {
    scenarios::build(name).map(|s| s.flows())
}

/// Writes `frames` as a classic pcap (nanosecond timestamps, LINKTYPE_ETHERNET, snaplen 262144).
///
/// # Errors
/// Any error from `out`.
pub fn write_pcap<W: io::Write>(frames: &[Frame], out: W) -> io::Result<()> {
    let mut w = PcapWriter::new(out, LinkType::ETHERNET, SNAPLEN)?;
    for f in frames {
        let len = u32::try_from(f.data.len()).unwrap_or(u32::MAX);
        w.write_packet(f.ts, &f.data, len)?;
    }
    w.finish()?;
    Ok(())
}

/// The generated part of a scenario's section in `samples/README.md`: a one-line summary
/// (frames, pcap size, flows by outcome) and the flow table; `None` for an unknown name.
pub fn readme_section(name: &str) -> Option<String> {
    let (frames, flows) = scenarios::build(name)?.finish();
    let mut pcap = Vec::new();
    write_pcap(&frames, &mut pcap).ok()?;
    let count = |o: &str| flows.iter().filter(|f| f.outcome == o).count();
    let span = match (frames.first(), frames.last()) {
        (Some(a), Some(b)) => b.ts.since(a.ts).as_secs_f64(),
        _ => 0.0,
    };
    Some(format!(
        "{} frames, {} bytes as pcap, {:.0} s of capture time; {} flows: {} answered, {} rejected, \
         {} unanswered, {} icmp-rejected.\n\n{}",
        frames.len(),
        pcap.len(),
        span,
        flows.len(),
        count("answered"),
        count("rejected"),
        count("unanswered"),
        count("icmp-rejected"),
        flows_markdown(&flows)
    ))
}

/// Renders flows as the Markdown table `samples/README.md` carries for each generated file
/// (one row per flow, in `describe` order).
pub fn flows_markdown(flows: &[ExpectedFlow]) -> String {
    let mut out = String::from(
        "| # | client | client port | server | transport | server port | outcome | packets |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (i, f) in flows.iter().enumerate() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            i + 1,
            f.client,
            f.client_port,
            f.server,
            f.transport,
            f.server_port,
            f.outcome,
            f.packets
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::IpAddr;

    use etherparse::{Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};

    use super::*;

    /// Capture start of every scenario: 2026-11-02T08:00:00Z.
    const T0: i64 = 1_793_606_400;

    fn pcap_bytes(name: &str) -> Vec<u8> {
        let frames = generate(name).unwrap();
        let mut out = Vec::new();
        write_pcap(&frames, &mut out).unwrap();
        out
    }

    /// What a test needs of one frame.
    #[derive(Debug)]
    struct Seen<'a> {
        src: IpAddr,
        dst: IpAddr,
        kind: &'static str,
        sport: u16,
        dport: u16,
        tcp: Option<etherparse::TcpHeaderSlice<'a>>,
        payload: &'a [u8],
        icmp_error: bool,
        icmp_echo_request: Option<bool>,
    }

    fn parse(frame: &[u8]) -> Option<Seen<'_>> {
        let s = SlicedPacket::from_ethernet(frame).unwrap();
        let (src, dst) = match s.net? {
            NetSlice::Ipv4(v4) => (
                IpAddr::V4(v4.header().source_addr()),
                IpAddr::V4(v4.header().destination_addr()),
            ),
            NetSlice::Ipv6(v6) => (
                IpAddr::V6(v6.header().source_addr()),
                IpAddr::V6(v6.header().destination_addr()),
            ),
            NetSlice::Arp(_) => return None,
        };
        let mut seen = Seen {
            src,
            dst,
            kind: "",
            sport: 0,
            dport: 0,
            tcp: None,
            payload: &[],
            icmp_error: false,
            icmp_echo_request: None,
        };
        match s.transport? {
            TransportSlice::Tcp(t) => {
                seen.kind = "tcp";
                seen.sport = t.source_port();
                seen.dport = t.destination_port();
                seen.payload = t.payload();
                seen.tcp = Some(etherparse::TcpHeaderSlice::from_slice(t.header_slice()).unwrap());
            }
            TransportSlice::Udp(u) => {
                seen.kind = "udp";
                seen.sport = u.source_port();
                seen.dport = u.destination_port();
                seen.payload = u.payload();
            }
            TransportSlice::Icmpv4(i) => {
                seen.kind = "icmp";
                match i.icmp_type() {
                    Icmpv4Type::EchoRequest(_) => seen.icmp_echo_request = Some(true),
                    Icmpv4Type::EchoReply(_) => seen.icmp_echo_request = Some(false),
                    _ => seen.icmp_error = true,
                }
            }
            _ => return None,
        }
        Some(seen)
    }

    #[test]
    fn generation_is_byte_for_byte_deterministic() {
        for name in scenario_names() {
            assert_eq!(pcap_bytes(name), pcap_bytes(name), "{name}");
        }
    }

    #[test]
    fn unknown_scenario_is_none() {
        assert!(generate("no-such-scenario").is_none());
        assert!(describe("no-such-scenario").is_none());
    }

    #[test]
    fn every_frame_reparses_and_is_sorted() {
        for name in scenario_names() {
            let frames = generate(name).unwrap();
            assert!(
                frames.windows(2).all(|w| w[0].ts <= w[1].ts),
                "{name} sorted"
            );
            for (i, f) in frames.iter().enumerate() {
                assert!(f.data.len() >= 60, "{name} frame {i} padded");
                SlicedPacket::from_ethernet(&f.data)
                    .unwrap_or_else(|e| panic!("{name} frame {}: {e}", i + 1));
            }
        }
    }

    #[test]
    fn main_sample_size_and_span_are_as_promised() {
        let frames = generate("rds-deployment").unwrap();
        assert!(
            (2_000..=6_000).contains(&frames.len()),
            "{} packets",
            frames.len()
        );
        let bytes = pcap_bytes("rds-deployment").len();
        assert!(bytes < 1_500_000, "{bytes} bytes");
        let first = frames.first().unwrap().ts.as_nanos();
        let last = frames.last().unwrap().ts.as_nanos();
        assert!(first >= T0 * 1_000_000_000);
        assert!(last <= (T0 + 610) * 1_000_000_000, "ends {last}");
        assert!(last >= (T0 + 540) * 1_000_000_000, "ends {last}");
        for small in ["rds-firewall-misconfigured", "rds-incident", "rds-attack"] {
            let n = generate(small).unwrap().len();
            assert!(n < frames.len() && n > 500, "{small}: {n}");
        }
    }

    #[test]
    fn tcp_sequence_and_ack_numbers_are_consistent() {
        // One session with a multi-segment payload in each direction, then every TCP flow of
        // the main scenario.
        let mut s = Synth::new(9);
        let c = Host::local_windows("10.0.0.1".parse().unwrap(), [2, 0, 0, 0, 0, 1]);
        let v = Host::local_windows("10.0.0.2".parse().unwrap(), [2, 0, 0, 0, 0, 2]);
        let ex = vec![
            (Direction::ToServer, vec![1u8; 3000]),
            (Direction::ToClient, vec![2u8; 100]),
            (Direction::ToClient, vec![3u8; 5000]),
            (Direction::ToServer, vec![4u8; 10]),
        ];
        s.tcp_session(
            &c,
            &v,
            50_000,
            443,
            Timestamp::from_parts(1, 0),
            &ex,
            Close::Fin,
        );
        let (frames, flows) = s.finish();
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].packets as usize, frames.len());
        let client_bytes = check_tcp(&frames);
        assert_eq!(client_bytes, 3010);

        check_tcp(&generate("rds-deployment").unwrap());
    }

    /// Checks every TCP flow in `frames`: each segment's seq is the sender's next sequence number
    /// (SYN retransmissions excepted), ACKs never acknowledge unsent data and never go back.
    /// Returns the client payload bytes of the first flow.
    fn check_tcp(frames: &[Frame]) -> u64 {
        #[derive(Default)]
        struct Side {
            next: Option<u32>,
            last_ack: Option<u32>,
            bytes: u64,
        }
        let mut flows: HashMap<(IpAddr, u16, IpAddr, u16), Side> = HashMap::new();
        let mut first_key = None;
        for f in frames {
            let Some(p) = parse(&f.data) else { continue };
            let Some(t) = p.tcp else { continue };
            let key = (p.src, p.sport, p.dst, p.dport);
            let rev = (p.dst, p.dport, p.src, p.sport);
            if t.rst() {
                continue; // resets carry seq 0 (to a SYN) or the current seq; not tracked
            }
            if first_key.is_none() {
                first_key = Some(key);
            }
            let peer_next = flows.get(&rev).and_then(|s| s.next);
            let side = flows.entry(key).or_default();
            match side.next {
                None => side.next = Some(t.sequence_number()),
                Some(n) if t.syn() && !t.ack() && t.sequence_number().wrapping_add(1) == n => {
                    continue; // SYN retransmission with the same ISN
                }
                Some(n) => assert_eq!(t.sequence_number(), n, "seq of {key:?}"),
            }
            let len = p.payload.len() as u32 + u32::from(t.syn()) + u32::from(t.fin());
            side.next = side.next.map(|n| n.wrapping_add(len));
            side.bytes += p.payload.len() as u64;
            if t.ack() {
                let peer_next = peer_next.expect("ACK before the peer sent anything");
                assert!(
                    peer_next.wrapping_sub(t.acknowledgment_number()) < 1 << 30,
                    "{key:?} acknowledges unsent data"
                );
                if let Some(prev) = side.last_ack {
                    assert!(
                        t.acknowledgment_number().wrapping_sub(prev) < 1 << 30,
                        "{key:?} ACK went back"
                    );
                }
                side.last_ack = Some(t.acknowledgment_number());
            }
        }
        first_key.map_or(0, |k| flows[&k].bytes)
    }

    /// The first TCP payload sent to `port` by `client` in scenario `name`.
    fn first_payload(name: &str, client: &str, port: u16, from_server: bool) -> Vec<u8> {
        let client: IpAddr = client.parse().unwrap();
        let frames = generate(name).unwrap();
        frames
            .iter()
            .filter_map(|f| {
                parse(&f.data).map(|p| (p.src, p.dst, p.sport, p.dport, p.kind, p.payload.to_vec()))
            })
            .find(|(src, dst, sport, dport, kind, payload)| {
                *kind == "tcp"
                    && !payload.is_empty()
                    && if from_server {
                        *dst == client && *sport == port
                    } else {
                        *src == client && *dport == port
                    }
            })
            .map(|t| t.5)
            .unwrap()
    }

    #[test]
    fn rdp_connection_request_decodes_field_by_field() {
        // 10.1.10.21 → rdsh1 with the msts= redirect token (MS-RDPBCGR 2.2.1.1).
        let frames = generate("rds-deployment").unwrap();
        let cr = frames
            .iter()
            .filter_map(|f| parse(&f.data).map(|p| (p.src, p.dst, p.dport, p.payload.to_vec())))
            .find(|(src, dst, dport, payload)| {
                src.to_string() == "10.1.10.21"
                    && dst.to_string() == "10.1.2.21"
                    && *dport == 3389
                    && !payload.is_empty()
            })
            .map(|t| t.3)
            .unwrap();
        let len = cr.len();
        assert_eq!(cr[0], 0x03, "TPKT version");
        assert_eq!(cr[1], 0x00, "TPKT reserved");
        assert_eq!(
            usize::from(u16::from_be_bytes([cr[2], cr[3]])),
            len,
            "TPKT length"
        );
        assert_eq!(usize::from(cr[4]), len - 5, "X.224 LI");
        assert_eq!(cr[5], 0xE0, "CR code + CDT");
        assert_eq!(&cr[6..8], &[0, 0], "DST-REF");
        assert_eq!(cr[10], 0x00, "class 0");
        let token_end = cr.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        // 10.1.2.21 → LE u32 = 21·2^24 + 2·2^16 + 1·2^8 + 10; 3389 byte-swapped = 15629.
        let expected = format!(
            "Cookie: msts={}.15629.0000\r\n",
            21u32 << 24 | 2 << 16 | 1 << 8 | 10
        );
        assert_eq!(&cr[11..token_end], expected.as_bytes());
        let neg = &cr[token_end..];
        assert_eq!(neg[0], 0x01, "RDP_NEG_REQ type");
        assert_eq!(neg[1], 0x08, "flags: CORRELATION_INFO_PRESENT");
        assert_eq!(u16::from_le_bytes([neg[2], neg[3]]), 8, "NEG_REQ length");
        assert_eq!(
            u32::from_le_bytes([neg[4], neg[5], neg[6], neg[7]]),
            0x03,
            "SSL|HYBRID"
        );
        assert_eq!(neg[8], 0x06, "RDP_NEG_CORRELATION_INFO type");
        assert_eq!(u16::from_le_bytes([neg[10], neg[11]]), 36);
        assert_eq!(neg.len(), 8 + 36);

        // The broker hop carries the tsv:// load-balancing token.
        let to_broker = first_payload("rds-deployment", "10.1.10.21", 3389, false);
        assert_eq!(
            &to_broker[11..to_broker.len() - 8],
            b"tsv://MS Terminal Services Plugin.1.Desktops\r\n"
        );
        // The broker's Connection Confirm selects HYBRID.
        let cc = first_payload("rds-deployment", "10.1.10.21", 3389, true);
        assert_eq!(cc.len(), 19);
        assert_eq!(cc[5], 0xD0);
        assert_eq!(cc[11], 0x02, "RDP_NEG_RSP");
        assert_eq!(
            u32::from_le_bytes([cc[15], cc[16], cc[17], cc[18]]),
            0x02,
            "HYBRID"
        );
    }

    /// Canonical 5-tuple: lower (address, port) first, then the higher, then the transport.
    type FlowKey = (IpAddr, u16, IpAddr, u16, &'static str);
    /// (client, client port, server, server port) as the first packet shows them.
    type Endpoints = (IpAddr, u16, IpAddr, u16);

    #[test]
    fn describe_agrees_with_the_frames() {
        for name in scenario_names() {
            let frames = generate(name).unwrap();
            let flows = describe(name).unwrap();
            let mut counted: HashMap<FlowKey, u64> = HashMap::new();
            let mut orient: HashMap<FlowKey, Endpoints> = HashMap::new();
            let (mut icmp_errors, mut non_ip) = (0usize, 0usize);
            for f in &frames {
                let Some(p) = parse(&f.data) else {
                    non_ip += 1;
                    continue;
                };
                if p.icmp_error {
                    icmp_errors += 1;
                    continue;
                }
                // Canonical key: the lower (address, port) first; the ledger names the client.
                let a = (p.src, p.sport);
                let b = (p.dst, p.dport);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let key = (lo.0, lo.1, hi.0, hi.1, p.kind);
                *counted.entry(key).or_default() += 1;
                if p.icmp_echo_request == Some(false) {
                    continue;
                }
                // The first packet of a flow comes from its client.
                orient
                    .entry(key)
                    .or_insert((p.src, p.sport, p.dst, p.dport));
            }
            assert_eq!(
                non_ip,
                frames.len() - counted.values().sum::<u64>() as usize - icmp_errors
            );
            assert!(non_ip >= 2, "{name}: ARP frames present");
            assert_eq!(
                icmp_errors,
                flows
                    .iter()
                    .filter(|f| f.outcome == "icmp-rejected")
                    .count(),
                "{name}: one ICMP error per icmp-rejected datagram"
            );
            assert_eq!(
                counted.len(),
                flows.len(),
                "{name}: one ledger entry per 5-tuple"
            );
            for f in &flows {
                let a = (f.client, f.client_port);
                let b = (f.server, f.server_port);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let key = (lo.0, lo.1, hi.0, hi.1, f.transport);
                assert_eq!(counted.get(&key), Some(&f.packets), "{name}: {f:?}");
                assert_eq!(
                    orient[&key],
                    (f.client, f.client_port, f.server, f.server_port),
                    "{name}: {f:?} client sends first"
                );
            }
        }
    }

    #[test]
    fn main_scenario_tells_the_promised_story() {
        let flows = describe("rds-deployment").unwrap();
        let find = |client: &str, server: &str, transport: &str, port: u16| -> Vec<&ExpectedFlow> {
            flows
                .iter()
                .filter(|f| {
                    f.client.to_string() == client
                        && f.server.to_string() == server
                        && f.transport == transport
                        && f.server_port == port
                })
                .collect()
        };
        let one = |c: &str, s: &str, t: &str, p: u16| -> &'static str {
            let v = find(c, s, t, p);
            assert_eq!(v.len(), 1, "{c} → {s} {t}/{p}: {v:?}");
            v[0].outcome
        };
        assert_eq!(one("203.0.113.50", "10.1.1.10", "udp", 3391), "unanswered");
        assert_eq!(one("198.51.100.23", "10.1.1.10", "udp", 3391), "unanswered");
        assert_eq!(one("203.0.113.50", "10.1.1.10", "tcp", 443), "answered");
        assert_eq!(one("10.1.2.21", "10.1.2.30", "tcp", 135), "unanswered");
        assert_eq!(one("10.1.2.22", "10.1.2.30", "tcp", 135), "answered");
        assert_eq!(one("10.1.2.22", "10.1.2.30", "tcp", 49_672), "answered");
        let radius: Vec<&str> = find("10.1.1.10", "10.1.0.6", "udp", 1812)
            .iter()
            .map(|f| f.outcome)
            .collect();
        assert_eq!(
            radius,
            ["answered", "answered"],
            "one Access-Request per external user"
        );
        assert_eq!(one("10.1.1.10", "10.1.0.8", "tcp", 80), "answered");
        assert_eq!(one("10.1.2.30", "52.0.14.7", "tcp", 443), "answered");
        assert_eq!(one("10.1.10.21", "10.1.0.9", "udp", 514), "icmp-rejected");
        assert_eq!(one("10.1.10.21", "10.1.2.21", "udp", 3389), "answered");
        let broker: Vec<&str> = find("10.1.1.11", "10.1.2.10", "tcp", 5504)
            .iter()
            .map(|f| f.outcome)
            .collect();
        assert_eq!(broker, ["rejected", "answered"]);
        assert_eq!(find("10.1.1.10", "10.1.0.6", "udp", 1813).len(), 3);
        for host in ["10.1.2.10", "10.1.2.21", "10.1.1.10"] {
            assert_eq!(one("10.1.10.5", host, "tcp", 5985), "answered");
        }

        let mis = describe("rds-firewall-misconfigured").unwrap();
        let outcomes = |server: &str, port: u16| -> Vec<&str> {
            mis.iter()
                .filter(|f| f.server.to_string() == server && f.server_port == port)
                .map(|f| f.outcome)
                .collect()
        };
        assert_eq!(outcomes("10.1.2.10", 5504), ["rejected", "rejected"]);
        assert!(outcomes("10.1.0.5", 135).iter().all(|&o| o == "unanswered"));
        assert_eq!(outcomes("10.1.2.30", 135), ["unanswered", "unanswered"]);
        assert!(outcomes("10.1.2.30", 49_672).is_empty());

        let inc = describe("rds-incident").unwrap();
        assert!(inc.iter().any(|f| f.client.to_string() == "198.51.100.23"
            && f.server.to_string() == "10.1.2.21"
            && f.server_port == 3389));
        assert!(inc
            .iter()
            .any(|f| f.server.to_string() == "10.1.2.22" && f.server_port == 13_389));
    }

    #[test]
    fn readme_tables_match_describe() {
        let readme = include_str!("../../samples/README.md");
        for name in scenario_names() {
            let begin = format!("<!-- synth:{name}:begin -->\n");
            let end = format!("<!-- synth:{name}:end -->");
            let start = readme
                .find(&begin)
                .unwrap_or_else(|| panic!("{name} table missing"))
                + begin.len();
            let stop = start + readme[start..].find(&end).unwrap();
            assert_eq!(
                &readme[start..stop],
                readme_section(name).unwrap(),
                "samples/README.md is out of date for {name}: regenerate the table"
            );
        }
    }
}
