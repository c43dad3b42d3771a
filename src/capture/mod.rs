//! Packet sources: where frames come from (capture files, in-memory replays, libpcap live).
//! Owns reading container formats and devices and handing out borrowed frames with their capture
//! time; must not decode protocol headers or touch flows.

pub mod chunks;
pub mod file;
#[cfg(feature = "live")]
pub mod live;
pub mod netmon;
pub mod pcap;
pub mod pcapng;
pub mod replay;
pub mod writer;

use std::fmt;
use std::path::PathBuf;

use crate::time::Timestamp;

/// A link-layer type, as pcap/pcapng number them (LINKTYPE_* values, tcpdump.org/linktypes.html).
///
/// Open on purpose: any number a file carries is kept, so the summary can name what it could not
/// decode instead of dropping it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// LINKTYPE_NULL: BSD loopback, a 4-byte address family in the writer's byte order.
    pub const NULL: Self = Self(0);
    /// LINKTYPE_ETHERNET: IEEE 802.3 Ethernet.
    pub const ETHERNET: Self = Self(1);
    /// LINKTYPE_RAW: raw IPv4 or IPv6, version from the first nibble.
    pub const RAW: Self = Self(101);
    /// DLT_RAW as some BSDs wrote it into files (12); same content as `RAW`.
    pub const RAW_BSD: Self = Self(12);
    /// DLT_RAW as OpenBSD wrote it (14).
    pub const RAW_OPENBSD: Self = Self(14);
    /// LINKTYPE_LOOP: OpenBSD loopback, a 4-byte address family in network byte order.
    pub const LOOP: Self = Self(108);
    /// LINKTYPE_LINUX_SLL: Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: Self = Self(113);
    /// LINKTYPE_IPV4: raw IPv4.
    pub const IPV4: Self = Self(228);
    /// LINKTYPE_IPV6: raw IPv6.
    pub const IPV6: Self = Self(229);
    /// LINKTYPE_LINUX_SLL2: Linux cooked capture v2 (20-byte header).
    pub const LINUX_SLL2: Self = Self(276);

    /// Base for Network Monitor media types that have no LINKTYPE equivalent: `NETMON_BASE | media`.
    pub const NETMON_BASE: u32 = 0x4E4D_0000;

    /// A short name for reports: the LINKTYPE_ name where known, else the number.
    pub fn name(self) -> String {
        match self {
            Self::NULL => "null".into(),
            Self::ETHERNET => "ethernet".into(),
            Self::RAW | Self::RAW_BSD | Self::RAW_OPENBSD => "raw".into(),
            Self::LOOP => "loop".into(),
            Self::LINUX_SLL => "linux_sll".into(),
            Self::IPV4 => "ipv4".into(),
            Self::IPV6 => "ipv6".into(),
            Self::LINUX_SLL2 => "linux_sll2".into(),
            Self(n) if n & 0xFFFF_0000 == Self::NETMON_BASE => {
                format!("netmon_media_0x{:04x}", n & 0xFFFF)
            }
            Self(n) => format!("linktype_{n}"),
        }
    }
}

/// Where a packet came from: which input file and which record in it (1-based, as Wireshark
/// numbers frames), so findings can point a responder at the exact packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PacketPos {
    /// Index into the list of inputs, in the order the user gave them (directories expanded).
    pub file: u32,
    /// Frame number inside that file, starting at 1.
    pub number: u64,
}

/// One captured frame, borrowed from the source's buffer until the next call.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Capture time of the frame.
    pub ts: Timestamp,
    /// How to read `data`.
    pub link: LinkType,
    /// The captured bytes (possibly cut short by the snapshot length).
    pub data: &'a [u8],
    /// The frame's length on the wire; larger than `data.len()` when the snapshot cut it.
    pub orig_len: u32,
    /// Where the frame is in the input.
    pub pos: PacketPos,
}

impl RawPacket<'_> {
    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// What went wrong with a capture file, and where.
#[derive(Debug)]
pub struct CaptureError {
    /// The file (or `-` for standard input).
    pub path: PathBuf,
    /// Byte offset in the (decompressed) stream where the problem starts.
    pub offset: u64,
    /// What the problem is.
    pub kind: CaptureErrorKind,
}

