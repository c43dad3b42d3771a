//! The `rdsflows` binary: parse arguments, run, map the outcome to an exit code. The only place
//! that decides exit codes and prints fatal errors.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use rdsflows::capture::file::{open_inputs, FileSource};
use rdsflows::capture::replay::{MemoryPcap, ReplaySource};
use rdsflows::capture::CaptureError;
use rdsflows::capture::PacketSource;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::signature::Transport;
use rdsflows::classify::Classifier;
use rdsflows::cli::{
    worker_threads, AnalyzeArgs, BenchArgs, CaptureArgs, Cli, ColorChoice, Command, CommonArgs,
    FailOn, GenerateArgs, IncidentArgs, RolesArgs, SessionsArgs,
};
use rdsflows::deployment::Deployment;
use rdsflows::error::Error;
use rdsflows::flow::FlowTableConfig;
use rdsflows::incident::{self, SessionFilter, Thresholds};
use rdsflows::pipeline::RunObserver;
use rdsflows::report::progress::Progress;
use rdsflows::report::{dot, html, json, text, Summary};
use rdsflows::verdict::infer::infer;
use rdsflows::verdict::{evaluate, EdgeStatus, Severity, VerdictReport};
use rdsflows::{pipeline, synth};

/// Exit status: complete.
const EXIT_COMPLETE: u8 = 0;
/// Exit status: complete, and `--fail-on` found what it names.
const EXIT_FAIL_ON: u8 = 1;
/// Exit status: could not run.
const EXIT_FATAL: u8 = 2;
/// Exit status: complete, but some input was damaged.
const EXIT_DAMAGED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Sessions(args) => sessions(args),
        Command::Roles(args) => roles(args),
        Command::Bench(args) => bench(args),
        Command::Generate(args) => generate(args),
        Command::Capture(args) => capture(args),
        Command::Interfaces => interfaces(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`rdsflows … | head`) is not an error (ripgrep's convention).
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::from(EXIT_COMPLETE)
        }
        Err(failure) => {
            let message = match failure {
                Failure::Io(e) => e.to_string(),
                Failure::Fatal(e) => e.to_string(),
            };
            eprintln!("rdsflows: error: {message}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

enum Failure {
    Io(io::Error),
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Fatal(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// An output file written under a temporary name and renamed when complete, so an interrupted
/// run never leaves a file that looks whole. (Or, for a live capture's flow lines, written in
/// place: readable while the capture runs.)
struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    out: BufWriter<std::fs::File>,
}

impl AtomicFile {
    fn create(path: &Path) -> Result<Self, Error> {
        // Only a regular file may be replaced by a rename. A device, FIFO or socket
        // (`--json /dev/null`, `--json >(jq .)`) is written in place: renaming over /dev/null,
        // as root, would turn it into a regular file for every program on the machine. A
        // symbolic link keeps pointing where it did: the file it names is the one replaced.
        if std::fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
            return Self::in_place(path);
        }
        let real;
        let path = match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                // A dangling link names the file to create: its target, read one level.
                real = std::fs::canonicalize(path).unwrap_or_else(|_| {
                    let target = std::fs::read_link(path).unwrap_or_default();
                    path.parent().unwrap_or(Path::new("")).join(target)
                });
                real.as_path()
            }
            _ => path,
        };
        let mut temp = path.as_os_str().to_owned();
        temp.push(".tmp-rdsflows");
        let temp = PathBuf::from(temp);
        let file = std::fs::File::create(&temp).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
            out: BufWriter::new(file),
        })
    }

    /// A file written under its own name from the start (`commit` then only flushes).
    fn in_place(path: &Path) -> Result<Self, Error> {
        let file = std::fs::File::create(path).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            temp: path.to_path_buf(),
            out: BufWriter::new(file),
        })
    }

    fn commit(mut self) -> Result<(), Error> {
        let path = self.path.clone();
        let fail = |source| Error::Output {
            path: path.clone(),
            source,
        };
        self.out.flush().map_err(fail)?;
        if self.temp == self.path {
            return Ok(());
        }
        std::fs::rename(&self.temp, &self.path).map_err(fail)
    }
}

fn analyze(args: AnalyzeArgs) -> Result<u8, Failure> {
    analyze_files(&args.captures, &args.common, None)
}

