//! Run counters: packets, bytes, what could not be decoded and why, per input. Owns counting;
//! must not print or log (a flood of bad packets becomes numbers, never a flood of messages).

use std::collections::BTreeMap;

use crate::capture::{LinkType, RawPacket};
use crate::decode::{DecodeError, DecodeErrorKind, Layer};
use crate::time::Timestamp;

const KINDS: [DecodeErrorKind; 3] = [
    DecodeErrorKind::TooShort,
    DecodeErrorKind::Malformed,
    DecodeErrorKind::LengthMismatch,
];

/// Counts of decode problems by layer and kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts([[u64; 3]; 8]);

impl ErrorCounts {
    /// Counts one error.
    pub fn add(&mut self, error: DecodeError) {
        let layer = Layer::ALL
            .iter()
            .position(|l| *l == error.layer)
            .unwrap_or(0);
        let kind = KINDS.iter().position(|k| *k == error.kind).unwrap_or(0);
        if let Some(slot) = self.0.get_mut(layer).and_then(|row| row.get_mut(kind)) {
            *slot += 1;
        }
    }

    /// Adds another set of counts.
    pub fn add_all(&mut self, other: &Self) {
        for (row, other_row) in self.0.iter_mut().zip(other.0.iter()) {
            for (count, other_count) in row.iter_mut().zip(other_row) {
                *count += other_count;
            }
        }
    }

    /// Total of all errors.
    pub fn total(&self) -> u64 {
        self.0.iter().flatten().sum()
    }

    /// Non-zero counts as (layer, kind, count), in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (Layer, DecodeErrorKind, u64)> + '_ {
        Layer::ALL
            .iter()
            .zip(self.0.iter())
            .flat_map(|(layer, row)| {
                KINDS
                    .iter()
                    .zip(row.iter())
                    .filter(|(_, n)| **n > 0)
                    .map(move |(kind, n)| (*layer, *kind, *n))
            })
    }
}

/// What happened to one input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputStats {
    /// The path as given (or `-`).
    pub path: String,
    /// Frames read from it.
    pub packets: u64,
    /// The damage that stopped it early, if any (file, offset and what).
    pub error: Option<String>,
}

/// Counters for a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames read.
    pub packets: u64,
    /// Bytes on the wire (sum of original frame lengths).
    pub wire_bytes: u64,
    /// Bytes the capture kept (sum of captured lengths).
    pub captured_bytes: u64,
    /// Frames that carried IP.
    pub ip_packets: u64,
    /// Frames cut short by the snapshot length.
    pub truncated_packets: u64,
    /// Frames by link type, but for the current run of frames of one link type (see
    /// [`Self::link_types`]).
    link_types: BTreeMap<LinkType, u64>,
    /// The link type of the latest frames and how many in a row: a map update per frame was a
    /// tenth of the reading thread's time in a sharded run (issue 6); a capture rarely changes
    /// link type, and a change costs one map update.
    link_run: Option<(LinkType, u64)>,
    /// Non-IP frames by EtherType.
    pub non_ip: BTreeMap<u16, u64>,
    /// Frames of link types rdsflows does not decode.
    pub unsupported_links: BTreeMap<LinkType, u64>,
    /// Frames that could not be decoded at all, by layer.
    pub decode_errors: ErrorCounts,
    /// Frames decoded in part (addresses counted, something after them wrong), by layer.
    pub anomalies: ErrorCounts,
    /// IP packets of protocols that make no flow (GRE, ESP, IGMP…), by protocol number.
    pub other_ip_protocols: BTreeMap<u8, u64>,
    /// Earliest capture time.
    pub first_ts: Option<Timestamp>,
    /// Latest capture time.
    pub last_ts: Option<Timestamp>,
    /// Frames whose time was earlier than the one before (merged or stepped clocks).
    pub ts_backwards: u64,
    /// Per input file.
    pub inputs: Vec<InputStats>,
    prev_ts: Option<Timestamp>,
}

impl Stats {
    /// Counters for a run over these inputs (paths as given, in input order).
    pub fn for_inputs(paths: &[String]) -> Self {
        Self {
            inputs: paths
                .iter()
                .map(|path| InputStats {
                    path: path.clone(),
                    ..InputStats::default()
                })
                .collect(),
            ..Self::default()
        }
    }

