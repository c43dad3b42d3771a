//! `--threads`: a sharded run gives byte for byte the flow lines and the summary of one thread,
//! on every bundled sample, every public capture, and generated RDS mixes with timeouts short
//! enough that flows end by idling, closing and port reuse all through the input. Only the flow
//! table's own peak figures may differ (shards add up their peaks) and are left out.
//!
//! A plain pcap file is read by ranges, one reader per thread: these runs are also made with
//! ranges far smaller than a frame (so that records, flows and timeouts cross many seams), on
//! damaged files, and on a file whose payloads are full of fake record headers, which mislead
//! the threads' guesses of where a range's first record starts.

mod common;

use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::capture::pcap::PcapReader;
use rdsflows::capture::replay::{MemoryPcap, ReplaySource};
use rdsflows::capture::writer::PcapWriter;
use rdsflows::capture::{LinkType, PacketSource};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::report::{Resources, Summary};
use rdsflows::synth::bench::{write_bench, BenchSpec};
use rdsflows::time::{Duration, Timestamp};

use common::TempDir;

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

/// A file read by ranges of `chunk_bytes` when several threads read it.
fn from_file_in_chunks(path: PathBuf, chunk_bytes: u64) -> impl FnMut() -> Box<dyn PacketSource> {
    move || {
        let (source, _) = open_inputs(std::slice::from_ref(&path));
        Box::new(source.with_chunk_bytes(chunk_bytes))
    }
}

/// Range sizes: shorter than a record header, a frame or so, and many frames.
const CHUNK_SIZES: [u64; 3] = [13, 1_500, 65_536];

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
            from_files(vec![path.clone()]),
            FlowTableConfig::default(),
        );
        // Real captures (snaplen cuts, nanosecond files, odd link types, big-endian writers)
        // in ranges small enough that most of their records start a range's guess.
        let name = format!("{name} in 4,096-byte ranges");
        let source = from_file_in_chunks(path, 4_096);
        assert_same_for_every_thread_count(&name, source, FlowTableConfig::default());
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
    let config = short_timeouts();
    for config in [FlowTableConfig::default(), config] {
        let frames = frames.clone();
        assert_same_for_every_thread_count(
            "generated mix",
            move || Box::new(ReplaySource::new(LinkType::ETHERNET, frames.clone())),
            config,
        );
    }
}

#[test]
fn every_sample_read_in_small_ranges_is_the_same_on_any_number_of_threads() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for entry in std::fs::read_dir(samples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pcap") {
            for chunk_bytes in CHUNK_SIZES {
                let name = format!("{} in {chunk_bytes}-byte ranges", path.display());
                let source = from_file_in_chunks(path.clone(), chunk_bytes);
                assert_same_for_every_thread_count(&name, source, FlowTableConfig::default());
            }
        }
    }
}

/// `rdsflows bench` holds a plain pcap in memory and reads it by ranges too.
#[test]
fn a_pcap_held_in_memory_is_the_same_on_any_number_of_threads() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/rds-incident.pcap");
    let bytes = std::fs::read(&sample).unwrap();
    let source = move || -> Box<dyn PacketSource> {
        Box::new(MemoryPcap::new(bytes.clone(), "rds-incident.pcap").unwrap())
    };
    assert_same_for_every_thread_count("in memory", source, FlowTableConfig::default());
}

/// The generated mix with short timeouts, from a file read by ranges: flows idle out, close
/// and reuse ports across the seams between ranges.
#[test]
fn generated_mix_read_in_ranges_is_the_same_on_any_number_of_threads() {
    let dir = TempDir::new("threads-mix");
    let path = dir.join("mix.pcap");
    let mut pcap = Vec::new();
    let spec = BenchSpec {
        packets: 20_000,
        flows: 1_500,
        concurrent: 150,
        seed: 11,
    };
    write_bench(spec, &mut pcap).unwrap();
    std::fs::write(&path, &pcap).unwrap();
    let config = short_timeouts();
    for chunk_bytes in [977, 30_000] {
        let source = from_file_in_chunks(path.clone(), chunk_bytes);
        assert_same_for_every_thread_count("generated mix in ranges", source, config);
    }
}