fn sessions(args: SessionsArgs) -> Result<u8, Failure> {
    let filter = SessionFilter {
        host: args.host,
        user: args.user.clone(),
        from: args.from,
        until: args.until,
    };
    analyze_files(&args.captures, &args.common, Some(&filter))
}

/// `analyze` and `sessions` over files: `sessions` given, the session table (or its JSON)
/// replaces the summary.
fn analyze_files(
    captures: &[PathBuf],
    common: &CommonArgs,
    sessions: Option<&SessionFilter>,
) -> Result<u8, Failure> {
    let (mut source, inputs, open_errors) = open_captures(captures)?;
    let total = source.bytes_total();
    let progress = Progress::new(total, common.quiet);
    let damage: Vec<(String, String)> = open_errors
        .iter()
        .map(|e| (e.path.display().to_string(), e.to_string()))
        .collect();
    run_and_report(
        &mut source,
        &inputs,
        &damage,
        common,
        &progress,
        false,
        sessions,
        |_| {},
        |_, _| {},
    )
}

/// The finding thresholds from the command line.
fn thresholds(args: &IncidentArgs) -> Thresholds {
    Thresholds {
        spray_min_failures: args.spray_min_failures,
        spray_min_cookies: args.spray_min_cookies,
        spray_window_secs: args.spray_window.as_secs_f64(),
        scan_min_targets: args.scan_min_targets,
        scan_window_secs: args.scan_window.as_secs_f64(),
        broker_window_secs: args.broker_window.as_secs_f64(),
    }
}

