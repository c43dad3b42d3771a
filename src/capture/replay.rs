//! In-memory packet source for tests and benchmarks: frames held in a `Vec`, replayed in order.
//! Owns nothing but the vector; must not touch files.

use super::{CaptureError, LinkType, PacketPos, PacketSource, RawPacket};
use crate::time::Timestamp;

/// Replays frames from memory, all with one link type.
#[derive(Debug, Clone)]
pub struct ReplaySource {
    link: LinkType,
    frames: Vec<(Timestamp, Vec<u8>)>,
    next: usize,
}

impl ReplaySource {
    /// Frames to replay, in the order given.
    pub fn new(link: LinkType, frames: Vec<(Timestamp, Vec<u8>)>) -> Self {
        Self {
            link,
            frames,
            next: 0,
        }
    }

    /// Starts again from the first frame (benchmarks replay the same input many times).
    pub fn rewind(&mut self) {
        self.next = 0;
    }
}

impl PacketSource for ReplaySource {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        let index = self.next;
        let (ts, data) = self.frames.get(index)?;
        self.next += 1;
        Some(Ok(RawPacket {
            ts: *ts,
            link: self.link,
            data,
            orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
            pos: PacketPos {
                file: 0,
                number: index as u64 + 1,
            },
        }))
    }
}