/// Damage ends a file at the same record, with the same error, however it is read: a file cut
/// short inside a record, and one whose record in the middle claims an impossible length.
#[test]
fn damaged_files_end_at_the_same_record_on_any_number_of_threads() {
    let dir = TempDir::new("threads-damage");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/rds-deployment.pcap");
    let bytes = std::fs::read(&sample).unwrap();
    let half = record_offsets(&bytes)[record_offsets(&bytes).len() / 2];
    let mut bad_length = bytes.clone();
    bad_length[half + 8..half + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let cases = [
        ("cut", bytes[..bytes.len() * 2 / 3].to_vec()),
        ("bad-length", bad_length),
    ];
    for (name, damaged) in cases {
        let path = dir.join(format!("{name}.pcap"));
        std::fs::write(&path, &damaged).unwrap();
        for chunk_bytes in CHUNK_SIZES {
            let source = from_file_in_chunks(path.clone(), chunk_bytes);
            let label = format!("{name} in {chunk_bytes}-byte ranges");
            assert_same_for_every_thread_count(&label, source, FlowTableConfig::default());
        }
        let (_, summary) = run(
            from_file_in_chunks(path.clone(), 1_500)().as_mut(),
            FlowTableConfig::default(),
            2,
        );
        let error = summary.inputs.iter().find_map(|i| i.error.clone());
        assert!(error.is_some(), "{name}: the damage is reported");
    }
}

/// UDP payloads full of fake pcap record headers (sound ones, of one-byte records): a thread that
/// starts reading a range inside such a payload takes them for records. The check against the
/// range before must catch every such guess, and the range must be read again.
#[test]
fn fake_record_headers_in_payloads_do_not_mislead_the_threads() {
    let dir = TempDir::new("threads-fake");
    let path = dir.join("fake.pcap");
    let mut writer = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65_535).unwrap();
    let base = 1_700_000_000i64;
    for n in 0..400u32 {
        let ts = Timestamp::from_nanos((base + i64::from(n / 10)) * 1_000_000_000);
        let mut fake = Vec::new();
        for _ in 0..10 {
            fake.extend_from_slice(&((base as u32) + n / 10).to_le_bytes()); // ts_sec
            fake.extend_from_slice(&500u32.to_le_bytes()); // ts_usec
            fake.extend_from_slice(&1u32.to_le_bytes()); // incl_len
            fake.extend_from_slice(&1u32.to_le_bytes()); // orig_len
            fake.push(0); // the frame
        }
        let client = [10, 0, (n % 7) as u8, 1 + (n % 5) as u8];
        let frame = udp_frame(client, [10, 0, 9, 9], 50_000 + (n % 13) as u16, 3389, &fake);
        writer.write_packet(ts, &frame, frame.len() as u32).unwrap();
    }
    std::fs::write(&path, writer.finish().unwrap()).unwrap();
    for chunk_bytes in [40, 100, 333, 1_000] {
        let source = from_file_in_chunks(path.clone(), chunk_bytes);
        let name = format!("fake headers in {chunk_bytes}-byte ranges");
        assert_same_for_every_thread_count(&name, source, FlowTableConfig::default());
    }
}

/// An Ethernet frame carrying an IPv4 UDP datagram (checksums left zero: rdsflows does not
/// check them).
fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 8 + payload.len()) as u16;
    frame.extend_from_slice(&[0x45, 0]);
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0]);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&dport.to_be_bytes());
    frame.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Where each record of a little-endian classic pcap starts.
fn record_offsets(pcap: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        offsets.push(at);
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    offsets
}

/// Timeouts short enough that flows end by idling and closing all through a generated mix.
fn short_timeouts() -> FlowTableConfig {
    FlowTableConfig {
        tcp_idle: Duration::from_secs(2),
        tcp_closed: Duration::from_secs(1),
        udp_idle: Duration::from_secs(1),
        icmp_idle: Duration::from_secs(1),
        ..FlowTableConfig::default()
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
