//! The loop: next packet → decode → flow table → classifier → summary and flow lines. Owns the
//! order of the stages and the observer ticks; must not parse bytes itself, read the clock
//! (time comes from the packets, or from a live source's ticks) or decide exit codes.

use std::io::{self, Write};

use crate::capture::{KernelStats, PacketSource, SourceEvent};
use crate::classify::verdict::ServiceId;
use crate::classify::Classifier;
use crate::decode::{decode, Decoded, Transport};
use crate::flow::{FlowTable, FlowTableConfig};
use crate::report::flows::write_flow;
use crate::report::{Summary, SummaryBuilder};
use crate::stats::{InputStats, Stats};

/// The observer is told every this many packets (a cheap counter test on the hot path), and on
/// every tick of a live source.
const PROGRESS_EVERY: u64 = 16_384;

/// Where a run stands, as the observer sees it at a tick.
#[derive(Clone, Copy, Debug)]
pub struct RunStatus<'a> {
    /// Frames read so far.
    pub packets: u64,
    /// Bytes on the wire so far.
    pub wire_bytes: u64,
    /// Bytes consumed from the input files (0 for live sources), for a progress bar.
    pub bytes_read: u64,
    /// Flows in the table now.
    pub live_flows: u64,
    /// Flows ended so far (and written to `--flows`).
    pub ended_flows: u64,
    /// RDS services seen so far in live or ended flows, in the order they first appeared.
    pub rds_services: &'a [&'a str],
    /// The capture's kernel counters, when the source is live.
    pub kernel: Option<KernelStats>,
}

/// Watches a run: a progress bar for files, a status line for live capture.
///
/// Takes `&self` so that callers can keep handing the pipeline a shared `&Progress`; observers
/// that keep state between ticks hold it in a `Cell`.
pub trait RunObserver {
    /// Called every 16,384 packets and at each tick of a live source.
    fn tick(&self, status: &RunStatus<'_>);
    /// Called once when the input is over and every flow has been reported.
    fn finish(&self) {}
}

/// RDS services seen during the run, remembered without allocating per packet.
#[derive(Debug, Default)]
struct ServicesSeen {
    seen: Vec<bool>,
    order: Vec<ServiceId>,
}

impl ServicesSeen {
    fn note(&mut self, service: Option<ServiceId>) {
        let Some(id) = service else { return };
        let index = usize::from(id.index());
        if self.seen.len() <= index {
            self.seen.resize(index + 1, false);
        }
        if let Some(seen) = self.seen.get_mut(index) {
            if !*seen {
                *seen = true;
                self.order.push(id);
            }
        }
    }
}

/// Tells the observer where the run stands (allocates only the list of service names).
fn tick<S: PacketSource + ?Sized>(
    observer: &dyn RunObserver,
    source: &mut S,
    stats: &Stats,
    table: &FlowTable,
    classifier: &Classifier,
    services: &ServicesSeen,
) {
    let names: Vec<&str> = services
        .order
        .iter()
        .filter_map(|id| classifier.service(*id))
        .map(|s| s.name.as_str())
        .collect();
    observer.tick(&RunStatus {
        packets: stats.packets,
        wire_bytes: stats.wire_bytes,
        bytes_read: source.bytes_read(),
        live_flows: table.len() as u64,
        ended_flows: table.stats().ended.iter().sum(),
        rds_services: &names,
        kernel: source.kernel_stats(),
    });
}

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
    observer: &dyn RunObserver,
) -> io::Result<Summary> {
    let mut stats = Stats::for_inputs(inputs);
    let mut table = FlowTable::new(table_config, classifier.service_ports());
    let mut summary = SummaryBuilder::default();
    let mut services = ServicesSeen::default();

    while let Some(event) = source.next_event() {
        let next = match event {
            SourceEvent::Packet(next) => next,
            SourceEvent::Idle { now, tick: due } => {
                if let Some(now) = now {
                    table.advance(now);
                    for (flow, reason) in table.drain_ended() {
                        summary.add(&flow, classifier);
                        if let Some(out) = flows_out.as_deref_mut() {
                            write_flow(out, &flow, reason, classifier)?;
                        }
                    }
                    // A quiet moment on a live link: let `tail -f` see the lines written so far.
                    if let Some(out) = flows_out.as_deref_mut() {
                        out.flush()?;
                    }
                }
                if due {
                    tick(observer, source, &stats, &table, classifier, &services);
                }
                continue;
            }
        };
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
                        services.note(update.flow.class.service);
                    }
                    if !update.payload.is_empty() {
                        classifier.on_payload(update.flow, update.dir, update.payload);
                        services.note(update.flow.class.service);
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
            tick(observer, source, &stats, &table, classifier, &services);
        }
    }
    table.finish();
    for (flow, reason) in table.drain_ended() {
        summary.add(&flow, classifier);
        if let Some(out) = flows_out.as_deref_mut() {
            write_flow(out, &flow, reason, classifier)?;
        }
    }
    observer.finish();
    Ok(summary.finish(classifier, &stats, table.stats(), table.config()))
}
