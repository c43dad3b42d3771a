//! pcapng reader, streaming, block by block.
//!
//! Owns the block layer of draft-ietf-opsawg-pcapng: the general block structure (section 3.1),
//! Section Header Blocks with their own byte order, several sections per file (4.1), Interface
//! Description Blocks with `if_tsresol` and `if_tsoffset` (4.2), Enhanced Packet Blocks (4.3),
//! Simple Packet Blocks (4.4) and the obsolete Packet Block (appendix A). Every other block
//! (Name Resolution, Interface Statistics, Decryption Secrets, custom, ...) is skipped without
//! being buffered. Link types are per interface, so one file may mix link layers.
//!
//! Must not: read the whole file, decode frames, or panic on any input. A damaged block ends the
//! file with one error at the block's offset; everything before it has been returned.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::file::{array_at, capture_error, read_full, reserve_slice, Endian, MAX_RECORD_LEN};
use super::{CaptureError, CaptureErrorKind, LinkType, PacketPos, PacketSource, RawPacket};
use crate::time::Timestamp;

/// Section 4.1: Section Header Block type; the same bytes in both byte orders.
const BT_SHB: u32 = 0x0A0D_0D0A;
/// Section 4.2: Interface Description Block.
const BT_IDB: u32 = 0x0000_0001;
/// Appendix A: Packet Block (obsolete, still written by old tools).
const BT_PB: u32 = 0x0000_0002;
/// Section 4.4: Simple Packet Block.
const BT_SPB: u32 = 0x0000_0003;
/// Section 4.3: Enhanced Packet Block.
const BT_EPB: u32 = 0x0000_0006;
/// Section 4.1: byte-order magic, written in the section's byte order.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Section 4.1: the only major version defined.
const SUPPORTED_MAJOR: u16 = 1;

/// Section 3.1: block type (4) + block total length (4) ahead of the body.
const BLOCK_HEADER_LEN: u32 = 8;
/// Section 3.1: the trailing copy of the block total length.
const BLOCK_TRAILER_LEN: u32 = 4;
/// Section 3.1: the smallest block (no body).
const MIN_BLOCK_LEN: u32 = 12;
/// Section 4.1: 12 + byte-order magic 4 + versions 4 + section length 8.
const MIN_SHB_LEN: u32 = 28;
/// Section 4.2: 12 + link type 2 + reserved 2 + snaplen 4.
const MIN_IDB_LEN: u32 = 20;
/// Section 4.3 / appendix A: 12 + interface 4 + timestamp 8 + two lengths 8.
const MIN_EPB_LEN: u32 = 32;
/// Section 4.4: 12 + original length 4.
const MIN_SPB_LEN: u32 = 16;

/// Offset of the packet data in an EPB or PB body.
const EPB_DATA_OFFSET: usize = 20;
/// Offset of the packet data in an SPB body.
const SPB_DATA_OFFSET: usize = 4;
/// Offset of the options in an IDB body.
const IDB_OPTIONS_OFFSET: usize = 8;

/// Section 3.5: opt_endofopt.
const OPT_ENDOFOPT: u16 = 0;
/// Section 4.2: if_tsresol, one byte.
const OPT_IF_TSRESOL: u16 = 9;
/// Section 4.2: if_tsoffset, a signed 64-bit number of seconds.
const OPT_IF_TSOFFSET: u16 = 14;
/// Section 4.2: the default resolution when if_tsresol is absent is 10^-6 s.
const DEFAULT_UNITS_PER_SEC: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// True when `magic` starts a pcapng file (a Section Header Block).
pub(super) fn sniff(magic: [u8; 4]) -> bool {
    u32::from_le_bytes(magic) == BT_SHB
}

/// What an Interface Description Block says about its packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second (from if_tsresol): 10^n or 2^n.
    units_per_sec: u64,
    /// if_tsoffset: seconds added to every timestamp.
    offset_secs: i64,
}

impl Interface {
    /// Converts a 64-bit pcapng timestamp to capture time (section 4.3: "Timestamp (High)" and
    /// "(Low)" in the interface's units), saturating instead of overflowing.
    fn timestamp(&self, units: u64) -> Timestamp {
        let per_sec = self.units_per_sec.max(1);
        let secs = units / per_sec;
        let rem = units % per_sec;
        let nanos = if NANOS_PER_SEC.is_multiple_of(per_sec) {
            rem.saturating_mul(NANOS_PER_SEC / per_sec)
        } else {
            // rem < per_sec <= 2^63, so rem * 10^9 fits in a u128 and the quotient is < 10^9.
            u64::try_from(u128::from(rem) * u128::from(NANOS_PER_SEC) / u128::from(per_sec))
                .unwrap_or(0)
        };
        let secs = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(self.offset_secs);
        Timestamp::from_parts(secs, u32::try_from(nanos).unwrap_or(0))
    }
}

