//! Microsoft Network Monitor capture reader (`.cap`, magic `GMBU` for 2.x, `RTSS` for 1.x).
//!
//! Owns the Network Monitor file layout as the Network Monitor 3.x help ("Capture File Format")
//! documents it and as Wireshark's `wiretap/netmon.c` reads it: a 128-byte header, a frame table of
//! `u32` offsets at the end of the file, and per frame a header (2.x: `u64` microseconds since the
//! capture start, original length, captured length), the data and, from version 2.1 on, a trailer
//! whose first two bytes are the frame's media type (2.1: 2 bytes; 2.2: 6; 2.3 and later: 15,
//! including a UTC FILETIME timestamp).
//!
//! The frame table makes this format random-access: the reader seeks. It holds one chunk of the
//! frame table and one frame at a time, never the file (the caller spools compressed or piped
//! input into memory, bounded; see `file.rs`).
//!
//! Must not: decode frames, or panic on any input. Media types without a pcap LINKTYPE are passed
//! on as `LinkType(NETMON_BASE | media)` for the decoder to count as unsupported.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::file::{array_at, capture_error, read_full, reserve_slice, Endian, MAX_RECORD_LEN};
use super::{CaptureError, CaptureErrorKind, LinkType, PacketPos, PacketSource, RawPacket};
use crate::time::Timestamp;

/// Network Monitor 2.x magic.
const MAGIC_V2: [u8; 4] = *b"GMBU";
/// Network Monitor 1.x magic.
const MAGIC_V1: [u8; 4] = *b"RTSS";
/// The part of the (128-byte, padded) file header that carries fields: magic, version, MAC type,
/// SYSTEMTIME, then five (offset, length) pairs.
const FILE_HEADER_LEN: usize = 64;
/// Frame header length, 1.x: `u32` milliseconds, `u16` original and captured lengths.
const FRAME_HEADER_LEN_V1: usize = 8;
/// Frame header length, 2.x: `u64` microseconds, `u32` original and captured lengths.
const FRAME_HEADER_LEN_V2: usize = 16;
/// Longest frame trailer (2.3: media 2, process index 4, UTC FILETIME 8, time-zone index 1).
const MAX_TRAILER_LEN: usize = 15;
/// Frame-table entries read at a time (16 KiB), so memory does not grow with the frame count.
const TABLE_CHUNK_ENTRIES: u32 = 4096;

/// Media type: Ethernet.
const MEDIA_ETHERNET: u16 = 1;
/// Media type 0: Wireshark maps it to Ethernet (NetMon 3.4 VPN captures use it for Ethernet frames).
const MEDIA_NULL_ETHERNET: u16 = 0;
/// Media types 7, 8, 9: "tunneling interfaces", "wireless WAN", "raw IP frames" in format 2.x;
/// the frames are raw IP (Wireshark: WTAP_ENCAP_RAW_IP).
const MEDIA_RAW_IP: [u16; 3] = [7, 8, 9];
/// `0xE000 | n`: a frame converted from pcap with LINKTYPE `n`.
const MEDIA_PCAP_BASE: u16 = 0xE000;
/// `0xE080..=0xE08A`: Message Analyzer exported media types (WiFi, WFP, Fiddler...), not LINKTYPEs.
const MEDIA_MA_EXPORTED: std::ops::RangeInclusive<u16> = 0xE080..=0xE08A;
/// Metadata frames Wireshark does not show as frames (payload header, network info, DNS cache);
/// skipping them keeps frame numbers and counts equal to Wireshark's.
const MEDIA_SKIPPED: [u16; 3] = [0xFFFC, 0xFFFD, 0xFFFE];

/// 100-nanosecond intervals from 1601-01-01 (FILETIME epoch) to 1970-01-01.
const FILETIME_UNIX_EPOCH: i64 = 116_444_736_000_000_000;

/// True when `magic` starts a Network Monitor file.
pub(super) fn sniff(magic: [u8; 4]) -> bool {
    magic == MAGIC_V2 || magic == MAGIC_V1
}

