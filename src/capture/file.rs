//! Offline capture input: turns the paths the user gave into one stream of frames in capture-time
//! order.
//!
//! Owns: expanding directories, standard input (`-`), recognising the container by its magic
//! number (never by its extension), transparent gzip, and the k-way merge of several inputs by
//! timestamp, so that a connection spanning rotated files stays one flow. The per-format readers
//! live in [`super::pcap`], [`super::pcapng`] and [`super::netmon`]; the byte-level helpers they
//! share (bounded reads, byte order) live here.
//!
//! Must not: decode anything inside a frame, read a whole pcap/pcapng file into memory, or stop
//! the run because one input is damaged (the damaged input is reported once and the others go on).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::chunks::{PcapChunks, CHUNK_BYTES};
use super::netmon::{self, NetmonReader};
use super::pcap::{self, PcapReader};
use super::pcapng::{self, PcapngReader};
use super::{
    CaptureError, CaptureErrorKind, LinkType, PacketPos, PacketSource, RawPacket, SourceEvent,
};
use crate::time::Timestamp;

/// The largest captured length or block rdsflows accepts anywhere (256 MiB): a length field above
/// this is damage, not data, and must not make us allocate gigabytes.
pub(super) const MAX_RECORD_LEN: u32 = 256 * 1024 * 1024;

/// A Network Monitor file needs random access (its frame table is at the end); when it comes
/// compressed or from a pipe it is read into memory, up to this size (1 GiB).
pub(super) const NETMON_SPOOL_LIMIT: u64 = 1 << 30;

/// gzip member header ID1 ID2 (RFC 1952 section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// Read buffer per input: large enough for sequential throughput, small enough for many inputs.
const READ_BUFFER_LEN: usize = 64 * 1024;

/// The name that stands for standard input.
const STDIN_NAME: &str = "-";

/// Byte order of the fields of a capture file (pcap: per file; pcapng: per section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl Endian {
    /// A `u16` from two bytes in this order.
    pub(super) fn u16(self, raw: [u8; 2]) -> u16 {
        match self {
            Self::Little => u16::from_le_bytes(raw),
            Self::Big => u16::from_be_bytes(raw),
        }
    }

    /// A `u32` from four bytes in this order.
    pub(super) fn u32(self, raw: [u8; 4]) -> u32 {
        match self {
            Self::Little => u32::from_le_bytes(raw),
            Self::Big => u32::from_be_bytes(raw),
        }
    }

    /// A `u64` from eight bytes in this order.
    pub(super) fn u64(self, raw: [u8; 8]) -> u64 {
        match self {
            Self::Little => u64::from_le_bytes(raw),
            Self::Big => u64::from_be_bytes(raw),
        }
    }

    /// The `u16` at `at`, or `None` when `bytes` is too short.
    pub(super) fn u16_at(self, bytes: &[u8], at: usize) -> Option<u16> {
        array_at(bytes, at).map(|raw| self.u16(raw))
    }

    /// The `u32` at `at`, or `None` when `bytes` is too short.
    pub(super) fn u32_at(self, bytes: &[u8], at: usize) -> Option<u32> {
        array_at(bytes, at).map(|raw| self.u32(raw))
    }

    /// The `u64` at `at`, or `None` when `bytes` is too short.
    pub(super) fn u64_at(self, bytes: &[u8], at: usize) -> Option<u64> {
        array_at(bytes, at).map(|raw| self.u64(raw))
    }
}

/// `N` bytes starting at `at`, or `None` when `bytes` is too short (never panics).
pub(super) fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read.
///
/// Unlike `read_exact`, a short count tells the caller how much of a record was there, which the
/// `Truncated` error reports.
pub(super) fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Makes `buf` at least `len` bytes long and returns its first `len` bytes.
///
/// The buffer only grows (to the largest record seen), so steady-state reading allocates nothing.
pub(super) fn reserve_slice(buf: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buf.len() < len {
        buf.resize(len, 0);
    }
    // Cannot be `None` after the resize; an empty slice would surface as a short read.
    buf.get_mut(..len).unwrap_or_default()
}

/// Builds a `CaptureError`.
pub(super) fn capture_error(path: &Path, offset: u64, kind: CaptureErrorKind) -> CaptureError {
    CaptureError {
        path: path.to_path_buf(),
        offset,
        kind,
    }
}

