//! Flow-table behaviour on hand-made packets: orientation, retries, timeouts, reuse, the cap.

use super::*;
use crate::decode::tcp_flags::{FIN, PSH, RST};
use crate::decode::{Fragment, QuotedTuple, TcpSegment};
use crate::flow::record::Outcome;
use crate::flow::state::ConnState;
use proptest::prelude::*;

const CLIENT: [u8; 4] = [10, 1, 10, 21];
const SERVER: [u8; 4] = [10, 1, 2, 21];

fn at(secs: f64) -> Timestamp {
    Timestamp::from_nanos((secs * 1e9) as i64)
}

fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    len: u32,
) -> IpPacket<'static> {
    IpPacket {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        ip_len: 40 + len,
        fragment: None,
        transport: Transport::Tcp(TcpSegment {
            src_port: sport,
            dst_port: dport,
            seq,
            ack: 0,
            flags,
            window: 64240,
            payload_len: len,
            payload: &[],
        }),
        anomaly: None,
    }
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> IpPacket<'static> {
    IpPacket {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        ip_len: 48,
        fragment: None,
        transport: Transport::Udp {
            src_port: sport,
            dst_port: dport,
            payload_len: 20,
            payload: &[],
        },
        anomaly: None,
    }
}

fn table() -> FlowTable {
    let mut ports = ServicePorts::default();
    ports.insert(protocol::TCP, 3389);
    ports.insert(protocol::UDP, 3391);
    FlowTable::new(FlowTableConfig::default(), ports)
}

fn feed(
    table: &mut FlowTable,
    packets: &[(f64, IpPacket<'static>)],
) -> Vec<(FlowRecord, EndReason)> {
    let mut out = Vec::new();
    for (n, (t, p)) in packets.iter().enumerate() {
        table.update(
            at(*t),
            PacketPos {
                file: 0,
                number: n as u64 + 1,
            },
            p,
        );
        out.extend(table.drain_ended());
    }
    table.finish();
    out.extend(table.drain_ended());
    out
}

#[test]
fn handshake_data_and_close_is_one_sf_flow() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[
            (0.0, tcp(CLIENT, 50000, SERVER, 3389, SYN, 100, 0)),
            (0.001, tcp(SERVER, 3389, CLIENT, 50000, SYN | ACK, 900, 0)),
            (0.002, tcp(CLIENT, 50000, SERVER, 3389, ACK, 101, 0)),
            (0.003, tcp(CLIENT, 50000, SERVER, 3389, PSH | ACK, 101, 19)),
            (0.004, tcp(SERVER, 3389, CLIENT, 50000, PSH | ACK, 901, 19)),
            (1.0, tcp(CLIENT, 50000, SERVER, 3389, FIN | ACK, 120, 0)),
            (1.001, tcp(SERVER, 3389, CLIENT, 50000, FIN | ACK, 920, 0)),
            (1.002, tcp(CLIENT, 50000, SERVER, 3389, ACK, 121, 0)),
        ],
    );
    assert_eq!(flows.len(), 1);
    let f = &flows[0].0;
    assert_eq!(f.server(), (IpAddr::from(SERVER), 3389));
    assert_eq!(f.conn_state(), ConnState::SF);
    assert_eq!(f.history.text().as_str(), "ShADdFf");
    assert_eq!((f.to_server().packets, f.to_client().packets), (5, 3));
    assert_eq!(
        (f.to_server().payload_bytes, f.to_client().payload_bytes),
        (19, 19)
    );
    assert_eq!(f.outcome(), Outcome::Answered);
}

#[test]
fn repeated_syns_are_one_attempt_with_retries() {
    let mut t = table();
    let syn = tcp(CLIENT, 50001, SERVER, 135, SYN, 7, 0);
    let flows = feed(&mut t, &[(0.0, syn), (1.0, syn), (3.0, syn), (7.0, syn)]);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].0.syn_retries, 3);
    assert_eq!(flows[0].0.conn_state(), ConnState::S0);
    assert_eq!(flows[0].0.outcome(), Outcome::Unanswered);
}

#[test]
fn rejected_syn_retried_after_rst_stays_one_rejected_attempt() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[
            (0.0, tcp(CLIENT, 50002, SERVER, 5504, SYN, 7, 0)),
            (0.001, tcp(SERVER, 5504, CLIENT, 50002, RST | ACK, 0, 0)),
            (0.5, tcp(CLIENT, 50002, SERVER, 5504, SYN, 7, 0)),
            (0.501, tcp(SERVER, 5504, CLIENT, 50002, RST | ACK, 0, 0)),
        ],
    );
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].0.conn_state(), ConnState::REJ);
    assert_eq!(flows[0].0.outcome(), Outcome::Rejected);
    assert_eq!(flows[0].0.syn_retries, 1);
}

