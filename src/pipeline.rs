//! The loop: next packet → decode → flow table → classifier → summary and flow lines. Owns the
//! order of the stages and the progress ticks; must not parse bytes itself or decide exit codes.

use std::io::{self, Write};

use crate::capture::PacketSource;
use crate::classify::Classifier;
use crate::decode::{decode, Decoded, Transport};
use crate::flow::{FlowTable, FlowTableConfig};
use crate::report::flows::write_flow;
use crate::report::progress::Progress;
use crate::report::{Summary, SummaryBuilder};
use crate::stats::{InputStats, Stats};

/// Progress is refreshed every this many packets (a cheap counter test on the hot path).
const PROGRESS_EVERY: u64 = 16_384;

/// Runs the whole pipeline over `source` and returns the summary.
///
/// `inputs` names the source's inputs in order (their index is `PacketPos::file`). Capture
/// damage is recorded against its input and the run goes on with the rest; only an error
/// writing `flows_out` stops it.
///
/// # Errors
/// An error writing the flow lines.
pub fn run<S: PacketSource + ?Sized>(
    source: &mut S,
    inputs: &[String],
    classifier: &mut Classifier,
    table_config: FlowTableConfig,
    mut flows_out: Option<&mut dyn Write>,
    progress: &Progress,
) -> io::Result<Summary> {
    let mut stats = Stats::for_inputs(inputs);
    let mut table = FlowTable::new(table_config, classifier.service_ports());
    let mut summary = SummaryBuilder::default();

    while let Some(next) = source.next_packet() {
        let packet = match next {
            Ok(packet) => packet,
            Err(error) => {
                let path = error.path.display().to_string();
                let message = error.to_string();
                match stats
                    .inputs
                    .iter_mut()
                    .find(|i| i.path == path && i.error.is_none())
                {
                    Some(input) => input.error = Some(message),
                    None => stats.inputs.push(InputStats {
                        path,
                        packets: 0,
                        error: Some(message),
                    }),
                }
                continue;
            }
        };
        stats.count_frame(&packet);
        match decode(&packet) {
            Ok(Decoded::Ip(ip)) => {
                stats.ip_packets += 1;
                if let Some(anomaly) = ip.anomaly {
                    stats.anomalies.add(anomaly);
                }
                if let Transport::Other { protocol } = ip.transport {
                    if ip.anomaly.is_none() {
                        *stats.other_ip_protocols.entry(protocol).or_default() += 1;
                    }
                }
                if let Some(update) = table.update(packet.ts, packet.pos, &ip) {
                    if update.is_new {
                        classifier.on_new_flow(update.flow);
                    }
                    if !update.payload.is_empty() {
                        classifier.on_payload(update.flow, update.dir, update.payload);
                    }
                }
                for (flow, reason) in table.drain_ended() {
                    summary.add(&flow, classifier);
                    if let Some(out) = flows_out.as_deref_mut() {
                        write_flow(out, &flow, reason, classifier)?;
                    }
                }
            }
            Ok(Decoded::NonIp(ether_type)) => *stats.non_ip.entry(ether_type).or_default() += 1,
            Ok(Decoded::UnsupportedLink(link)) => {
                *stats.unsupported_links.entry(link).or_default() += 1
            }
            Err(error) => stats.decode_errors.add(error),
        }
        if stats.packets.is_multiple_of(PROGRESS_EVERY) {
            progress.update(source.bytes_read(), stats.packets);
        }
    }
    table.finish();
    for (flow, reason) in table.drain_ended() {
        summary.add(&flow, classifier);
        if let Some(out) = flows_out.as_deref_mut() {
            write_flow(out, &flow, reason, classifier)?;
        }
    }
    progress.finish();
    Ok(summary.finish(classifier, &stats, table.stats(), table.config()))
}