/// The link type for a Network Monitor media type.
pub fn media_link_type(media: u16) -> LinkType {
    if media == MEDIA_ETHERNET || media == MEDIA_NULL_ETHERNET {
        LinkType::ETHERNET
    } else if MEDIA_RAW_IP.contains(&media) {
        LinkType::RAW
    } else if media & 0xF000 == MEDIA_PCAP_BASE && !MEDIA_MA_EXPORTED.contains(&media) {
        LinkType(u32::from(media & 0x0FFF))
    } else {
        LinkType(LinkType::NETMON_BASE | u32::from(media))
    }
}

/// Reads a Network Monitor 1.x/2.x file frame by frame, following its frame table.
///
/// The frames it returns carry `PacketPos { file: 0, .. }`; `FileSource` renumbers the file.
/// Frame numbers count the frames returned (the skipped metadata frames are not numbered).
pub struct NetmonReader<R> {
    inner: BufReader<R>,
    path: PathBuf,
    /// Position of `inner`, tracked to avoid seeking when frames follow each other.
    pos: u64,
    file_len: u64,
    major: u8,
    minor: u8,
    /// MAC type from the file header, for files without per-frame trailers (before 2.1).
    header_media: u16,
    /// Capture start (SYSTEMTIME from the header, read as UTC).
    start: Timestamp,
    table_offset: u64,
    frame_count: u32,
    next_frame: u32,
    /// Raw bytes of frame-table entries `chunk_first..chunk_first + chunk.len() / 4`.
    chunk: Vec<u8>,
    chunk_first: u32,
    number: u64,
    buf: Vec<u8>,
    len: usize,
    done: bool,
}

impl<R: Read + Seek> NetmonReader<R> {
    /// Reads and checks the file header; the frame table is read in chunks as frames are read.
    ///
    /// # Errors
    /// `NotACapture` when the magic is not Network Monitor's, `Corrupt` for an unsupported
    /// version or a frame table that is not a whole number of entries, `Truncated` when the
    /// header or frame table lies beyond the end of the file, `Io` when reading fails.
    pub fn new(inner: R, path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let io_error = |e| capture_error(path, 0, CaptureErrorKind::Io(e));
        let mut inner = BufReader::new(inner);
        let file_len = inner.seek(SeekFrom::End(0)).map_err(io_error)?;
        inner.seek(SeekFrom::Start(0)).map_err(io_error)?;
        let mut header = [0u8; FILE_HEADER_LEN];
        let got = read_full(&mut inner, &mut header).map_err(io_error)?;
        let magic: [u8; 4] = array_at(&header, 0).unwrap_or_default();
        if got >= magic.len() && !sniff(magic) {
            return Err(capture_error(
                path,
                0,
                CaptureErrorKind::NotACapture { magic },
            ));
        }
        if got < FILE_HEADER_LEN {
            return Err(capture_error(
                path,
                0,
                CaptureErrorKind::Truncated {
                    what: "Network Monitor file header",
                    needed: FILE_HEADER_LEN as u64,
                    got: got as u64,
                },
            ));
        }
        // Fixed offsets inside a fixed 64-byte array: the defaults are never used.
        let le16 = |at| Endian::Little.u16_at(&header, at).unwrap_or(0);
        let le32 = |at| Endian::Little.u32_at(&header, at).unwrap_or(0);
        let [minor, major] = array_at(&header, 4).unwrap_or_default();
        let corrupt = |msg: String| capture_error(path, 0, CaptureErrorKind::Corrupt(msg));
        if !matches!(major, 1 | 2) {
            return Err(corrupt(format!(
                "Network Monitor format version {major}.{minor} is not supported (only 1.x and 2.x)"
            )));
        }
        let start = systemtime(
            le16(8),
            le16(10),
            le16(14),
            le16(16),
            le16(18),
            le16(20),
            le16(22),
        );
        let table_offset = u64::from(le32(24));
        let table_len = le32(28);
        if table_len % 4 != 0 {
            return Err(corrupt(format!(
                "frame table length {table_len} is not a multiple of 4"
            )));
        }
        let available = file_len.saturating_sub(table_offset);
        if u64::from(table_len) > available {
            return Err(capture_error(
                path,
                table_offset,
                CaptureErrorKind::Truncated {
                    what: "Network Monitor frame table",
                    needed: u64::from(table_len),
                    got: available,
                },
            ));
        }
        Ok(Self {
            inner,
            path: path.to_path_buf(),
            pos: FILE_HEADER_LEN as u64,
            file_len,
            major,
            minor,
            header_media: le16(6),
            start,
            table_offset,
            frame_count: table_len / 4,
            next_frame: 0,
            chunk: Vec::new(),
            chunk_first: 0,
            number: 0,
            buf: Vec::new(),
            len: 0,
            done: false,
        })
    }

