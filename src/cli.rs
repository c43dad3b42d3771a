//! The command line as the user typed it (clap derive). Owns argument names, defaults and help
//! text; must not do I/O or validation beyond parsing (that is `config`'s job).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::time::{parse_duration, Duration};

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
    /// Infer each host's RDS role from captures and write an editable deployment file.
    Roles(RolesArgs),
    /// Time the full pipeline on captures held in memory (packets/s, Gbit/s, flows/s, ns/packet).
    Bench(BenchArgs),
    /// Write one of the built-in synthetic captures (the bundled samples are made with it).
    Generate(GenerateArgs),
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
    /// Payload-carrying packets per direction that the payload checks look at.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub inspect_packets: u8,
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
    /// Which capture: rds-deployment, rds-firewall-misconfigured, rds-incident, or syn-flood
    /// (a SYN scan of `--flows` distinct flows with rds-deployment woven in, streamed).
    #[arg(value_name = "SCENARIO")]
    pub scenario: String,
    /// Where to write the pcap (- for standard output).
    #[arg(short, long, value_name = "FILE|-")]
    pub output: PathBuf,
    /// For syn-flood: how many distinct flows.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub flows: u64,
    /// For syn-flood: the random seed (same seed, same bytes).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
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
