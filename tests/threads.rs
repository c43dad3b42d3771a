//! `--threads`: a sharded run gives byte for byte the flow lines and the summary of one thread,
//! on every bundled sample, every public capture, and generated RDS mixes with timeouts short
//! enough that flows end by idling, closing and port reuse all through the input. Only the flow
//! table's own peak figures may differ (shards add up their peaks) and are left out.

use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::capture::pcap::PcapReader;
use rdsflows::capture::replay::ReplaySource;
use rdsflows::capture::{LinkType, PacketSource};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::report::{Resources, Summary};
use rdsflows::synth::bench::{write_bench, BenchSpec};
use rdsflows::time::Duration;

/// Flow lines and the summary, with the figures that describe the tables rather than the
/// traffic zeroed. The summary is compared whole, the parts the JSON leaves out (the observed
/// edges the verdict reads, the incident view's candidates) included.
fn run(
    source: &mut dyn PacketSource,
    config: FlowTableConfig,
    threads: usize,
) -> (String, Summary) {
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let mut lines = Vec::new();
    let mut summary = rdsflows::pipeline::run(
        source,
        &["input".to_string()],
        &mut classifier,
        config,
        Some(&mut lines),
        &Progress::new(None, true),
        threads,
    )
    .unwrap();
    summary.flow_table.peak_flows = 0;
    summary.flow_table.tables = 0;
    summary.flow_table.peak_table_bytes = 0;
    summary.resources = Resources::default();
    (String::from_utf8(lines).unwrap(), summary)
}

fn assert_same_for_every_thread_count(
    name: &str,
    mut source: impl FnMut() -> Box<dyn PacketSource>,
    config: FlowTableConfig,
) {
    let (one_lines, one_summary) = run(source().as_mut(), config, 1);
    assert!(
        !one_lines.is_empty() || name.contains("empty"),
        "{name}: no flows at all"
    );
    for threads in [2, 3, 4] {
        let (lines, summary) = run(source().as_mut(), config, threads);
        if lines != one_lines {
            let at = one_lines
                .lines()
                .zip(lines.lines())
                .position(|(a, b)| a != b);
            panic!("{name}: flow lines differ with {threads} threads (first at line {at:?})");
        }
        assert!(
            summary == one_summary,
            "{name}: summary differs with {threads} threads"
        );
    }
}

fn from_files(paths: Vec<PathBuf>) -> impl FnMut() -> Box<dyn PacketSource> {
    move || {
        let (source, _) = open_inputs(&paths);
        Box::new(source)
    }
}

#[test]
fn every_sample_is_the_same_on_any_number_of_threads() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut checked = 0;
    for entry in std::fs::read_dir(samples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pcap") {
            let name = path.display().to_string();
            assert_same_for_every_thread_count(
                &name,
                from_files(vec![path]),
                FlowTableConfig::default(),
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} samples");
}

#[test]
fn every_public_capture_is_the_same_on_any_number_of_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
    if !root.is_dir() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|e| matches!(e.to_str(), Some("pcap" | "pcapng" | "cap" | "gz")))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let name = path.display().to_string();
        assert_same_for_every_thread_count(
            &name,
            from_files(vec![path]),
            FlowTableConfig::default(),
        );
    }
}

/// A generated RDS mix with short timeouts: sweeps end flows all through the input, at moments
/// that differ from shard to shard, and the order must still come out the same.
#[test]
fn generated_mix_with_short_timeouts_is_the_same_on_any_number_of_threads() {
    let mut pcap = Vec::new();
    let spec = BenchSpec {
        packets: 40_000,
        flows: 3_000,
        concurrent: 200,
        seed: 7,
    };
    write_bench(spec, &mut pcap).unwrap();
    let frames = frames_of(&pcap);
    let config = FlowTableConfig {
        tcp_idle: Duration::from_secs(2),
        tcp_closed: Duration::from_secs(1),
        udp_idle: Duration::from_secs(1),
        icmp_idle: Duration::from_secs(1),
        ..FlowTableConfig::default()
    };
    for config in [FlowTableConfig::default(), config] {
        let frames = frames.clone();
        assert_same_for_every_thread_count(
            "generated mix",
            move || Box::new(ReplaySource::new(LinkType::ETHERNET, frames.clone())),
            config,
        );
    }
}

/// The frames of a classic pcap held in memory, read where they lie.
fn frames_of(pcap: &[u8]) -> Vec<(rdsflows::time::Timestamp, Vec<u8>)> {
    let mut reader = PcapReader::new(pcap, "mix.pcap").unwrap();
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.unwrap();
        assert_eq!(packet.link, LinkType::ETHERNET);
        frames.push((packet.ts, packet.data.to_vec()));
    }
    frames
}