/// Counts the bytes read from the underlying file (before decompression), for progress.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A readable, seekable, sendable byte source (a regular file, or a file spooled into memory).
trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A sequential byte source.
type BoxRead = Box<dyn Read + Send>;

/// A sequential byte stream with our read buffer in front.
type Stream = BufReader<BoxRead>;

/// One opened input, whatever its format.
enum Reader {
    Pcap(PcapReader<Stream>),
    Pcapng(PcapngReader<Stream>),
    Netmon(NetmonReader<Box<dyn ReadSeek>>),
}

/// What the merge keeps of an input's next frame while it waits its turn; the bytes stay in the
/// reader's buffer.
#[derive(Clone, Copy, Debug)]
struct Pending {
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    number: u64,
}

impl Reader {
    /// Reads the next frame into the reader's buffer and returns its header.
    fn next_pending(&mut self) -> Option<Result<Pending, CaptureError>> {
        let next = match self {
            Self::Pcap(r) => r.next_packet(),
            Self::Pcapng(r) => r.next_packet(),
            Self::Netmon(r) => r.next_packet(),
        };
        next.map(|result| {
            result.map(|p| Pending {
                ts: p.ts,
                link: p.link,
                orig_len: p.orig_len,
                number: p.pos.number,
            })
        })
    }

    /// Progress of a reader that seeks (Network Monitor from a regular file); 0 for the others,
    /// whose progress is the shared byte counter.
    fn progress(&self) -> u64 {
        match self {
            Self::Netmon(r) => r.progress(),
            Self::Pcap(_) | Self::Pcapng(_) => 0,
        }
    }

    /// The bytes of the frame `next_pending` last returned.
    fn data(&self) -> &[u8] {
        match self {
            Self::Pcap(r) => r.data(),
            Self::Pcapng(r) => r.data(),
            Self::Netmon(r) => r.data(),
        }
    }
}

/// An input that opened and is still being read.
struct OpenInput {
    /// Index into `FileSource::inputs`.
    file: u32,
    /// `None` once the input has ended (end of file or error): its file and buffer are released.
    reader: Option<Reader>,
    /// The input's next frame, loaded and waiting for the merge to pick it.
    pending: Option<Pending>,
    /// A Network Monitor file read with seeks: its progress comes from the reader, not from
    /// the shared byte counter.
    seeking: bool,
}

/// Every input the user named, merged into one stream in timestamp order.
///
/// Frames with equal timestamps come in input order; inside one input, frames come in file order
/// (a capture whose clock steps backwards is not reordered).
pub struct FileSource {
    inputs: Vec<PathBuf>,
    open: Vec<OpenInput>,
    /// `(timestamp of the pending frame, index into open)`, smallest first.
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    /// The input whose pending frame is next when it is the only one left with frames: its
    /// frames then skip the heap (one input is the common case, and a push and a pop per frame
    /// were a tenth of reading's cost).
    sole: Option<usize>,
    /// The input whose frame was handed out last; it is advanced at the next call, when the
    /// caller no longer borrows its buffer.
    to_advance: Option<usize>,
    /// How many inputs have had their first frame loaded.
    primed: usize,
    bytes_read: Arc<AtomicU64>,
    /// Progress of the seeking inputs that have ended.
    bytes_settled: u64,
    bytes_total: Option<u64>,
    /// Bytes per range when threads read a sole plain pcap by ranges.
    chunk_bytes: u64,
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("inputs", &self.inputs)
            .field("open", &self.open.len())
            .field("bytes_total", &self.bytes_total)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// Reads a sole plain pcap in ranges of `bytes` on a run with several threads (default
    /// [`CHUNK_BYTES`]): tests use small ranges so that records and flows cross many seams.
    #[must_use]
    pub fn with_chunk_bytes(mut self, bytes: u64) -> Self {
        self.chunk_bytes = bytes;
        self
    }

    /// The inputs as expanded (directories replaced by the files in them); `PacketPos::file`
    /// indexes this list. Inputs that failed to open are listed too (they deliver no frame).
    pub fn inputs(&self) -> &[PathBuf] {
        &self.inputs
    }

