//! Live capture through libpcap (feature `live`): opens a device, applies the BPF filter, hands
//! out frames with libpcap's header timestamps, tees them into the `-w` files with rotation, and
//! stops on a signal flag, a duration or a packet count. Owns the device and the written files;
//! must not decode headers or touch flows. It reads the wall clock only to pace ticks, to honour
//! `--duration` and to let idle flows age on a quiet link: flow timing comes from the packets.

use std::fs::File;
use std::io::{self, BufWriter};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use pcap::{Active, Capture, Device};

use super::writer::PcapWriter;
use super::{CaptureError, CaptureErrorKind, KernelStats, LinkType, PacketPos};
use super::{PacketSource, RawPacket, SourceEvent};
use crate::time::{Duration, Timestamp};

/// The longest the source waits for a frame before the loop can look at the stop flag, let idle
/// flows age and tick the status line, in milliseconds.
const WAIT_MS: u16 = 100;
/// On a busy link, a tick every this much capture time (the status line prints about once a
/// second; ticking more often keeps it from skipping a second).
const TICK_INTERVAL: Duration = Duration::from_nanos(250_000_000);
/// After Ctrl-C, frames already in the kernel buffer are still read (so traffic sent before the
/// signal is analysed): until a wait finds nothing this long after the signal (more than twice
/// the kernel's block timeout, so the last partly filled block has been handed over), and for
/// at most `DRAIN_LIMIT`.
const DRAIN_QUIET: std::time::Duration = std::time::Duration::from_millis(250);
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);
/// The snapshot length when none is given, or 0: tcpdump's default, whole frames on any link.
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// The kernel capture buffer: 8 MiB, four times libpcap's default, which a burst on a busy
/// link overflows (the drops show in the summary; `-B` raises it, as in tcpdump).
pub const DEFAULT_BUFFER_BYTES: u32 = 8 << 20;

/// Where and how `-w` writes what is captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteConfig {
    /// The first file; later ones add 1, 2, 3… to its name, as tcpdump `-C` does.
    pub path: PathBuf,
    /// Start a new file before one would grow past this many bytes (`-C`).
    pub max_bytes: Option<u64>,
    /// Start a new file when a packet arrives this long after the current file was opened (`-G`).
    pub every: Option<Duration>,
}

/// What to capture and when to stop.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The device name, as `rdsflows interfaces` lists it.
    pub interface: String,
    /// A BPF filter expression (pcap-filter(7)), compiled by libpcap.
    pub filter: Option<String>,
    /// Bytes kept of each frame; 0 means [`DEFAULT_SNAPLEN`].
    pub snaplen: u32,
    /// Promiscuous mode (ignored on the `any` pseudo-device, which cannot do it).
    pub promisc: bool,
    /// The kernel buffer libpcap captures into, in bytes ([`DEFAULT_BUFFER_BYTES`] by default).
    pub buffer_bytes: u32,
    /// Stop after this much wall time.
    pub duration: Option<std::time::Duration>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Also write the frames to pcap files.
    pub write: Option<WriteConfig>,
    /// Set (by the signal handler) to stop cleanly.
    pub stop: Arc<AtomicBool>,
}

/// Why a live capture ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C, SIGTERM or SIGHUP.
    Signal,
    /// `--duration` elapsed.
    Duration,
    /// `-c COUNT` packets were captured.
    Count,
    /// Reading the device or writing `-w` failed (the error is the input's damage).
    Error,
}

impl StopReason {
    /// The name used in the summary: `signal`, `duration`, `count` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::Duration => "duration",
            Self::Count => "count",
            Self::Error => "error",
        }
    }
}

