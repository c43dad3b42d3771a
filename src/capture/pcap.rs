//! Classic pcap reader (libpcap/tcpdump format), streaming.
//!
//! Owns the file header and record layout of draft-ietf-opsawg-pcap (section 4 "File Header",
//! section 5 "Packet Record"): both byte orders, microsecond (`a1b2c3d4`) and nanosecond
//! (`a1b23c4d`) timestamps. A record that lies whole in the stream's read buffer is handed out
//! where it lies; one that straddles two fills is copied into one reusable buffer.
//!
//! Must not: read the whole file, decode frames, or panic on any input (every length is checked
//! before it is used; a damaged record ends the file with one error at the record's offset).

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use super::file::{capture_error, read_full, reserve_slice, Endian, MAX_RECORD_LEN};
use super::{CaptureError, CaptureErrorKind, LinkType, PacketPos, PacketSource, RawPacket};
use crate::time::Timestamp;

/// draft-ietf-opsawg-pcap section 4: magic for microsecond timestamps.
const MAGIC_MICROS: u32 = 0xA1B2_C3D4;
/// draft-ietf-opsawg-pcap section 4: magic for nanosecond timestamps.
const MAGIC_NANOS: u32 = 0xA1B2_3C4D;
/// draft-ietf-opsawg-pcap section 4: the file header is 24 bytes.
pub(super) const FILE_HEADER_LEN: usize = 24;
/// draft-ietf-opsawg-pcap section 5: the record header is 16 bytes.
pub(super) const RECORD_HEADER_LEN: usize = 16;
/// draft-ietf-opsawg-pcap section 4: LinkType is the low 16 bits of the "LinkType and additional
/// information" field; the upper bits carry the FCS length and reserved bits.
const LINKTYPE_MASK: u32 = 0x0000_FFFF;
/// Captured lengths up to this are accepted whatever the snapshot length says (libpcap's
/// MAXIMUM_SNAPLEN); some writers put a smaller snaplen in the header than they really used.
const MIN_CAPLEN_LIMIT: u32 = 262_144;
// `clamp(MIN_CAPLEN_LIMIT, MAX_RECORD_LEN)` panics if the bounds are ever swapped.
const _: () = assert!(MIN_CAPLEN_LIMIT <= MAX_RECORD_LEN);

/// True when `magic` starts a classic pcap file (any byte order, micro- or nanoseconds).
pub(super) fn sniff(magic: [u8; 4]) -> bool {
    resolution_and_order(magic).is_some()
}

/// `(byte order, nanosecond timestamps)` for a pcap magic number.
fn resolution_and_order(magic: [u8; 4]) -> Option<(Endian, bool)> {
    match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
        (MAGIC_MICROS, _) => Some((Endian::Little, false)),
        (MAGIC_NANOS, _) => Some((Endian::Little, true)),
        (_, MAGIC_MICROS) => Some((Endian::Big, false)),
        (_, MAGIC_NANOS) => Some((Endian::Big, true)),
        _ => None,
    }
}

/// A buffered stream whose unread buffered bytes can be seen without reading: a record lying
/// whole in them is returned in place, saving a copy per frame.
pub trait Buffered: BufRead {
    /// The bytes read from the source and not yet consumed (`BufReader::buffer`).
    fn buffered(&self) -> &[u8];
}

impl<R: Read> Buffered for BufReader<R> {
    fn buffered(&self) -> &[u8] {
        self.buffer()
    }
}

impl Buffered for &[u8] {
    fn buffered(&self) -> &[u8] {
        self
    }
}

impl<T: AsRef<[u8]>> Buffered for Cursor<T> {
    fn buffered(&self) -> &[u8] {
        let all = self.get_ref().as_ref();
        let at = usize::try_from(self.position()).unwrap_or(usize::MAX);
        all.get(at..).unwrap_or_default()
    }
}