/// Runs the pipeline over any packet source with the common options, writes every output the
/// user asked for, and returns the exit status. `damage` lists inputs that failed before the
/// run (path, message). Shared by `analyze` and live capture: `flows_in_place` writes `--flows`
/// under its own name from the start (a capture that runs for days shows its ended flows as it
/// goes) instead of renaming it when complete; `started` runs once everything is validated and
/// the packets are about to flow; `annotate` adds what only the source knows to the summary
/// before it is written. With `sessions`, the session table (text, or JSON for `--json`)
/// replaces the summary.
#[expect(
    clippy::too_many_arguments,
    reason = "one runner for files and live capture; the last three are what differs"
)]
fn run_and_report<S: PacketSource + ?Sized>(
    source: &mut S,
    inputs: &[String],
    damage: &[(String, String)],
    args: &CommonArgs,
    observer: &dyn RunObserver,
    flows_in_place: bool,
    sessions: Option<&SessionFilter>,
    started: impl FnOnce(&S),
    annotate: impl FnOnce(&mut S, &mut Summary),
) -> Result<u8, Failure> {
    let stdout_users = [&args.json, &args.flows]
        .iter()
        .filter(|o| o.as_deref().is_some_and(is_stdout))
        .count();
    if stdout_users > 1 {
        return Err(Error::Usage(
            "only one of --json and --flows can write to standard output (-)".into(),
        )
        .into());
    }
    let signatures = match &args.signatures {
        Some(path) => SignatureSet::load(path).map_err(Error::from)?,
        None => SignatureSet::builtin(),
    };
    let deployment = match &args.deployment {
        Some(path) => Some(Deployment::load(path).map_err(Error::from)?),
        None => None,
    };
    let mut classifier = Classifier::new(signatures)
        .with_inspect_packets(args.inspect_packets)
        .with_redact(args.redact);
    if let Some(options) = deployment.as_ref().map(|d| d.options) {
        if options.rdp_port != 3389 {
            classifier.add_port("rdp", Transport::Tcp, options.rdp_port);
            classifier.add_port("rdp-udp", Transport::Udp, options.rdp_port);
        }
        if let Some(port) = options.wmi_fixed_port {
            classifier.add_port("wmi", Transport::Tcp, port);
        }
    }
    let table_config = table_config(args);

    let stdout = io::stdout();
    let mut flows_file = match &args.flows {
        Some(path) if is_stdout(path) => None,
        Some(path) if flows_in_place => Some(AtomicFile::in_place(path)?),
        Some(path) => Some(AtomicFile::create(path)?),
        None => None,
    };
    let mut stdout_lock = BufWriter::new(stdout.lock());
    let flows_out: Option<&mut dyn Write> = match (&args.flows, flows_file.as_mut()) {
        (_, Some(file)) => Some(&mut file.out),
        (Some(_), None) => Some(&mut stdout_lock),
        (None, None) => None,
    };
    started(source);
    let threads = worker_threads(args.threads);
    let mut summary = pipeline::run(
        source,
        inputs,
        &mut classifier,
        table_config,
        flows_out,
        observer,
        threads,
    )?;
    annotate(source, &mut summary);
    // Inputs that could not even be opened are damage too, reported on their own line.
    for (path, message) in damage {
        match summary
            .inputs
            .iter_mut()
            .find(|i| &i.path == path && i.error.is_none())
        {
            Some(input) => input.error = Some(message.clone()),
            None => summary.inputs.push(rdsflows::report::InputSummary {
                path: path.clone(),
                packets: 0,
                error: Some(message.clone()),
            }),
        }
        summary.status = "damaged";
    }
    if let Some(file) = flows_file {
        file.commit()?;
    }
    let (verdict, incident) = incident::build_beside(
        &summary.candidates,
        || deployment.unwrap_or_else(|| infer(&summary.observed, "inferred from the traffic")),
        &thresholds(&args.incident),
        inputs,
        threads,
        |deployment| {
            evaluate(
                deployment,
                classifier.signatures(),
                &summary.observed,
                summary.unattributed_flows,
            )
        },
    );
    let failed = fail_on_triggered(&args.fail_on, &verdict);
    summary.incident = Some(incident);
    summary.verdict = Some(verdict);
    summary.resources.peak_rss_bytes = peak_rss_bytes();
    let session_list: Vec<&incident::Session> = match (sessions, &summary.incident) {
        (Some(filter), Some(report)) => report
            .sessions
            .iter()
            .filter(|s| filter.matches(s))
            .collect(),
        _ => Vec::new(),
    };
    let filtered_out = summary
        .incident
        .as_ref()
        .map_or(0, |r| r.sessions.len() - session_list.len());
    let write_json = |out: &mut dyn Write| match sessions {
        Some(_) => json::write_sessions(out, &session_list, filtered_out),
        None => json::write_summary(out, &summary),
    };

    match &args.json {
        Some(path) if is_stdout(path) => write_json(&mut stdout_lock)?,
        Some(path) => {
            let mut file = AtomicFile::create(path)?;
            write_json(&mut file.out).map_err(|source| Error::Output {
                path: path.clone(),
                source,
            })?;
            file.commit()?;
        }
        None => {}
    }
    // The report and the diagram: files only, each written whole or not at all.
    write_file(args.report.as_deref(), |out| {
        html::write_html(out, &summary)
    })?;
    write_file(args.dot.as_deref(), |out| dot::write_dot(out, &summary))?;
    if !args.quiet {
        // The human summary goes to stdout unless a machine format already claimed it.
        if stdout_users == 0 {
            let style = text::Style {
                color: use_color(args.color, io::stdout().is_terminal()),
                pcap_index: args.incident.pcap_index,
            };
            match sessions {
                Some(_) => {
                    text::write_sessions(&mut stdout_lock, &session_list, filtered_out, style)?;
                }
                None => text::write_summary(&mut stdout_lock, &summary, style)?,
            }
        } else if sessions.is_none() {
            let style = text::Style {
                color: use_color(args.color, io::stderr().is_terminal()),
                pcap_index: args.incident.pcap_index,
            };
            text::write_summary(&mut io::stderr().lock(), &summary, style)?;
        }
    }
    stdout_lock.flush()?;
    for input in summary.inputs.iter().filter_map(|i| i.error.as_ref()) {
        eprintln!("rdsflows: damaged input: {input}");
    }
    // Damage outranks --fail-on: a verdict over damaged input cannot be trusted either way.
    let status = if summary.status == "damaged" {
        EXIT_DAMAGED
    } else if failed {
        EXIT_FAIL_ON
    } else {
        EXIT_COMPLETE
    };
    // Everything is written; the process ends next and gives its memory back whole. Freeing
    // the summary piece by piece first (16,000 observed edges, the sessions and their strings)
    // cost 2.7 ms of a 265 ms two-thread run of the benchmark capture (issue 6).
    std::mem::forget(summary);
    Ok(status)
}

/// Writes an output file through [`AtomicFile`] when its option was given.
fn write_file(
    path: Option<&Path>,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>,
) -> Result<(), Error> {
    let Some(path) = path else { return Ok(()) };
    let mut file = AtomicFile::create(path)?;
    write(&mut file.out).map_err(|source| Error::Output {
        path: path.to_path_buf(),
        source,
    })?;
    file.commit()
}