/// Why a capture could not start. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Not root and without the capture capabilities.
    #[error(
        "no permission to capture on {interface} ({message}).\n\
         Run as root, or give the binary the capture capabilities once:\n  \
         sudo setcap cap_net_raw,cap_net_admin=eip {binary}"
    )]
    Permission {
        /// The device.
        interface: String,
        /// libpcap's message.
        message: String,
        /// This program's path, for the setcap line.
        binary: String,
    },
    /// No such device.
    #[error("unknown interface '{interface}'; capture devices here: {}", .valid.join(", "))]
    NoSuchInterface {
        /// What was asked for.
        interface: String,
        /// The devices libpcap knows.
        valid: Vec<String>,
    },
    /// The BPF filter does not compile.
    #[error("capture filter '{filter}' does not compile: {message}")]
    BadFilter {
        /// The filter as given.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// Any other failure to open the device.
    #[error("cannot capture on {interface}: {message}")]
    Open {
        /// The device.
        interface: String,
        /// libpcap's message.
        message: String,
    },
    /// The device list could not be read.
    #[error("cannot list capture devices: {0}")]
    Devices(String),
    /// The first `-w` file could not be created.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// A capture device as `rdsflows interfaces` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name to give `-i`.
    pub name: String,
    /// libpcap's description, when it has one.
    pub description: Option<String>,
    /// Flags as tcpdump `-D` shows them: `Up`, `Running`, `Loopback`, `Wireless`, `Connected`…
    pub flags: Vec<&'static str>,
}

/// The capture devices libpcap can open, in its order (the one tcpdump `-D` shows).
///
/// # Errors
/// libpcap could not enumerate devices.
pub fn list_devices() -> Result<Vec<DeviceInfo>, LiveError> {
    let devices = Device::list().map_err(|e| LiveError::Devices(pcap_message(&e)))?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let mut flags = Vec::new();
            if d.flags.is_up() {
                flags.push("Up");
            }
            if d.flags.is_running() {
                flags.push("Running");
            }
            if d.flags.is_wireless() {
                flags.push("Wireless");
            }
            if d.flags.is_loopback() {
                flags.push("Loopback");
            }
            match d.flags.connection_status {
                pcap::ConnectionStatus::Connected => flags.push("Connected"),
                pcap::ConnectionStatus::Disconnected => flags.push("Disconnected"),
                pcap::ConnectionStatus::Unknown | pcap::ConnectionStatus::NotApplicable => {}
            }
            DeviceInfo {
                name: d.name,
                description: d.desc,
                flags,
            }
        })
        .collect())
}

/// libpcap's own text, without the pcap crate's "libpcap error: " prefix.
fn pcap_message(error: &pcap::Error) -> String {
    match error {
        pcap::Error::PcapError(message) => message.clone(),
        other => other.to_string(),
    }
}

/// The LINKTYPE_ number (what files carry) for a DLT_ number (what libpcap reports live). They
/// are the same except for a few historical values (tcpdump.org/linktypes.html).
fn link_type(dlt: pcap::Linktype) -> LinkType {
    match dlt.0 {
        // DLT_RAW is 14 on OpenBSD, 12 elsewhere; OpenBSD's 12 is DLT_LOOP.
        14 if cfg!(target_os = "openbsd") => LinkType::RAW,
        12 if cfg!(target_os = "openbsd") => LinkType::LOOP,
        12 => LinkType::RAW,
        n => LinkType(u32::try_from(n).unwrap_or(u32::MAX)),
    }
}

/// The wall clock as a capture timestamp (the clock libpcap stamps packets with by default).
fn wall_now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        since.subsec_nanos(),
    )
}

/// The pcap header's time, microseconds (libpcap's default precision) as nanoseconds.
#[allow(
    clippy::unnecessary_cast,
    reason = "time_t and suseconds_t are i64 here but i32 on some 32-bit targets"
)]
fn header_time(header: &pcap::PacketHeader) -> Timestamp {
    let micros = (header.ts.tv_usec as i64).clamp(0, 999_999);
    Timestamp::from_parts(header.ts.tv_sec as i64, (micros as u32) * 1000)
}

/// `-w` output: pcap files named `FILE`, `FILE1`, `FILE2`… (tcpdump `-C` numbering), a new one
/// started by size or by time.
#[derive(Debug)]
struct Rotator {
    config: WriteConfig,
    link: LinkType,
    snaplen: u32,
    current: Option<PcapWriter<BufWriter<File>>>,
    /// Bytes in the current file, header included.
    bytes: u64,
    /// Packets in the current file.
    packets: u64,
    /// When the current file was opened, on the capture clock.
    opened_at: Timestamp,
    written: Vec<PathBuf>,
}

