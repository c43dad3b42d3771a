//! The per-packet path allocates nothing: decode, flow-table update and the payload checks over
//! packets of flows that already exist, measured with a counting global allocator. (Flow
//! creation and flow end may allocate: that is per flow, not per packet.)

use rdsflows::capture::{LinkType, PacketPos, RawPacket};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::decode::{decode, tcp_flags, Decoded, Transport};
use rdsflows::flow::{FlowTable, FlowTableConfig};

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
    let run = |classifier: &mut Classifier, table: &mut FlowTable, skip_syns: bool| {
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
                    }
                    if !update.payload.is_empty() {
                        classifier.on_payload(update.flow, update.dir, update.payload);
                    }
                }
            }
            table.drain_ended().for_each(drop);
        }
    };
    run(&mut classifier, &mut table, false); // warm-up: creates every flow, sizes every buffer
    let counted = allocation_counter::measure(|| run(&mut classifier, &mut table, true));
    assert_eq!(
        counted.count_total,
        0,
        "{} allocations for {} packets of existing flows",
        counted.count_total,
        frames.len()
    );
}
