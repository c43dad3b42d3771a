//! The HTML report in a real browser: for each committed sample (samples/*.pcap with
//! samples/rds-deployment.toml), write the report, open it in headless Chromium, and check from
//! the rendered DOM that the page's script ran without an error and that the expected elements
//! are there (every host, the status words, the filters, the incident's unexpected flows). A
//! screenshot of each is kept under the cargo target directory (`target/tmp/report-NAME.png`),
//! for CI to keep as an artifact; nothing here is committed.
//!
//! Skips, saying so, when Chromium is not installed (Debian: `apt-get install chromium`; the CI
//! script installs it). `RDSFLOWS_CHROMIUM` names another binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The Chromium binary, if there is one.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RDSFLOWS_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| candidates.iter().map(move |c| dir.join(c)))
        .find(|p| p.is_file())
}

/// Runs a command, killing it after `limit` (a browser that hangs must not hang the suite).
fn run_with_limit(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Read stdout on a thread so a large DOM cannot fill the pipe and stall the browser.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).unwrap();
        buf
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_end(&mut e, &mut stderr).unwrap();
    }
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr,
    }
}

/// Headless Chromium on `page` with a fresh profile, plus `mode` (`--dump-dom` or a screenshot).
fn browse(browser: &Path, page: &Path, profile: &Path, mode: &str) -> Output {
    let _ = std::fs::remove_dir_all(profile);
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,2000",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command.arg(mode);
    command.arg(format!("file://{}", page.display()));
    let out = run_with_limit(command, Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(profile);
    assert!(
        out.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes the report of `sample` and returns the verdict's counts (from `--json`, same run).
fn write_report(sample: &Path, report: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rdsflows"))
        .arg("analyze")
        .arg("-q")
        .arg("--deployment")
        .arg(root().join("samples/rds-deployment.toml"))
        .arg("--report")
        .arg(report)
        .args(["--json", "-"])
        .arg(sample)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["verdict"]["counts"].clone()
}

/// The host names of the sample deployment file (`name = "…"` under `[[host]]`).
fn host_names() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("samples/rds-deployment.toml")).unwrap();
    let mut names = Vec::new();
    let mut in_host = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_host = line == "[[host]]";
        } else if in_host {
            if let Some(value) = line.strip_prefix("name = ") {
                names.push(value.trim_matches('"').to_string());
            }
        }
    }
    names
}

#[test]
fn every_sample_report_renders_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "skipped: Chromium is not installed (Debian: apt-get install chromium); the report was not opened in a browser"
        );
        return;
    };
    let mut samples: Vec<PathBuf> = std::fs::read_dir(root().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    samples.sort();
    assert!(!samples.is_empty());
    let hosts = host_names();
    assert!(hosts.len() >= 10, "{hosts:?}");
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for sample in &samples {
        let name = sample.file_stem().unwrap().to_string_lossy().into_owned();
        let page = dir.join(format!("report-{name}.html"));
        let counts = write_report(sample, &page);
        let count = |what: &str| counts[what].as_u64().unwrap();
        let shot = dir.join(format!("report-{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let profile = dir.join(format!("chromium-profile-{name}-{}", std::process::id()));

        let dom = browse(&browser, &page, &profile, "--dump-dom");
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            !dom.contains("data-report-error=\""),
            "{name}: the page's script failed: {}",
            dom.split("data-report-error=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("?")
        );
        assert!(
            dom.contains("data-report-script=\"ok\""),
            "{name}: the page's script did not run to its end"
        );
        for id in [
            "id=\"diagram-svg\"",
            "id=\"legend\"",
            "id=\"verdict-table\"",
            "id=\"findings\"",
            "id=\"sessions-table\"",
            "id=\"timeline-svg\"",
        ] {
            assert!(dom.contains(id), "{name}: {id} missing");
        }
        for host in &hosts {
            assert!(
                dom.contains(&format!("data-name=\"{host}\"")),
                "{name}: host {host} not in the diagram"
            );
        }
        // The status words, in the headline and the legend at least.
        for words in ["✓ working", "✕ REJECTED", "UNANSWERED", "not seen"] {
            assert!(
                dom.contains(words),
                "{name}: status label {words:?} missing"
            );
        }
        // Each status the verdict has is drawn, in as many table rows as it counts.
        for (status, line) in [
            ("working", "working"),
            ("rejected", "rejected"),
            ("unanswered", "unanswered"),
        ] {
            let drawn = dom.contains(&format!("class=\"line {line}\""));
            assert_eq!(drawn, count(status) > 0, "{name}: {status} lines");
            let rows = dom.matches(&format!("data-filter=\"{status}\"")).count() as u64;
            assert_eq!(rows, count(status), "{name}: {status} rows");
        }
        let unexpected = dom.matches("<tr class=\"finding ").count() as u64;
        assert_eq!(unexpected, count("unexpected"), "{name}: findings rows");
        // The script showed the filters and counted the rows.
        assert!(dom.contains("rows shown"), "{name}: filters did not run");
        assert!(
            !dom.contains("class=\"filters\" data-for=\"verdict-table\" hidden"),
            "{name}: filters still hidden"
        );
        if name == "rds-attack" {
            // The hop rdsh1 -> rdsh2 is unexpected (lateral movement).
            assert!(dom.contains("id=\"findings-table\""), "{name}");
            assert!(dom.contains("RDP from a session host"), "{name}");
            // The incident view: its findings and one row per session (20 scan attempts,
            // six spray attempts, the hop and the four sessions of the normal story).
            assert!(dom.contains("id=\"incident-findings-table\""), "{name}");
            for rule in ["rdp-password-spray", "rdp-scan", "rdp-lateral-movement"] {
                assert!(dom.contains(rule), "{name}: {rule} missing");
            }
            assert_eq!(
                dom.matches("<tr class=\"session ").count(),
                31,
                "{name}: session rows"
            );
            assert_eq!(dom.matches("<tr class=\"session failed\"").count(), 6);
        } else if name == "rds-incident" {
            assert!(dom.contains("class=\"line unexpected\""));
            assert!(dom.contains("! UNEXPECTED HIGH"));
            assert!(dom.contains("RDP from the internet straight to"));
            assert!(dom.contains("13389"), "the RDP on 13389 finding is missing");
            assert!(dom.contains("id=\"findings-table\""));
        } else {
            assert!(dom.contains("id=\"no-findings\""), "{name}");
        }

        browse(
            &browser,
            &page,
            &profile,
            &format!("--screenshot={}", shot.display()),
        );
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: screenshot missing or empty");
        eprintln!("{name}: screenshot {}", shot.display());
    }
}
