//! In-memory packet source for tests and benchmarks: frames held in one contiguous buffer and
//! replayed in order, as often as wanted. Owns nothing but the buffer; must not touch files.

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
