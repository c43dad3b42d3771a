//! In-memory packet sources for tests and benchmarks: frames held in one contiguous buffer and
//! replayed in order, or a whole pcap file held in memory; either as often as wanted. Owns
//! nothing but the bytes; must not touch files.

use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::chunks::{PcapChunks, CHUNK_BYTES};
use super::pcap::PcapReader;
use super::{CaptureError, LinkType, PacketPos, PacketSource, RawPacket};
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy)]
struct Entry {
    ts: Timestamp,
    link: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
    pos: PacketPos,
}

/// Replays frames from memory.
#[derive(Debug, Clone, Default)]
pub struct ReplaySource {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    next: usize,
}

impl ReplaySource {
    /// Frames to replay, in the order given, all with one link type.
    pub fn new(link: LinkType, frames: Vec<(Timestamp, Vec<u8>)>) -> Self {
        let mut source = Self::default();
        for (n, (ts, data)) in frames.into_iter().enumerate() {
            let pos = PacketPos {
                file: 0,
                number: n as u64 + 1,
            };
            let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            source.push(ts, link, &data, orig_len, pos);
        }
        source
    }

    /// Appends one frame.
    pub fn push(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        data: &[u8],
        orig_len: u32,
        pos: PacketPos,
    ) {
        self.entries.push(Entry {
            ts,
            link,
            start: self.bytes.len(),
            len: data.len(),
            orig_len,
            pos,
        });
        self.bytes.extend_from_slice(data);
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no frame is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes on the wire of all frames (sum of original lengths).
    pub fn wire_bytes(&self) -> u64 {
        self.entries.iter().map(|e| u64::from(e.orig_len)).sum()
    }

    /// Starts again from the first frame (benchmarks replay the same input many times).
    pub fn rewind(&mut self) {
        self.next = 0;
    }
}

impl PacketSource for ReplaySource {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        let entry = *self.entries.get(self.next)?;
        self.next += 1;
        let data = self
            .bytes
            .get(entry.start..entry.start + entry.len)
            .unwrap_or_default();
        Some(Ok(RawPacket {
            ts: entry.ts,
            link: entry.link,
            data,
            orig_len: entry.orig_len,
            pos: entry.pos,
        }))
    }
}

/// A classic pcap file held whole in memory and read where it lies, as often as wanted; on
/// several threads, read by ranges as a file on disk would be (`rdsflows bench`).
pub struct MemoryPcap {
    bytes: Arc<Vec<u8>>,
    name: PathBuf,
    /// Reads through a 64 KB buffer, as a file is read: records read in place from the
    /// whole image missed the cache one by one (bench's one thread was 2.5 times slower
    /// than its two, which copy ranges out as files are read).
    reader: PcapReader<BufReader<Cursor<Image>>>,
    /// True until the first frame is taken after a (re)start.
    fresh: bool,
    wire_bytes: u64,
}

impl std::fmt::Debug for MemoryPcap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPcap")
            .field("name", &self.name)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl MemoryPcap {
    /// The file `bytes`, named `name` in errors and summaries.
    ///
    /// # Errors
    /// The bytes are not a classic pcap file, or a record is damaged (a benchmark runs over
    /// sound input only, as `bench` always has).
    pub fn new(bytes: Vec<u8>, name: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let bytes = Arc::new(bytes);
        let name = name.as_ref().to_path_buf();
        let mut reader = PcapReader::new(Cursor::new(Image(Arc::clone(&bytes))), &name)?;
        let mut wire_bytes = 0;
        while let Some(next) = reader.next_packet() {
            wire_bytes += u64::from(next?.orig_len);
        }
        let reader = PcapReader::new(buffered(&bytes), &name)?;
        Ok(Self {
            bytes,
            name,
            reader,
            fresh: true,
            wire_bytes,
        })
    }

    /// Bytes on the wire of all frames (sum of original lengths).
    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes
    }

    /// Starts again from the first frame.
    pub fn rewind(&mut self) {
        if let Ok(reader) = PcapReader::new(buffered(&self.bytes), &self.name) {
            self.reader = reader;
            self.fresh = true;
        }
    }
}

impl PacketSource for MemoryPcap {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        self.fresh = false;
        self.reader.next_packet()
    }

    fn pcap_chunks(&self) -> Option<(PcapChunks, u32)> {
        let chunks = PcapChunks::in_memory(Arc::clone(&self.bytes), &self.name, CHUNK_BYTES);
        chunks.filter(|_| self.fresh).map(|c| (c, 0))
    }
}

/// The image read through a buffer the size of a file's read buffer.
fn buffered(bytes: &Arc<Vec<u8>>) -> BufReader<Cursor<Image>> {
    BufReader::with_capacity(64 * 1024, Cursor::new(Image(Arc::clone(bytes))))
}

/// The shared image, as bytes a `Cursor` reads.
struct Image(Arc<Vec<u8>>);

impl AsRef<[u8]> for Image {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