/// The header of the packet block just read; its bytes are in the reader's buffer.
#[derive(Clone, Copy, Debug)]
struct PacketMeta {
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
}

/// What `read_block` found.
enum Block {
    Packet(PacketMeta),
    Other,
}

/// Reads a pcapng stream block by block.
///
/// Pass a buffered reader (`BufReader`): blocks are read with small reads. The frames it returns
/// carry `PacketPos { file: 0, .. }`; `FileSource` renumbers the file.
pub struct PcapngReader<R> {
    /// The stream, with the four bytes `new` looked at put back in front.
    inner: io::Chain<io::Take<io::Cursor<[u8; 4]>>, R>,
    path: PathBuf,
    section: Section,
    /// Stream offset of the next block.
    offset: u64,
    /// Packets returned so far.
    number: u64,
    /// The current block's body (and trailer); packet data is `buf[data_start..data_end]`.
    buf: Vec<u8>,
    data_start: usize,
    data_end: usize,
    done: bool,
}

impl<R: Read> PcapngReader<R> {
    /// Reads the first Section Header Block.
    ///
    /// # Errors
    /// `NotACapture` when the stream does not start with a Section Header Block, `Truncated`,
    /// `BadLength` or `Corrupt` when that block is damaged, `Io` when reading fails.
    pub fn new(mut inner: R, path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let mut magic = [0u8; 4];
        let got = read_full(&mut inner, &mut magic)
            .map_err(|e| capture_error(path, 0, CaptureErrorKind::Io(e)))?;
        if got == magic.len() && !sniff(magic) {
            return Err(capture_error(
                path,
                0,
                CaptureErrorKind::NotACapture { magic },
            ));
        }
        let mut reader = Self {
            // Give the magic back to the block reader.
            inner: io::Cursor::new(magic).take(got as u64).chain(inner),
            path: path.to_path_buf(),
            section: Section {
                endian: Endian::Little,
                interfaces: Vec::new(),
                last_ts: Timestamp::ZERO,
            },
            offset: 0,
            number: 0,
            buf: Vec::new(),
            data_start: 0,
            data_end: 0,
            done: false,
        };
        match reader.read_block()? {
            Some(_) => {}
            None => {
                return Err(reader.error(
                    0,
                    CaptureErrorKind::Truncated {
                        what: "pcapng section header block",
                        needed: u64::from(MIN_SHB_LEN),
                        got: 0,
                    },
                ))
            }
        }
        Ok(reader)
    }
}

impl<R> PcapngReader<R> {
    /// The captured bytes of the frame `next_packet` returned last (empty before the first and
    /// after an error).
    pub fn data(&self) -> &[u8] {
        self.buf
            .get(self.data_start..self.data_end)
            .unwrap_or_default()
    }

    fn error(&self, offset: u64, kind: CaptureErrorKind) -> CaptureError {
        capture_error(&self.path, offset, kind)
    }
}