#[test]
fn midstream_reply_from_service_port_is_flipped() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[
            (0.0, tcp(SERVER, 3389, CLIENT, 50003, PSH | ACK, 1, 10)),
            (0.1, tcp(CLIENT, 50003, SERVER, 3389, ACK, 1, 0)),
        ],
    );
    let f = &flows[0].0;
    assert!(f.flipped);
    assert_eq!(f.server().1, 3389);
    assert!(f.history.text().as_str().starts_with('^'));
}

#[test]
fn syn_ack_first_makes_its_receiver_the_client() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[(0.0, tcp(SERVER, 443, CLIENT, 50004, SYN | ACK, 1, 0))],
    );
    assert_eq!(flows[0].0.client().1, 50004);
    assert!(flows[0].0.flipped);
}

#[test]
fn idle_gap_splits_udp_flows() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[
            (0.0, udp(CLIENT, 50005, SERVER, 3391)),
            (10.0, udp(CLIENT, 50005, SERVER, 3391)),
            (500.0, udp(CLIENT, 50005, SERVER, 3391)),
        ],
    );
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].1, EndReason::Idle);
    assert_eq!(flows[0].0.packets(), 2);
    assert_eq!(flows[1].1, EndReason::EndOfInput);
}

#[test]
fn advancing_time_without_packets_ends_idle_flows() {
    let mut t = table();
    let pos = PacketPos::default();
    t.update(at(0.0), pos, &udp(CLIENT, 50005, SERVER, 3391));
    t.update(at(1.0), pos, &tcp(CLIENT, 50006, SERVER, 3389, SYN, 1, 0));
    // Before the UDP timeout (2 minutes) nothing ends.
    t.advance(at(100.0));
    assert_eq!(t.drain_ended().count(), 0);
    // Past it, the UDP flow ends as idle; the TCP attempt (15 minutes) stays.
    t.advance(at(130.0));
    let ended: Vec<_> = t.drain_ended().collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].1, EndReason::Idle);
    assert_eq!(ended[0].0.key.protocol, protocol::UDP);
    assert_eq!(t.len(), 1);
    // Time never goes backwards: an earlier clock is ignored.
    t.advance(at(50.0));
    assert_eq!(t.drain_ended().count(), 0);
}

#[test]
fn new_syn_after_close_is_a_new_flow() {
    let mut t = table();
    let flows = feed(
        &mut t,
        &[
            (0.0, tcp(CLIENT, 50006, SERVER, 445, SYN, 1, 0)),
            (0.1, tcp(SERVER, 445, CLIENT, 50006, SYN | ACK, 1, 0)),
            (0.2, tcp(CLIENT, 50006, SERVER, 445, ACK, 2, 0)),
            (0.3, tcp(CLIENT, 50006, SERVER, 445, RST | ACK, 2, 0)),
            (2.0, tcp(CLIENT, 50006, SERVER, 445, SYN, 5000, 0)),
        ],
    );
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].1, EndReason::PortReuse);
    assert_eq!(flows[0].0.conn_state(), ConnState::RSTO);
}

#[test]
fn icmp_unreachable_rejects_the_quoted_flow() {
    let mut t = table();
    t.update(
        at(0.0),
        PacketPos::default(),
        &udp(CLIENT, 51000, [10, 1, 0, 9], 514),
    );
    let icmp = IpPacket {
        src: IpAddr::from([10, 1, 0, 9]),
        dst: IpAddr::from(CLIENT),
        ip_len: 56,
        fragment: None,
        transport: Transport::Icmp(IcmpMessage {
            icmp_type: 3,
            code: 3,
            v6: false,
            echo_id: None,
            quoted: Some(QuotedTuple {
                src: IpAddr::from(CLIENT),
                dst: IpAddr::from([10, 1, 0, 9]),
                protocol: 17,
                src_port: 51000,
                dst_port: 514,
            }),
        }),
        anomaly: None,
    };
    assert!(t.update(at(0.01), PacketPos::default(), &icmp).is_none());
    t.finish();
    let flows: Vec<_> = t.drain_ended().collect();
    assert_eq!(flows[0].0.outcome(), Outcome::Rejected);
    assert_eq!(flows[0].0.icmp_reject().map(|r| r.code), Some(3));
    assert_eq!(t.stats().icmp_errors_tied, 1);
}