/// Pcap file header and record header sizes (draft-ietf-opsawg-pcap, sections 4 and 5).
const PCAP_FILE_HEADER_LEN: u64 = 24;
const PCAP_RECORD_HEADER_LEN: u64 = 16;

/// The name of the `index`-th file: the path itself, then the path with 1, 2, 3… appended.
fn rotated_name(base: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return base.to_path_buf();
    }
    let mut name = base.as_os_str().to_owned();
    name.push(index.to_string());
    PathBuf::from(name)
}

/// An error naming the file it happened to.
fn file_error(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
}

impl Rotator {
    fn create(
        config: WriteConfig,
        link: LinkType,
        snaplen: u32,
        now: Timestamp,
    ) -> io::Result<Self> {
        let mut rotator = Self {
            config,
            link,
            snaplen,
            current: None,
            bytes: 0,
            packets: 0,
            opened_at: now,
            written: Vec::new(),
        };
        rotator.open_next(now)?;
        Ok(rotator)
    }

    /// Closes the current file (flushing it) and opens the next one.
    fn open_next(&mut self, now: Timestamp) -> io::Result<()> {
        self.close()?;
        let path = rotated_name(&self.config.path, self.written.len());
        let file = File::create(&path).map_err(|e| file_error(&path, &e))?;
        let writer = PcapWriter::new(BufWriter::new(file), self.link, self.snaplen)
            .map_err(|e| file_error(&path, &e))?;
        self.current = Some(writer);
        self.written.push(path);
        self.bytes = PCAP_FILE_HEADER_LEN;
        self.packets = 0;
        self.opened_at = now;
        Ok(())
    }

    fn write(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let kept = data.len().min(self.snaplen as usize) as u64;
        let record = PCAP_RECORD_HEADER_LEN + kept;
        // A file holds at least one frame, so a frame larger than the limit still gets written.
        let full = self
            .config
            .max_bytes
            .is_some_and(|max| self.packets > 0 && self.bytes.saturating_add(record) > max);
        let old = self
            .config
            .every
            .is_some_and(|every| ts.since(self.opened_at) >= every);
        if full || old {
            self.open_next(ts)?;
        }
        let path = self.written.last().cloned().unwrap_or_default();
        if let Some(writer) = self.current.as_mut() {
            writer
                .write_packet(ts, data, orig_len)
                .map_err(|e| file_error(&path, &e))?;
        }
        self.bytes = self.bytes.saturating_add(record);
        self.packets += 1;
        Ok(())
    }

    /// Flushes and closes the current file.
    fn close(&mut self) -> io::Result<()> {
        if let Some(writer) = self.current.take() {
            writer.finish().map_err(|e| {
                let path = self.written.last().cloned().unwrap_or_default();
                file_error(&path, &e)
            })?;
        }
        Ok(())
    }
}

/// A libpcap live capture as a [`PacketSource`].
///
/// Frames borrow libpcap's buffer (no copy on the way to the decoder). The source yields a
/// [`SourceEvent::Idle`] when its buffer is empty (after waiting at most 100 ms for a frame) and,
/// with `tick` set, every 100 ms without traffic and every quarter second of capture time on a
/// busy link. It ends (`None`) on the stop flag, the duration or the count, after closing the
/// `-w` files.
///
/// The device is read in non-blocking mode and waited on with `poll(2)`: libpcap's own read
/// timeout "cannot be used to cause calls that read packets to return within a limited period
/// of time" (pcap(3PCAP)); on Linux a read on an idle link never returns.
pub struct LiveSource {
    capture: Capture<Active>,
    /// A duplicate of the capture's descriptor, polled while the buffer is empty (a separate
    /// field, so that waiting never borrows `capture`, which a returned frame may borrow).
    poll_fd: OwnedFd,
    /// The last read found the buffer empty: wait before reading again.
    waiting: bool,
    interface: String,
    filter: Option<String>,
    snaplen: u32,
    promisc: bool,
    link: LinkType,
    stop: Arc<AtomicBool>,
    count: Option<u64>,
    /// `--duration` as a wall-clock instant (checked when a read times out) and as a capture
    /// time (checked against each packet's timestamp, which costs no clock read).
    deadline: Option<(Instant, Timestamp)>,
    packets: u64,
    writer: Option<Rotator>,
    last_tick: Timestamp,
    tick_due: bool,
    stop_reason: Option<StopReason>,
    /// When Ctrl-C was noticed: frames already buffered are still read, for a while.
    drain_started: Option<Instant>,
    /// A whole wait passed with nothing while draining: the buffer is empty.
    drained: bool,
    finished: bool,
    last_stats: Option<KernelStats>,
    /// Only for the blocking [`PacketSource::next_packet`]; the pipeline's path never copies.
    held: Vec<u8>,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("interface", &self.interface)
            .field("filter", &self.filter)
            .field("link", &self.link)
            .field("packets", &self.packets)
            .field("stop_reason", &self.stop_reason)
            .finish_non_exhaustive()
    }
}