impl<R: Read> PcapngReader<R> {
    /// Reads one block; `Ok(None)` at a clean end of file (between blocks).
    fn read_block(&mut self) -> Result<Option<Block>, CaptureError> {
        let start = self.offset;
        self.data_start = 0;
        self.data_end = 0;
        let mut head = [0u8; BLOCK_HEADER_LEN as usize];
        let got = read_full(&mut self.inner, &mut head)
            .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
        if got == 0 {
            return Ok(None);
        }
        let truncated =
            |what, needed: u64, got: u64| CaptureErrorKind::Truncated { what, needed, got };
        if got < head.len() {
            return Err(self.error(
                start,
                truncated(
                    "pcapng block header",
                    u64::from(BLOCK_HEADER_LEN),
                    got as u64,
                ),
            ));
        }
        let [t0, t1, t2, t3, l0, l1, l2, l3] = head;
        let mut consumed = BLOCK_HEADER_LEN;
        let block_type = if sniff([t0, t1, t2, t3]) {
            // Section 4.1: the byte-order magic decides how to read this section, starting with
            // this block's own total length.
            let mut bom = [0u8; 4];
            let got = read_full(&mut self.inner, &mut bom)
                .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
            if got < bom.len() {
                return Err(self.error(
                    start,
                    truncated(
                        "pcapng section header block",
                        u64::from(MIN_SHB_LEN),
                        u64::from(BLOCK_HEADER_LEN).saturating_add(got as u64),
                    ),
                ));
            }
            self.section.endian = if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
                Endian::Little
            } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
                Endian::Big
            } else {
                return Err(self.error(
                    start,
                    CaptureErrorKind::Corrupt(format!(
                        "section header byte-order magic is {:08x} (as big-endian), expected 1a2b3c4d in either byte order",
                        u32::from_be_bytes(bom)
                    )),
                ));
            };
            consumed = consumed.saturating_add(4);
            BT_SHB
        } else {
            self.section.endian.u32([t0, t1, t2, t3])
        };
        let total = self.section.endian.u32([l0, l1, l2, l3]);
        if total > MAX_RECORD_LEN {
            return Err(self.error(
                start,
                CaptureErrorKind::BadLength {
                    what: "pcapng block total length",
                    value: u64::from(total),
                    limit: u64::from(MAX_RECORD_LEN),
                },
            ));
        }
        let min = match block_type {
            BT_SHB => MIN_SHB_LEN,
            BT_IDB => MIN_IDB_LEN,
            BT_EPB | BT_PB => MIN_EPB_LEN,
            BT_SPB => MIN_SPB_LEN,
            _ => MIN_BLOCK_LEN,
        };
        if !total.is_multiple_of(4) || total < min {
            return Err(self.error(
                start,
                CaptureErrorKind::Corrupt(format!(
                    "pcapng block of type {block_type:#010x} has total length {total}, which is {}",
                    if !total.is_multiple_of(4) {
                        "not a multiple of 4".to_string()
                    } else {
                        format!("below the minimum of {min} for this block type")
                    }
                )),
            ));
        }
        let known = matches!(block_type, BT_SHB | BT_IDB | BT_EPB | BT_SPB | BT_PB);
        // total >= min >= consumed + trailer, checked above.
        let body_len = total
            .saturating_sub(consumed)
            .saturating_sub(BLOCK_TRAILER_LEN);
        let body_usize = usize::try_from(body_len).unwrap_or(usize::MAX);
        let block_truncated = |got: u64| {
            truncated(
                block_name(block_type),
                u64::from(total),
                u64::from(consumed).saturating_add(got),
            )
        };
        if known {
            let body = reserve_slice(&mut self.buf, body_usize);
            let got = read_full(&mut self.inner, body)
                .map_err(|e| capture_error(&self.path, start, CaptureErrorKind::Io(e)))?;
            if got < body_usize {
                return Err(self.error(start, block_truncated(got as u64)));
            }
        } else {
            // Not buffered: an unknown block may be large and is of no use to us.
            let skipped = io::copy(
                &mut (&mut self.inner).take(u64::from(body_len)),
                &mut io::sink(),
            )
            .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
            if skipped < u64::from(body_len) {
                return Err(self.error(start, block_truncated(skipped)));
            }
        }
        let mut trailer = [0u8; BLOCK_TRAILER_LEN as usize];
        let got = read_full(&mut self.inner, &mut trailer)
            .map_err(|e| self.error(start, CaptureErrorKind::Io(e)))?;
        if got < trailer.len() {
            return Err(self.error(
                start,
                block_truncated(u64::from(body_len).saturating_add(got as u64)),
            ));
        }
        let trailing = self.section.endian.u32(trailer);
        if trailing != total {
            return Err(self.error(
                start,
                CaptureErrorKind::Corrupt(format!(
                    "pcapng block total length is {total} at the start of the block but {trailing} at its end"
                )),
            ));
        }
        self.offset = start.saturating_add(u64::from(total));
        let body = self.buf.get(..body_usize).unwrap_or_default();
        let section = &mut self.section;
        let result = match block_type {
            BT_SHB => section.section_header(body).map(|()| None),
            BT_IDB => section.interface_description(body).map(|()| None),
            BT_EPB | BT_PB => section.packet_block(block_type, body).map(Some),
            BT_SPB => section.simple_packet(body).map(Some),
            _ => Ok(None),
        };
        match result {
            Ok(Some((meta, data_start, data_end))) => {
                self.data_start = data_start;
                self.data_end = data_end;
                Ok(Some(Block::Packet(meta)))
            }
            Ok(None) => Ok(Some(Block::Other)),
            Err(msg) => Err(self.error(start, CaptureErrorKind::Corrupt(msg))),
        }
    }
}

/// The state of the current section: what its blocks need to be read.
#[derive(Debug)]
struct Section {
    /// Byte order of the current section.
    endian: Endian,
    /// Interfaces of the current section, in IDB order (their index is the interface ID).
    interfaces: Vec<Interface>,
    /// The timestamp of the last packet that had one (Simple Packet Blocks have none); kept
    /// across sections.
    last_ts: Timestamp,
}