/// Colour only on a terminal and never with NO_COLOR set (no-color.org), unless forced.
fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Whether the verdict has what `--fail-on` names.
fn fail_on_triggered(fail_on: &[FailOn], verdict: &VerdictReport) -> bool {
    fail_on.iter().any(|what| match what {
        FailOn::Blocked => verdict.counts.rejected + verdict.counts.unanswered > 0,
        FailOn::Unexpected => verdict
            .unexpected
            .iter()
            .any(|u| u.severity >= Severity::Warning),
        FailOn::Missing => verdict
            .edges
            .iter()
            .any(|e| e.status == EdgeStatus::NotSeen && e.requirement == "required"),
    })
}

/// Opens the inputs as one time-ordered stream, with their display names. Inputs that fail to
/// open are returned as damage; when none opens at all the run cannot go on.
fn open_captures(
    paths: &[PathBuf],
) -> Result<(FileSource, Vec<String>, Vec<CaptureError>), Failure> {
    let (source, open_errors) = open_inputs(paths);
    let inputs: Vec<String> = source
        .inputs()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if open_errors.len() >= inputs.len() {
        return Err(Error::NoInput(open_errors.iter().map(ToString::to_string).collect()).into());
    }
    Ok((source, inputs, open_errors))
}

fn roles(args: RolesArgs) -> Result<u8, Failure> {
    let (mut source, inputs, open_errors) = open_captures(&args.captures)?;
    let signatures = match &args.common.signatures {
        Some(path) => SignatureSet::load(path).map_err(Error::from)?,
        None => SignatureSet::builtin(),
    };
    let mut classifier = Classifier::new(signatures)
        .with_inspect_packets(args.common.inspect_packets)
        .with_redact(args.common.redact);
    let progress = Progress::new(source.bytes_total(), args.common.quiet);
    let summary = pipeline::run(
        &mut source,
        &inputs,
        &mut classifier,
        table_config(&args.common),
        None,
        &progress,
        worker_threads(args.common.threads),
    )?;
    let origin = format!("inferred from {}", inputs.join(", "));
    let deployment = infer(&summary.observed, &origin);
    let text = deployment.to_toml();
    match &args.output {
        Some(path) => {
            let mut file = AtomicFile::create(path)?;
            file.out
                .write_all(text.as_bytes())
                .map_err(|source| Error::Output {
                    path: path.clone(),
                    source,
                })?;
            file.commit()?;
            eprintln!(
                "rdsflows: wrote {} inferred hosts to {}",
                deployment.hosts.len(),
                path.display()
            );
        }
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    for error in &open_errors {
        eprintln!("rdsflows: damaged input: {error}");
    }
    Ok(if open_errors.is_empty() && summary.status == "complete" {
        EXIT_COMPLETE
    } else {
        EXIT_DAMAGED
    })
}

fn bench(args: BenchArgs) -> Result<u8, Failure> {
    let (mut files, open_errors) = open_inputs(&args.captures);
    if let Some(error) = open_errors.first() {
        return Err(Error::NoInput(vec![error.to_string()]).into());
    }
    let config = FlowTableConfig {
        max_flows: args.max_flows,
        ..FlowTableConfig::default()
    };
    let threads = worker_threads(args.threads);
    let signatures = SignatureSet::builtin();
    // One plain pcap is held as the file it is, and read as `analyze` reads it (by ranges, on
    // several threads); anything else as its frames, one after another.
    if let [path] = args.captures.as_slice() {
        if files.pcap_chunks().is_some() {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::NoInput(vec![format!("{}: {e}", path.display())]))?;
            let mut memory =
                MemoryPcap::new(bytes, path).map_err(|e| Error::NoInput(vec![e.to_string()]))?;
            let report =
                rdsflows::bench::run(&mut memory, &signatures, config, args.repeat, threads);
            return print_bench(&report, args.json);
        }
    }
    let mut memory = ReplaySource::default();
    while let Some(next) = files.next_packet() {
        let packet = next.map_err(|e| Error::NoInput(vec![e.to_string()]))?;
        memory.push(
            packet.ts,
            packet.link,
            packet.data,
            packet.orig_len,
            packet.pos,
        );
    }
    let report = rdsflows::bench::run(&mut memory, &signatures, config, args.repeat, threads);
    print_bench(&report, args.json)
}