    /// Format version as (major, minor), e.g. (2, 3).
    pub fn version(&self) -> (u8, u8) {
        (self.major, self.minor)
    }

    /// Number of entries in the frame table (metadata frames included).
    pub fn frame_count(&self) -> u32 {
        self.frame_count
    }

    /// How far through the file the reader is, in bytes: the file length times the share of
    /// frame-table entries read (the file itself is read with seeks, some parts twice, so a
    /// count of bytes read would overshoot). Reaches the file length at the end.
    pub fn progress(&self) -> u64 {
        if self.done || self.frame_count == 0 {
            return self.file_len;
        }
        let share =
            u128::from(self.file_len) * u128::from(self.next_frame) / u128::from(self.frame_count);
        u64::try_from(share).unwrap_or(self.file_len)
    }

    /// The captured bytes of the frame `next_packet` returned last (empty before the first and
    /// after an error).
    pub fn data(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    fn error(&self, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        capture_error(&self.path, offset, kind)
    }

    /// Moves `inner` to `offset`, keeping the read buffer when the target is inside it.
    fn seek_to(&mut self, offset: u64) -> Result<(), CaptureError> {
        if offset == self.pos {
            return Ok(());
        }
        let result = match (i64::try_from(offset), i64::try_from(self.pos)) {
            (Ok(to), Ok(from)) => self.inner.seek_relative(to.saturating_sub(from)),
            _ => self.inner.seek(SeekFrom::Start(offset)).map(|_| ()),
        };
        result.map_err(|e| self.error(offset, CaptureErrorKind::Io(e)))?;
        self.pos = offset;
        Ok(())
    }

    /// A `Truncated` error for the frame at `start`.
    fn truncated(&self, start: u64, what: &'static str, needed: u64, got: u64) -> CaptureError {
        self.error(start, CaptureErrorKind::Truncated { what, needed, got })
    }

    /// The file offset of frame `index`, from the frame table.
    fn table_entry(&mut self, index: u32) -> Result<u64, CaptureError> {
        let in_chunk = index
            .checked_sub(self.chunk_first)
            .and_then(|rel| usize::try_from(rel).ok())
            .and_then(|rel| rel.checked_mul(4))
            .and_then(|at| Endian::Little.u32_at(&self.chunk, at));
        if let Some(offset) = in_chunk {
            return Ok(u64::from(offset));
        }
        let count = self
            .frame_count
            .saturating_sub(index)
            .min(TABLE_CHUNK_ENTRIES);
        let chunk_offset = self
            .table_offset
            .saturating_add(u64::from(index).saturating_mul(4));
        self.seek_to(chunk_offset)?;
        let bytes = usize::try_from(count).unwrap_or(0).saturating_mul(4);
        let dst = reserve_slice(&mut self.chunk, bytes);
        let got = read_counted(&mut self.inner, &mut self.pos, dst)
            .map_err(|e| capture_error(&self.path, chunk_offset, CaptureErrorKind::Io(e)))?;
        self.chunk.truncate(got);
        self.chunk_first = index;
        Endian::Little
            .u32_at(&self.chunk, 0)
            .map(u64::from)
            .ok_or_else(|| {
                self.error(
                    chunk_offset,
                    CaptureErrorKind::Truncated {
                        what: "Network Monitor frame table",
                        needed: u64::from(count).saturating_mul(4),
                        got: got as u64,
                    },
                )
            })
    }

    /// Reads the next frame that is a packet; `Ok(None)` after the last table entry.
    fn read_frame(&mut self) -> Result<Option<(Timestamp, LinkType, u32)>, CaptureError> {
        loop {
            if self.next_frame >= self.frame_count {
                return Ok(None);
            }
            let start = self.table_entry(self.next_frame)?;
            self.next_frame = self.next_frame.saturating_add(1);
            self.len = 0;
            self.seek_to(start)?;
            let v2 = self.major == 2;
            let header_len = if v2 {
                FRAME_HEADER_LEN_V2
            } else {
                FRAME_HEADER_LEN_V1
            };
            let trailer_len = match (self.major, self.minor) {
                (2, 0) | (1, _) => 0,
                (2, 1) => 2,
                (2, 2) => 6,
                _ => MAX_TRAILER_LEN,
            };
            let mut header = [0u8; FRAME_HEADER_LEN_V2];
            let dst = header.get_mut(..header_len).unwrap_or_default();
            let got = read_counted(&mut self.inner, &mut self.pos, dst)
                .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
            if got < header_len {
                return Err(self.truncated(
                    start,
                    "Network Monitor frame header",
                    header_len as u64,
                    got as u64,
                ));
            }
            let (delta_nanos, orig_len, caplen) = if v2 {
                let e = Endian::Little;
                let micros = e.u64_at(&header, 0).unwrap_or(0);
                // netmon.c: "treat it as an unsigned number, multiply it by 10, and then
                // interpret the resulting 64-bit quantity as a signed number" (100 ns units).
                let hundreds = i64::from_ne_bytes(micros.wrapping_mul(10).to_ne_bytes());
                (
                    hundreds.saturating_mul(100),
                    e.u32_at(&header, 8).unwrap_or(0),
                    e.u32_at(&header, 12).unwrap_or(0),
                )
            } else {
                let e = Endian::Little;
                let millis = e.u32_at(&header, 0).unwrap_or(0);
                (
                    i64::from(millis).saturating_mul(1_000_000),
                    u32::from(e.u16_at(&header, 4).unwrap_or(0)),
                    u32::from(e.u16_at(&header, 6).unwrap_or(0)),
                )
            };
            if caplen > MAX_RECORD_LEN {
                return Err(self.error(
                    start,
                    CaptureErrorKind::BadLength {
                        what: "Network Monitor captured length",
                        value: u64::from(caplen),
                        limit: u64::from(MAX_RECORD_LEN),
                    },
                ));
            }
            let frame_len = (header_len as u64)
                .saturating_add(u64::from(caplen))
                .saturating_add(trailer_len as u64);
            // Check against the file length before allocating for the data.
            let available = self.file_len.saturating_sub(start);
            if frame_len > available {
                return Err(self.truncated(start, "Network Monitor frame", frame_len, available));
            }
            let len = usize::try_from(caplen).unwrap_or(usize::MAX);
            let dst = reserve_slice(&mut self.buf, len);
            let got_data = read_counted(&mut self.inner, &mut self.pos, dst)
                .map_err(|e| capture_error(&self.path, start, CaptureErrorKind::Io(e)))?;
            let mut trailer = [0u8; MAX_TRAILER_LEN];
            let got_trailer = if got_data < len {
                0
            } else {
                let dst = trailer.get_mut(..trailer_len).unwrap_or_default();
                read_counted(&mut self.inner, &mut self.pos, dst)
                    .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?
            };
            if got_data < len || got_trailer < trailer_len {
                // The file shrank after it was opened (the length check above passed).
                let got = (header_len as u64)
                    .saturating_add(got_data as u64)
                    .saturating_add(got_trailer as u64);
                return Err(self.truncated(start, "Network Monitor frame", frame_len, got));
            }
            let media = if trailer_len >= 2 {
                Endian::Little.u16_at(&trailer, 0).unwrap_or(0)
            } else {
                self.header_media
            };
            if MEDIA_SKIPPED.contains(&media) {
                continue;
            }
            let ts = if trailer_len >= MAX_TRAILER_LEN {
                // 2.3+: the per-frame UTC timestamp replaces start + delta (as in netmon.c).
                filetime(Endian::Little.u64_at(&trailer, 6).unwrap_or(0))
            } else {
                Timestamp::from_nanos(self.start.as_nanos().saturating_add(delta_nanos))
            };
            self.len = len;
            self.number = self.number.saturating_add(1);
            return Ok(Some((ts, media_link_type(media), orig_len)));
        }
    }
}

impl<R: Read + Seek> PacketSource for NetmonReader<R> {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        match self.read_frame() {
            Ok(Some((ts, link, orig_len))) => Some(Ok(RawPacket {
                ts,
                link,
                data: self.data(),
                orig_len,
                pos: PacketPos {
                    file: 0,
                    number: self.number,
                },
            })),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                self.len = 0;
                Some(Err(e))
            }
        }
    }
}

