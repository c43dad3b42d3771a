//! Reading by ranges against reading front to back: the same frames, numbers and error for
//! any file in any range size, and guesses that are right or absent on sound files.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;

use super::*;
use crate::capture::writer::PcapWriter;
use crate::capture::{LinkType, PacketSource};

/// What a reader hands out: frames as (time, data, original length, number) and the error
/// that ended the file, as text.
type Read = (Vec<(i64, Vec<u8>, u32, u64)>, Vec<String>);

fn drain<R: super::super::pcap::Buffered>(reader: &mut PcapReader<R>, out: &mut Read) {
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(p) => out
                .0
                .push((p.ts.as_nanos(), p.data.to_vec(), p.orig_len, p.pos.number)),
            Err(e) => out.1.push(e.to_string()),
        }
    }
}

/// The file read front to back by the streaming reader.
fn streamed(bytes: &[u8], path: &Path) -> Read {
    let mut out = (Vec::new(), Vec::new());
    let mut reader = PcapReader::new(bytes, path).unwrap();
    drain(&mut reader, &mut out);
    out
}

/// The file read chunk by chunk, each from where the one before ended, as threads do once
/// their guesses are checked. Also checks every guess against the true start: on a file that
/// is not damaged, a chunk's guess is its true first record or no guess at all.
fn chunked(path: &Path, chunk_bytes: u64, damaged: bool) -> Read {
    let chunks = PcapChunks::open(path, chunk_bytes).unwrap();
    let mut out = (Vec::new(), Vec::new());
    let (mut at, mut number) = (chunks.first_record(), 0);
    'chunks: for index in 0..chunks.count() {
        let range = chunks.range(index);
        assert!(at >= range.start, "chunk {index} starts before its range");
        let mut loaded = chunks.load(index, Vec::new());
        let guess = chunks.guess_start(index, &mut loaded);
        if !damaged && at < range.end {
            assert!(
                guess.is_none() || guess == Some(at),
                "chunk {index}: guessed {guess:?}, starts at {at}"
            );
        }
        while at < range.end {
            match chunks.fetch(index, &mut loaded, at) {
                Fetched::Record {
                    ts,
                    data,
                    orig_len,
                    next,
                } => {
                    number += 1;
                    let bytes = loaded.bytes()[data].to_vec();
                    out.0.push((ts.as_nanos(), bytes, orig_len, number));
                    at = next;
                }
                Fetched::End => break 'chunks,
                Fetched::Damage(error) => {
                    out.1.push(error.to_string());
                    break 'chunks;
                }
            }
        }
    }
    out
}

fn temp_file(bytes: &[u8]) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "rdsflows-chunks-{}-{}.pcap",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn pcap(sizes: &[usize]) -> Vec<u8> {
    let mut writer = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65_535).unwrap();
    for (n, &size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..size).map(|i| (i + n) as u8).collect();
        let ts = Timestamp::from_nanos(1_700_000_000_000_000_000 + n as i64 * 1_000_000);
        writer.write_packet(ts, &data, size as u32 + 4).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn chunks_chained_read_what_the_stream_reads() {
    let bytes = pcap(&[60, 1514, 0, 200, 9000, 64, 64, 1500, 3, 700]);
    let path = temp_file(&bytes);
    let whole = streamed(&bytes, &path);
    assert_eq!(whole.0.len(), 10);
    // Smaller than a record (chunks with no record of their own), a record's size, the file.
    for chunk_bytes in [1, 7, 16, 100, 1530, 5000, 1 << 20] {
        assert_eq!(
            chunked(&path, chunk_bytes, false),
            whole,
            "{chunk_bytes}-byte chunks"
        );
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn damage_ends_the_file_where_the_stream_says() {
    let bytes = pcap(&[100, 200, 300, 400]);
    // The last record cut short, a record header cut short, a captured length past the limit.
    let mut bad_length = bytes.clone();
    let third = 24 + (16 + 100) + (16 + 200);
    bad_length[third + 8..third + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    for damaged in [
        bytes[..bytes.len() - 10].to_vec(),
        bytes[..third + 5].to_vec(),
        bad_length,
        bytes[..24].to_vec(),
    ] {
        let path = temp_file(&damaged);
        let whole = streamed(&damaged, &path);
        for chunk_bytes in [1, 50, 150, 1 << 20] {
            assert_eq!(
                chunked(&path, chunk_bytes, true),
                whole,
                "{chunk_bytes}-byte chunks"
            );
        }
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn declines_what_it_cannot_read_by_ranges() {
    let pcapng = temp_file(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]);
    assert!(PcapChunks::open(&pcapng, CHUNK_BYTES).is_none());
    std::fs::remove_file(pcapng).unwrap();
    assert!(PcapChunks::open(Path::new("/no/such/file.pcap"), CHUNK_BYTES).is_none());
    assert!(PcapChunks::open(&std::env::temp_dir(), CHUNK_BYTES).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes after a sound header: chained chunks of any size read exactly what the
    /// stream reads, frames, numbers and the error that ends the file alike.
    #[test]
    fn any_file_in_any_chunks_reads_as_the_stream(
        sizes in prop::collection::vec(0usize..600, 0..12),
        cut in any::<prop::sample::Index>(),
        noise in prop::collection::vec(any::<u8>(), 0..64),
        noise_at in any::<prop::sample::Index>(),
        chunk_bytes in 1u64..900,
    ) {
        let mut bytes = pcap(&sizes);
        // Overwrite some bytes past the file header, then cut the file anywhere past it.
        let at = 24 + noise_at.index(bytes.len() - 23);
        for (i, b) in noise.iter().enumerate() {
            if let Some(slot) = bytes.get_mut(at + i) {
                *slot = *b;
            }
        }
        let whole_len = bytes.len();
        bytes.truncate(24 + cut.index(bytes.len() - 23));
        let damaged = !noise.is_empty() || bytes.len() < whole_len;
        let path = temp_file(&bytes);
        let whole = streamed(&bytes, &path);
        let pieces = chunked(&path, chunk_bytes, damaged);
        std::fs::remove_file(&path).unwrap();
        prop_assert_eq!(pieces, whole);
    }
}

/// A record header claiming the largest length the header's snapshot length allows, in a small
/// file: reading it, or guessing across it, never takes memory for what is not in the file.
#[test]
fn a_length_field_never_sizes_the_buffer_past_the_file() {
    let mut bytes = pcap(&[100, 100]);
    bytes[16..20].copy_from_slice(&(200u32 << 20).to_le_bytes()); // snaplen: 200 MB
    let second = 24 + 16 + 100;
    bytes[second + 8..second + 12].copy_from_slice(&(150u32 << 20).to_le_bytes());
    bytes[second + 12..second + 16].copy_from_slice(&(150u32 << 20).to_le_bytes());
    let path = temp_file(&bytes);
    let chunks = PcapChunks::open(&path, 64).unwrap();
    let whole = streamed(&bytes, &path);
    assert_eq!(chunked(&path, 64, true), whole);
    for index in 0..chunks.count() {
        let mut loaded = chunks.load(index, Vec::new());
        let _ = chunks.guess_start(index, &mut loaded);
        let _ = chunks.fetch(index, &mut loaded, second as u64);
        assert!(loaded.into_buffer().len() < 1 << 20, "chunk {index}");
    }
    std::fs::remove_file(path).unwrap();
}
