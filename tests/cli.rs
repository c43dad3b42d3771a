//! The binary as a user runs it: exit codes, messages that name file and offset, the JSON
//! formats, stdin and gzip, rotated files read as one stream. Uses the bundled samples and, where
//! present, ../shared/captures/public.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rdsflows::capture::writer::PcapWriter;
use rdsflows::capture::LinkType;
use serde_json::Value;

/// Runs `rdsflows ARGS…` (ripgrep's `rgtest!` idea: one helper per invocation).
fn rdsflows(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdsflows"))
        .args(args)
        .output()
        .unwrap()
}

fn rdsflows_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdsflows"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

mod common;

fn temp_dir(name: &str) -> common::TempDir {
    common::TempDir::new(&format!("cli-{name}"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/rds-deployment.pcap")
}

fn public(file: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/captures/public")
        .join(file);
    if path.is_file() {
        Some(path)
    } else {
        println!("skipped: {} not found", path.display());
        None
    }
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn flow_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Frames of the sample, read back through the library (so tests can cut and re-write them).
fn sample_frames() -> Vec<(rdsflows::time::Timestamp, Vec<u8>)> {
    use rdsflows::capture::PacketSource;
    let (mut source, errors) = rdsflows::capture::file::open_inputs(&[sample()]);
    assert!(errors.is_empty());
    let mut frames = Vec::new();
    while let Some(Ok(p)) = source.next_packet() {
        frames.push((p.ts, p.data.to_vec()));
    }
    frames
}

fn write_pcap(path: &Path, frames: &[(rdsflows::time::Timestamp, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer =
        PcapWriter::new(std::io::BufWriter::new(file), LinkType::ETHERNET, 262_144).unwrap();
    for (ts, data) in frames {
        writer.write_packet(*ts, data, data.len() as u32).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn sample_runs_with_a_human_summary_and_exit_0() {
    let out = rdsflows(&["analyze", sample().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("RDS service"), "{text}");
    assert!(text.contains("rdp tcp/3389"), "{text}");
    assert!(text.contains("Unclassified"), "{text}");
}

#[test]
fn json_summary_has_a_version_and_agrees_with_the_flow_lines() {
    let out = rdsflows(&["analyze", "-q", "--json", "-", sample().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let summary = stdout_json(&out);
    assert_eq!(summary["format"], "rdsflows-summary");
    assert_eq!(summary["version"], 1);
    assert_eq!(summary["status"], "complete");
    let flows = flow_lines(&rdsflows(&[
        "analyze",
        "-q",
        "--flows",
        "-",
        sample().to_str().unwrap(),
    ]));
    assert_eq!(
        summary["totals"]["flows"].as_u64().unwrap() as usize,
        flows.len()
    );
    for field in [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "history",
        "orig_pkts",
        "resp_pkts",
        "rules",
        "outcome",
    ] {
        assert!(
            flows[0].get(field).is_some(),
            "flow line lacks {field}: {}",
            flows[0]
        );
    }
    // Per-service totals equal the sum of that service's flow lines.
    for service in summary["services"].as_array().unwrap() {
        let name = service["service"].as_str().unwrap();
        let lines: Vec<&Value> = flows
            .iter()
            .filter(|f| f["service"] == name && f["proto"] == service["transport"])
            .collect();
        assert_eq!(
            service["flows"].as_u64().unwrap() as usize,
            lines.len(),
            "{name}"
        );
        let packets: u64 = lines
            .iter()
            .map(|f| f["orig_pkts"].as_u64().unwrap() + f["resp_pkts"].as_u64().unwrap())
            .sum();
        assert_eq!(service["packets"].as_u64().unwrap(), packets, "{name}");
    }
}

#[test]
fn truncated_capture_reports_file_and_offset_keeps_earlier_packets_and_exits_3() {
    let dir = temp_dir("trunc");
    let bytes = std::fs::read(sample()).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let out = rdsflows(&["analyze", "-q", "--json", "-", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.pcap") && stderr.contains("byte offset"),
        "{stderr}"
    );
    let summary = stdout_json(&out);
    assert_eq!(summary["status"], "damaged");
    assert!(
        summary["totals"]["packets"].as_u64().unwrap() > 100,
        "packets before the damage are analysed"
    );
}

#[test]
fn not_a_capture_alone_cannot_run_exit_2() {
    let dir = temp_dir("notcap");
    let path = dir.join("notes.txt");
    std::fs::write(&path, "hello, this is not a capture\n").unwrap();
    let out = rdsflows(&["analyze", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not a capture"),
        "{stderr}"
    );
}

#[test]
fn one_bad_file_among_good_ones_is_damage_not_failure() {
    let dir = temp_dir("mixed");
    let bad = dir.join("bad.pcap");
    std::fs::write(&bad, [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]).unwrap();
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--json",
        "-",
        sample().to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let summary = stdout_json(&out);
    assert!(summary["totals"]["flows"].as_u64().unwrap() > 0);
    let errors: Vec<&Value> = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["error"].is_null())
        .collect();
    assert_eq!(errors.len(), 1);
}

#[test]
fn broken_signature_file_names_file_and_line_exit_2() {
    let dir = temp_dir("sig");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"x\"\nservice = \"rdp\"\ntransport = \"carrier-pigeon\"\n",
    )
    .unwrap();
    let out = rdsflows(&[
        "analyze",
        "--signatures",
        path.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:4"), "{stderr}");
}

#[test]
fn only_one_output_may_be_stdout() {
    let out = rdsflows(&[
        "analyze",
        "--json",
        "-",
        "--flows",
        "-",
        sample().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gzip_on_stdin_equals_the_file() {
    let bytes = std::fs::read(sample()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();
    let from_stdin = rdsflows_stdin(&["analyze", "-q", "--flows", "-", "-"], &gz);
    let from_file = rdsflows(&["analyze", "-q", "--flows", "-", sample().to_str().unwrap()]);
    assert_eq!(from_stdin.status.code(), Some(0));
    assert_eq!(from_stdin.stdout, from_file.stdout);
}

#[test]
fn rotated_files_are_one_stream_and_a_spanning_flow_stays_one() {
    let frames = sample_frames();
    let dir = temp_dir("rotated");
    let (first, second) = frames.split_at(frames.len() / 2);
    write_pcap(&dir.join("cap-001.pcap"), first);
    write_pcap(&dir.join("cap-002.pcap"), second);
    let whole = rdsflows(&["analyze", "-q", "--json", "-", sample().to_str().unwrap()]);
    let split = rdsflows(&["analyze", "-q", "--json", "-", dir.to_str().unwrap()]);
    let (whole, split) = (stdout_json(&whole), stdout_json(&split));
    assert_eq!(whole["totals"], split["totals"]);
    assert_eq!(whole["services"], split["services"]);
    // Given in the wrong order, the files are still merged by time.
    let reversed = rdsflows(&[
        "analyze",
        "-q",
        "--json",
        "-",
        dir.join("cap-002.pcap").to_str().unwrap(),
        dir.join("cap-001.pcap").to_str().unwrap(),
    ]);
    assert_eq!(stdout_json(&reversed)["services"], whole["services"]);
}

#[test]
fn output_files_are_written_whole() {
    let dir = temp_dir("outputs");
    let json = dir.join("summary.json");
    let flows = dir.join("flows.jsonl");
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--json",
        json.to_str().unwrap(),
        "--flows",
        flows.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let lines = std::fs::read_to_string(&flows).unwrap().lines().count();
    assert_eq!(summary["totals"]["flows"].as_u64().unwrap() as usize, lines);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

/// An output path that is not a regular file is written, never replaced: renaming a finished
/// file over `/dev/null` (as root) would leave a regular file there for every program on the
/// machine. A FIFO stands in for the device; a symbolic link must stay a link.
#[cfg(unix)]
#[test]
fn outputs_that_are_fifos_or_links_are_written_through_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = temp_dir("special-outputs");
    let fifo = dir.join("summary.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let real = dir.join("real-flows.jsonl");
    let link = dir.join("flows.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--json",
        fifo.to_str().unwrap(),
        "--flows",
        link.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Checked before joining: had the FIFO been replaced, the reader would wait forever.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced by {kind:?}");
    let summary: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let lines = std::fs::read_to_string(&real).unwrap().lines().count();
    assert_eq!(summary["totals"]["flows"].as_u64().unwrap() as usize, lines);
}

#[test]
fn rdp_on_loopback_link_type_is_found() {
    // ndpi/rdp.pcap is BSD null/loopback framing.
    let Some(path) = public("ndpi/rdp.pcap") else {
        return;
    };
    let flows = flow_lines(&rdsflows(&[
        "analyze",
        "-q",
        "--flows",
        "-",
        path.to_str().unwrap(),
    ]));
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["service"], "rdp");
    assert_eq!(flows[0]["id.resp_p"], 3389);
}

#[test]
fn syn_scan_attempts_are_unanswered_or_rejected_not_answered() {
    let Some(path) = public("ndpi/synscan.pcap") else {
        return;
    };
    let summary = stdout_json(&rdsflows(&[
        "analyze",
        "-q",
        "--json",
        "-",
        path.to_str().unwrap(),
    ]));
    let rdp = summary["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "rdp")
        .unwrap();
    assert_eq!(rdp["outcomes"]["answered"], 0);
    assert_eq!(rdp["flows"], 2);
}

#[test]
fn bench_reports_documented_fields() {
    for threads in ["1", "2"] {
        let out = rdsflows(&[
            "bench",
            "--repeat",
            "2",
            "--threads",
            threads,
            "--json",
            sample().to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = stdout_json(&out);
        assert_eq!(report["packets"], 4086);
        assert_eq!(report["flows"], 85);
        assert_eq!(report["repeat"], 2);
        assert_eq!(report["threads"].to_string(), threads);
        assert_eq!(report["run_seconds"].as_array().unwrap().len(), 2);
        assert!(report["packets_per_second"].as_f64().unwrap() > 0.0);
        assert!(report["flow_table_bytes_per_flow"].as_f64().unwrap() > 0.0);
    }
}
