//! Observed versus expected on the bundled samples: the exact status of every expected edge and
//! every unexpected flow (snapshots in tests/snapshots, reviewed by hand), the problems each
//! sample was built to show, role inference, `--fail-on` and deployment-file errors.
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test --test verdict` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rdsflows::classify::signature::Role;
use rdsflows::deployment::Deployment;
use serde_json::Value;

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> String {
    root()
        .join("samples")
        .join(format!("{name}.pcap"))
        .display()
        .to_string()
}

fn deployment_file() -> String {
    root()
        .join("samples/rds-deployment.toml")
        .display()
        .to_string()
}

fn rdsflows(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdsflows"))
        .args(args)
        .output()
        .unwrap()
}

fn verdict(name: &str) -> Value {
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--deployment",
        &deployment_file(),
        "--json",
        "-",
        &sample(name),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["verdict"].clone()
}

/// One line per edge and per unexpected flow: what the snapshot holds.
fn verdict_lines(v: &Value) -> String {
    let mut lines = Vec::new();
    for e in v["edges"].as_array().unwrap() {
        lines.push(format!(
            "{:<10} {} -> {} {} {}/{} [{} flows]",
            e["status"].as_str().unwrap(),
            e["from"].as_str().unwrap(),
            e["to"].as_str().unwrap(),
            e["service"].as_str().unwrap(),
            e["transport"].as_str().unwrap(),
            e["ports"].as_str().unwrap(),
            e["evidence"]["flows"]
        ));
    }
    for u in v["unexpected"].as_array().unwrap() {
        lines.push(format!(
            "UNEXPECTED {} {} {} -> {} {}/{} {}",
            u["severity"].as_str().unwrap(),
            u["kind"].as_str().unwrap(),
            u["from"].as_str().unwrap(),
            u["to"].as_str().unwrap(),
            u["transport"].as_str().unwrap(),
            u["port"],
            u["service"].as_str().unwrap_or("-")
        ));
    }
    lines.join("\n") + "\n"
}

fn check_snapshot(name: &str, actual: &str) {
    let path: PathBuf = root()
        .join("tests/snapshots")
        .join(format!("verdict-{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "verdict for {name} changed; review and run UPDATE_SNAPSHOTS=1 cargo test --test verdict\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn find<'a>(v: &'a Value, from: &str, to: &str, service: &str) -> &'a Value {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["from"].as_str().unwrap().starts_with(from)
                && e["to"].as_str().unwrap().starts_with(to)
                && e["service"] == service
        })
        .unwrap_or_else(|| panic!("no edge {from} -> {to} {service}"))
}

fn problems(v: &Value) -> Vec<String> {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| matches!(e["status"].as_str(), Some("rejected" | "unanswered")))
        .map(|e| {
            format!(
                "{} {} -> {} {}",
                e["status"].as_str().unwrap(),
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["service"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_edge_of_every_sample_matches_its_snapshot() {
    for name in [
        "rds-deployment",
        "rds-firewall-misconfigured",
        "rds-incident",
        "rds-attack",
    ] {
        check_snapshot(name, &verdict_lines(&verdict(name)));
    }
}

#[test]
fn deployment_sample_shows_its_three_failures() {
    let v = verdict("rds-deployment");
    assert_eq!(
        problems(&v),
        vec![
            "unanswered external (internet) -> rdgw (10.1.1.10) rdg-udp",
            "unanswered rdsh1 (10.1.2.21) -> rdlic (10.1.2.30) rpc-epm",
        ]
    );
    // The reset on 5504 was followed by a working retry: the edge works, and says it failed once.
    let rdcb = find(&v, "rdweb", "rdcb", "rdcb");
    assert_eq!(rdcb["status"], "working");
    assert_eq!(rdcb["evidence"]["rejected"], 1);
    assert!(rdcb["hint"]
        .as_str()
        .unwrap()
        .contains("1 of 2 attempts failed"));
    let udp = find(&v, "external", "rdgw", "rdg-udp");
    assert!(udp["hint"].as_str().unwrap().contains("fell back to HTTPS"));
    assert_eq!(v["unexpected"].as_array().unwrap().len(), 0);
}

#[test]
fn misconfigured_firewall_sample_shows_the_dropped_and_rejected_ports() {
    let v = verdict("rds-firewall-misconfigured");
    assert_eq!(
        problems(&v),
        vec![
            "unanswered external (internet) -> rdgw (10.1.1.10) rdg-udp",
            "unanswered rdgw (10.1.1.10) -> dc1 (10.1.0.5, 2001:db8:1::5) rpc-epm",
            "rejected rdweb (10.1.1.11) -> rdcb (10.1.2.10) rdcb",
            "unanswered rdsh1 (10.1.2.21) -> rdlic (10.1.2.30) rpc-epm",
            "unanswered rdsh2 (10.1.2.22) -> rdlic (10.1.2.30) rpc-epm",
        ]
    );
    let rdcb = find(&v, "rdweb", "rdcb", "rdcb");
    assert!(rdcb["hint"].as_str().unwrap().contains("TCP reset"));
}

#[test]
fn incident_sample_shows_internet_rdp_to_session_hosts() {
    let v = verdict("rds-incident");
    let unexpected = v["unexpected"].as_array().unwrap();
    assert_eq!(unexpected.len(), 2);
    assert!(unexpected.iter().all(|u| u["severity"] == "high"));
    let bypass = unexpected.iter().find(|u| u["service"] == "rdp").unwrap();
    assert!(bypass["to"].as_str().unwrap().starts_with("rdsh1"));
    assert_eq!(bypass["evidence"]["clients"][0], "198.51.100.23");
    assert!(bypass["reason"]
        .as_str()
        .unwrap()
        .contains("bypassing the RD Gateway"));
    let odd_port = unexpected.iter().find(|u| u["port"] == 13389).unwrap();
    assert!(odd_port["to"].as_str().unwrap().starts_with("rdsh2"));
    // The payload (X.224 CR answered by a CC) makes the unlisted port RDP (issue 4).
    assert_eq!(odd_port["service"], "rdp");
    assert_eq!(odd_port["kind"], "rds_service");
    assert_eq!(odd_port["evidence"]["found_by_payload"], 1);
    assert!(
        odd_port["reason"]
            .as_str()
            .unwrap()
            .starts_with("RDP on port 13389 (found by payload): RDP from the internet straight to"),
        "{}",
        odd_port["reason"]
    );
}

#[test]
fn inferred_roles_match_the_deployment_file() {
    let declared = Deployment::load(Path::new(&deployment_file())).unwrap();
    for name in [
        "rds-deployment",
        "rds-firewall-misconfigured",
        "rds-incident",
        "rds-attack",
    ] {
        let out = rdsflows(&["roles", "-q", &sample(name)]);
        assert_eq!(out.status.code(), Some(0));
        let inferred =
            Deployment::from_toml(&String::from_utf8(out.stdout).unwrap(), "roles output").unwrap();
        for host in &declared.hosts {
            let address = host.addresses[0];
            let found = inferred
                .hosts
                .iter()
                .find(|h| h.addresses.contains(&address))
                .unwrap_or_else(|| panic!("{name}: {} not inferred", host.name));
            let mut want = host.roles.clone();
            let mut got = found.roles.clone();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name}: roles of {}", host.name);
        }
        assert_eq!(
            inferred.hosts.len(),
            declared.hosts.len(),
            "{name}: no extra hosts"
        );
        assert!(inferred
            .networks
            .iter()
            .any(|n| n.cidr.to_string() == "10.1.10.0/24" && n.role == Role::Client));
    }
}

#[test]
fn inferred_roles_carry_evidence_and_feed_back_as_a_deployment() {
    let dir = common::TempDir::new("roles");
    let file = dir.join("inferred.toml");
    let out = rdsflows(&[
        "roles",
        "-q",
        "-o",
        file.to_str().unwrap(),
        &sample("rds-deployment"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# rd_gateway: high confidence: asked on udp/3391"),
        "{text}"
    );
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--deployment",
        file.to_str().unwrap(),
        "--json",
        "-",
        &sample("rds-deployment"),
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn fail_on_sets_exit_status_1_only_when_found() {
    let d = deployment_file();
    let clean = sample("rds-deployment");
    let code = |args: &[&str]| rdsflows(args).status.code();
    assert_eq!(
        code(&[
            "analyze",
            "-q",
            "--deployment",
            &d,
            "--fail-on",
            "unexpected",
            &clean
        ]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "analyze",
            "-q",
            "--deployment",
            &d,
            "--fail-on",
            "blocked",
            &clean
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "analyze",
            "-q",
            "--deployment",
            &d,
            "--fail-on",
            "unexpected",
            &sample("rds-incident")
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "analyze",
            "-q",
            "--deployment",
            &d,
            "--fail-on",
            "bogus",
            &clean
        ]),
        Some(2)
    );
}

#[test]
fn broken_deployment_file_names_file_line_and_fix() {
    let dir = common::TempDir::new("deploy");
    let file = dir.join("broken.toml");
    std::fs::write(
        &file,
        "[[host]]\nname = \"gw\"\naddress = \"10.1.1.10\"\nroles = [\"rd_gatway\"]\n",
    )
    .unwrap();
    let out = rdsflows(&[
        "analyze",
        "--deployment",
        file.to_str().unwrap(),
        &sample("rds-deployment"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:4:") && stderr.contains("rd_gateway"),
        "{stderr}"
    );
}

#[test]
fn human_summary_leads_with_the_verdict_and_has_no_colour_off_a_terminal() {
    let out = rdsflows(&[
        "analyze",
        "--deployment",
        &deployment_file(),
        &sample("rds-firewall-misconfigured"),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let verdict_at = text.find("Verdict").unwrap();
    assert!(verdict_at < text.find("\nRDS service ").unwrap());
    assert!(text.contains("REJECTED   rdcb tcp/5504"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI codes when stdout is not a terminal"
    );
    let forced = rdsflows(&[
        "analyze",
        "--color",
        "always",
        "--deployment",
        &deployment_file(),
        &sample("rds-deployment"),
    ]);
    assert!(String::from_utf8(forced.stdout).unwrap().contains('\u{1b}'));
}