/// What a classic pcap file header says about the records after it (draft-ietf-opsawg-pcap
/// section 4): enough to walk records from any record boundary.
#[derive(Clone, Copy, Debug)]
pub struct PcapLayout {
    endian: Endian,
    nanos: bool,
    link: LinkType,
    snaplen: u32,
    max_caplen: u32,
}

impl PcapLayout {
    /// The link type of every frame.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The time, captured length and original length in a record header; `None` when the
    /// captured length is past what the reader accepts (the reader stops there with an error).
    pub fn record(&self, header: &[u8; RECORD_HEADER_LEN]) -> Option<(Timestamp, u32, u32)> {
        let (ts, caplen, orig_len) = parse_header(self.endian, self.nanos, header);
        (caplen <= self.max_caplen).then_some((ts, caplen, orig_len))
    }

    /// Whether a record header is what a capture tool writes: a fraction of a second below
    /// one second, a frame that had bytes on the wire, and a captured length the reader
    /// accepts and no longer than the original. (Zeroed bytes, common in payloads, would
    /// otherwise pass for a row of empty records.)
    /// Stricter than [`Self::record`], which reads whatever it can: this is for finding
    /// record boundaries in the middle of a file.
    pub fn is_plausible(&self, header: &[u8; RECORD_HEADER_LEN]) -> bool {
        let [_, _, _, _, f0, f1, f2, f3, ..] = *header;
        let frac = self.endian.u32([f0, f1, f2, f3]);
        let limit = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        let (_, caplen, orig_len) = parse_header(self.endian, self.nanos, header);
        frac < limit && orig_len > 0 && caplen <= self.max_caplen && caplen <= orig_len
    }
}

/// Reads a classic pcap stream record by record.
///
/// Pass a buffered reader (`BufReader`, or a `Cursor` over bytes in memory). The frames it
/// returns carry `PacketPos { file: 0, .. }`; `FileSource` renumbers the file.
pub struct PcapReader<R> {
    inner: R,
    path: PathBuf,
    endian: Endian,
    nanos: bool,
    link: LinkType,
    snaplen: u32,
    max_caplen: u32,
    /// Stream offset of the next record.
    offset: u64,
    /// Records returned so far.
    number: u64,
    buf: Vec<u8>,
    /// Length of the current record's data at the start of `buf`.
    len: usize,
    /// When the current record lies in the stream's buffer: its bytes (header included) at the
    /// start of `inner.buffered()`, consumed before the next read.
    in_place: usize,
    done: bool,
}

impl<R: Read> PcapReader<R> {
    /// Reads and checks the 24-byte file header.
    ///
    /// # Errors
    /// `NotACapture` when the magic number is not pcap's, `Truncated` when the file is shorter
    /// than its header, `Io` when reading fails.
    pub fn new(mut inner: R, path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let mut header = [0u8; FILE_HEADER_LEN];
        let got = read_full(&mut inner, &mut header)
            .map_err(|e| capture_error(path, 0, CaptureErrorKind::Io(e)))?;
        let [m0, m1, m2, m3, _vmaj0, _vmaj1, _vmin0, _vmin1, _tz0, _tz1, _tz2, _tz3, _sf0, _sf1, _sf2, _sf3, s0, s1, s2, s3, l0, l1, l2, l3] =
            header;
        let magic = [m0, m1, m2, m3];
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
                    what: "pcap file header",
                    needed: FILE_HEADER_LEN as u64,
                    got: got as u64,
                },
            ));
        }
        let (endian, nanos) = resolution_and_order(magic).unwrap_or((Endian::Little, false));
        // Version (2.4), thiszone and sigfigs are ignored, as libpcap does: thiszone is always 0
        // in practice and sigfigs is never set.
        let snaplen = endian.u32([s0, s1, s2, s3]);
        let layout = PcapLayout {
            endian,
            nanos,
            link: LinkType(endian.u32([l0, l1, l2, l3]) & LINKTYPE_MASK),
            snaplen,
            max_caplen: snaplen.clamp(MIN_CAPLEN_LIMIT, MAX_RECORD_LEN),
        };
        Ok(Self::resume(inner, path, layout, FILE_HEADER_LEN as u64, 0))
    }

    /// A reader that starts at a record boundary inside a file whose header said `layout`:
    /// `inner` holds the file from byte `offset` on, and `number` records came before it.
    /// Frames and errors carry the file's own numbers and offsets, as if read from the start.
    pub fn resume(
        inner: R,
        path: impl AsRef<Path>,
        layout: PcapLayout,
        offset: u64,
        number: u64,
    ) -> Self {
        let PcapLayout {
            endian,
            nanos,
            link,
            snaplen,
            max_caplen,
        } = layout;
        Self {
            inner,
            path: path.as_ref().to_path_buf(),
            endian,
            nanos,
            link,
            snaplen,
            max_caplen,
            offset,
            number,
            buf: Vec::new(),
            len: 0,
            in_place: 0,
            done: false,
        }
    }

    /// What the file header said about every record.
    pub fn layout(&self) -> PcapLayout {
        PcapLayout {
            endian: self.endian,
            nanos: self.nanos,
            link: self.link,
            snaplen: self.snaplen,
            max_caplen: self.max_caplen,
        }
    }

    /// The link type of every frame in the file.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The snapshot length the header declares.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// True for a nanosecond-resolution file (magic `a1b23c4d`).
    pub fn is_nanosecond(&self) -> bool {
        self.nanos
    }

    fn error(&self, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        capture_error(&self.path, offset, kind)
    }
}

