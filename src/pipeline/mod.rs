//! The loop: next packet → decode → flow table → classifier → summary and flow lines. Owns the
//! order of the stages, the order ended flows are reported in, and the observer ticks; must
//! not parse bytes itself, read the clock (time comes from the packets, or from a live source's
//! ticks) or decide exit codes. One thread here; `chunked` (a plain pcap file, read by ranges)
//! and `sharded` (any other source, read by one thread) split the same work across threads
//! with identical results.

mod chunked;
mod handoff;
mod order;
mod sharded;

use std::io::{self, Write};

use crate::capture::{KernelStats, PacketSource, SourceEvent};
use crate::classify::verdict::ServiceId;
use crate::classify::Classifier;
use crate::decode::{decode, Decoded, IpPacket, Transport};
use crate::flow::{end_time, FlowTable, FlowTableConfig};
use crate::report::flows::write_flow;
use crate::report::{Summary, SummaryBuilder};
use crate::stats::{InputStats, Stats};
use crate::time::Timestamp;
use order::{EndOrder, Ended};

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
    /// Remembers a service; true when it is new.
    fn note(&mut self, service: Option<ServiceId>) -> bool {
        let Some(id) = service else { return false };
        let index = usize::from(id.index());
        if self.seen.len() <= index {
            self.seen.resize(index + 1, false);
        }
        if let Some(seen) = self.seen.get_mut(index) {
            if !*seen {
                *seen = true;
                self.order.push(id);
                return true;
            }
        }
        false
    }
}

/// Where a run stands, counted by whoever drives it.
struct Progress {
    live_flows: u64,
    ended_flows: u64,
}

/// Where the reading stands: frames and bytes so far, and a live source's kernel counters.
#[derive(Clone, Copy)]
struct Reading {
    packets: u64,
    wire_bytes: u64,
    bytes_read: u64,
    kernel: Option<KernelStats>,
}

impl Reading {
    fn of<S: PacketSource + ?Sized>(source: &mut S, stats: &Stats) -> Self {
        Self {
            packets: stats.packets,
            wire_bytes: stats.wire_bytes,
            bytes_read: source.bytes_read(),
            kernel: source.kernel_stats(),
        }
    }
}

/// Tells the observer where the run stands (allocates only the list of service names).
fn tick(
    observer: &dyn RunObserver,
    reading: Reading,
    progress: Progress,
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
        packets: reading.packets,
        wire_bytes: reading.wire_bytes,
        bytes_read: reading.bytes_read,
        live_flows: progress.live_flows,
        ended_flows: progress.ended_flows,
        rds_services: &names,
        kernel: reading.kernel,
    });
}

fn table_progress(table: &FlowTable) -> Progress {
    Progress {
        live_flows: table.len() as u64,
        ended_flows: table.stats().ended.iter().sum(),
    }
}

/// Counts what a decoded frame says about the input (the part of the loop that needs no flow
/// table). Returns the IP packet when it can belong to a flow. Borrows the decoded frame:
/// moving it by value was a stalled copy of a hundred bytes per frame (issue 6).
fn account<'d, 'p>(
    stats: &mut Stats,
    decoded: &'d Result<Decoded<'p>, crate::decode::DecodeError>,
) -> Option<&'d IpPacket<'p>> {
    match decoded {
        Ok(Decoded::Ip(ip)) => {
            stats.ip_packets += 1;
            if let Some(anomaly) = ip.anomaly {
                stats.anomalies.add(anomaly);
            }
            if let Transport::Other { protocol } = ip.transport {
                if ip.anomaly.is_none() {
                    *stats.other_ip_protocols.entry(protocol).or_default() += 1;
                }
                return None;
            }
            Some(ip)
        }
        Ok(Decoded::NonIp(ether_type)) => {
            *stats.non_ip.entry(*ether_type).or_default() += 1;
            None
        }
        Ok(Decoded::UnsupportedLink(link)) => {
            *stats.unsupported_links.entry(*link).or_default() += 1;
            None
        }
        Err(error) => {
            stats.decode_errors.add(*error);
            None
        }
    }
}

/// Records an input that ended in error against its input.
fn note_input_error(stats: &mut Stats, error: &crate::capture::CaptureError) {
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
}

/// Counts an IP packet in its flow and classifies it: the per-packet work of one table.
fn track(
    table: &mut FlowTable,
    classifier: &mut Classifier,
    services: &mut ServicesSeen,
    ts: Timestamp,
    pos: crate::capture::PacketPos,
    ip: &IpPacket<'_>,
) {
    if let Some(update) = table.update(ts, pos, ip) {
        if update.is_new {
            classifier.on_new_flow(update.flow);
            services.note(update.flow.class.service);
        }
        // A payload past the inspection bound leaves the flow, and so its service, as it was.
        if classifier.on_payload(update.flow, update.dir, update.payload) {
            services.note(update.flow.class.service);
        }
    }
}