/// A packet block's header and where its data lies in the block body.
type PacketAt = (PacketMeta, usize, usize);

impl Section {
    /// Section 4.1: starts a new section (the byte order was set by `read_block`).
    fn section_header(&mut self, body: &[u8]) -> Result<(), String> {
        let major = self.endian.u16_at(body, 0).unwrap_or(0);
        let minor = self.endian.u16_at(body, 2).unwrap_or(0);
        if major != SUPPORTED_MAJOR {
            return Err(format!("pcapng version {major}.{minor} is not supported"));
        }
        // Interface IDs are per section.
        self.interfaces.clear();
        Ok(())
    }

    /// Section 4.2: records an interface of the current section.
    fn interface_description(&mut self, body: &[u8]) -> Result<(), String> {
        let e = self.endian;
        let link = e.u16_at(body, 0).unwrap_or(0);
        let snaplen = e.u32_at(body, 4).unwrap_or(0);
        let mut interface = Interface {
            link: LinkType(u32::from(link)),
            snaplen,
            units_per_sec: DEFAULT_UNITS_PER_SEC,
            offset_secs: 0,
        };
        let mut options = body.get(IDB_OPTIONS_OFFSET..).unwrap_or_default();
        // Section 3.5: code (2), length (2), value padded to 32 bits; opt_endofopt ends the list,
        // which may also just end with the block.
        while let (Some(code), Some(len)) = (e.u16_at(options, 0), e.u16_at(options, 2)) {
            if code == OPT_ENDOFOPT {
                break;
            }
            let len = usize::from(len);
            let value = options.get(4..4 + len).ok_or_else(|| {
                format!("interface option {code} has length {len}, beyond the end of the block")
            })?;
            match code {
                OPT_IF_TSRESOL => {
                    let [resol] = array_at(value, 0)
                        .filter(|_| len == 1)
                        .ok_or_else(|| format!("if_tsresol has length {len}, expected 1"))?;
                    // Section 4.2: high bit clear: 10^-n seconds; set: 2^-n seconds.
                    let exponent = u32::from(resol & 0x7F);
                    let units = if resol & 0x80 == 0 {
                        10u64.checked_pow(exponent)
                    } else {
                        2u64.checked_pow(exponent).filter(|&u| u <= 1 << 63)
                    };
                    interface.units_per_sec = units.ok_or_else(|| {
                        format!("if_tsresol {resol:#04x} is finer than rdsflows can represent")
                    })?;
                }
                OPT_IF_TSOFFSET => {
                    interface.offset_secs = e
                        .u64_at(value, 0)
                        .filter(|_| len == 8)
                        // Section 4.2: a signed 64-bit integer; reinterpret the bits.
                        .map(|v| i64::from_ne_bytes(v.to_ne_bytes()))
                        .ok_or_else(|| format!("if_tsoffset has length {len}, expected 8"))?;
                }
                _ => {}
            }
            let padded = (4 + len + 3) & !3;
            options = options.get(padded..).unwrap_or_default();
        }
        self.interfaces.push(interface);
        Ok(())
    }

    /// The interface an EPB/PB names, or a description of why it does not exist.
    fn interface(&self, id: u32) -> Result<Interface, String> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or_else(|| {
                format!(
                    "packet names interface {id}, but this section describes only {} interface(s)",
                    self.interfaces.len()
                )
            })
    }

    /// Section 4.3 (EPB) and appendix A (PB): same layout except the interface ID field
    /// (u32 in EPB; u16 + drops count u16 in PB).
    fn packet_block(&mut self, block_type: u32, body: &[u8]) -> Result<PacketAt, String> {
        let e = self.endian;
        let id = if block_type == BT_PB {
            e.u16_at(body, 0).map(u32::from)
        } else {
            e.u32_at(body, 0)
        }
        .unwrap_or(0);
        let interface = self.interface(id)?;
        let ts_high = e.u32_at(body, 4).unwrap_or(0);
        let ts_low = e.u32_at(body, 8).unwrap_or(0);
        let caplen = e.u32_at(body, 12).unwrap_or(0);
        let orig_len = e.u32_at(body, 16).unwrap_or(0);
        let room = body.len().saturating_sub(EPB_DATA_OFFSET);
        let len = usize::try_from(caplen).unwrap_or(usize::MAX);
        if len > room {
            return Err(format!(
                "captured length {caplen} does not fit in the block ({room} bytes of data)"
            ));
        }
        let ts = interface.timestamp((u64::from(ts_high) << 32) | u64::from(ts_low));
        self.last_ts = ts;
        let meta = PacketMeta {
            ts,
            link: interface.link,
            orig_len,
        };
        Ok((meta, EPB_DATA_OFFSET, EPB_DATA_OFFSET.saturating_add(len)))
    }

    /// Section 4.4: a packet on interface 0, without a timestamp (the last one seen is used).
    fn simple_packet(&self, body: &[u8]) -> Result<PacketAt, String> {
        let interface = self.interface(0)?;
        let orig_len = self.endian.u32_at(body, 0).unwrap_or(0);
        // Section 4.4: captured length = min(original length, snaplen of interface 0); the block
        // length bounds it too (it includes padding).
        let mut len = usize::try_from(orig_len).unwrap_or(usize::MAX);
        len = len.min(body.len().saturating_sub(SPB_DATA_OFFSET));
        if interface.snaplen != 0 {
            len = len.min(usize::try_from(interface.snaplen).unwrap_or(usize::MAX));
        }
        let meta = PacketMeta {
            ts: self.last_ts,
            link: interface.link,
            orig_len,
        };
        Ok((meta, SPB_DATA_OFFSET, SPB_DATA_OFFSET.saturating_add(len)))
    }
}