#[test]
fn later_fragments_count_toward_the_first_fragments_flow() {
    let mut t = table();
    let mut first = udp(CLIENT, 53001, SERVER, 53);
    first.fragment = Some(Fragment {
        id: 77,
        first: true,
    });
    let later = IpPacket {
        fragment: Some(Fragment {
            id: 77,
            first: false,
        }),
        transport: Transport::Fragment {
            protocol: 17,
            payload_len: 1000,
        },
        ..first
    };
    let orphan = IpPacket {
        fragment: Some(Fragment {
            id: 78,
            first: false,
        }),
        ..later
    };
    let flows = feed(&mut t, &[(0.0, first), (0.001, later), (0.002, orphan)]);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].0.to_server().packets, 2);
    assert_eq!(t.stats().fragments_attributed, 1);
    assert_eq!(t.stats().fragments_orphaned, 1);
}

#[test]
fn cap_evicts_least_recent_and_counts() {
    let config = FlowTableConfig {
        max_flows: 16,
        ..FlowTableConfig::default()
    };
    let mut t = FlowTable::new(config, ServicePorts::default());
    let mut ended = Vec::new();
    for port in 0..40u16 {
        t.update(
            at(f64::from(port) * 0.001),
            PacketPos::default(),
            &udp(CLIENT, 1000 + port, SERVER, 53),
        );
        assert!(t.len() <= 16);
        ended.extend(t.drain_ended());
    }
    assert!(t.stats().ended[reason_index(EndReason::Evicted)] > 0);
    assert_eq!(t.stats().peak_flows, 16);
    assert!(ended.iter().all(|(_, r)| *r == EndReason::Evicted));
    // The oldest went first.
    assert_eq!(ended[0].0.client().1, 1000);
}

proptest! {
    /// The index and the slab agree through evictions, port reuse and slot reuse: every live
    /// flow is found by its key, no ended one is, and the slab never holds more slots than the
    /// cap (issue 6: peak memory bounded by `--max-flows`).
    #[test]
    fn index_finds_exactly_the_live_flows(
        packets in proptest::collection::vec((0u16..24, 0u32..200_000), 1..300),
        cap in 1usize..12,
    ) {
        let config = FlowTableConfig { max_flows: cap, ..FlowTableConfig::default() };
        let mut t = FlowTable::new(config, ServicePorts::default());
        let mut now = 0i64;
        for (sport, gap_ms) in packets {
            now += i64::from(gap_ms) * 1_000_000;
            let p = udp(CLIENT, 40000 + sport, SERVER, 53);
            let update = t.update(Timestamp::from_nanos(now), PacketPos::default(), &p);
            prop_assert!(update.is_some());
            t.drain_ended().for_each(drop);
            let mut found = 0;
            for port in 0u16..24 {
                let (key, _) = FlowKey::new(
                    IpAddr::from(CLIENT), 40000 + port, IpAddr::from(SERVER), 53, protocol::UDP,
                );
                if let Some(flow) = t.get(&key) {
                    prop_assert_eq!(flow.key, key);
                    found += 1;
                }
            }
            prop_assert_eq!(found, t.len());
            prop_assert!(t.flows.slots() <= cap);
        }
    }

    /// Every packet counted toward a flow comes out in exactly one ended record, whatever the
    /// timing, the cap and the port mix.
    #[test]
    fn packets_are_conserved_through_timeouts_and_eviction(
        packets in proptest::collection::vec((0u16..8, 0u16..4, any::<bool>(), 0u32..400_000), 1..300),
        cap in 1usize..12,
    ) {
        let config = FlowTableConfig { max_flows: cap, ..FlowTableConfig::default() };
        let mut t = FlowTable::new(config, ServicePorts::default());
        let mut counted = 0u64;
        let mut out = 0u64;
        let mut now = 0u64;
        for (sport, dport, from_client, gap_ms) in packets {
            now += u64::from(gap_ms);
            let p = if from_client {
                udp(CLIENT, 40000 + sport, SERVER, 53 + dport)
            } else {
                udp(SERVER, 53 + dport, CLIENT, 40000 + sport)
            };
            if t.update(Timestamp::from_nanos(now as i64 * 1_000_000), PacketPos::default(), &p).is_some() {
                counted += 1;
            }
            out += t.drain_ended().map(|(f, _)| f.packets()).sum::<u64>();
            prop_assert!(t.len() <= cap);
        }
        t.finish();
        out += t.drain_ended().map(|(f, _)| f.packets()).sum::<u64>();
        prop_assert_eq!(counted, out);
        let s = t.stats();
        prop_assert_eq!(s.created, s.ended.iter().sum::<u64>());
    }
}