/// Moves the flows the table ended into the reorder buffer, with their end times.
///
/// Called after every packet, and flows end at few of them: the test is inlined into the
/// caller, the move is not (it copied the table's settings at every packet, 0.8–1.4 % of a
/// one-thread run in four profiles).
#[inline]
fn collect_ended(table: &mut FlowTable, order: &mut EndOrder) {
    if table.has_ended() {
        move_ended(table, order);
    }
}

/// [`collect_ended`] when there is something to move.
#[inline(never)]
fn move_ended(table: &mut FlowTable, order: &mut EndOrder) {
    let (config, now) = (*table.config(), table.now());
    for (flow, reason) in table.drain_ended() {
        let at = end_time(&config, now, &flow, reason);
        order.push(Ended::new(flow, reason, at));
    }
}

/// The reporting end: ended flows into the summary and the flow lines, in end order.
struct Sink<'o> {
    summary: SummaryBuilder,
    flows_out: Option<&'o mut dyn Write>,
}

impl Sink<'_> {
    /// Reports an ended flow; the caller decides where its record is freed.
    fn emit(&mut self, ended: &Ended, classifier: &Classifier) -> io::Result<()> {
        self.summary.add(&ended.flow, classifier);
        if let Some(out) = self.flows_out.as_deref_mut() {
            write_flow(out, &ended.flow, ended.reason, classifier)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.flows_out.as_deref_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

/// Runs the whole pipeline over `source` and returns the summary.
///
/// `inputs` names the source's inputs in order (their index is `PacketPos::file`). Capture
/// damage is recorded against its input and the run goes on with the rest; only an error
/// writing `flows_out` stops it. With `threads` above 1 the flows are sharded by address pair
/// across that many worker threads; the flow lines and the summary are the same as with one
/// (the flow table's own peak figures aside, which then add up the shards' peaks).
///
/// Flows are reported in order of the time they ended (then first packet, then key), not of
/// the moment the table noticed, so the order does not depend on sweep timing or sharding.
///
/// # Errors
/// An error writing the flow lines.
pub fn run<S: PacketSource + ?Sized>(
    source: &mut S,
    inputs: &[String],
    classifier: &mut Classifier,
    table_config: FlowTableConfig,
    flows_out: Option<&mut dyn Write>,
    observer: &dyn RunObserver,
    threads: usize,
) -> io::Result<Summary> {
    if threads > 1 {
        if let Some((chunks, file_index)) = source.pcap_chunks() {
            return chunked::run(
                &chunks,
                file_index,
                inputs,
                classifier,
                table_config,
                flows_out,
                observer,
                threads,
            );
        }
        return sharded::run(
            source,
            inputs,
            classifier,
            table_config,
            flows_out,
            observer,
            threads,
        );
    }
    let mut stats = Stats::for_inputs(inputs);
    let mut table = FlowTable::new(table_config, classifier.service_ports());
    let mut sink = Sink {
        summary: SummaryBuilder::default(),
        flows_out,
    };
    let mut order = EndOrder::for_max_flows(table_config.max_flows);
    let mut services = ServicesSeen::default();

    while let Some(event) = source.next_event() {
        let next = match event {
            SourceEvent::Packet(next) => next,
            SourceEvent::Idle { now, tick: due } => {
                if let Some(now) = now {
                    table.advance(now);
                    collect_ended(&mut table, &mut order);
                    order.release(table.swept_through(), |e| sink.emit(&e, classifier))?;
                    // A quiet moment on a live link: let `tail -f` see the lines written so far.
                    sink.flush()?;
                }
                if due {
                    let progress = table_progress(&table);
                    tick(
                        observer,
                        Reading::of(source, &stats),
                        progress,
                        classifier,
                        &services,
                    );
                }
                continue;
            }
        };
        let packet = match next {
            Ok(packet) => packet,
            Err(error) => {
                note_input_error(&mut stats, &error);
                continue;
            }
        };
        stats.count_frame(&packet);
        // Every frame moves the capture clock, IP or not, as in a sharded run, where the
        // reader keeps the clock before anything is decoded.
        table.set_clock(packet.ts);
        if let Some(ip) = account(&mut stats, &decode(&packet)) {
            track(
                &mut table,
                classifier,
                &mut services,
                packet.ts,
                packet.pos,
                ip,
            );
            collect_ended(&mut table, &mut order);
            order.release(table.swept_through(), |e| sink.emit(&e, classifier))?;
        }
        if stats.packets.is_multiple_of(PROGRESS_EVERY) {
            let progress = table_progress(&table);
            let reading = Reading::of(source, &stats);
            tick(observer, reading, progress, classifier, &services);
        }
    }
    table.finish();
    collect_ended(&mut table, &mut order);
    order.release_all(|e| sink.emit(&e, classifier))?;
    observer.finish();
    Ok(sink
        .summary
        .finish(classifier, &stats, table.stats(), table.config()))
}
