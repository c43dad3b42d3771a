//! A flow flood: a streamed SYN scan of distinct flows with the rds-deployment scenario woven in,
//! read from a pipe under a small `--max-flows`. The table stays within its cap, evictions are
//! counted, memory stays bounded, and the deployment's verdict is the same as without the flood.
//! (The README's reliability figures come from the same command at 10 million flows.)

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rdsflows")
}

fn deployment() -> String {
    format!("{}/samples/rds-deployment.toml", env!("CARGO_MANIFEST_DIR"))
}

fn verdict_of(summary: &Value) -> Vec<(String, String, String, String)> {
    summary["verdict"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("service"), s("status"))
        })
        .collect()
}

#[test]
fn flood_under_a_small_cap_keeps_memory_bounded_and_the_verdict_right() {
    const FLOWS: &str = "300000";
    const CAP: u64 = 20_000;
    let mut generator = Command::new(bin())
        .args(["generate", "syn-flood", "--flows", FLOWS, "-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pipe = generator.stdout.take().unwrap();
    let mut analyzer = Command::new(bin())
        .args([
            "analyze",
            "-q",
            "--max-flows",
            &CAP.to_string(),
            "--deployment",
            &deployment(),
            "--json",
            "-",
            "-",
        ])
        .stdin(pipe)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    analyzer
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(analyzer.wait().unwrap().success());
    assert!(generator.wait().unwrap().success());
    let flood: Value = serde_json::from_str(&out).unwrap();

    let table = &flood["flow_table"];
    assert_eq!(table["peak_flows"].as_u64().unwrap(), CAP);
    assert!(table["evicted"].as_u64().unwrap() > 250_000, "{table}");
    assert!(flood["totals"]["flows"].as_u64().unwrap() >= 300_000);
    // Bounded memory: far below what 300,000 live flows would take (~90 MB of records alone).
    let peak = flood["resources"]["peak_rss_bytes"].as_u64().unwrap_or(0);
    assert!(peak < 80 << 20, "peak RSS {peak} bytes");

    // The deployment's own flows come out as they do without the flood.
    let sample = format!("{}/samples/rds-deployment.pcap", env!("CARGO_MANIFEST_DIR"));
    let clean = Command::new(bin())
        .args([
            "analyze",
            "-q",
            "--deployment",
            &deployment(),
            "--json",
            "-",
            &sample,
        ])
        .output()
        .unwrap();
    let clean: Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(verdict_of(&flood), verdict_of(&clean));
    assert_eq!(
        flood["verdict"]["unexpected"],
        clean["verdict"]["unexpected"]
    );
}