fn print_bench(report: &rdsflows::bench::BenchReport, json: bool) -> Result<u8, Failure> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} packets, {} flows, {} on the wire; {} runs, {} flow thread(s)\n\
             median: {:.0} packets/s, {:.2} Gbit/s, {:.0} flows/s, {:.1} ns/packet (fastest {:.1}, slowest {:.1})\n\
             flow table: peak {} flows, {} bytes allocated ({:.0} bytes per flow)",
            report.packets,
            report.flows,
            text::human_bytes(report.wire_bytes),
            report.repeat,
            report.threads,
            report.packets_per_second,
            report.gbit_per_second,
            report.flows_per_second,
            report.ns_per_packet,
            report.ns_per_packet_min,
            report.ns_per_packet_max,
            report.peak_flows,
            report.flow_table_peak_bytes,
            report.flow_table_bytes_per_flow,
        )?;
    }
    Ok(EXIT_COMPLETE)
}

fn table_config(args: &CommonArgs) -> FlowTableConfig {
    FlowTableConfig {
        max_flows: args.max_flows,
        tcp_idle: args.tcp_timeout,
        tcp_closed: args.tcp_closed_timeout,
        udp_idle: args.udp_timeout,
        icmp_idle: args.icmp_timeout,
    }
}

/// What a build without the `live` feature answers to `capture` and `interfaces`.
#[cfg(not(feature = "live"))]
const LIVE_MISSING: &str = "\
rdsflows: live capture is not in this build: it is the cargo feature `live`, which needs libpcap.
To get it:
  sudo apt-get install libpcap-dev         # Debian/Ubuntu: libpcap and its headers
  cargo build --release --features live
  sudo setcap cap_net_raw,cap_net_admin=eip target/release/rdsflows   # or run it as root
Then: target/release/rdsflows capture -i eth0
";

#[cfg(not(feature = "live"))]
fn capture(_args: CaptureArgs) -> Result<u8, Failure> {
    eprint!("{LIVE_MISSING}");
    Ok(EXIT_FATAL)
}

#[cfg(not(feature = "live"))]
fn interfaces() -> Result<u8, Failure> {
    eprint!("{LIVE_MISSING}");
    Ok(EXIT_FATAL)
}

/// `rdsflows interfaces`: the capture devices, numbered, as `tcpdump -D` prints them.
#[cfg(feature = "live")]
fn interfaces() -> Result<u8, Failure> {
    let devices = rdsflows::capture::live::list_devices().map_err(Error::from)?;
    let mut out = BufWriter::new(io::stdout().lock());
    for (n, device) in devices.iter().enumerate() {
        let mut line = format!("{}.{}", n + 1, device.name);
        if let Some(description) = &device.description {
            line.push_str(&format!(" ({description})"));
        }
        if !device.flags.is_empty() {
            line.push_str(&format!(" [{}]", device.flags.join(", ")));
        }
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(EXIT_COMPLETE)
}

/// `rdsflows capture`: the analyze pipeline over a libpcap device, until Ctrl-C, SIGTERM,
/// `--duration` or `-c`.
#[cfg(feature = "live")]
fn capture(args: CaptureArgs) -> Result<u8, Failure> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use rdsflows::capture::live::{LiveConfig, LiveSource, WriteConfig};
    use rdsflows::report::status::StatusLine;
    use rdsflows::report::{KernelSummary, LiveSummary};

    if args.write.as_deref().is_some_and(is_stdout) {
        return Err(Error::Usage(
            "-w needs a file name: writing the capture to standard output is not supported".into(),
        )
        .into());
    }
    // Installed before the device opens, so an early Ctrl-C is not lost: the capture then stops
    // at once and still prints its (empty) summary.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .map_err(|e| Error::Usage(format!("cannot install the Ctrl-C/SIGTERM handler: {e}")))?;
    let mut source = LiveSource::open(LiveConfig {
        interface: args.interface.clone(),
        filter: args.filter.clone(),
        snaplen: args.snaplen,
        promisc: !args.no_promisc,
        buffer_bytes: args.buffer_size.saturating_mul(1024),
        duration: args
            .duration
            .map(|d| std::time::Duration::from_nanos(d.as_nanos().unsigned_abs())),
        count: args.count,
        write: args.write.clone().map(|path| WriteConfig {
            path,
            max_bytes: args.rotate_size,
            every: args
                .rotate_seconds
                .map(|s| rdsflows::time::Duration::from_secs(i64::try_from(s).unwrap_or(i64::MAX))),
        }),
        stop,
    })
    .map_err(Error::from)?;
    let observer = StatusLine::new(source.interface(), args.common.quiet);
    let inputs = vec![source.interface().to_string()];
    let quiet = args.common.quiet;
    let mut dropped = 0;
    let code = run_and_report(
        &mut source,
        &inputs,
        &[],
        &args.common,
        &observer,
        true,
        None,
        |s| {
            if !quiet {
                let filter = s
                    .filter()
                    .map(|f| format!(", filter '{f}'"))
                    .unwrap_or_default();
                eprintln!(
                    "rdsflows: listening on {}, link-type {}, snapshot length {} bytes{filter}; \
                     Ctrl-C to stop and print the summary",
                    s.interface(),
                    s.link().name(),
                    s.snaplen()
                );
            }
        },
        |s, summary| {
            let kernel = s.kernel_stats().unwrap_or_default();
            dropped = kernel.dropped + kernel.if_dropped;
            summary.live = Some(LiveSummary {
                interface: s.interface().to_string(),
                link_type: s.link().name(),
                filter: s.filter().map(str::to_string),
                snaplen: s.snaplen(),
                promiscuous: s.promisc(),
                stopped_by: s.stop_reason().map_or("signal", |r| r.as_str()),
                kernel: KernelSummary {
                    received: kernel.received,
                    dropped: kernel.dropped,
                    if_dropped: kernel.if_dropped,
                },
                written: s
                    .files_written()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            });
        },
    )?;
    // Drops are reported even with --quiet: they mean the summary undercounts.
    if dropped > 0 {
        eprintln!(
            "rdsflows: warning: the kernel dropped {dropped} packets: the counts above are short \
             (a larger -B buffer or a narrower -f filter help)"
        );
    }
    Ok(code)
}

