//! The per-packet path allocates nothing: decode, flow-table update and the payload checks over
//! packets of flows that already exist, measured with a counting global allocator. (Flow
//! creation and flow end may allocate: that is per flow, not per packet.)
//!
//! One allocation per flow may also happen on an existing flow's packet: the record keeps what
//! few flows need (payload details, an ICMP rejection, retransmission and zero-window counters)
//! in one box, allocated by the first of them (issue 6). Replaying a capture makes every data
//! segment a retransmission, so the test states it exactly: the first replay allocates one box
//! for each flow that had none and nothing else; the second replay allocates nothing. A flow's
//! in-order packets never allocate.

use std::collections::HashSet;

use rdsflows::capture::{LinkType, PacketPos, RawPacket};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::decode::{decode, tcp_flags, Decoded, TcpSegment, Transport};
use rdsflows::flow::{Direction, FlowKey, FlowRecord, FlowTable, FlowTableConfig};

#[test]
fn steady_state_packets_allocate_nothing() {
    let frames: Vec<_> = rdsflows::synth::generate("rds-deployment").unwrap();
    let mut classifier = Classifier::new(SignatureSet::builtin());
    // Timeouts longer than the capture: the second pass finds every flow still live.
    let day = rdsflows::time::Duration::from_secs(86_400);
    let config = FlowTableConfig {
        tcp_idle: day,
        udp_idle: day,
        icmp_idle: day,
        tcp_closed: day,
        ..FlowTableConfig::default()
    };
    let mut table = FlowTable::new(config, classifier.service_ports());
    let run = |classifier: &mut Classifier,
               table: &mut FlowTable,
               skip_syns: bool,
               mut keys: Option<&mut Vec<FlowKey>>| {
        for (n, frame) in frames.iter().enumerate() {
            let raw = RawPacket {
                ts: frame.ts,
                link: LinkType::ETHERNET,
                data: &frame.data,
                orig_len: frame.data.len() as u32,
                pos: PacketPos {
                    file: 0,
                    number: n as u64,
                },
            };
            if let Ok(Decoded::Ip(ip)) = decode(&raw) {
                // A SYN after a finished connection opens a new flow (per flow, may allocate).
                let syn =
                    matches!(ip.transport, Transport::Tcp(t) if t.flags & tcp_flags::SYN != 0);
                if skip_syns && syn {
                    continue;
                }
                if let Some(update) = table.update(raw.ts, raw.pos, &ip) {
                    if update.is_new {
                        classifier.on_new_flow(update.flow);
                        if let Some(keys) = keys.as_deref_mut() {
                            keys.push(update.flow.key);
                        }
                    }
                    if !update.payload.is_empty() {
                        classifier.on_payload(update.flow, update.dir, update.payload);
                    }
                }
            }
            table.drain_ended().for_each(drop);
        }
    };
    // Warm-up: creates every flow, sizes every buffer.
    let mut keys = Vec::new();
    run(&mut classifier, &mut table, false, Some(&mut keys));
    // A key reused by a later connection names one live flow.
    let keys: HashSet<FlowKey> = keys.into_iter().collect();
    let boxed = |table: &FlowTable| {
        keys.iter()
            .filter_map(|k| table.get(k))
            .filter(|f| has_extras(f))
            .count()
    };
    let before = boxed(&table);
    // First replay: data segments are now retransmissions, and the first anomaly of a flow
    // whose record had no extras yet allocates them, once. (In this scenario every flow that
    // carries data already holds them, for its payload details, so today that is none; see
    // `a_flows_first_anomaly_allocates_its_extras_once` for the allocation itself.)
    let first = allocation_counter::measure(|| run(&mut classifier, &mut table, true, None));
    let gained = boxed(&table) - before;
    assert_eq!(
        first.count_total,
        gained as u64,
        "{} allocations for {} packets of existing flows, {gained} flows gained their extras",
        first.count_total,
        frames.len()
    );
    // Second replay: every flow's extras exist; nothing allocates.
    let counted = allocation_counter::measure(|| run(&mut classifier, &mut table, true, None));
    assert_eq!(
        counted.count_total,
        0,
        "{} allocations for {} packets of existing flows",
        counted.count_total,
        frames.len()
    );
}

/// True when the record's boxed extras exist: they are allocated exactly when one of these
/// first becomes present or nonzero.
fn has_extras(f: &FlowRecord) -> bool {
    f.details().is_some()
        || f.icmp_reject().is_some()
        || f.retransmits() != [0, 0]
        || f.zero_windows() != [0, 0]
}

#[test]
fn a_flows_first_anomaly_allocates_its_extras_once() {
    let (key, client) = FlowKey::new(
        [10, 0, 0, 1].into(),
        50_000,
        [10, 0, 0, 2].into(),
        8080,
        rdsflows::flow::key::protocol::TCP,
    );
    let pos = PacketPos { file: 0, number: 1 };
    let mut flow = FlowRecord::new(key, client, false, rdsflows::time::Timestamp::ZERO, pos);
    let segment = |seq: u32, window: u16, payload_len: u32| TcpSegment {
        src_port: 50_000,
        dst_port: 8080,
        seq,
        ack: 1,
        flags: tcp_flags::ACK,
        window,
        payload_len,
        payload: &[],
    };
    // In-order data both ways: nothing.
    let normal = allocation_counter::measure(|| {
        for i in 0..100 {
            flow.apply_tcp(Direction::ToServer, &segment(1000 + i * 100, 512, 100));
            flow.apply_tcp(Direction::ToClient, &segment(5000 + i * 10, 512, 10));
        }
    });
    assert_eq!(normal.count_total, 0);
    // The first retransmission allocates the extras; the zero window after it shares them.
    let first = allocation_counter::measure(|| {
        flow.apply_tcp(Direction::ToServer, &segment(1000, 512, 100));
        flow.apply_tcp(Direction::ToClient, &segment(6000, 0, 0));
    });
    assert_eq!(first.count_total, 1);
    // Every later anomaly: nothing.
    let later = allocation_counter::measure(|| {
        for _ in 0..100 {
            flow.apply_tcp(Direction::ToServer, &segment(1000, 512, 100));
            flow.apply_tcp(Direction::ToClient, &segment(6000, 0, 0));
        }
    });
    assert_eq!(later.count_total, 0);
    assert_eq!(flow.retransmits(), [101, 0]);
    assert_eq!(flow.zero_windows(), [0, 101]);
}