/// A name for the block being read, for `Truncated` messages.
fn block_name(block_type: u32) -> &'static str {
    match block_type {
        BT_SHB => "pcapng section header block",
        BT_IDB => "pcapng interface description block",
        BT_EPB => "pcapng enhanced packet block",
        BT_SPB => "pcapng simple packet block",
        BT_PB => "pcapng packet block",
        _ => "pcapng block",
    }
}

impl<R: Read> PacketSource for PcapngReader<R> {
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        loop {
            match self.read_block() {
                Ok(Some(Block::Packet(meta))) => {
                    self.number = self.number.saturating_add(1);
                    return Some(Ok(RawPacket {
                        ts: meta.ts,
                        link: meta.link,
                        data: self.data(),
                        orig_len: meta.orig_len,
                        pos: PacketPos {
                            file: 0,
                            number: self.number,
                        },
                    }));
                }
                Ok(Some(Block::Other)) => {}
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A block: type, total length, body padded to 32 bits, total length again (section 3.1).
    pub(in crate::capture) fn block(e: Endian, block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded = (body.len() + 3) & !3;
        let total = (12 + padded) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&u32_bytes(e, block_type));
        out.extend_from_slice(&u32_bytes(e, total));
        out.extend_from_slice(body);
        out.resize(8 + padded, 0);
        out.extend_from_slice(&u32_bytes(e, total));
        out
    }

    fn u16_bytes(e: Endian, v: u16) -> [u8; 2] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    fn u32_bytes(e: Endian, v: u32) -> [u8; 4] {
        match e {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Options list (section 3.5), ended by opt_endofopt.
    fn options(e: Endian, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, value) in opts {
            out.extend_from_slice(&u16_bytes(e, *code));
            out.extend_from_slice(&u16_bytes(e, value.len() as u16));
            out.extend_from_slice(value);
            out.resize((out.len() + 3) & !3, 0);
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    /// Section Header Block, version 1.0, section length -1 (unknown).
    pub(in crate::capture) fn shb(e: Endian) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&u32_bytes(e, BYTE_ORDER_MAGIC)); // +0 byte-order magic
        body.extend_from_slice(&u16_bytes(e, 1)); // +4 major
        body.extend_from_slice(&u16_bytes(e, 0)); // +6 minor
        body.extend_from_slice(&[0xFF; 8]); // +8 section length -1
        block(e, BT_SHB, &body)
    }

    /// Interface Description Block.
    pub(in crate::capture) fn idb(
        e: Endian,
        link: u16,
        snaplen: u32,
        opts: &[(u16, &[u8])],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&u16_bytes(e, link)); // +0 link type
        body.extend_from_slice(&[0; 2]); // +2 reserved
        body.extend_from_slice(&u32_bytes(e, snaplen)); // +4 snaplen
        if !opts.is_empty() {
            body.extend_from_slice(&options(e, opts)); // +8 options
        }
        block(e, BT_IDB, &body)
    }

    /// Enhanced Packet Block (or, with `obsolete`, the Packet Block of appendix A).
    fn packet(
        e: Endian,
        obsolete: bool,
        iface: u32,
        units: u64,
        data: &[u8],
        orig: u32,
    ) -> Vec<u8> {
        let mut body = Vec::new();
        if obsolete {
            body.extend_from_slice(&u16_bytes(e, iface as u16)); // +0 interface ID
            body.extend_from_slice(&u16_bytes(e, 0)); // +2 drops count
        } else {
            body.extend_from_slice(&u32_bytes(e, iface)); // +0 interface ID
        }
        body.extend_from_slice(&u32_bytes(e, (units >> 32) as u32)); // +4 timestamp high
        body.extend_from_slice(&u32_bytes(e, units as u32)); // +8 timestamp low
        body.extend_from_slice(&u32_bytes(e, data.len() as u32)); // +12 captured length
        body.extend_from_slice(&u32_bytes(e, orig)); // +16 original length
        body.extend_from_slice(data); // +20 data
        block(e, if obsolete { BT_PB } else { BT_EPB }, &body)
    }

    pub(in crate::capture) fn epb(
        e: Endian,
        iface: u32,
        units: u64,
        data: &[u8],
        orig: u32,
    ) -> Vec<u8> {
        packet(e, false, iface, units, data, orig)
    }

    fn pb(e: Endian, iface: u32, units: u64, data: &[u8], orig: u32) -> Vec<u8> {
        packet(e, true, iface, units, data, orig)
    }

    fn spb(e: Endian, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut body = u32_bytes(e, orig).to_vec(); // +0 original length
        body.extend_from_slice(data); // +4 data
        block(e, BT_SPB, &body)
    }

    #[derive(Debug, PartialEq)]
    struct Got {
        ts: i64,
        link: u32,
        data: Vec<u8>,
        orig_len: u32,
        number: u64,
    }

    fn read_all(bytes: &[u8]) -> (Vec<Got>, Vec<CaptureError>) {
        let mut packets = Vec::new();
        let mut errors = Vec::new();
        match PcapngReader::new(bytes, "test.pcapng") {
            Err(e) => errors.push(e),
            Ok(mut reader) => {
                while let Some(next) = reader.next_packet() {
                    match next {
                        Ok(p) => packets.push(Got {
                            ts: p.ts.as_nanos(),
                            link: p.link.0,
                            data: p.data.to_vec(),
                            orig_len: p.orig_len,
                            number: p.pos.number,
                        }),
                        Err(e) => errors.push(e),
                    }
                }
                assert!(reader.next_packet().is_none(), "stays finished");
            }
        }
        (packets, errors)
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn multi_section_multi_interface_with_resolutions_offsets_and_skipped_blocks() {
        let le = Endian::Little;
        let be = Endian::Big;
        let mut f = shb(le);
        f.extend(idb(le, 1, 65535, &[])); // interface 0: Ethernet, default 10^-6
        f.extend(idb(
            le,
            101,
            0,
            &[
                (2, b"eth1"),                             // if_name, ignored
                (OPT_IF_TSRESOL, &[9]),                   // 10^-9
                (OPT_IF_TSOFFSET, &100i64.to_le_bytes()), // +100 s
            ],
        ));
        f.extend(block(le, 4, &[0; 8])); // Name Resolution Block: skipped
        f.extend(epb(le, 0, 1_500_000, b"first", 60)); // 1.5 s
        f.extend(block(le, 5, &[0; 12])); // Interface Statistics Block: skipped
        f.extend(epb(le, 1, 2_000_000_123, b"raw", 3)); // 2.000000123 s + 100 s
        f.extend(block(le, 0x0A, &[0; 20])); // Decryption Secrets Block: skipped
        f.extend(block(le, 0x0000_0BAD, &[1, 2, 3])); // custom block: skipped
                                                      // Section 2, big-endian; interface IDs start again at 0.
        f.extend(shb(be));
        f.extend(idb(be, 113, 0, &[(OPT_IF_TSRESOL, &[0x8A])])); // Linux SLL, 2^-10 s
        f.extend(idb(
            be,
            1,
            0,
            &[
                (OPT_IF_TSRESOL, &[0]),
                (OPT_IF_TSOFFSET, &(-10i64).to_be_bytes()),
            ],
        ));
        f.extend(epb(be, 0, 5 * 1024 + 512, b"sll", 3)); // 5.5 s
        f.extend(spb(be, 2, b"ab")); // no timestamp: the previous one
        f.extend(pb(be, 1, 20, b"old", 3)); // 20 s - 10 s
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty(), "{errors:?}");
        let expected = [
            (S + S / 2, 1, &b"first"[..], 60),
            (102 * S + 123, 101, b"raw", 3),
            (5 * S + S / 2, 113, b"sll", 3),
            (5 * S + S / 2, 113, b"ab", 2),
            (10 * S, 1, b"old", 3),
        ];
        assert_eq!(packets.len(), expected.len());
        for (i, (got, (ts, link, data, orig))) in packets.iter().zip(expected).enumerate() {
            assert_eq!(
                got,
                &Got {
                    ts,
                    link,
                    data: data.to_vec(),
                    orig_len: orig,
                    number: i as u64 + 1
                }
            );
        }
    }

    #[test]
    fn simple_packet_length_is_min_of_original_length_block_and_snaplen() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 4, &[])); // snaplen 4
        f.extend(epb(e, 0, 7, b"x", 1));
        f.extend(spb(e, 10, b"abcd")); // 10 on the wire, 4 kept
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty());
        assert_eq!(packets[1].data, b"abcd");
        assert_eq!(packets[1].orig_len, 10);
        assert_eq!(packets[1].ts, 7_000, "timestamp of the previous packet");

        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[])); // snaplen 0 = no limit
        f.extend(spb(e, 3, b"abc")); // padded to 4 in the block
        let (packets, errors) = read_all(&f);
        assert!(errors.is_empty());
        assert_eq!(packets[0].data, b"abc");
        assert_eq!(packets[0].ts, 0, "no timestamp seen yet");
    }

    #[test]
    fn timestamp_resolutions() {
        let iface = |units_per_sec, offset_secs| Interface {
            link: LinkType::ETHERNET,
            snaplen: 0,
            units_per_sec,
            offset_secs,
        };
        assert_eq!(
            iface(1_000_000, 0).timestamp(1_500_001).as_nanos(),
            1_500_001_000
        );
        assert_eq!(iface(1_000_000_000, 0).timestamp(7).as_nanos(), 7);
        assert_eq!(iface(1024, 0).timestamp(1024 + 256).as_nanos(), S + S / 4);
        assert_eq!(iface(1, -5).timestamp(3).as_nanos(), -2 * S);
        // 10^-12 (picoseconds): sub-nanosecond digits are dropped.
        assert_eq!(
            iface(1_000_000_000_000, 0)
                .timestamp(1_000_000_001_999)
                .as_nanos(),
            S + 1
        );
        // Extremes saturate, never panic.
        assert_eq!(iface(1, i64::MAX).timestamp(u64::MAX).as_nanos(), i64::MAX);
        let _ = iface(1 << 63, 0).timestamp(u64::MAX);
        let _ = iface(10_000_000_000_000_000_000, 0).timestamp(u64::MAX);
    }

    #[test]
    fn absurd_tsresol_is_corrupt() {
        let e = Endian::Little;
        for resol in [20u8, 0x80 | 64] {
            let mut f = shb(e);
            f.extend(idb(e, 1, 0, &[(OPT_IF_TSRESOL, &[resol])]));
            let (_, errors) = read_all(&f);
            assert!(
                matches!(errors[0].kind, CaptureErrorKind::Corrupt(_)),
                "{resol:#x}"
            );
            assert_eq!(errors[0].offset, 28);
        }
    }

    #[test]
    fn unknown_interface_is_corrupt_after_delivering_what_came_before() {
        let e = Endian::Big;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(epb(e, 0, 1, b"ok", 2));
        let bad_at = f.len() as u64;
        f.extend(epb(e, 1, 2, b"no", 2)); // interface 1 was never described
        f.extend(epb(e, 0, 3, b"lost", 4));
        let (packets, errors) = read_all(&f);
        assert_eq!(packets.len(), 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].offset, bad_at);
        assert!(
            matches!(&errors[0].kind, CaptureErrorKind::Corrupt(m) if m.contains("interface 1"))
        );
    }

    #[test]
    fn a_new_section_forgets_the_interfaces_of_the_previous_one() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(shb(e));
        f.extend(epb(e, 0, 1, b"x", 1));
        let (packets, errors) = read_all(&f);
        assert!(packets.is_empty());
        assert!(matches!(errors[0].kind, CaptureErrorKind::Corrupt(_)));
    }

    /// SHB (28) + IDB (20) + EPB "abcd" (36) + EPB "" (32) + EPB "hello" (40).
    fn small_file() -> (Vec<u8>, Vec<usize>) {
        let e = Endian::Little;
        let mut f = shb(e);
        let mut boundaries = vec![0, f.len()];
        for b in [
            idb(e, 1, 0, &[]),
            epb(e, 0, 1, b"abcd", 4),
            epb(e, 0, 2, b"", 0),
            epb(e, 0, 3, b"hello", 5),
        ] {
            f.extend(b);
            boundaries.push(f.len());
        }
        (f, boundaries)
    }

    #[test]
    fn truncation_at_every_prefix_length() {
        let (f, boundaries) = small_file();
        assert_eq!(boundaries, [0, 28, 48, 84, 116, 156]);
        for cut in 0..f.len() {
            let (packets, errors) = read_all(&f[..cut]);
            let complete_packets = boundaries.iter().skip(3).filter(|&&b| b <= cut).count();
            assert_eq!(packets.len(), complete_packets, "cut at {cut}");
            let at_boundary = cut >= 28 && boundaries.contains(&cut);
            assert_eq!(errors.len(), usize::from(!at_boundary), "cut at {cut}");
            if let Some(err) = errors.first() {
                assert!(
                    matches!(err.kind, CaptureErrorKind::Truncated { .. }),
                    "cut at {cut}: {err}"
                );
                let block_start = boundaries
                    .iter()
                    .rev()
                    .find(|&&b| b <= cut)
                    .copied()
                    .unwrap();
                assert_eq!(err.offset, block_start as u64, "cut at {cut}");
            }
        }
        let (packets, errors) = read_all(&f);
        assert_eq!((packets.len(), errors.len()), (3, 0));
    }

    #[test]
    fn damaged_lengths() {
        let (f, _) = small_file();
        let le = |v: u32| v.to_le_bytes();
        /// What is changed, byte range, new bytes, expected offset, `BadLength` (else `Corrupt`).
        type Case = (&'static str, std::ops::Range<usize>, [u8; 4], u64, bool);
        let cases: [Case; 6] = [
            (
                "EPB total length not a multiple of 4",
                52..56,
                le(37),
                48,
                false,
            ),
            ("EPB total length below 32", 52..56, le(28), 48, false),
            ("IDB total length below 12", 32..36, le(8), 28, false),
            (
                "EPB total length above 256 MiB",
                52..56,
                le(0x2000_0000),
                48,
                true,
            ),
            ("EPB trailing length differs", 80..84, le(40), 48, false),
            (
                "EPB captured length beyond the block",
                68..72,
                le(5),
                48,
                false,
            ),
        ];
        for (what, range, bytes, offset, bad_length) in cases {
            let mut damaged = f.clone();
            damaged[range].copy_from_slice(&bytes);
            let (packets, errors) = read_all(&damaged);
            assert!(packets.is_empty(), "{what}");
            assert_eq!(errors.len(), 1, "{what}");
            assert_eq!(errors[0].offset, offset, "{what}");
            if bad_length {
                assert!(
                    matches!(errors[0].kind, CaptureErrorKind::BadLength { .. }),
                    "{what}"
                );
            } else {
                assert!(
                    matches!(errors[0].kind, CaptureErrorKind::Corrupt(_)),
                    "{what}: {}",
                    errors[0]
                );
            }
        }
    }

    #[test]
    fn damaged_section_headers() {
        let (f, _) = small_file();
        let mut not_pcapng = f.clone();
        not_pcapng[0] = 0x0B;
        let (_, errors) = read_all(&not_pcapng);
        assert!(matches!(
            errors[0].kind,
            CaptureErrorKind::NotACapture { .. }
        ));

        let mut bad_bom = f.clone();
        bad_bom[8..12].copy_from_slice(&[1, 2, 3, 4]);
        let (_, errors) = read_all(&bad_bom);
        assert!(matches!(errors[0].kind, CaptureErrorKind::Corrupt(_)));

        let mut version_2 = f.clone();
        version_2[12..14].copy_from_slice(&2u16.to_le_bytes());
        let (_, errors) = read_all(&version_2);
        assert!(
            matches!(&errors[0].kind, CaptureErrorKind::Corrupt(m) if m.contains("version 2.0"))
        );

        let e = Endian::Little;
        let mut option_overrun = shb(e);
        let mut idb_block = idb(e, 1, 0, &[(OPT_IF_TSRESOL, &[6])]);
        idb_block[18..20].copy_from_slice(&200u16.to_le_bytes()); // option length 1 -> 200
        option_overrun.extend(idb_block);
        let (_, errors) = read_all(&option_overrun);
        assert!(matches!(&errors[0].kind, CaptureErrorKind::Corrupt(m) if m.contains("beyond")));
    }

    #[test]
    fn unknown_blocks_are_skipped_without_buffering() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        f.extend(block(e, 0x0000_0BAD, &vec![0u8; 1 << 20])); // 1 MiB custom block
        f.extend(epb(e, 0, 1, b"x", 1));
        let mut reader = PcapngReader::new(&f[..], "x").unwrap();
        assert_eq!(reader.next_packet().unwrap().unwrap().data, b"x");
        assert!(
            reader.buf.len() < 1024,
            "the custom block was not read into the buffer"
        );
    }
}