    /// Loads the next frame of `open[index]` and queues it; an error ends that input. Returns
    /// the frame's header too, so that the caller need not read back what was just stored.
    /// Always inlined into `next_packet`, for the reason given at `next_event`.
    #[inline(always)]
    fn advance(&mut self, index: usize) -> Result<Option<Pending>, CaptureError> {
        let Some(input) = self.open.get_mut(index) else {
            return Ok(None);
        };
        input.pending = None;
        let Some(reader) = input.reader.as_mut() else {
            return Ok(None);
        };
        let result = match reader.next_pending() {
            Some(Ok(pending)) => {
                input.pending = Some(pending);
                if self.heap.is_empty() && self.primed >= self.open.len() {
                    self.sole = Some(index);
                } else {
                    self.heap.push(Reverse((pending.ts, index)));
                }
                return Ok(Some(pending));
            }
            None => Ok(None),
            Some(Err(e)) => Err(e),
        };
        // The input has ended: keep its progress, release its file and buffers.
        if input.seeking {
            let progress = input.reader.as_ref().map_or(0, Reader::progress);
            self.bytes_settled = self.bytes_settled.saturating_add(progress);
        }
        input.reader = None;
        result
    }
}

impl PacketSource for FileSource {
    #[inline(always)]
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        // The header of the frame just loaded, kept in hand: read back from `pending` straight
        // after it was stored, it stalled the load (issue 6).
        let mut loaded = None;
        if let Some(index) = self.to_advance.take() {
            match self.advance(index) {
                Ok(pending) => loaded = pending.map(|p| (index, p)),
                Err(e) => return Some(Err(e)),
            }
        }
        // Load the first frame of every input (lazily, so that an error there is returned in turn).
        while self.primed < self.open.len() {
            let index = self.primed;
            self.primed = self.primed.saturating_add(1);
            if let Err(e) = self.advance(index) {
                return Some(Err(e));
            }
        }
        let index = match self.sole.take() {
            Some(index) => index,
            None => self.heap.pop()?.0 .1,
        };
        self.to_advance = Some(index);
        let input = self.open.get(index)?;
        let pending = match loaded {
            Some((at, pending)) if at == index => pending,
            _ => input.pending?,
        };
        let reader = input.reader.as_ref()?;
        Some(Ok(RawPacket {
            ts: pending.ts,
            link: pending.link,
            data: reader.data(),
            orig_len: pending.orig_len,
            pos: PacketPos {
                file: input.file,
                number: pending.number,
            },
        }))
    }

    /// The trait's own, always inlined with `next_packet` and `advance`: as calls, each handed
    /// the frame's header on through memory, and the next read it back in wider loads than
    /// the stores that wrote it, stalling on each frame (issue 6; 1–2 % of a one-thread run).
    #[inline(always)]
    fn next_event(&mut self) -> Option<SourceEvent<'_>> {
        self.next_packet().map(SourceEvent::Packet)
    }

    fn bytes_read(&self) -> u64 {
        let seeking: u64 = self
            .open
            .iter()
            .filter(|input| input.seeking)
            .filter_map(|input| input.reader.as_ref().map(Reader::progress))
            .sum();
        self.bytes_read
            .load(Ordering::Relaxed)
            .saturating_add(self.bytes_settled)
            .saturating_add(seeking)
    }

    fn bytes_total(&self) -> Option<u64> {
        self.bytes_total
    }

    fn pcap_chunks(&self) -> Option<(PcapChunks, u32)> {
        let [input] = self.open.as_slice() else {
            return None;
        };
        let path = self.inputs.get(input.file as usize)?;
        if self.primed > 0 || input.reader.is_none() || path.as_os_str() == STDIN_NAME {
            return None;
        }
        Some((PcapChunks::open(path, self.chunk_bytes)?, input.file))
    }
}

