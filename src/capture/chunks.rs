//! One plain classic pcap file as byte ranges ("chunks") that threads read on their own: a
//! thread reads its range with positioned reads, a step at a time, and takes the records that
//! start in it while they are still in its cache. No frame crosses between cores (moving
//! frames cost more than decoding them: README, Performance). Owns where records start and
//! end inside a range; must not decode frames or decide which thread reads which range.
//!
//! pcap has no sync marks (draft-ietf-opsawg-pcap section 5): where a chunk's first record
//! starts is certain only once the chunk before it has been read to its end. A thread need not
//! wait for that: [`PcapChunks::guess_start`] finds the first place in the range where several
//! record headers in a row are what a capture tool writes. The caller must check the guess
//! against where the chunk before really ended, and read the chunk again from there when they
//! differ: a guess costs time when wrong, never correctness.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::capture_error;
use super::pcap::{PcapLayout, PcapReader, FILE_HEADER_LEN, RECORD_HEADER_LEN};
use super::{CaptureError, CaptureErrorKind, LinkType, PacketSource};
use crate::time::Timestamp;

/// Bytes per chunk: a few thousand frames, so that handing a chunk's packets over costs
/// nothing per frame, and its bytes and packets still fit in a core's cache.
pub const CHUNK_BYTES: u64 = 1 << 20;

/// Bytes per positioned read. Reading a whole chunk at once left it out of the cache by the
/// time its records were read, and every record header missed (8 % of a two-thread run).
const READ_STEP: u64 = 64 * 1024;

/// Record headers in a row that must be plausible, each starting where the one before ends,
/// for a guessed start (fewer only where the file ends right after them).
const GUESS_RECORDS: usize = 8;

/// The most two records in a row of a guess may lie apart in time, in nanoseconds (an hour).
const GUESS_MAX_GAP_NANOS: u64 = 3_600_000_000_000;

/// One plain (uncompressed) classic pcap file, read by ranges.
#[derive(Debug)]
pub struct PcapChunks {
    file: Backing,
    path: PathBuf,
    layout: PcapLayout,
    /// The file's length when opened: it sets the chunk count. The last chunk reads on to the
    /// real end, so a file that grew is read whole, as the streaming reader would.
    len: u64,
    chunk_bytes: u64,
}

/// Where the file's bytes are: on disk, or held whole in memory (`rdsflows bench`).
#[derive(Debug)]
enum Backing {
    File(File),
    Memory(Arc<Vec<u8>>),
}

impl Backing {
    /// Reads at `offset` until `buf` is full or the file ends; the count read.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Self::File(file) => read_at(file, buf, offset),
            Self::Memory(bytes) => {
                let at = usize::try_from(offset).unwrap_or(usize::MAX);
                let rest = bytes.get(at..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
                    to.copy_from_slice(from);
                }
                Ok(n)
            }
        }
    }
}

/// A chunk's bytes as read so far: the file from byte `base` on.
#[derive(Debug, Default)]
pub struct Loaded {
    base: u64,
    /// The buffer; only its first `filled` bytes are the file's. The rest is left as the last
    /// use left it: zeroing a reused buffer before every read was 4 % of a run.
    bytes: Vec<u8>,
    filled: usize,
}

impl Loaded {
    /// The bytes read so far (the file from [`Self::base`] on).
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.filled).unwrap_or_default()
    }

    /// The file offset of the first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The buffer, for reuse by a later chunk.
    pub fn into_buffer(self) -> Vec<u8> {
        self.bytes
    }

    /// Where file offset `at` lies in the bytes.
    fn index(&self, at: u64) -> usize {
        usize::try_from(at.saturating_sub(self.base)).unwrap_or(usize::MAX)
    }
}

/// The record at an offset.
#[derive(Debug)]
pub enum Fetched {
    /// A whole record.
    Record {
        /// Its capture time.
        ts: Timestamp,
        /// Where its captured bytes lie in [`Loaded::bytes`].
        data: Range<usize>,
        /// Its length on the wire.
        orig_len: u32,
        /// Where the record after it starts.
        next: u64,
    },
    /// The file ends cleanly here.
    End,
    /// Damage, or a read that failed, ends the file here: the error is the one the streaming
    /// reader gives at this record.
    Damage(CaptureError),
}

