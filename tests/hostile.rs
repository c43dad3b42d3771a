//! Hostile captures: files cut at every record boundary and inside records, lengths that lie,
//! 4 GiB captured lengths, zero-length packets, time running backwards, unknown link types, long
//! IPv6 extension-header chains, overlapping and tiny fragments, every TCP flag combination.
//! For each: no panic, bounded memory, a message naming the file and offset where the file is at
//! fault, and everything else still analysed.

use std::path::Path;
use std::process::Command;

use etherparse::PacketBuilder;
use rdsflows::capture::file::open_inputs;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::report::Summary;

const MAC_A: [u8; 6] = [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03];
const MAC_B: [u8; 6] = [0x00, 0x15, 0x5d, 0x0a, 0x0b, 0x0c];

/// One pcap record: seconds, captured-length field (may lie), original length, bytes.
struct Record {
    secs: u32,
    caplen: u32,
    orig: u32,
    data: Vec<u8>,
}

fn record(secs: u32, data: Vec<u8>) -> Record {
    Record {
        secs,
        caplen: data.len() as u32,
        orig: data.len() as u32,
        data,
    }
}

/// A little-endian, microsecond pcap file (draft-ietf-opsawg-pcap section 4).
fn pcap(link: u32, snaplen: u32, records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&snaplen.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for r in records {
        out.extend_from_slice(&r.secs.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&r.caplen.to_le_bytes());
        out.extend_from_slice(&r.orig.to_le_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

const CLIENT: [u8; 4] = [10, 1, 10, 21];
const SERVER: [u8; 4] = [10, 1, 2, 21];

/// A TCP segment; the server port 3389 decides the direction (replies come from the server).
fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = if sport == 3389 {
        (SERVER, CLIENT)
    } else {
        (CLIENT, SERVER)
    };
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 128)
        .tcp(sport, dport, 1, 64240);
    let mut frame = Vec::new();
    b.write(&mut frame, payload).unwrap();
    frame[14 + 20 + 13] = flags; // TCP flags byte (RFC 9293 3.1), checksum left stale on purpose
    frame
}

mod common;

fn dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("hostile-{name}"))
}

fn analyse(path: &Path) -> Summary {
    let (mut source, errors) = open_inputs(&[path.to_path_buf()]);
    let inputs = vec![path.display().to_string()];
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let mut summary = rdsflows::pipeline::run(
        &mut source,
        &inputs,
        &mut classifier,
        FlowTableConfig::default(),
        None,
        &Progress::new(None, true),
        1,
    )
    .unwrap();
    for e in errors {
        summary.inputs.push(rdsflows::report::InputSummary {
            path: inputs[0].clone(),
            packets: 0,
            error: Some(e.to_string()),
        });
    }
    summary
}

fn error_of(summary: &Summary) -> Option<String> {
    summary.inputs.iter().find_map(|i| i.error.clone())
}

/// A small valid capture: a few handshakes and data, so cuts land everywhere.
fn small_capture() -> (Vec<u8>, Vec<usize>) {
    let mut records = Vec::new();
    for i in 0..12u16 {
        records.push(record(
            1_000 + u32::from(i),
            tcp(50_000 + i, 3389, 0x02, &[]),
        ));
        records.push(record(
            1_000 + u32::from(i),
            tcp(3389, 50_000 + i, 0x12, &[]),
        ));
        records.push(record(
            1_000 + u32::from(i),
            tcp(
                50_000 + i,
                3389,
                0x18,
                b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00",
            ),
        ));
    }
    let bytes = pcap(1, 65_535, &records);
    // Record boundaries: after the 24-byte header, each record is 16 + its length.
    let mut boundaries = vec![24];
    for r in &records {
        let last = *boundaries.last().unwrap();
        boundaries.push(last + 16 + r.data.len());
    }
    (bytes, boundaries)
}

#[test]
fn cut_at_every_boundary_and_inside_every_record() {
    let (bytes, boundaries) = small_capture();
    let d = dir("cuts");
    let path = d.join("cut.pcap");
    for cut in 0..=bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let summary = analyse(&path);
        let whole_records = boundaries
            .iter()
            .filter(|b| **b <= cut)
            .count()
            .saturating_sub(1) as u64;
        if cut >= 24 {
            assert_eq!(
                summary.totals.packets, whole_records,
                "cut at {cut}: every whole record before it is analysed"
            );
        }
        let at_boundary = boundaries.contains(&cut);
        match error_of(&summary) {
            None => assert!(at_boundary, "cut at {cut} inside a record went unnoticed"),
            Some(message) => {
                assert!(
                    !at_boundary || cut < 24,
                    "cut at a boundary ({cut}) is a complete file: {message}"
                );
                assert!(message.contains("cut.pcap"), "{message}");
                if cut >= 24 {
                    let offset = boundaries.iter().rev().find(|b| **b <= cut).unwrap();
                    assert!(
                        message.contains(&format!("byte offset {offset}")),
                        "cut at {cut}: {message}"
                    );
                }
            }
        }
    }
}