/// Opens every input and returns one merged source, plus the errors of the inputs that could not
/// be opened (missing file, unreadable directory, not a capture, damaged header...).
///
/// - A directory stands for the regular files directly inside it (not recursive), sorted by
///   name; hidden files (name starting with `.`) are skipped.
/// - `-` is standard input (at most once).
/// - The format is recognised by its first bytes: pcap (either byte order, micro- or
///   nanosecond), pcapng, Network Monitor 2.x (and 1.x), each optionally gzip-compressed.
///
/// An input that fails to open is still listed in [`FileSource::inputs`], so indexes stay those
/// of the expanded list. Inputs are opened here, all at once (the merge needs each one's next
/// timestamp), so each holds a file descriptor until it ends.
pub fn open_inputs(paths: &[PathBuf]) -> (FileSource, Vec<CaptureError>) {
    let mut errors = Vec::new();
    let inputs = expand_paths(paths, &mut errors);
    let counter = Arc::new(AtomicU64::new(0));
    let mut bytes_total = Some(0u64);
    let mut stdin_used = false;
    let mut open = Vec::with_capacity(inputs.len());
    for (index, path) in inputs.iter().enumerate() {
        match open_one(path, &counter, &mut stdin_used) {
            Ok((reader, size, seeking)) => {
                bytes_total = match (bytes_total, size) {
                    (Some(total), Some(size)) => total.checked_add(size),
                    _ => None,
                };
                open.push(OpenInput {
                    file: u32::try_from(index).unwrap_or(u32::MAX),
                    reader: Some(reader),
                    pending: None,
                    seeking,
                });
            }
            Err(e) => errors.push(e),
        }
    }
    if stdin_used {
        bytes_total = None;
    }
    let source = FileSource {
        inputs,
        heap: BinaryHeap::with_capacity(open.len()),
        sole: None,
        open,
        to_advance: None,
        primed: 0,
        bytes_read: counter,
        bytes_settled: 0,
        bytes_total,
        chunk_bytes: CHUNK_BYTES,
    };
    (source, errors)
}

/// Replaces each directory by the regular files in it; other paths are kept as given (a missing
/// file is reported when it is opened).
fn expand_paths(paths: &[PathBuf], errors: &mut Vec<CaptureError>) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        if path.as_os_str() == STDIN_NAME {
            out.push(path.clone());
            continue;
        }
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => out.extend(list_directory(path, errors)),
            _ => out.push(path.clone()),
        }
    }
    out
}