    /// Counts a frame as read. Inlined into the read loops, where the frame's fields are at
    /// hand in registers (as a call it was 1.8 % of a one-thread run, most of it the call).
    #[inline]
    pub fn count_frame(&mut self, packet: &RawPacket<'_>) {
        self.packets += 1;
        self.wire_bytes += u64::from(packet.orig_len);
        self.captured_bytes += packet.data.len() as u64;
        if packet.is_truncated() {
            self.truncated_packets += 1;
        }
        match &mut self.link_run {
            Some((link, n)) if *link == packet.link => *n += 1,
            _ => self.start_link_run(packet.link),
        }
        let ts = packet.ts;
        self.first_ts = Some(self.first_ts.map_or(ts, |t| t.min(ts)));
        self.last_ts = Some(self.last_ts.map_or(ts, |t| t.max(ts)));
        if self.prev_ts.is_some_and(|prev| ts < prev) {
            self.ts_backwards += 1;
        }
        self.prev_ts = Some(ts);
        if let Some(input) = self.inputs.get_mut(packet.pos.file as usize) {
            input.packets += 1;
        }
    }

    /// A frame of another link type than the one before: the run of the one before is counted.
    #[cold]
    fn start_link_run(&mut self, link: LinkType) {
        if let Some((link, n)) = self.link_run.replace((link, 1)) {
            *self.link_types.entry(link).or_default() += n;
        }
    }

    /// Adds the frame counts `other` kept (frames, bytes, link types, times, frames per
    /// input): a run whose threads each count their own stretches of the input adds them up.
    /// Steps back in time across the seams between stretches are the caller's to count.
    pub fn add_frames(&mut self, other: &Self) {
        self.packets += other.packets;
        self.wire_bytes += other.wire_bytes;
        self.captured_bytes += other.captured_bytes;
        self.truncated_packets += other.truncated_packets;
        for (link, n) in other.link_types() {
            *self.link_types.entry(link).or_default() += n;
        }
        self.first_ts = match (self.first_ts, other.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = match (self.last_ts, other.last_ts) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.ts_backwards += other.ts_backwards;
        for (input, theirs) in self.inputs.iter_mut().zip(&other.inputs) {
            input.packets += theirs.packets;
        }
    }

    /// Adds the counts that come from decoding (IP packets, non-IP frames, unsupported links,
    /// decode errors, anomalies, other IP protocols) that `other` kept: a sharded run decodes
    /// in its workers and adds their counts up at the end.
    pub fn add_decoded(&mut self, other: &Self) {
        self.ip_packets += other.ip_packets;
        for (ty, n) in &other.non_ip {
            *self.non_ip.entry(*ty).or_default() += n;
        }
        for (link, n) in &other.unsupported_links {
            *self.unsupported_links.entry(*link).or_default() += n;
        }
        self.decode_errors.add_all(&other.decode_errors);
        self.anomalies.add_all(&other.anomalies);
        for (protocol, n) in &other.other_ip_protocols {
            *self.other_ip_protocols.entry(*protocol).or_default() += n;
        }
    }

    /// Frames by link type.
    pub fn link_types(&self) -> BTreeMap<LinkType, u64> {
        let mut all = self.link_types.clone();
        if let Some((link, n)) = self.link_run {
            *all.entry(link).or_default() += n;
        }
        all
    }

    /// True when some input was damaged or unreadable.
    pub fn input_damaged(&self) -> bool {
        self.inputs.iter().any(|i| i.error.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;

    #[test]
    fn frames_are_counted_by_link_type_across_runs() {
        let mut stats = Stats::default();
        let links = [1, 1, 113, 1, 276, 276, 1];
        for link in links {
            stats.count_frame(&RawPacket {
                ts: Timestamp::ZERO,
                link: LinkType(link),
                data: &[],
                orig_len: 0,
                pos: PacketPos::default(),
            });
        }
        let counted: Vec<(u32, u64)> = stats
            .link_types()
            .into_iter()
            .map(|(l, n)| (l.0, n))
            .collect();
        assert_eq!(counted, [(1, 4), (113, 1), (276, 2)]);
        assert_eq!(stats.packets, links.len() as u64);
    }
}
