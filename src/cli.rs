//! The command line as the user typed it (clap derive). Owns argument names, defaults and help
//! text; must not do I/O or validation beyond parsing (that is `config`'s job).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::time::{parse_duration, parse_time, Duration, Timestamp};

/// The exit codes, shown in `--help`.
pub const EXIT_CODES: &str = "\
Exit status:
  0  complete: every input was read to its end (malformed packets are counted, not fatal)
  1  complete, and --fail-on found what it was asked to fail on
  2  could not run: bad arguments, invalid signature file, no readable input, output not writable
  3  complete but some input was damaged: what came before the damage was analysed and reported";

/// Classify network flows against the Microsoft Remote Desktop Services port and role map.
#[derive(Debug, Parser)]
#[command(name = "rdsflows", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read captures (pcap, pcapng, Network Monitor, optionally .gz) and summarise their RDS flows.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// List the RDP sessions of captures: client, server, user, security, bytes, outcome
    /// (read from the flow's shape), broker and gateway hops; filterable by host, user and time.
    #[command(after_help = EXIT_CODES)]
    Sessions(SessionsArgs),
    /// Infer each host's RDS role from captures and write an editable deployment file.
    Roles(RolesArgs),
    /// Time the full pipeline on captures held in memory (packets/s, Gbit/s, flows/s, ns/packet).
    Bench(BenchArgs),
    /// Write one of the built-in synthetic captures (the bundled samples are made with it).
    Generate(GenerateArgs),
    /// Capture live traffic through libpcap and summarise its RDS flows; Ctrl-C stops cleanly
    /// and prints the summary. Needs a build with `--features live`.
    #[command(after_help = CAPTURE_HELP)]
    Capture(CaptureArgs),
    /// List the capture devices, like `tcpdump -D`. Needs a build with `--features live`.
    Interfaces,
}

/// Extra help for `capture`: permissions, stopping, exit codes.
pub const CAPTURE_HELP: &str = "\
Permissions: run as root, or once: sudo setcap cap_net_raw,cap_net_admin=eip /path/to/rdsflows

While running, a status line on stderr (about once a second on a terminal, once a minute
otherwise): packets per second, live flows, RDS services seen, kernel drops.
Ctrl-C, SIGTERM or SIGHUP stop the capture: frames already buffered are read, every flow is
written, the output files are completed and the summary is printed (exit 0).

Exit status:
  0  stopped by Ctrl-C/SIGTERM, --duration or -c
  2  could not start: no permission, unknown interface, bad filter, output not writable
  3  stopped by an error after it started (device gone, -w file not writable); the summary
     covers what came before";

/// Options of `capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The device to capture on (see `rdsflows interfaces`; `any` for all of them on Linux).
    #[arg(short, long, value_name = "IFACE")]
    pub interface: String,
    /// A BPF capture filter (pcap-filter(7) syntax, as tcpdump takes it), e.g. 'tcp port 3389'.
    #[arg(short = 'f', long, value_name = "BPF")]
    pub filter: Option<String>,
    /// Bytes kept of each frame (0: the default, 262144, whole frames).
    #[arg(short = 's', long, value_name = "SNAPLEN", default_value_t = 262_144)]
    pub snaplen: u32,
    /// Kernel capture buffer in KiB (as tcpdump -B); raise it when the summary reports drops.
    #[arg(short = 'B', long, value_name = "KIB", default_value_t = 8192,
          value_parser = clap::value_parser!(u32).range(64..=4_194_303))]
    pub buffer_size: u32,
    /// Do not put the interface in promiscuous mode (only traffic to and from this host).
    #[arg(long)]
    pub no_promisc: bool,
    /// Stop after this much time (e.g. 90s, 10m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    #[arg(short = 'c', long, value_name = "COUNT")]
    pub count: Option<u64>,
    /// Also write every captured frame to this pcap file (FILE, then FILE1, FILE2… when rotated).
    #[arg(short = 'w', long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// With -w: start a new file before one grows past SIZE: millions of bytes as tcpdump -C
    /// takes it, or with a suffix k, m, g (KiB, MiB, GiB).
    #[arg(short = 'C', long, value_name = "SIZE", value_parser = parse_file_size, requires = "write")]
    pub rotate_size: Option<u64>,
    /// With -w: start a new file every this many seconds (as tcpdump -G), when a packet arrives.
    #[arg(short = 'G', long, value_name = "SECONDS", requires = "write",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rotate_seconds: Option<u64>,
    /// Options shared with analyze.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Parses a `-C` size: a plain number is millions of bytes (tcpdump's unit); `k`, `m`, `g`