/// The visible regular files directly inside `dir`, sorted by name.
fn list_directory(dir: &Path, errors: &mut Vec<CaptureError>) -> Vec<PathBuf> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(capture_error(dir, 0, CaptureErrorKind::Io(e)));
            return Vec::new();
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(capture_error(dir, 0, CaptureErrorKind::Io(e)));
                continue;
            }
        };
        if entry.file_name().as_encoded_bytes().first() == Some(&b'.') {
            continue;
        }
        let path = entry.path();
        // fs::metadata follows symbolic links: a link to a capture counts, a dangling one does not.
        if fs::metadata(&path).is_ok_and(|meta| meta.is_file()) {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Opens one input; returns its reader, its size when it is a regular file, and whether it is
/// read with seeks (and so not through the byte counter).
fn open_one(
    path: &Path,
    counter: &Arc<AtomicU64>,
    stdin_used: &mut bool,
) -> Result<(Reader, Option<u64>, bool), CaptureError> {
    let io_error = |e| capture_error(path, 0, CaptureErrorKind::Io(e));
    if path.as_os_str() == STDIN_NAME {
        if *stdin_used {
            return Err(capture_error(
                path,
                0,
                CaptureErrorKind::Corrupt("standard input (-) can be read only once".into()),
            ));
        }
        *stdin_used = true;
        let stdin = Box::new(Counting {
            inner: io::stdin(),
            count: Arc::clone(counter),
        });
        return open_stream(path, stdin).map(|reader| (reader, None, false));
    }
    let mut file = File::open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if !meta.is_file() {
        // A pipe or device (e.g. `<(zcat …)`): no size, no seeking.
        let stream = Box::new(Counting {
            inner: file,
            count: Arc::clone(counter),
        });
        return open_stream(path, stream).map(|reader| (reader, None, false));
    }
    let mut magic = [0u8; 4];
    let got = read_full(&mut file, &mut magic).map_err(io_error)?;
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    if got == magic.len() && netmon::sniff(magic) {
        let seekable: Box<dyn ReadSeek> = Box::new(file);
        let reader = Reader::Netmon(NetmonReader::new(seekable, path)?);
        return Ok((reader, Some(meta.len()), true));
    }
    let counted = Counting {
        inner: file,
        count: Arc::clone(counter),
    };
    let reader = open_stream(path, Box::new(counted))?;
    Ok((reader, Some(meta.len()), false))
}

/// Reads up to four bytes of `stream` and returns them with a stream that yields them again.
fn peek_magic(path: &Path, mut stream: BoxRead) -> Result<([u8; 4], usize, BoxRead), CaptureError> {
    let mut magic = [0u8; 4];
    let got = read_full(&mut stream, &mut magic)
        .map_err(|e| capture_error(path, 0, CaptureErrorKind::Io(e)))?;
    let prefix = Cursor::new(magic).take(got as u64);
    Ok((magic, got, Box::new(prefix.chain(stream))))
}

/// Recognises a sequential stream (gunzipping it if needed) and opens its reader.
fn open_stream(path: &Path, stream: BoxRead) -> Result<Reader, CaptureError> {
    let (magic, got, stream) = peek_magic(path, stream)?;
    if got >= GZIP_MAGIC.len() && magic.starts_with(&GZIP_MAGIC) {
        let decoder = Box::new(MultiGzDecoder::new(stream));
        let (magic, got, stream) = peek_magic(path, decoder)?;
        return open_plain(path, magic, got, stream);
    }
    open_plain(path, magic, got, stream)
}

/// Opens the reader for an uncompressed stream whose first bytes are `magic`.
fn open_plain(
    path: &Path,
    magic: [u8; 4],
    got: usize,
    stream: BoxRead,
) -> Result<Reader, CaptureError> {
    if got < magic.len() {
        return Err(capture_error(
            path,
            0,
            CaptureErrorKind::Truncated {
                what: "file magic number",
                needed: magic.len() as u64,
                got: got as u64,
            },
        ));
    }
    let buffered = || BufReader::with_capacity(READ_BUFFER_LEN, stream);
    if pcap::sniff(magic) {
        Ok(Reader::Pcap(PcapReader::new(buffered(), path)?))
    } else if pcapng::sniff(magic) {
        Ok(Reader::Pcapng(PcapngReader::new(buffered(), path)?))
    } else if netmon::sniff(magic) {
        let spooled: Box<dyn ReadSeek> = Box::new(spool(path, buffered())?);
        Ok(Reader::Netmon(NetmonReader::new(spooled, path)?))
    } else {
        Err(capture_error(
            path,
            0,
            CaptureErrorKind::NotACapture { magic },
        ))
    }
}

/// Reads a whole stream into memory, refusing more than [`NETMON_SPOOL_LIMIT`] bytes.
fn spool(path: &Path, stream: impl Read) -> Result<Cursor<Vec<u8>>, CaptureError> {
    let mut data = Vec::new();
    stream
        .take(NETMON_SPOOL_LIMIT.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| capture_error(path, 0, CaptureErrorKind::Io(e)))?;
    let len = data.len() as u64;
    if len > NETMON_SPOOL_LIMIT {
        return Err(capture_error(
            path,
            0,
            CaptureErrorKind::BadLength {
                what: "Network Monitor file read into memory (it is compressed or not seekable)",
                value: len,
                limit: NETMON_SPOOL_LIMIT,
            },
        ));
    }
    Ok(Cursor::new(data))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;
    use crate::capture::netmon::tests as netmon_vectors;
    use crate::capture::pcapng::tests as pcapng_vectors;
    use crate::capture::writer::PcapWriter;

    /// A scratch directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "rdsflows-capture-test-{}-{name}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A nanosecond pcap (Ethernet) with frames at the given times (ns) carrying the given bytes.
    fn pcap(frames: &[(i64, &[u8])]) -> Vec<u8> {
        let mut writer = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
        for (ns, data) in frames {
            writer
                .write_packet(Timestamp::from_nanos(*ns), data, data.len() as u32)
                .unwrap();
        }
        writer.finish().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// `(file, number, ts, data, link)` of each frame, and the errors, in delivery order.
    type Frames = Vec<(u32, u64, i64, Vec<u8>, u32)>;

    fn drain(source: &mut FileSource) -> (Frames, Vec<CaptureError>) {
        let mut frames = Vec::new();
        let mut errors = Vec::new();
        while let Some(next) = source.next_packet() {
            match next {
                Ok(p) => frames.push((
                    p.pos.file,
                    p.pos.number,
                    p.ts.as_nanos(),
                    p.data.to_vec(),
                    p.link.0,
                )),
                Err(e) => errors.push(e),
            }
        }
        assert!(source.next_packet().is_none(), "stays finished");
        (frames, errors)
    }

    fn sample_pcapng() -> Vec<u8> {
        let e = Endian::Big;
        let mut f = pcapng_vectors::shb(e);
        f.extend(pcapng_vectors::idb(e, 113, 0, &[]));
        f.extend(pcapng_vectors::epb(e, 0, 2_000_000, b"ng", 2)); // 2 s
        f
    }

    fn sample_netmon() -> Vec<u8> {
        let frame = netmon_vectors::Frame {
            delta: 0,
            data: b"nm",
            orig: 2,
            media: 1,
            filetime: 0,
        };
        netmon_vectors::build(2, 0, 1, &[frame]) // at START_NANOS
    }

    #[test]
    fn format_is_detected_by_magic_not_by_extension() {
        let dir = TempDir::new("magic");
        let paths = [
            dir.file("really-pcapng.pcap", &sample_pcapng()),
            dir.file("really-netmon.pcapng", &sample_netmon()),
            dir.file("really-pcap.cap", &pcap(&[(1_000, b"p")])),
        ];
        let (mut source, errors) = open_inputs(&paths);
        assert!(errors.is_empty(), "{errors:?}");
        let (frames, errors) = drain(&mut source);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            frames,
            vec![
                (2, 1, 1_000, b"p".to_vec(), 1),
                (0, 1, 2_000_000_000, b"ng".to_vec(), 113),
                (1, 1, netmon_vectors::START_NANOS, b"nm".to_vec(), 1),
            ]
        );
    }

    #[test]
    fn gzip_is_transparent_for_every_format() {
        let dir = TempDir::new("gzip");
        for (name, plain) in [
            ("pcap", pcap(&[(5, b"one"), (6, b"two")])),
            ("pcapng", sample_pcapng()),
            ("netmon", sample_netmon()),
        ] {
            let plain_path = dir.file(&format!("{name}.plain"), &plain);
            let compressed = gzip(&plain);
            let gz_path = dir.file(&format!("{name}.gz"), &compressed);
            // Two gzip members back to back (as `cat a.gz b.gz` makes) read as one stream.
            let (head, tail) = plain.split_at(plain.len() / 2);
            let mut multi = gzip(head);
            multi.extend(gzip(tail));
            let multi_path = dir.file(&format!("{name}.multi.gz"), &multi);

            let (mut source, errors) = open_inputs(&[plain_path]);
            assert!(errors.is_empty(), "{name}: {errors:?}");
            let (expected, errors) = drain(&mut source);
            assert!(
                errors.is_empty() && !expected.is_empty(),
                "{name}: {errors:?}"
            );
            assert_eq!(source.bytes_read(), plain.len() as u64, "{name}");

            for (path, size) in [(gz_path, compressed.len()), (multi_path, multi.len())] {
                let (mut source, errors) = open_inputs(std::slice::from_ref(&path));
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                assert_eq!(source.bytes_total(), Some(size as u64));
                let (frames, errors) = drain(&mut source);
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                assert_eq!(frames, expected, "{}", path.display());
                assert_eq!(source.bytes_read(), size as u64, "{}", path.display());
            }
        }
    }

    #[test]
    fn inputs_are_merged_by_timestamp_with_ties_in_input_order() {
        let dir = TempDir::new("merge");
        let a = dir.file(
            "a",
            &pcap(&[(1, b"a1"), (3, b"a2"), (5, b"a3"), (5, b"a4")]),
        );
        let b = dir.file(
            "b",
            &pcap(&[(2, b"b1"), (3, b"b2"), (4, b"b3"), (5, b"b4")]),
        );
        let (mut source, errors) = open_inputs(&[a, b]);
        assert!(errors.is_empty());
        let (frames, errors) = drain(&mut source);
        assert!(errors.is_empty());
        let order: Vec<_> = frames.iter().map(|f| (f.0, f.1, f.2)).collect();
        assert_eq!(
            order,
            [
                (0, 1, 1),
                (1, 1, 2),
                (0, 2, 3),
                (1, 2, 3),
                (1, 3, 4),
                (0, 3, 5),
                (0, 4, 5),
                (1, 4, 5),
            ]
        );
    }

    #[test]
    fn a_damaged_input_is_reported_once_and_the_others_go_on() {
        let dir = TempDir::new("damaged");
        let full = pcap(&[(1, b"a1"), (3, b"a2"), (5, b"a3")]);
        // Cut inside the third record: a1 and a2 are intact.
        let cut = dir.file("cut.pcap", &full[..full.len() - 1]);
        let good = dir.file("good.pcap", &pcap(&[(2, b"b1"), (4, b"b2"), (6, b"b3")]));
        let (mut source, errors) = open_inputs(&[cut, good]);
        assert!(errors.is_empty());
        let (frames, errors) = drain(&mut source);
        let data: Vec<_> = frames.iter().map(|f| f.3.as_slice()).collect();
        assert_eq!(data, [&b"a1"[..], b"b1", b"a2", b"b2", b"b3"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].offset,
            (24 + 18 + 18) as u64,
            "start of the cut record"
        );
        assert!(errors[0].path.ends_with("cut.pcap"));
    }

    #[test]
    fn open_errors_are_returned_and_the_inputs_keep_their_indexes() {
        let dir = TempDir::new("open-errors");
        let paths = [
            dir.0.join("missing.pcap"),
            dir.file("notes.txt", b"these are not packets"),
            dir.file("empty.pcap", b""),
            dir.file("good.pcap", &pcap(&[(1, b"x")])),
        ];
        let (mut source, errors) = open_inputs(&paths);
        assert_eq!(source.inputs(), &paths);
        assert_eq!(errors.len(), 3);
        assert!(matches!(errors[0].kind, CaptureErrorKind::Io(_)));
        assert!(matches!(
            errors[1].kind,
            CaptureErrorKind::NotACapture { magic } if &magic == b"thes"
        ));
        assert!(matches!(
            errors[2].kind,
            CaptureErrorKind::Truncated {
                needed: 4,
                got: 0,
                ..
            }
        ));
        let (frames, errors) = drain(&mut source);
        assert!(errors.is_empty());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0, 3, "index in the expanded list");
    }

    #[test]
    fn directories_expand_to_their_visible_regular_files_sorted_by_name() {
        let dir = TempDir::new("expand");
        let rotated = dir.0.join("rotated");
        fs::create_dir_all(rotated.join("nested")).unwrap();
        // Rotated files: one flow split across them, written out of name order.
        fs::write(rotated.join("cap-2.pcap"), pcap(&[(30, b"3"), (40, b"4")])).unwrap();
        fs::write(rotated.join("cap-1.pcap"), pcap(&[(10, b"1"), (20, b"2")])).unwrap();
        fs::write(rotated.join(".partial.pcap"), b"hidden: skipped").unwrap();
        fs::write(rotated.join("nested").join("x.pcap"), pcap(&[(0, b"no")])).unwrap();
        let single = dir.file("single.pcap", &pcap(&[(25, b"s")]));

        let (mut source, errors) = open_inputs(&[rotated.clone(), single.clone()]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            source.inputs(),
            &[
                rotated.join("cap-1.pcap"),
                rotated.join("cap-2.pcap"),
                single
            ]
        );
        let (frames, errors) = drain(&mut source);
        assert!(errors.is_empty());
        let data: Vec<_> = frames.iter().map(|f| (f.0, f.3.as_slice())).collect();
        assert_eq!(
            data,
            [(0, &b"1"[..]), (0, b"2"), (2, b"s"), (1, b"3"), (1, b"4")]
        );

        let (_, errors) = open_inputs(&[dir.0.join("no-such-dir").join("")]);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn byte_counts_for_progress() {
        let dir = TempDir::new("progress");
        let a = pcap(&[(1, b"abc"), (2, b"def")]);
        let n = sample_netmon();
        let paths = [dir.file("a.pcap", &a), dir.file("n.cap", &n)];
        let (mut source, _) = open_inputs(&paths);
        let total = (a.len() + n.len()) as u64;
        assert_eq!(source.bytes_total(), Some(total));
        let (frames, errors) = drain(&mut source);
        assert_eq!((frames.len(), errors.len()), (3, 0));
        assert_eq!(source.bytes_read(), total);
    }

    #[test]
    fn file_source_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<FileSource>();
    }

    #[test]
    fn byte_order_helpers_never_panic() {
        let bytes = [1u8, 2, 3];
        assert_eq!(Endian::Little.u16_at(&bytes, 1), Some(0x0302));
        assert_eq!(Endian::Big.u16_at(&bytes, 1), Some(0x0203));
        assert_eq!(Endian::Big.u32_at(&bytes, 0), None);
        assert_eq!(Endian::Big.u64_at(&bytes, usize::MAX), None);
        let mut buf = Vec::new();
        assert_eq!(reserve_slice(&mut buf, 5).len(), 5);
        assert_eq!(reserve_slice(&mut buf, 2).len(), 2);
        assert_eq!(buf.len(), 5, "never shrinks");
    }
}