/// `read_full` that also advances the tracked stream position.
fn read_counted<R: Read>(
    inner: &mut BufReader<R>,
    pos: &mut u64,
    dst: &mut [u8],
) -> std::io::Result<usize> {
    let got = read_full(inner, dst)?;
    *pos = pos.saturating_add(got as u64);
    Ok(got)
}

/// A Windows FILETIME (100 ns since 1601-01-01 UTC) as capture time, saturating.
fn filetime(ticks: u64) -> Timestamp {
    let ticks = i64::try_from(ticks).unwrap_or(i64::MAX);
    Timestamp::from_nanos(
        ticks
            .saturating_sub(FILETIME_UNIX_EPOCH)
            .saturating_mul(100),
    )
}

/// The header's SYSTEMTIME as capture time.
///
/// The file does not say which time zone it is in (NetMon wrote local time); it is read as UTC
/// so that a run does not depend on the analysing machine's zone. Wireshark uses the local zone
/// instead; the two agree when `TZ=UTC`. Only files before 2.3 use it: later ones carry a UTC
/// timestamp per frame. Out-of-range fields give a wrong date, never a panic.
fn systemtime(
    year: u16,
    month: u16,
    day: u16,
    hour: u16,
    min: u16,
    sec: u16,
    ms: u16,
) -> Timestamp {
    // Days from civil, H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
    let (month, day) = (i64::from(month), i64::from(day));
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + 9).rem_euclid(12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let secs = days * 86_400 + i64::from(hour) * 3_600 + i64::from(min) * 60 + i64::from(sec);
    Timestamp::from_nanos(
        secs.saturating_mul(1_000_000_000)
            .saturating_add(i64::from(ms) * 1_000_000),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Cursor;

    /// One frame for [`build`]; `delta` is in microseconds (2.x) or milliseconds (1.x).
    #[derive(Clone, Copy)]
    pub(in crate::capture) struct Frame<'a> {
        pub(in crate::capture) delta: u64,
        pub(in crate::capture) data: &'a [u8],
        pub(in crate::capture) orig: u32,
        /// Per-frame media type, written in the 2.1+ trailer.
        pub(in crate::capture) media: u16,
        /// UTC FILETIME, written in the 2.3 trailer.
        pub(in crate::capture) filetime: u64,
    }

    /// Capture start in the header: 2016-09-04 (a Sunday) 23:03:06.592, read as UTC.
    pub(in crate::capture) const START_NANOS: i64 = 1_473_030_186_592_000_000;

    /// A Network Monitor file with the frames in file order and the frame table at the end.
    pub(in crate::capture) fn build(
        major: u8,
        minor: u8,
        media: u16,
        frames: &[Frame<'_>],
    ) -> Vec<u8> {
        let order: Vec<usize> = (0..frames.len()).collect();
        build_with_order(major, minor, media, frames, &order)
    }

    /// As [`build`], with the frame table listing the frames in `order`.
    fn build_with_order(
        major: u8,
        minor: u8,
        media: u16,
        frames: &[Frame<'_>],
        order: &[usize],
    ) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(if major == 1 { b"RTSS" } else { b"GMBU" }); // 0: magic
        f.extend_from_slice(&[minor, major]); // 4: version
        f.extend_from_slice(&media.to_le_bytes()); // 6: MAC type
        for v in [2016u16, 9, 0, 4, 23, 3, 6, 592] {
            f.extend_from_slice(&v.to_le_bytes()); // 8..24: SYSTEMTIME
        }
        f.resize(128, 0); // 24: table offset and length, filled in below
        let mut offsets = Vec::new();
        for frame in frames {
            offsets.push(f.len() as u32);
            if major == 1 {
                f.extend_from_slice(&(frame.delta as u32).to_le_bytes()); // +0 ms
                f.extend_from_slice(&(frame.orig as u16).to_le_bytes()); // +4 original length
                f.extend_from_slice(&(frame.data.len() as u16).to_le_bytes()); // +6 captured
            } else {
                f.extend_from_slice(&frame.delta.to_le_bytes()); // +0 µs
                f.extend_from_slice(&frame.orig.to_le_bytes()); // +8 original length
                f.extend_from_slice(&(frame.data.len() as u32).to_le_bytes()); // +12 captured
            }
            f.extend_from_slice(frame.data);
            let mut trailer = Vec::new();
            trailer.extend_from_slice(&frame.media.to_le_bytes()); // media type
            trailer.extend_from_slice(&7u32.to_le_bytes()); // process info index
            trailer.extend_from_slice(&frame.filetime.to_le_bytes()); // UTC timestamp
            trailer.push(0); // time zone index
            let trailer_len = match (major, minor) {
                (1, _) | (2, 0) => 0,
                (2, 1) => 2,
                (2, 2) => 6,
                _ => 15,
            };
            f.extend_from_slice(&trailer[..trailer_len]);
        }
        let table_offset = f.len() as u32;
        for &i in order {
            f.extend_from_slice(&offsets[i].to_le_bytes());
        }
        f[24..28].copy_from_slice(&table_offset.to_le_bytes());
        f[28..32].copy_from_slice(&(4 * order.len() as u32).to_le_bytes());
        f
    }

    /// `(ts, link, data, orig_len, number)`.
    type Got = (i64, u32, Vec<u8>, u32, u64);

    fn read_all(bytes: &[u8]) -> (Vec<Got>, Vec<CaptureError>) {
        let mut packets = Vec::new();
        let mut errors = Vec::new();
        match NetmonReader::new(Cursor::new(bytes), "test.cap") {
            Err(e) => errors.push(e),
            Ok(mut reader) => {
                while let Some(next) = reader.next_packet() {
                    match next {
                        Ok(p) => packets.push((
                            p.ts.as_nanos(),
                            p.link.0,
                            p.data.to_vec(),
                            p.orig_len,
                            p.pos.number,
                        )),
                        Err(e) => errors.push(e),
                    }
                }
                assert!(reader.next_packet().is_none(), "stays finished");
                assert_eq!(reader.progress(), bytes.len() as u64);
            }
        }
        (packets, errors)
    }

    /// FILETIME of 2020-01-01 00:00:00.1234567 UTC.
    const FILETIME_2020: u64 = 132_223_104_001_234_567;
    const NANOS_2020: i64 = 1_577_836_800_123_456_700;

    fn frame(delta: u64, data: &[u8], media: u16) -> Frame<'_> {
        Frame {
            delta,
            data,
            orig: data.len() as u32 + 1,
            media,
            filetime: FILETIME_2020.wrapping_add(delta.wrapping_mul(10)),
        }
    }

    #[test]
    fn version_2_3_uses_the_utc_trailer_and_maps_media_types() {
        let frames = [
            frame(0, b"ether", 1),
            frame(10, b"network info", 0xFFFD), // not a packet: skipped, not numbered
            frame(20, b"raw ip", 0xE000 + 101), // pcap LINKTYPE_RAW carried in NetMon
            frame(30, b"event", 0xFFE0),        // NetEvent: passed on as unsupported
            frame(40, b"wifi", 6),              // NetMon 802.11: unsupported
            frame(50, b"vpn", 0),               // 0: Ethernet, as Wireshark reads it
        ];
        let f = build(2, 3, 1, &frames);
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = packets
            .iter()
            .map(|p| (p.0, p.1, p.2.as_slice(), p.3, p.4))
            .collect();
        assert_eq!(
            got,
            vec![
                (NANOS_2020, 1, &b"ether"[..], 6, 1),
                (NANOS_2020 + 20_000, 101, b"raw ip", 7, 2),
                (
                    NANOS_2020 + 30_000,
                    LinkType::NETMON_BASE | 0xFFE0,
                    b"event",
                    6,
                    3
                ),
                (
                    NANOS_2020 + 40_000,
                    LinkType::NETMON_BASE | 6,
                    b"wifi",
                    5,
                    4
                ),
                (NANOS_2020 + 50_000, 1, b"vpn", 4, 5),
            ]
        );
    }

    #[test]
    fn versions_before_2_3_use_start_time_plus_delta() {
        for minor in [0u8, 1, 2] {
            let frames = [frame(0, b"a", 1), frame(1_500_000, b"bb", 0xE071)];
            let f = build(2, minor, 1, &frames);
            let (packets, errors) = read_all(&f);
            assert!(errors.is_empty(), "2.{minor}: {errors:?}");
            assert_eq!(packets[0].0, START_NANOS);
            assert_eq!(packets[1].0, START_NANOS + 1_500_000_000);
            // 2.0 has no trailer: every frame has the header's MAC type.
            let second_link = if minor == 0 { 1 } else { 0x71 };
            assert_eq!(packets[1].1, second_link, "2.{minor}");
            assert_eq!(packets[1].2, b"bb");
        }
    }

    #[test]
    fn delta_is_unsigned_times_ten_read_as_signed() {
        // u64::MAX µs * 10 wraps to -10 (100 ns units): one microsecond before the start.
        let f = build(2, 0, 1, &[frame(u64::MAX, b"early", 1)]);
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty());
        assert_eq!(packets[0].0, START_NANOS - 1_000);
    }

    #[test]
    fn version_1_has_millisecond_deltas_and_16_bit_lengths() {
        let f = build(1, 1, 1, &[frame(0, b"one", 1), frame(250, b"two", 1)]);
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(packets[1].0, START_NANOS + 250_000_000);
        assert_eq!(
            (packets[1].1, packets[1].2.as_slice(), packets[1].3),
            (1, &b"two"[..], 4)
        );
    }

    #[test]
    fn frames_are_read_in_frame_table_order() {
        // Some files put a statistics frame first in the file but last in the table (netmon.c).
        let frames = [frame(0, b"a", 1), frame(1, b"b", 1), frame(2, b"c", 1)];
        let f = build_with_order(2, 3, 1, &frames, &[2, 0, 1]);
        let (packets, _) = read_all(&f);
        let data: Vec<_> = packets.iter().map(|p| p.2.clone()).collect();
        assert_eq!(data, [b"c", b"a", b"b"]);
    }

    #[test]
    fn frame_table_is_read_in_chunks() {
        let payloads: Vec<[u8; 4]> = (0..(TABLE_CHUNK_ENTRIES * 2 + 5))
            .map(u32::to_le_bytes)
            .collect();
        let frames: Vec<_> = payloads
            .iter()
            .enumerate()
            .map(|(i, d)| frame(i as u64, d, 1))
            .collect();
        let f = build(2, 3, 1, &frames);
        let mut reader = NetmonReader::new(Cursor::new(&f), "x").unwrap();
        let mut count = 0u32;
        while let Some(p) = reader.next_packet() {
            let p = p.unwrap();
            assert_eq!(p.data, count.to_le_bytes());
            count += 1;
            assert_eq!(p.pos.number, u64::from(count));
        }
        assert_eq!(count, TABLE_CHUNK_ENTRIES * 2 + 5);
        assert_eq!(reader.frame_count(), count);
        assert!(reader.chunk.len() <= TABLE_CHUNK_ENTRIES as usize * 4);
    }

    #[test]
    fn truncation_at_every_prefix_length() {
        let frames = [frame(0, b"abc", 1), frame(1, b"defgh", 1)];
        let f = build(2, 3, 1, &frames);
        for cut in 0..f.len() {
            // The frame table is at the end: a cut file cannot be read at all. One error, no panic.
            let (packets, errors) = read_all(&f[..cut]);
            assert!(packets.is_empty(), "cut at {cut}");
            assert_eq!(errors.len(), 1, "cut at {cut}");
            assert!(
                matches!(errors[0].kind, CaptureErrorKind::Truncated { .. }),
                "cut at {cut}: {}",
                errors[0]
            );
        }
    }

    #[test]
    fn damaged_frames_end_the_file_after_the_good_ones() {
        let frames = [frame(0, b"abc", 1), frame(1, b"defgh", 1)];
        let good = build(2, 3, 1, &frames);
        let second = 128 + 16 + 3 + 15;
        let table = good.len() - 8;

        // Mutation: second frame's captured length (offset +12) = 0x7fff_ffff.
        let mut f = good.clone();
        f[second + 12..second + 16].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let (packets, errors) = read_all(&f);
        assert_eq!((packets.len(), errors.len()), (1, 1));
        assert_eq!(errors[0].offset, second as u64);
        assert!(matches!(errors[0].kind, CaptureErrorKind::BadLength { .. }));

        // Mutation: second frame's captured length = 1000, past the end of the file.
        let mut f = good.clone();
        f[second + 12..second + 16].copy_from_slice(&1000u32.to_le_bytes());
        let (packets, errors) = read_all(&f);
        assert_eq!((packets.len(), errors.len()), (1, 1));
        assert!(matches!(errors[0].kind, CaptureErrorKind::Truncated { .. }));

        // Mutation: second frame-table entry points past the end of the file.
        let mut f = good.clone();
        f[table + 4..table + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let (packets, errors) = read_all(&f);
        assert_eq!((packets.len(), errors.len()), (1, 1));
        assert_eq!(errors[0].offset, u64::from(u32::MAX));
    }

    #[test]
    fn damaged_headers() {
        let good = build(2, 3, 1, &[frame(0, b"abc", 1)]);
        let mut f = good.clone();
        f[5] = 3; // version 3.3
        assert!(matches!(
            read_all(&f).1[0].kind,
            CaptureErrorKind::Corrupt(_)
        ));
        let mut f = good.clone();
        f[28..32].copy_from_slice(&6u32.to_le_bytes()); // table length not a multiple of 4
        assert!(matches!(
            read_all(&f).1[0].kind,
            CaptureErrorKind::Corrupt(_)
        ));
        let mut f = good.clone();
        f[24..28].copy_from_slice(&u32::MAX.to_le_bytes()); // table beyond the end
        assert!(matches!(
            read_all(&f).1[0].kind,
            CaptureErrorKind::Truncated { .. }
        ));
        let mut f = good;
        f[0..4].copy_from_slice(b"GMBX");
        assert!(matches!(
            read_all(&f).1[0].kind,
            CaptureErrorKind::NotACapture { .. }
        ));
    }

    #[test]
    fn systemtime_and_filetime_conversions() {
        assert_eq!(systemtime(1970, 1, 1, 0, 0, 0, 0).as_nanos(), 0);
        assert_eq!(
            systemtime(2000, 2, 29, 12, 0, 0, 0).as_nanos(),
            951_825_600 * 1_000_000_000
        );
        assert_eq!(
            systemtime(2016, 9, 4, 23, 3, 6, 592).as_nanos(),
            START_NANOS
        );
        let _ = systemtime(
            u16::MAX,
            u16::MAX,
            u16::MAX,
            u16::MAX,
            u16::MAX,
            u16::MAX,
            u16::MAX,
        );
        let _ = systemtime(0, 0, 0, 0, 0, 0, 0);
        assert_eq!(filetime(FILETIME_2020).as_nanos(), NANOS_2020);
        assert_eq!(filetime(u64::MAX).as_nanos(), i64::MAX);
        assert!(filetime(0).as_nanos() < 0);
    }
}