impl LiveSource {
    /// Opens the device, applies the filter and creates the first `-w` file.
    ///
    /// # Errors
    /// No such device (the error lists the valid ones), no permission (it names the setcap
    /// line), a filter libpcap cannot compile (its message and the filter), or an unwritable
    /// `-w` file.
    pub fn open(config: LiveConfig) -> Result<Self, LiveError> {
        let interface = config.interface.clone();
        // libpcap's own answer to a wrong name is terse; list what exists instead.
        if let Ok(devices) = Device::list() {
            if !devices.iter().any(|d| d.name == interface) {
                return Err(LiveError::NoSuchInterface {
                    interface,
                    valid: devices.into_iter().map(|d| d.name).collect(),
                });
            }
        }
        let snaplen = if config.snaplen == 0 {
            DEFAULT_SNAPLEN
        } else {
            config.snaplen
        };
        // The `any` pseudo-device cannot be promiscuous; asking makes libpcap warn, and the pcap
        // crate turns activation warnings into errors.
        let promisc = config.promisc && interface != "any";
        let open_error = |e: pcap::Error| {
            let message = pcap_message(&e);
            let lower = message.to_ascii_lowercase();
            if lower.contains("permission") || lower.contains("not permitted") {
                LiveError::Permission {
                    interface: interface.clone(),
                    message,
                    binary: std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| "rdsflows".into()),
                }
            } else if lower.contains("no such device") {
                LiveError::NoSuchInterface {
                    interface: interface.clone(),
                    valid: Device::list()
                        .map(|l| l.into_iter().map(|d| d.name).collect())
                        .unwrap_or_default(),
                }
            } else {
                LiveError::Open {
                    interface: interface.clone(),
                    message,
                }
            }
        };
        let mut capture = Capture::from_device(interface.as_str())
            .map_err(open_error)?
            .snaplen(i32::try_from(snaplen).unwrap_or(i32::MAX))
            .promisc(promisc)
            // Also the kernel's block timeout (Linux TPACKET_V3): a block with frames in it is
            // handed over at most this long after it was started, so the poll below sees it.
            .timeout(i32::from(WAIT_MS))
            // Not immediate mode: that switches Linux to TPACKET_V2, whose ring has one
            // snaplen-sized slot per frame (a 2 MiB buffer held 16 frames on lo); TPACKET_V3
            // packs frames by their real size.
            .buffer_size(i32::try_from(config.buffer_bytes).unwrap_or(i32::MAX))
            .open()
            .map_err(open_error)?
            .setnonblock()
            .map_err(open_error)?;
        if let Some(filter) = &config.filter {
            capture
                .filter(filter, true)
                .map_err(|e| LiveError::BadFilter {
                    filter: filter.clone(),
                    message: pcap_message(&e),
                })?;
        }
        let link = link_type(capture.get_datalink());
        let poll_fd = capture
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| LiveError::Open {
                interface: interface.clone(),
                message: format!("cannot wait on the capture descriptor: {e}"),
            })?;
        let start = Instant::now();
        let now = wall_now();
        let writer = match config.write {
            Some(write) => {
                let path = write.path.clone();
                Some(
                    Rotator::create(write, link, snaplen, now)
                        .map_err(|source| LiveError::Output { path, source })?,
                )
            }
            None => None,
        };
        let deadline = config.duration.map(|d| {
            let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
            (start + d, now.plus(Duration::from_nanos(nanos)))
        });
        Ok(Self {
            capture,
            poll_fd,
            waiting: false,
            interface,
            filter: config.filter,
            snaplen,
            promisc,
            link,
            stop: config.stop,
            count: config.count,
            deadline,
            packets: 0,
            writer,
            last_tick: Timestamp::ZERO,
            tick_due: false,
            stop_reason: None,
            drain_started: None,
            drained: false,
            finished: false,
            last_stats: None,
            held: Vec::new(),
        })
    }

    /// The device name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The BPF filter in force.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// The snapshot length in force.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Whether the device was put in promiscuous mode.
    pub fn promisc(&self) -> bool {
        self.promisc
    }

    /// The device's link type.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Why the capture ended, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop_reason
    }

    /// The `-w` files written so far, in order.
    pub fn files_written(&self) -> &[PathBuf] {
        self.writer.as_ref().map_or(&[], |w| w.written.as_slice())
    }

    /// Notes a stop request from the flag, the count or the wall clock.
    fn check_stop(&mut self, now: Option<Instant>) {
        if self.stop_reason.is_some() {
            return;
        }
        if self.stop.load(Ordering::Relaxed) {
            self.stop_reason = Some(StopReason::Signal);
            self.drain_started = Some(Instant::now());
        } else if self.count.is_some_and(|count| self.packets >= count) {
            self.stop_reason = Some(StopReason::Count);
        } else if let (Some(now), Some((deadline, _))) = (now, self.deadline) {
            if now >= deadline {
                self.stop_reason = Some(StopReason::Duration);
            }
        }
    }

    /// True when the capture must end now (a drain after Ctrl-C ends on its own terms).
    fn must_end(&self) -> bool {
        match (self.stop_reason, self.drain_started) {
            (None, _) => false,
            (Some(StopReason::Signal), Some(started)) => {
                self.drained || started.elapsed() >= DRAIN_LIMIT
            }
            (Some(_), _) => true,
        }
    }

    /// An error of the device, as the damage of the input named after it.
    fn device_error(&self, message: &str) -> CaptureError {
        CaptureError {
            path: PathBuf::from(&self.interface),
            offset: 0,
            kind: CaptureErrorKind::Io(io::Error::other(message.to_string())),
        }
    }

    /// Ends the capture: closes the `-w` file; an error doing so is the last event.
    fn end(&mut self) -> Option<SourceEvent<'static>> {
        self.finished = true;
        self.last_stats = self.kernel_stats();
        let writer = self.writer.as_mut()?;
        match writer.close() {
            Ok(()) => None,
            Err(e) => Some(SourceEvent::Packet(Err(CaptureError {
                path: PathBuf::from(&self.interface),
                offset: 0,
                kind: CaptureErrorKind::Io(e),
            }))),
        }
    }
}