impl PcapChunks {
    /// Opens `path` for reading by ranges of `chunk_bytes`, when it is a regular file holding
    /// an uncompressed classic pcap; `None` for anything else (gzip, pcapng, Network Monitor,
    /// standard input, a header that does not read), which the streaming reader handles.
    pub fn open(path: &Path, chunk_bytes: u64) -> Option<Self> {
        if !cfg!(unix) || chunk_bytes == 0 {
            return None;
        }
        let mut file = File::open(path).ok()?;
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() {
            return None;
        }
        let mut header = [0u8; FILE_HEADER_LEN];
        file.read_exact(&mut header).ok()?;
        let layout = PcapReader::new(&header[..], path).ok()?.layout();
        Some(Self {
            file: Backing::File(file),
            path: path.to_path_buf(),
            layout,
            len: metadata.len(),
            chunk_bytes,
        })
    }

    /// A classic pcap file held whole in memory, named `name`, read by ranges of `chunk_bytes`
    /// as a file on disk would be; `None` when it is not a classic pcap.
    pub fn in_memory(bytes: Arc<Vec<u8>>, name: &Path, chunk_bytes: u64) -> Option<Self> {
        let header = bytes.get(..FILE_HEADER_LEN)?;
        let layout = PcapReader::new(header, name).ok()?.layout();
        (chunk_bytes > 0).then(|| Self {
            len: bytes.len() as u64,
            file: Backing::Memory(bytes),
            path: name.to_path_buf(),
            layout,
            chunk_bytes,
        })
    }

    /// The file, as the user named it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The link type of every frame.
    pub fn link(&self) -> LinkType {
        self.layout.link()
    }

    /// Chunks in the file (at least one, even for a file with no record).
    pub fn count(&self) -> usize {
        let data = self.len.saturating_sub(FILE_HEADER_LEN as u64);
        usize::try_from(data.div_ceil(self.chunk_bytes).max(1)).unwrap_or(usize::MAX)
    }

    /// Where the first chunk's first record starts.
    pub fn first_record(&self) -> u64 {
        FILE_HEADER_LEN as u64
    }

    /// The byte range chunk `index` covers: the records that start in it are its records.
    /// The last chunk's range runs to the end of the file, however long it has become.
    pub fn range(&self, index: usize) -> Range<u64> {
        let start = (index as u64)
            .saturating_mul(self.chunk_bytes)
            .saturating_add(FILE_HEADER_LEN as u64);
        let end = if index.saturating_add(1) >= self.count() {
            u64::MAX
        } else {
            start.saturating_add(self.chunk_bytes)
        };
        start..end
    }

    /// Chunk `index`, nothing read yet, in `buffer`.
    pub fn load(&self, index: usize, mut buffer: Vec<u8>) -> Loaded {
        let wanted = usize::try_from(self.chunk_bytes.saturating_add(READ_STEP)).unwrap_or(0);
        buffer.reserve(wanted.saturating_sub(buffer.len()));
        Loaded {
            base: self.range(index).start,
            bytes: buffer,
            filled: 0,
        }
    }

    /// Reads on into `loaded` until it holds the file up to offset `upto` or the file ends,
    /// a step at a time (never past chunk `index`'s range but for the record that needs it);
    /// returns where the bytes read end.
    #[inline]
    fn read_to(&self, index: usize, loaded: &mut Loaded, upto: u64) -> Result<u64, CaptureError> {
        let have = loaded.base.saturating_add(loaded.filled as u64);
        if have >= upto {
            return Ok(have);
        }
        self.read_more(index, loaded, upto)
    }

    /// [`Self::read_to`] when it has to read.
    #[inline(never)]
    fn read_more(&self, index: usize, loaded: &mut Loaded, upto: u64) -> Result<u64, CaptureError> {
        let end = self.range(index).end;
        loop {
            let have = loaded.base.saturating_add(loaded.filled as u64);
            if have >= upto {
                return Ok(have);
            }
            let step = have.saturating_add(READ_STEP);
            // Never past the file's end by more than a step, whatever a length field claims
            // (a file that grows is still read on, a step at a time).
            let step_end = step.min(end).max(upto).min(self.len.max(step));
            let want = loaded.index(step_end);
            if loaded.bytes.len() < want {
                loaded.bytes.resize(want, 0);
            }
            let space = loaded.bytes.get_mut(loaded.filled..want);
            let got = self
                .file
                .read_at(space.unwrap_or_default(), have)
                .map_err(|e| capture_error(&self.path, have, CaptureErrorKind::Io(e)))?;
            loaded.filled = loaded.filled.saturating_add(got);
            if got == 0 {
                return Ok(have);
            }
        }
    }

