//! `rdsflows bench`: the full pipeline (decode, flows, classification, payload checks, summary,
//! verdict) run repeatedly over captures held in memory, timed. Owns the measurement and its
//! report; it is the one place below `main` that reads the clock, because measuring time is
//! its job (the pipeline it times still never does).

use std::time::Instant;

use serde::Serialize;

use crate::capture::replay::{MemoryPcap, ReplaySource};
use crate::capture::PacketSource;
use crate::classify::signature::SignatureSet;
use crate::classify::Classifier;
use crate::flow::FlowTableConfig;
use crate::report::progress::Progress;
use crate::verdict::{evaluate, infer::infer};

/// What one benchmark run measured (`--json` prints it; field names are stable).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// Frames per run.
    pub packets: u64,
    /// Bytes on the wire per run.
    pub wire_bytes: u64,
    /// Flows per run.
    pub flows: u64,
    /// Runs timed.
    pub repeat: u32,
    /// Flow worker threads (1: the whole pipeline on one thread).
    pub threads: usize,
    /// Median packets per second over the runs.
    pub packets_per_second: f64,
    /// Median gigabits per second (wire bytes).
    pub gbit_per_second: f64,
    /// Median flows per second.
    pub flows_per_second: f64,
    /// Median nanoseconds per packet.
    pub ns_per_packet: f64,
    /// Fastest and slowest run, nanoseconds per packet.
    pub ns_per_packet_min: f64,
    /// Slowest run.
    pub ns_per_packet_max: f64,
    /// Seconds of each run, in order.
    pub run_seconds: Vec<f64>,
    /// Most flows alive at once.
    pub peak_flows: u64,
    /// The flow table's peak hash-map allocation, in bytes.
    pub flow_table_peak_bytes: u64,
    /// That allocation divided by the peak number of flows.
    pub flow_table_bytes_per_flow: f64,
}

/// A capture held in memory that a benchmark replays from the start, run after run.
pub trait Replay: PacketSource {
    /// Starts again from the first frame.
    fn rewind(&mut self);
    /// Bytes on the wire of all frames.
    fn wire_bytes(&self) -> u64;
}

impl Replay for ReplaySource {
    fn rewind(&mut self) {
        Self::rewind(self);
    }
    fn wire_bytes(&self) -> u64 {
        Self::wire_bytes(self)
    }
}

impl Replay for MemoryPcap {
    fn rewind(&mut self) {
        Self::rewind(self);
    }
    fn wire_bytes(&self) -> u64 {
        Self::wire_bytes(self)
    }
}

/// Times `repeat` full runs over `source` (rewound each time).
pub fn run<S: Replay>(
    source: &mut S,
    signatures: &SignatureSet,
    config: FlowTableConfig,
    repeat: u32,
    threads: usize,
) -> BenchReport {
    let quiet = Progress::new(None, true);
    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        source.rewind();
        let started = Instant::now();
        let mut classifier = Classifier::new(signatures.clone());
        let summary = crate::pipeline::run(
            source,
            &["bench".to_string()],
            &mut classifier,
            config,
            None,
            &quiet,
            threads,
        );
        let Ok(mut summary) = summary else { continue };
        let deployment = infer(&summary.observed, "bench");
        summary.verdict = Some(evaluate(
            &deployment,
            classifier.signatures(),
            &summary.observed,
            0,
        ));
        seconds.push(started.elapsed().as_secs_f64());
        last = Some(summary);
    }
    let packets = last.as_ref().map_or(0, |s| s.totals.packets);
    let flows = last.as_ref().map_or(0, |s| s.totals.flows);
    let peak_flows = last.as_ref().map_or(0, |s| s.flow_table.peak_flows);
    let table_bytes = last.as_ref().map_or(0, |s| s.flow_table.peak_table_bytes);
    let wire_bytes = source.wire_bytes();
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted
        .get(sorted.len() / 2)
        .copied()
        .unwrap_or(0.0)
        .max(1e-9);
    let per_packet = |s: f64| s * 1e9 / packets.max(1) as f64;
    BenchReport {
        packets,
        wire_bytes,
        flows,
        repeat: repeat.max(1),
        threads: threads.max(1),
        packets_per_second: packets as f64 / median,
        gbit_per_second: wire_bytes as f64 * 8.0 / median / 1e9,
        flows_per_second: flows as f64 / median,
        ns_per_packet: per_packet(median),
        ns_per_packet_min: per_packet(sorted.first().copied().unwrap_or(0.0)),
        ns_per_packet_max: per_packet(sorted.last().copied().unwrap_or(0.0)),
        run_seconds: seconds,
        peak_flows,
        flow_table_peak_bytes: table_bytes,
        flow_table_bytes_per_flow: table_bytes as f64 / peak_flows.max(1) as f64,
    }
}