impl PacketSource for LiveSource {
    /// The next frame, waiting as long as it takes (ticks are skipped); `None` once stopped.
    ///
    /// The pipeline calls [`PacketSource::next_event`] instead. This form copies the frame into
    /// a buffer the source keeps: returning a borrow from inside the wait loop is what the borrow
    /// checker cannot yet accept (NLL "problem case #3"), and only this seldom-used path pays.
    fn next_packet(&mut self) -> Option<Result<RawPacket<'_>, CaptureError>> {
        let mut held = std::mem::take(&mut self.held);
        let meta = loop {
            match self.next_event() {
                None => return None,
                Some(SourceEvent::Idle { .. }) => {}
                Some(SourceEvent::Packet(Err(e))) => return Some(Err(e)),
                Some(SourceEvent::Packet(Ok(p))) => {
                    held.clear();
                    held.extend_from_slice(p.data);
                    break (p.ts, p.link, p.orig_len, p.pos);
                }
            }
        };
        self.held = held;
        let (ts, link, orig_len, pos) = meta;
        Some(Ok(RawPacket {
            ts,
            link,
            data: &self.held,
            orig_len,
            pos,
        }))
    }

    fn next_event(&mut self) -> Option<SourceEvent<'_>> {
        if self.finished {
            return None;
        }
        self.check_stop(None);
        if self.must_end() {
            return self.end();
        }
        if self.tick_due {
            self.tick_due = false;
            return Some(SourceEvent::Idle {
                now: None,
                tick: true,
            });
        }
        if self.waiting {
            let mut fds = [PollFd::new(self.poll_fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(WAIT_MS)) {
                Ok(0) => {
                    // A whole wait with nothing.
                    let now = Instant::now();
                    if let Some(started) = self.drain_started {
                        // Draining after Ctrl-C: nothing for longer than the kernel's block
                        // timeout since the stop, so every frame captured before it was read.
                        if now.duration_since(started) >= DRAIN_QUIET {
                            self.drained = true;
                        }
                    }
                    if let Some((deadline, _)) = self.deadline {
                        if now >= deadline && self.stop_reason.is_none() {
                            self.stop_reason = Some(StopReason::Duration);
                        }
                    }
                    return Some(SourceEvent::Idle {
                        now: Some(wall_now()),
                        tick: true,
                    });
                }
                // Readable, or an error the read itself will report.
                Ok(_) => self.waiting = false,
                // A signal (Ctrl-C): go round, so the stop flag is looked at.
                Err(Errno::EINTR) => {
                    return Some(SourceEvent::Idle {
                        now: None,
                        tick: false,
                    })
                }
                Err(e) => {
                    self.stop_reason = Some(StopReason::Error);
                    self.drain_started = None;
                    return Some(SourceEvent::Packet(Err(
                        self.device_error(&format!("waiting for the device failed: {e}"))
                    )));
                }
            }
        }
        // Only fields other than `capture` are touched below while the frame borrows it.
        let packet = match self.capture.next_packet() {
            Ok(packet) => packet,
            Err(pcap::Error::TimeoutExpired) => {
                // Non-blocking: the buffer is empty. Wait on the next call.
                self.waiting = true;
                return Some(SourceEvent::Idle {
                    now: None,
                    tick: false,
                });
            }
            Err(e) => {
                self.stop_reason = Some(StopReason::Error);
                self.drain_started = None;
                return Some(SourceEvent::Packet(Err(CaptureError {
                    path: PathBuf::from(&self.interface),
                    offset: 0,
                    kind: CaptureErrorKind::Io(io::Error::other(format!(
                        "reading the device failed: {}",
                        pcap_message(&e)
                    ))),
                })));
            }
        };
        let ts = header_time(packet.header);
        if let Some((_, deadline)) = self.deadline {
            if ts > deadline && self.stop_reason.is_none() {
                // Past --duration: this frame belongs to after the end.
                self.stop_reason = Some(StopReason::Duration);
                return Some(SourceEvent::Idle {
                    now: None,
                    tick: false,
                });
            }
        }
        self.packets += 1;
        if let Some(writer) = self.writer.as_mut() {
            if let Err(e) = writer.write(ts, packet.data, packet.header.len) {
                self.stop_reason = Some(StopReason::Error);
                self.drain_started = None;
                return Some(SourceEvent::Packet(Err(CaptureError {
                    path: PathBuf::from(&self.interface),
                    offset: 0,
                    kind: CaptureErrorKind::Io(e),
                })));
            }
        }
        if ts.since(self.last_tick) >= TICK_INTERVAL {
            self.last_tick = ts;
            self.tick_due = true;
        }
        Some(SourceEvent::Packet(Ok(RawPacket {
            ts,
            link: self.link,
            data: packet.data,
            orig_len: packet.header.len,
            pos: PacketPos {
                file: 0,
                number: self.packets,
            },
        })))
    }

    fn kernel_stats(&mut self) -> Option<KernelStats> {
        if self.finished {
            if let Some(stats) = self.last_stats {
                return Some(stats);
            }
        }
        match self.capture.stats() {
            Ok(s) => {
                let stats = KernelStats {
                    received: u64::from(s.received),
                    dropped: u64::from(s.dropped),
                    if_dropped: u64::from(s.if_dropped),
                };
                self.last_stats = Some(stats);
                Some(stats)
            }
            Err(_) => self.last_stats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rdsflows-live-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_parts(secs, 0)
    }

    #[test]
    fn rotated_names_follow_tcpdump() {
        let base = Path::new("/tmp/cap.pcap");
        assert_eq!(rotated_name(base, 0), PathBuf::from("/tmp/cap.pcap"));
        assert_eq!(rotated_name(base, 1), PathBuf::from("/tmp/cap.pcap1"));
        assert_eq!(rotated_name(base, 12), PathBuf::from("/tmp/cap.pcap12"));
    }

    #[test]
    fn rotation_by_size_keeps_each_file_under_the_limit() {
        let dir = temp_dir("size");
        let config = WriteConfig {
            path: dir.join("cap.pcap"),
            // Header 24 + two 16+100 records = 256: the third record starts a new file.
            max_bytes: Some(300),
            every: None,
        };
        let mut w = Rotator::create(config, LinkType::ETHERNET, 65535, at(0)).unwrap();
        for n in 0..5 {
            w.write(at(n), &[0u8; 100], 100).unwrap();
        }
        w.close().unwrap();
        let names: Vec<_> = w.written.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["cap.pcap", "cap.pcap1", "cap.pcap2"]);
        let sizes: Vec<u64> = w
            .written
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect();
        assert_eq!(sizes, [256, 256, 140]);
    }

    #[test]
    fn a_frame_larger_than_the_limit_gets_a_file_of_its_own() {
        let dir = temp_dir("big");
        let config = WriteConfig {
            path: dir.join("cap.pcap"),
            max_bytes: Some(50),
            every: None,
        };
        let mut w = Rotator::create(config, LinkType::ETHERNET, 65535, at(0)).unwrap();
        w.write(at(0), &[0u8; 100], 100).unwrap();
        w.write(at(1), &[0u8; 100], 100).unwrap();
        w.close().unwrap();
        assert_eq!(w.written.len(), 2);
    }

    #[test]
    fn rotation_by_time_starts_a_file_when_a_packet_comes_late_enough() {
        let dir = temp_dir("time");
        let config = WriteConfig {
            path: dir.join("cap.pcap"),
            max_bytes: None,
            every: Some(Duration::from_secs(10)),
        };
        let mut w = Rotator::create(config, LinkType::ETHERNET, 65535, at(100)).unwrap();
        for t in [101, 105, 109, 110, 115, 150] {
            w.write(at(t), &[0u8; 10], 10).unwrap();
        }
        w.close().unwrap();
        // 101-109 in the first file; 110 (10 s after opening) starts the second; 115 stays;
        // 150 starts the third (no empty files for the quiet time between).
        assert_eq!(w.written.len(), 3);
        let packets: Vec<u64> = w
            .written
            .iter()
            .map(|p| (std::fs::metadata(p).unwrap().len() - 24) / 26)
            .collect();
        assert_eq!(packets, [3, 2, 1]);
    }

    #[test]
    fn frames_are_cut_to_the_snapshot_length_in_the_file() {
        let dir = temp_dir("snap");
        let config = WriteConfig {
            path: dir.join("cap.pcap"),
            max_bytes: None,
            every: None,
        };
        let mut w = Rotator::create(config, LinkType::ETHERNET, 64, at(0)).unwrap();
        w.write(at(0), &[0u8; 1500], 1500).unwrap();
        w.close().unwrap();
        assert_eq!(
            std::fs::metadata(&w.written[0]).unwrap().len(),
            24 + 16 + 64
        );
    }

    #[test]
    fn dlt_numbers_become_linktype_numbers() {
        assert_eq!(link_type(pcap::Linktype(1)), LinkType::ETHERNET);
        assert_eq!(link_type(pcap::Linktype(113)), LinkType::LINUX_SLL);
        assert_eq!(link_type(pcap::Linktype(276)), LinkType::LINUX_SLL2);
        if !cfg!(target_os = "openbsd") {
            assert_eq!(link_type(pcap::Linktype(12)), LinkType::RAW);
        }
    }
}