impl<R: Buffered> PcapReader<R> {
    /// The captured bytes of the frame `next_packet` returned last (empty before the first and
    /// after an error).
    pub fn data(&self) -> &[u8] {
        if self.in_place > 0 {
            let record = self
                .inner
                .buffered()
                .get(..self.in_place)
                .unwrap_or_default();
            return record.get(RECORD_HEADER_LEN..).unwrap_or_default();
        }
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The next record where it lies in the stream's buffer, when it lies there whole and its
    /// header is sound (anything else takes the copying path, which reports errors).
    fn record_in_place(&mut self) -> Option<(Timestamp, u32)> {
        let (endian, nanos) = (self.endian, self.nanos);
        let buffered = self.inner.fill_buf().ok()?;
        let header: &[u8; RECORD_HEADER_LEN] =
            buffered.get(..RECORD_HEADER_LEN)?.try_into().ok()?;
        let (ts, caplen, orig_len) = parse_header(endian, nanos, header);
        if caplen > self.max_caplen {
            return None;
        }
        let total = RECORD_HEADER_LEN.checked_add(usize::try_from(caplen).ok()?)?;
        if buffered.len() < total {
            return None;
        }
        self.in_place = total;
        self.len = 0;
        self.offset = self.offset.saturating_add(total as u64);
        self.number = self.number.saturating_add(1);
        Some((ts, orig_len))
    }

    /// Reads the next record into `buf`; `Ok(None)` at a clean end of file.
    fn read_record(&mut self) -> Result<Option<(Timestamp, u32)>, CaptureError> {
        let start = self.offset;
        let mut header = [0u8; RECORD_HEADER_LEN];
        let got = read_full(&mut self.inner, &mut header)
            .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
        if got == 0 {
            return Ok(None);
        }
        if got < RECORD_HEADER_LEN {
            return Err(self.error(
                start,
                CaptureErrorKind::Truncated {
                    what: "pcap record header",
                    needed: RECORD_HEADER_LEN as u64,
                    got: got as u64,
                },
            ));
        }
        let (ts, caplen, orig_len) = parse_header(self.endian, self.nanos, &header);
        if caplen > self.max_caplen {
            return Err(self.error(
                start,
                CaptureErrorKind::BadLength {
                    what: "pcap captured length (incl_len)",
                    value: u64::from(caplen),
                    limit: u64::from(self.max_caplen),
                },
            ));
        }
        let len = usize::try_from(caplen).unwrap_or(usize::MAX);
        self.len = 0;
        let dst = reserve_slice(&mut self.buf, len);
        let got = read_full(&mut self.inner, dst)
            .map_err(|e| capture_error(&self.path, start, CaptureErrorKind::Io(e)))?;
        if got < len {
            return Err(self.error(
                start,
                CaptureErrorKind::Truncated {
                    what: "pcap record",
                    needed: (RECORD_HEADER_LEN as u64).saturating_add(u64::from(caplen)),
                    got: (RECORD_HEADER_LEN as u64).saturating_add(got as u64),
                },
            ));
        }
        self.len = len;
        self.offset = start
            .saturating_add(RECORD_HEADER_LEN as u64)
            .saturating_add(u64::from(caplen));
        self.number = self.number.saturating_add(1);
        Ok(Some((ts, orig_len)))
    }
}

/// A record header's time, captured length and original length (draft-ietf-opsawg-pcap
/// section 5).
///
/// Takes the header where it lies: a copy on the stack, read back in pieces, stalled every
/// record's first load (issue 6).
fn parse_header(e: Endian, nanos: bool, header: &[u8; RECORD_HEADER_LEN]) -> (Timestamp, u32, u32) {
    let [t0, t1, t2, t3, f0, f1, f2, f3, c0, c1, c2, c3, o0, o1, o2, o3] = *header;
    let secs = e.u32([t0, t1, t2, t3]);
    let frac = e.u32([f0, f1, f2, f3]);
    // The fraction is not checked against 10^6 / 10^9: an out-of-range value just carries
    // into the seconds, and cannot overflow an i64 from two u32 fields.
    let frac_nanos = if nanos {
        i64::from(frac)
    } else {
        i64::from(frac).saturating_mul(1_000)
    };
    let ts = Timestamp::from_nanos(
        i64::from(secs)
            .saturating_mul(1_000_000_000)
            .saturating_add(frac_nanos),
    );
    (ts, e.u32([c0, c1, c2, c3]), e.u32([o0, o1, o2, o3]))
}

impl<R: Buffered> PacketSource for PcapReader<R> {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        // The previous record was lent out in place until now.
        self.inner.consume(std::mem::take(&mut self.in_place));
        if self.done {
            return None;
        }
        let next = match self.record_in_place() {
            Some(found) => Ok(Some(found)),
            None => self.read_record(),
        };
        match next {
            Ok(Some((ts, orig_len))) => Some(Ok(RawPacket {
                ts,
                link: self.link,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::PcapWriter;

    /// One record for [`build`]: seconds, fraction (micro- or nanoseconds), data, original length.
    type Rec<'a> = (u32, u32, &'a [u8], u32);

    /// A classic pcap file, byte by byte.
    fn build(endian: Endian, nanos: bool, snaplen: u32, link: u32, records: &[Rec<'_>]) -> Vec<u8> {
        let put32 = |out: &mut Vec<u8>, v: u32| match endian {
            Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
        };
        let put16 = |out: &mut Vec<u8>, v: u16| match endian {
            Endian::Little => out.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => out.extend_from_slice(&v.to_be_bytes()),
        };
        let mut out = Vec::new();
        put32(&mut out, if nanos { MAGIC_NANOS } else { MAGIC_MICROS }); // 0: magic
        put16(&mut out, 2); // 4: version major
        put16(&mut out, 4); // 6: version minor
        put32(&mut out, 0); // 8: thiszone
        put32(&mut out, 0); // 12: sigfigs
        put32(&mut out, snaplen); // 16: snaplen
        put32(&mut out, link); // 20: linktype
        for &(secs, frac, data, orig) in records {
            put32(&mut out, secs); // +0 ts_sec
            put32(&mut out, frac); // +4 ts_usec / ts_nsec
            put32(&mut out, data.len() as u32); // +8 incl_len
            put32(&mut out, orig); // +12 orig_len
            out.extend_from_slice(data); // +16 data
        }
        out
    }

    /// `(ts, link, data, orig_len, number)`.
    type Got = (i64, u32, Vec<u8>, u32, u64);

    fn read_all(bytes: &[u8]) -> (Vec<Got>, Vec<CaptureError>) {
        let mut packets = Vec::new();
        let mut errors = Vec::new();
        match PcapReader::new(bytes, "test.pcap") {
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
            }
        }
        (packets, errors)
    }

    const SAMPLE: [Rec<'static>; 3] = [
        (1_700_000_000, 5, b"abcd", 4),
        (1_700_000_001, 999_999, b"", 60),
        (1_700_000_002, 0, b"0123456789", 1514),
    ];

    #[test]
    fn reads_all_four_magic_variants() {
        for endian in [Endian::Little, Endian::Big] {
            for nanos in [false, true] {
                let bytes = build(endian, nanos, 65535, 1, &SAMPLE);
                let (packets, errors) = read_all(&bytes);
                assert!(errors.is_empty(), "{endian:?} {nanos}: {errors:?}");
                assert_eq!(packets.len(), 3);
                let scale = if nanos { 1 } else { 1000 };
                assert_eq!(packets[0].0, 1_700_000_000_000_000_000 + 5 * scale);
                assert_eq!(packets[1].0, 1_700_000_001_000_000_000 + 999_999 * scale);
                assert_eq!(packets[0].1, 1);
                assert_eq!(packets[0].2, b"abcd");
                assert_eq!(packets[1].2, b"");
                assert_eq!(packets[1].3, 60);
                assert_eq!(packets[2].2, b"0123456789");
                assert_eq!(packets[2].3, 1514);
                assert_eq!(
                    packets.iter().map(|p| p.4).collect::<Vec<_>>(),
                    vec![1, 2, 3]
                );
            }
        }
    }

    #[test]
    fn header_accessors() {
        let bytes = build(Endian::Big, true, 96, 113, &[]);
        let reader = PcapReader::new(&bytes[..], "x").unwrap();
        assert_eq!(reader.link(), LinkType::LINUX_SLL);
        assert_eq!(reader.snaplen(), 96);
        assert!(reader.is_nanosecond());
        assert!(reader.data().is_empty());
    }

    #[test]
    fn fcs_bits_are_masked_off_the_linktype() {
        // Mutation: FCS length 2 (bits 29-31 = 001) and the F bit (0x04000000) set on Ethernet.
        let bytes = build(Endian::Little, false, 65535, 0x2400_0001, &SAMPLE);
        let (packets, errors) = read_all(&bytes);
        assert!(errors.is_empty());
        assert!(packets.iter().all(|p| p.1 == 1));
    }

    #[test]
    fn not_a_capture() {
        let err = PcapReader::new(&b"GET / HTTP/1.1\r\n\r\nxxxxxxxx"[..], "x")
            .err()
            .unwrap();
        assert!(matches!(
            err.kind,
            CaptureErrorKind::NotACapture { magic } if &magic == b"GET "
        ));
    }

    #[test]
    fn truncation_at_every_prefix_length() {
        let bytes = build(Endian::Little, false, 65535, 1, &SAMPLE);
        // Record boundaries: 24, 24+16+4=44, 44+16=60, 60+16+10=86.
        let boundaries = [24usize, 44, 60, 86];
        for cut in 0..bytes.len() {
            let (packets, errors) = read_all(&bytes[..cut]);
            let complete = boundaries.iter().skip(1).filter(|&&b| b <= cut).count();
            assert_eq!(packets.len(), complete, "cut at {cut}");
            let at_boundary = boundaries.contains(&cut);
            assert_eq!(errors.len(), usize::from(!at_boundary), "cut at {cut}");
            if let Some(err) = errors.first() {
                let CaptureErrorKind::Truncated { needed, got, .. } = err.kind else {
                    panic!("cut at {cut}: {err}");
                };
                assert!(got < needed, "cut at {cut}");
                let record_start = boundaries.iter().rev().find(|&&b| b <= cut).copied();
                let expected = if cut < 24 {
                    0
                } else {
                    record_start.unwrap() as u64
                };
                assert_eq!(err.offset, expected, "cut at {cut}");
            }
        }
        let (packets, errors) = read_all(&bytes);
        assert_eq!((packets.len(), errors.len()), (3, 0));
    }

    #[test]
    fn absurd_captured_length_is_bad_length_at_record_start() {
        let mut bytes = build(Endian::Little, false, 65535, 1, &SAMPLE);
        // Mutation: second record's incl_len (offset 44 + 8) set to 0x7fff_ffff.
        bytes[52..56].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let (packets, errors) = read_all(&bytes);
        assert_eq!(
            packets.len(),
            1,
            "the record before the damage is delivered"
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].offset, 44);
        assert!(matches!(
            errors[0].kind,
            CaptureErrorKind::BadLength {
                value: 0x7FFF_FFFF,
                limit: 262_144,
                ..
            }
        ));
    }

    #[test]
    fn captured_length_above_a_small_snaplen_is_accepted_up_to_262144() {
        let big = vec![0xAB; 70_000];
        let bytes = build(Endian::Big, false, 64, 1, &[(1, 0, &big, 70_000)]);
        let (packets, errors) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(packets[0].2.len(), 70_000);
    }

    #[test]
    fn snaplen_above_256_mib_is_capped() {
        // Mutation: snaplen 0xffffffff, record incl_len 300 MiB (no data follows).
        let mut bytes = build(Endian::Little, false, u32::MAX, 1, &[]);
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&(300u32 << 20).to_le_bytes());
        bytes.extend_from_slice(&(300u32 << 20).to_le_bytes());
        let (_, errors) = read_all(&bytes);
        assert!(matches!(
            errors[0].kind,
            CaptureErrorKind::BadLength { limit, .. } if limit == u64::from(MAX_RECORD_LEN)
        ));
    }

    #[test]
    fn reads_what_pcap_writer_writes() {
        let mut writer = PcapWriter::new(Vec::new(), LinkType::RAW, 8).unwrap();
        writer
            .write_packet(Timestamp::from_nanos(1_234_567_890_123), b"0123456789", 10)
            .unwrap();
        let bytes = writer.finish().unwrap();
        let (packets, errors) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(packets[0].0, 1_234_567_890_123);
        assert_eq!(packets[0].1, 101);
        assert_eq!(packets[0].2, b"01234567");
        assert_eq!(packets[0].3, 10);
    }

    #[test]
    fn records_in_the_read_buffer_are_not_copied() {
        let bytes = build(Endian::Little, false, 65535, 1, &SAMPLE);
        let mut reader = PcapReader::new(&bytes[..], "x").unwrap();
        while let Some(p) = reader.next_packet() {
            p.unwrap();
        }
        assert!(reader.buf.is_empty(), "every record was lent in place");
    }

    /// Whatever the read buffer's size, records straddling two fills come out whole and equal
    /// to the in-place ones, and the copy buffer grows to the largest record only.
    #[test]
    fn records_straddling_buffer_fills_are_copied_whole() {
        let bytes = build(Endian::Big, true, 65535, 1, &SAMPLE);
        let (whole, _) = read_all(&bytes);
        for capacity in [1, 7, 16, 17, 29, 40, 64] {
            let stream = BufReader::with_capacity(capacity, &bytes[..]);
            let mut reader = PcapReader::new(stream, "x").unwrap();
            let mut got = Vec::new();
            while let Some(p) = reader.next_packet() {
                let p = p.unwrap();
                got.push((
                    p.ts.as_nanos(),
                    p.link.0,
                    p.data.to_vec(),
                    p.orig_len,
                    p.pos.number,
                ));
                assert_eq!(reader.data(), got.last().unwrap().2, "data() agrees");
            }
            assert_eq!(got, whole, "buffer of {capacity} bytes");
            assert!(reader.buf.len() <= 10, "grows to the largest record only");
        }
    }
}