fn generate(args: GenerateArgs) -> Result<u8, Failure> {
    let fail = |source| Error::Output {
        path: args.output.clone(),
        source,
    };
    if args.scenario == "syn-flood" {
        let flows = args.flows.unwrap_or(10_000_000);
        let written = if is_stdout(&args.output) {
            synth::flood::write_syn_flood(flows, args.seed, io::stdout().lock())?
        } else {
            let mut file = AtomicFile::create(&args.output)?;
            let written =
                synth::flood::write_syn_flood(flows, args.seed, &mut file.out).map_err(fail)?;
            file.commit()?;
            written
        };
        eprintln!(
            "rdsflows: wrote {written} packets ({flows} flood flows) to {}",
            args.output.display()
        );
        return Ok(EXIT_COMPLETE);
    }
    if args.scenario == "bench" {
        let spec = synth::bench::BenchSpec {
            packets: args.packets,
            flows: args.flows.unwrap_or(26_000),
            concurrent: args.concurrent,
            seed: args.seed,
        };
        let written = if is_stdout(&args.output) {
            synth::bench::write_bench(spec, io::stdout().lock())?
        } else {
            let mut file = AtomicFile::create(&args.output)?;
            let written = synth::bench::write_bench(spec, &mut file.out).map_err(fail)?;
            file.commit()?;
            written
        };
        eprintln!(
            "rdsflows: wrote {} packets, {} flows, {} wire bytes (mean frame {:.0} bytes) to {}",
            written.packets,
            written.flows,
            written.wire_bytes,
            written.wire_bytes as f64 / written.packets.max(1) as f64,
            args.output.display()
        );
        return Ok(EXIT_COMPLETE);
    }
    let Some(frames) = synth::generate(&args.scenario) else {
        return Err(Error::Usage(format!(
            "unknown scenario '{}'; known: {}, syn-flood, bench",
            args.scenario,
            synth::scenario_names().join(", ")
        ))
        .into());
    };
    let mut file = AtomicFile::create(&args.output)?;
    synth::write_pcap(&frames, &mut file.out).map_err(fail)?;
    file.commit()?;
    eprintln!(
        "rdsflows: wrote {} packets to {}",
        frames.len(),
        args.output.display()
    );
    Ok(EXIT_COMPLETE)
}

/// Peak resident memory of this process (Linux `VmHWM`), for the summary's resource line.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
