//! Any bytes as a pcap, pcapng and Network Monitor file: the readers return frames or one
//! located error, never panic, never allocate what a length field claims without checking it.
//! A pcap read by ranges (as threads read it, in ranges of a size the input picks) gives the
//! same frames and the same error as read front to back, and guessing where a range's first
//! record starts never panics.
#![no_main]

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rdsflows::capture::chunks::{Fetched, PcapChunks};
use rdsflows::capture::netmon::NetmonReader;
use rdsflows::capture::pcap::PcapReader;
use rdsflows::capture::pcapng::PcapngReader;
use rdsflows::capture::PacketSource;

fn drain(source: &mut dyn PacketSource) {
    let mut errors = 0;
    while let Some(next) = source.next_packet() {
        if next.is_err() {
            errors += 1;
        }
        assert!(errors <= 1, "an input reports its damage once, then stops");
    }
}

/// Frames (time, bytes, original length, number) and the error text, front to back.
type Read = (Vec<(i64, Vec<u8>, u32, u64)>, Option<String>);

fn streamed(data: &[u8]) -> Read {
    let mut out = (Vec::new(), None);
    if let Ok(mut reader) = PcapReader::new(Cursor::new(data), "fuzz.pcap") {
        while let Some(next) = reader.next_packet() {
            match next {
                Ok(p) => out
                    .0
                    .push((p.ts.as_nanos(), p.data.to_vec(), p.orig_len, p.pos.number)),
                Err(e) => out.1 = Some(e.to_string()),
            }
        }
    }
    out
}

fn by_ranges(chunks: &PcapChunks) -> Read {
    let mut out = (Vec::new(), None);
    let (mut at, mut number) = (chunks.first_record(), 0);
    let mut buffer = Vec::new();
    'chunks: for index in 0..chunks.count() {
        let mut loaded = chunks.load(index, std::mem::take(&mut buffer));
        let _ = chunks.guess_start(index, &mut loaded);
        while at < chunks.range(index).end {
            match chunks.fetch(index, &mut loaded, at) {
                Fetched::Record {
                    ts,
                    data,
                    orig_len,
                    next,
                } => {
                    number += 1;
                    let bytes = loaded.bytes().get(data).unwrap_or_default().to_vec();
                    out.0.push((ts.as_nanos(), bytes, orig_len, number));
                    at = next;
                }
                Fetched::End => break 'chunks,
                Fetched::Damage(e) => {
                    out.1 = Some(e.to_string());
                    break 'chunks;
                }
            }
        }
        buffer = loaded.into_buffer();
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = PcapReader::new(Cursor::new(data), "fuzz.pcap") {
        drain(&mut r);
    }
    // Ranges of 1 to 4,081 bytes, the size picked by the input's last byte; inputs past 64 KB
    // would spend the run allocating buffers for their thousands of ranges.
    if data.len() <= 1 << 16 {
        let chunk_bytes = 1 + u64::from(data.last().copied().unwrap_or(0)) * 16;
        let image = Arc::new(data.to_vec());
        if let Some(chunks) = PcapChunks::in_memory(image, Path::new("fuzz.pcap"), chunk_bytes) {
            assert_eq!(
                by_ranges(&chunks),
                streamed(data),
                "{chunk_bytes}-byte ranges"
            );
        }
    }
    if let Ok(mut r) = PcapngReader::new(Cursor::new(data), "fuzz.pcapng") {
        drain(&mut r);
    }
    if let Ok(mut r) = NetmonReader::new(Cursor::new(data), "fuzz.cap") {
        drain(&mut r);
    }
});