    /// Reads the 16-byte record header at `at` in if needed; false when the file ends before
    /// it is whole.
    fn has_header(&self, index: usize, loaded: &mut Loaded, at: u64) -> Result<bool, CaptureError> {
        let end = at.saturating_add(RECORD_HEADER_LEN as u64);
        Ok(self.read_to(index, loaded, end)? >= end)
    }

    /// The record that starts at `at`, a record boundary of chunk `index`, read in.
    pub fn fetch(&self, index: usize, loaded: &mut Loaded, at: u64) -> Fetched {
        match self.has_header(index, loaded, at) {
            Ok(true) => {}
            Ok(false) if loaded.bytes().len() <= loaded.index(at) => return Fetched::End,
            // A record header cut short by the end of the file.
            Ok(false) => return self.damage_at(loaded, at),
            Err(error) => return Fetched::Damage(error),
        }
        let Some((ts, caplen, orig_len)) =
            header_in(loaded, at).and_then(|h| self.layout.record(h))
        else {
            return self.damage_at(loaded, at);
        };
        let data_start = at.saturating_add(RECORD_HEADER_LEN as u64);
        let next = data_start.saturating_add(u64::from(caplen));
        match self.read_to(index, loaded, next) {
            Ok(have) if have >= next => Fetched::Record {
                ts,
                data: loaded.index(data_start)..loaded.index(next),
                orig_len,
                next,
            },
            Ok(_) => self.damage_at(loaded, at),
            Err(error) => Fetched::Damage(error),
        }
    }

    /// The error the streaming reader gives for the damaged record at `at`, from the bytes
    /// read (which reach as far as the reader would read).
    fn damage_at(&self, loaded: &Loaded, at: u64) -> Fetched {
        let rest = loaded.bytes().get(loaded.index(at)..).unwrap_or_default();
        let mut reader = PcapReader::resume(rest, &self.path, self.layout, at, 0);
        match reader.next_packet() {
            Some(Err(error)) => Fetched::Damage(error),
            // Cannot happen: the record was found damaged above.
            _ => Fetched::End,
        }
    }

    /// Where chunk `index`'s first record most likely starts: the first offset in its range
    /// from which eight plausible record headers follow one another (or fewer
    /// that end exactly at the end of the file). `None` when there is no such offset, as in a
    /// chunk that lies inside one long record: the caller then waits for the chunk before.
    pub fn guess_start(&self, index: usize, loaded: &mut Loaded) -> Option<u64> {
        let range = self.range(index);
        let mut at = range.start;
        while at < range.end {
            // Only where the file still has bytes (a read that fails gives no guess).
            match self.read_to(index, loaded, at.saturating_add(1)) {
                Ok(have) if have > at => {}
                _ => return None,
            }
            if self.chain_from(index, loaded, at) {
                return Some(at);
            }
            at += 1;
        }
        None
    }

    /// Whether plausible records follow one another from `at`.
    fn chain_from(&self, index: usize, loaded: &mut Loaded, mut at: u64) -> bool {
        let mut previous: Option<Timestamp> = None;
        for _ in 0..GUESS_RECORDS {
            match self.has_header(index, loaded, at) {
                Ok(true) => {}
                // Records that end exactly where the file ends.
                Ok(false) => return previous.is_some() && loaded.bytes().len() == loaded.index(at),
                Err(_) => return false,
            }
            let Some(header) = header_in(loaded, at).filter(|h| self.layout.is_plausible(h)) else {
                return false;
            };
            let Some((ts, caplen, _)) = self.layout.record(header) else {
                return false;
            };
            if previous.is_some_and(|p| p.as_nanos().abs_diff(ts.as_nanos()) > GUESS_MAX_GAP_NANOS)
            {
                return false;
            }
            previous = Some(ts);
            at = at
                .saturating_add(RECORD_HEADER_LEN as u64)
                .saturating_add(u64::from(caplen));
        }
        true
    }
}

/// The record header at file offset `at`, where it lies in the bytes read.
fn header_in(loaded: &Loaded, at: u64) -> Option<&[u8; RECORD_HEADER_LEN]> {
    let start = loaded.index(at);
    let end = start.checked_add(RECORD_HEADER_LEN)?;
    loaded.bytes().get(start..end)?.try_into().ok()
}

/// Reads at `offset` until `buf` is full or the file ends; the count read.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        match file.read_at(rest, offset.saturating_add(done as u64)) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Never called: [`PcapChunks::open`] declines every file where positioned reads are missing.
#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> io::Result<usize> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests;