#[test]
fn absurd_captured_lengths_stop_the_file_not_the_run() {
    let d = dir("lengths");
    // A 4 GiB captured length after two good records: the reader must not try to allocate it.
    let mut records = vec![
        record(1, tcp(50_000, 3389, 0x02, &[])),
        record(2, tcp(3389, 50_000, 0x12, &[])),
    ];
    records.push(Record {
        secs: 3,
        caplen: u32::MAX,
        orig: u32::MAX,
        data: vec![0; 64],
    });
    let path = d.join("huge.pcap");
    std::fs::write(&path, pcap(1, 65_535, &records)).unwrap();
    let summary = analyse(&path);
    assert_eq!(summary.totals.packets, 2);
    let message = error_of(&summary).unwrap();
    assert!(
        message.contains("huge.pcap") && message.contains("4294967295"),
        "{message}"
    );
    assert!(
        message.contains(&format!("byte offset {}", 24 + 2 * (16 + 54))),
        "{message}"
    );

    // Captured length above the snapshot length but plausible: read, as libpcap does.
    let frame = tcp(50_001, 3389, 0x02, &[0u8; 100]);
    let path = d.join("over-snaplen.pcap");
    std::fs::write(&path, pcap(1, 64, &[record(1, frame)])).unwrap();
    let summary = analyse(&path);
    assert_eq!((summary.totals.packets, error_of(&summary)), (1, None));

    // Original length below the captured length: counted, never a negative length.
    let mut lying = record(1, tcp(50_002, 3389, 0x02, &[]));
    lying.orig = 10;
    let path = d.join("orig-below-caplen.pcap");
    std::fs::write(&path, pcap(1, 65_535, &[lying])).unwrap();
    let summary = analyse(&path);
    assert_eq!(summary.totals.packets, 1);
}

#[test]
fn zero_length_packets_unknown_links_and_backward_time_are_counted() {
    let d = dir("odd");
    let records = vec![
        record(10, tcp(50_000, 3389, 0x02, &[])),
        record(9, Vec::new()),
        record(5, tcp(3389, 50_000, 0x12, &[])),
    ];
    let path = d.join("odd.pcap");
    std::fs::write(&path, pcap(1, 65_535, &records)).unwrap();
    let summary = analyse(&path);
    assert_eq!(summary.totals.packets, 3);
    assert_eq!(summary.capture.timestamps_backwards, 2);
    assert_eq!(
        summary
            .decode
            .errors
            .get("link")
            .and_then(|k| k.get("too_short")),
        Some(&1)
    );
    assert_eq!(
        summary.totals.tcp_flows, 1,
        "the SYN+ACK from the past still joins its flow"
    );
    assert!(summary.capture.duration >= 0.0);

    let path = d.join("unknown-link.pcap");
    std::fs::write(&path, pcap(147, 65_535, &[record(1, vec![1, 2, 3, 4])])).unwrap();
    let summary = analyse(&path);
    assert_eq!(
        summary.decode.unsupported_link_types.get("linktype_147"),
        Some(&1)
    );
    assert_eq!(error_of(&summary), None);
}

#[test]
fn long_ipv6_extension_chains_and_fragments_are_safe() {
    let d = dir("ipv6");
    // IPv6 with 40 destination-options headers (next header 60), then UDP.
    let mut ip = vec![0x60, 0, 0, 0, 0, 0, 60, 64];
    ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    for n in 0..40 {
        let next = if n == 39 { 17 } else { 60 };
        ip.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
    }
    ip.extend_from_slice(&[0xC3, 0x50, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
    let payload_len = (ip.len() - 40) as u16;
    ip[4..6].copy_from_slice(&payload_len.to_be_bytes());
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x86, 0xDD]);
    frame.extend_from_slice(&ip);

    // Tiny and overlapping IPv4 fragments of one datagram (offsets 0, 0, 1, 1 in 8-byte units).
    let mut fragments = Vec::new();
    for (offset, more) in [(0u16, true), (0, true), (1, true), (1, false)] {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4([10, 1, 10, 21], [10, 1, 0, 5], 64)
            .udp(53_000, 53);
        let mut f = Vec::new();
        b.write(&mut f, &[0u8; 8]).unwrap();
        let flags_offset = (u16::from(more) << 13) | offset;
        f[14 + 6..14 + 8].copy_from_slice(&flags_offset.to_be_bytes());
        f[14 + 4..14 + 6].copy_from_slice(&7u16.to_be_bytes()); // same identification
        fragments.push(record(2, f));
    }
    let mut records = vec![record(1, frame)];
    records.extend(fragments);
    let path = d.join("ipv6-chain.pcap");
    std::fs::write(&path, pcap(1, 65_535, &records)).unwrap();
    let summary = analyse(&path);
    assert_eq!(summary.totals.packets, 5);
    assert_eq!(error_of(&summary), None);
    assert!(
        summary.decode.fragments_attributed >= 2,
        "{:?}",
        summary.decode
    );
}

#[test]
fn every_tcp_flag_combination_is_safe() {
    let d = dir("flags");
    let mut records = Vec::new();
    for flags in 0..=255u8 {
        // Each combination on its own flow, and all of them on one shared flow.
        records.push(record(1, tcp(40_000 + u16::from(flags), 3389, flags, b"x")));
        records.push(record(2, tcp(39_999, 3389, flags, &[])));
        records.push(record(2, tcp(3389, 39_999, flags, &[])));
    }
    let path = d.join("flags.pcap");
    std::fs::write(&path, pcap(1, 65_535, &records)).unwrap();
    let summary = analyse(&path);
    assert_eq!(summary.totals.packets, 768);
    // Every segment lands in exactly one flow, whatever its flags did to orientation and reuse.
    let classified: u64 = summary.services.iter().map(|s| s.traffic.packets).sum();
    assert_eq!(classified + summary.unclassified.traffic.packets, 768);
    for service in &summary.services {
        let states: u64 = service.conn_states.values().sum();
        assert_eq!(states, service.traffic.flows, "{}", service.service);
    }
}

#[test]
fn garbage_after_the_header_names_the_offset_through_the_binary() {
    let d = dir("garbage");
    let mut bytes = pcap(1, 65_535, &[record(1, tcp(50_000, 3389, 0x02, &[]))]);
    bytes.extend_from_slice(&[0xFF; 7]);
    let path = d.join("garbage.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rdsflows"))
        .args(["analyze", "-q", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("garbage.pcap") && stderr.contains("byte offset 94"),
        "{stderr}"
    );
}