/// The kinds of capture damage rdsflows tells apart.
#[derive(Debug)]
pub enum CaptureErrorKind {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The first bytes match no format rdsflows reads.
    NotACapture {
        /// The first bytes, for the message.
        magic: [u8; 4],
    },
    /// The file ends in the middle of a header or record.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it needed.
        needed: u64,
        /// Bytes that were left.
        got: u64,
    },
    /// A length field that cannot be right (e.g. a 4 GiB captured length).
    BadLength {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The largest value rdsflows accepts there.
        limit: u64,
    },
    /// Any other structural problem, described.
    Corrupt(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        match &self.kind {
            CaptureErrorKind::Io(e) => write!(f, "{e}"),
            CaptureErrorKind::NotACapture { magic } => write!(
                f,
                "not a capture file rdsflows can read (first bytes {:02x} {:02x} {:02x} {:02x}; \
                 expected pcap, pcapng, Network Monitor 2.x, optionally gzip-compressed)",
                magic[0], magic[1], magic[2], magic[3]
            ),
            CaptureErrorKind::Truncated { what, needed, got } => write!(
                f,
                "byte offset {}: file ends inside {what} (needed {needed} bytes, {got} left)",
                self.offset
            ),
            CaptureErrorKind::BadLength { what, value, limit } => write!(
                f,
                "byte offset {}: {what} is {value}, above the limit of {limit}; the rest of this file is skipped",
                self.offset
            ),
            CaptureErrorKind::Corrupt(msg) => write!(f, "byte offset {}: {msg}", self.offset),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What a source hands the pipeline next.
#[derive(Debug)]
pub enum SourceEvent<'a> {
    /// A frame, or an error that ended one input (as [`PacketSource::next_packet`] returns them).
    Packet(Result<RawPacket<'a>, CaptureError>),
    /// No frame this time (live sources only: files never idle). The live source's buffer was
    /// empty, or it waited a whole read timeout, or it is time to refresh the status line.
    Idle {
        /// The capture clock, when the source waited a whole read timeout with nothing (it reads
        /// the clock its packet timestamps come from), so idle flows can end on time on a quiet
        /// link. `None` otherwise: flowing packets carry the time themselves.
        now: Option<Timestamp>,
        /// Time to tell the observer (a few times a second at most).
        tick: bool,
    },
}

/// Counters libpcap keeps about a live capture (`pcap_stats(3PCAP)`), since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets the capture received (on Linux: those that passed the filter).
    pub received: u64,
    /// Packets dropped because the capture buffer was full: the reader was too slow.
    pub dropped: u64,
    /// Packets dropped by the network interface or its driver.
    pub if_dropped: u64,
}

/// A source of frames: a lending iterator, so frames borrow the source's buffer and no frame
/// is copied on the way to the decoder.
pub trait PacketSource {
    /// The next frame in timestamp order, an error that ended one input (the source then goes on
    /// with the others), or `None` when every input is done.
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>>;

    /// The next event for the pipeline: a frame, or (live sources only) no frame, so the status
    /// line moves and a stop request is noticed even when no traffic arrives.
    /// By default, every call is a frame from [`Self::next_packet`].
    fn next_event(&mut self) -> Option<SourceEvent<'_>> {
        self.next_packet().map(SourceEvent::Packet)
    }

    /// The capture's kernel counters (received, dropped), for live sources; `None` for files.
    fn kernel_stats(&mut self) -> Option<KernelStats> {
        None
    }

    /// Bytes consumed so far from the underlying files (compressed bytes for `.gz`), for progress.
    fn bytes_read(&self) -> u64 {
        0
    }

    /// Total bytes the inputs hold, when known (regular files), for progress.
    fn bytes_total(&self) -> Option<u64> {
        None
    }

    /// The source as one plain classic pcap file that threads can read by ranges, with its
    /// index among the inputs, when it is exactly that and nothing has been read from it yet:
    /// a run on several threads then reads it in parallel. `None` by default.
    fn pcap_chunks(&self) -> Option<(chunks::PcapChunks, u32)> {
        None
    }
}