/// suffixes are KiB, MiB, GiB (tcpdump 4.99).
///
/// # Errors
/// Not a number, zero, or too large.
pub fn parse_file_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let unit = match c.to_ascii_lowercase() {
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                _ => return Err(format!("unknown size suffix '{c}' (use k, m or g)")),
            };
            (text.get(..i).unwrap_or_default(), unit)
        }
        _ => (text, 1_000_000),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 100, 500k, 10m, 1g)"))?;
    match n.checked_mul(unit) {
        Some(0) => Err("the size must be above zero".into()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("'{text}' is too large")),
    }
}

/// What `--fail-on` can make fatal for scripts and change checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// An expected flow was rejected or unanswered.
    Blocked,
    /// A flow the roles do not call for was seen (warning or high severity).
    Unexpected,
    /// A required expected flow was not seen at all.
    Missing,
}

/// Options of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Capture files or directories (loaded into memory before timing).
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Timed runs (the median is reported, with the fastest and slowest).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeat: u32,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Flows kept in memory.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_flows: usize,
    /// Flow worker threads (0: one per core), as for `analyze`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// The worker threads asked for: `0` means one per core.
pub fn worker_threads(asked: usize) -> usize {
    if asked > 0 {
        return asked;
    }
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Options of `roles`.
#[derive(Debug, Args)]
pub struct RolesArgs {
    /// Capture files, directories, or - for standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Write the deployment file here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Options shared with every analysis.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files, directories of rotated captures, or - for standard input. All of them are
    /// read as one stream in timestamp order.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Options shared with live capture.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of `sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Capture files, directories of rotated captures, or - for standard input.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Only sessions with this address as client, server or gateway.
    #[arg(long, value_name = "IP")]
    pub host: Option<std::net::IpAddr>,
    /// Only sessions whose cookie (user name) is NAME, case-insensitive (with --redact, the
    /// plain name matches its hash).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Only sessions still going at or after TIME (UTC `2026-11-02T08:05:00Z`, or Unix seconds).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<Timestamp>,
    /// Only sessions started at or before TIME.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<Timestamp>,
    /// Options shared with analyze (--json writes the session list instead of the summary).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Thresholds of the incident findings (sessions and `analyze`'s Findings section).
#[derive(Clone, Debug, Args)]
pub struct IncidentArgs {
    /// Password guessing: this many failed logons (auth_failed or tls_failed sessions) from
    /// one source within --spray-window.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub spray_min_failures: u32,
    /// Password spraying: this many distinct cookies (user names) from one source within
    /// --spray-window, at least one of them a failed logon.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub spray_min_cookies: u32,
    /// The window of the two password rules.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub spray_window: Duration,
    /// RDP scanning: this many distinct hosts one source tried on RDP without an answer (or
    /// refused) within --scan-window.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub scan_min_targets: u32,
    /// The window of the scan rule.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub scan_window: Duration,
    /// How long after a broker connection the redirected (msts=) connection may start and
    /// still join it into one session.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub broker_window: Duration,
    /// Show where each session and finding starts (`file#frame`, for Wireshark's Go to
    /// Packet) in the text output; the JSON always carries `first_packet`.
    #[arg(long)]
    pub pcap_index: bool,
}

/// Options every analysis takes, from files or live.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The deployment: hosts and networks by RDS role, and options (TOML; see
    /// samples/rds-deployment.toml). Without it, roles are inferred from the traffic.
    #[arg(long, value_name = "FILE")]
    pub deployment: Option<PathBuf>,
    /// Exit with status 1 when the verdict finds any of these (comma-separated).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
    /// Colour in the human summary: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Use this signature file instead of the built-in RDS port and role map.
    #[arg(long, value_name = "FILE")]
    pub signatures: Option<PathBuf>,
    /// Write the summary as JSON to FILE (- for standard output).
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<PathBuf>,
    /// Write one JSON object per flow (JSON Lines, Zeek conn.log field names) to FILE (- for stdout).
    #[arg(long, value_name = "FILE|-")]
    pub flows: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE: deployment diagram, verdict, findings, RDP
    /// connections and a timeline (opens offline; no external scripts or fonts).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the deployment diagram as Graphviz DOT to FILE (render it with `dot -Tsvg`).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Keep at most this many flows in memory; the least recently active are evicted (and counted).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_flows: usize,
    /// Flow worker threads (0: one per core). Flows are split among them by address pair; the
    /// output is the same as with one thread.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// TCP idle timeout (RDP sessions idle for minutes; a short timeout splits them).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub tcp_timeout: Duration,
    /// How long a closed TCP flow lingers for late packets.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub tcp_closed_timeout: Duration,
    /// UDP idle timeout.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub udp_timeout: Duration,
    /// ICMP idle timeout.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub icmp_timeout: Duration,
    /// Payload-carrying packets per direction that the payload checks look at (0 turns them
    /// off: services then come from ports alone).
    #[arg(long, value_name = "N", default_value_t = crate::classify::DEFAULT_INSPECT_PACKETS)]
    pub inspect_packets: u8,
    /// Hide user names (RDP mstshash cookie, Kerberos client name, RADIUS User-Name,
    /// RDG-User-Id, LDAP bind DN, FTP USER) behind a stable hash such as `user#3f2a9c01`.
    #[arg(long)]
    pub redact: bool,
    /// Thresholds of the incident findings.
    #[command(flatten)]
    pub incident: IncidentArgs,
    /// No progress bar and no human summary (JSON outputs are still written).
    #[arg(short, long)]
    pub quiet: bool,
}

/// When to colour the human summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Which capture: rds-deployment, rds-firewall-misconfigured, rds-incident, rds-attack,
    /// syn-flood (a SYN scan of `--flows` distinct flows with rds-deployment woven in, streamed),
    /// or bench (an RDS mix with a third background traffic of `--packets` frames and `--flows`
    /// flows, streamed; for benchmarks).
    #[arg(value_name = "SCENARIO")]
    pub scenario: String,
    /// Where to write the pcap (- for standard output).
    #[arg(short, long, value_name = "FILE|-")]
    pub output: PathBuf,
    /// For syn-flood and bench: how many distinct flows (default: 10,000,000 for syn-flood,
    /// 26,000 for bench).
    #[arg(long, value_name = "N")]
    pub flows: Option<u64>,
    /// For bench: how many frames.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub packets: u64,
    /// For bench: flows alive at once (chunks of this many flows, each expired from a flow
    /// table with default timeouts before the next starts); at most 1,048,576.
    #[arg(long, value_name = "N", default_value_t = default_concurrent())]
    pub concurrent: u64,
    /// For syn-flood and bench: the random seed (same seed, same bytes).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

/// `--concurrent` default for `generate bench`.
const fn default_concurrent() -> u64 {
    crate::synth::bench::DEFAULT_CONCURRENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn capture_options_parse() {
        let cli = Cli::try_parse_from([
            "rdsflows",
            "capture",
            "-i",
            "lo",
            "-f",
            "tcp port 3389",
            "-c",
            "10",
            "-w",
            "x.pcap",
            "-C",
            "2",
            "-G",
            "60",
            "--duration",
            "10m",
            "--no-promisc",
            "--json",
            "s.json",
        ])
        .unwrap();
        let Command::Capture(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.interface, "lo");
        assert_eq!(args.filter.as_deref(), Some("tcp port 3389"));
        assert_eq!(args.count, Some(10));
        assert_eq!(args.rotate_size, Some(2_000_000));
        assert_eq!(args.rotate_seconds, Some(60));
        assert_eq!(args.duration, Some(Duration::from_secs(600)));
        assert!(args.no_promisc);
        assert_eq!(args.snaplen, 262_144);
        assert!(args.common.json.is_some());
        // Rotation without -w is a usage error.
        assert!(Cli::try_parse_from(["rdsflows", "capture", "-i", "lo", "-C", "1"]).is_err());
    }

    #[test]
    fn file_sizes_parse_like_tcpdump() {
        assert_eq!(parse_file_size("1"), Ok(1_000_000));
        assert_eq!(parse_file_size("500k"), Ok(500 * 1024));
        assert_eq!(parse_file_size("10M"), Ok(10 << 20));
        assert_eq!(parse_file_size("1g"), Ok(1 << 30));
        assert!(parse_file_size("0").is_err());
        assert!(parse_file_size("ten").is_err());
        assert!(parse_file_size("5x").is_err());
        assert!(parse_file_size("k").is_err());
        assert!(parse_file_size("99999999999999999999g").is_err());
    }

    #[test]
    fn durations_parse() {
        let cli =
            Cli::try_parse_from(["rdsflows", "analyze", "x.pcap", "--tcp-timeout", "1h"]).unwrap();
        let Command::Analyze(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.common.tcp_timeout, Duration::from_secs(3600));
        assert!(
            Cli::try_parse_from(["rdsflows", "analyze", "x.pcap", "--udp-timeout", "soon"])
                .is_err()
        );
    }
}
