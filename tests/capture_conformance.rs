//! Conformance of the capture readers against real captures: every file listed in
//! `../shared/captures/public/MANIFEST.tsv` must open without error and deliver exactly the packet
//! count `capinfos` gives (column 8).
//!
//! The captures are not part of the crate; when the folder is absent the test says so and passes.
//!
//! Network Monitor note: Wireshark counts every frame-table entry except three metadata media
//! types (0xFFFC payload header, 0xFFFD network info, 0xFFFE DNS cache), and so does our reader,
//! so the counts are equal there too. In the public set: `MS-ADOD_Example2_10…cap` has 41 frames
//! (all Ethernet; Wireshark shows 7 of them as "NetMon header" only because a comment is attached),
//! `MS-AUTHSOD_Example3-2…cap` 70 (all Ethernet), `MS-WMOD_Example2…cap` 212: 209 Ethernet and 3
//! NetEvent frames (media 0xFFE0), which Wireshark counts as frames and we deliver as
//! `LinkType(NETMON_BASE | 0xFFE0)` for the decoder to count as unsupported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::capture::PacketSource;

/// One manifest row: relative path, `<format>/<encapsulation>` and packet count.
struct Entry {
    path: PathBuf,
    format: String,
    packets: u64,
}

fn public_captures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        println!("skipped: ../shared/captures/public not found");
        None
    }
}

fn manifest(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(header.first(), Some(&"file"), "column 1 is the path");
    assert_eq!(
        header.get(7),
        Some(&"packets"),
        "column 8 is the packet count"
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Entry {
                path: dir.join(cols[0]),
                format: cols[6].split('/').next().unwrap().to_string(),
                packets: cols[7].parse().unwrap(),
            }
        })
        .collect()
}

/// Packets delivered and error messages for one set of inputs.
fn read(paths: &[PathBuf]) -> (u64, Vec<String>, u64, Option<u64>) {
    let (mut source, open_errors) = open_inputs(paths);
    let mut errors: Vec<String> = open_errors.iter().map(ToString::to_string).collect();
    let mut packets = 0u64;
    while let Some(next) = source.next_packet() {
        match next {
            Ok(_) => packets += 1,
            Err(e) => errors.push(e.to_string()),
        }
    }
    (packets, errors, source.bytes_read(), source.bytes_total())
}

#[test]
fn every_public_capture_reads_with_the_manifest_packet_count() {
    let Some(dir) = public_captures() else {
        return;
    };
    let entries = manifest(&dir);
    assert!(!entries.is_empty());
    let mut failures = Vec::new();
    // format -> (files, packets expected, packets delivered)
    let mut by_format: BTreeMap<&str, (u32, u64, u64)> = BTreeMap::new();
    for entry in &entries {
        let (packets, errors, bytes_read, bytes_total) = read(std::slice::from_ref(&entry.path));
        let tally = by_format.entry(&entry.format).or_default();
        tally.0 += 1;
        tally.1 += entry.packets;
        tally.2 += packets;
        if !errors.is_empty() || packets != entry.packets {
            failures.push(format!(
                "{}: {packets} packets (manifest {}), errors {errors:?}",
                entry.path.display(),
                entry.packets
            ));
        }
        if bytes_total != Some(bytes_read) {
            failures.push(format!(
                "{}: bytes_read {bytes_read}, bytes_total {bytes_total:?}",
                entry.path.display()
            ));
        }
    }
    for (format, (files, expected, delivered)) in &by_format {
        println!("{format}: {files} files, {delivered} packets delivered, manifest {expected}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn all_public_captures_merge_into_one_stream() {
    let Some(dir) = public_captures() else {
        return;
    };
    let entries = manifest(&dir);
    let paths: Vec<PathBuf> = entries.iter().map(|e| e.path.clone()).collect();
    let expected: u64 = entries.iter().map(|e| e.packets).sum();
    let (packets, errors, bytes_read, bytes_total) = read(&paths);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(packets, expected);
    assert_eq!(bytes_total, Some(bytes_read));
}
