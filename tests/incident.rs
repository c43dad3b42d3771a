//! Issue 8's incident view, end to end through the binary: the exact RDP sessions and findings
//! of the four generated samples (with samples/rds-deployment.toml), the `sessions` command's
//! filters, `--redact` and `--pcap-index`, and the outcomes read from the real RDP captures in
//! ../shared/captures/public that MANIFEST.tsv describes as rejected, failed or accepted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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

fn json_of(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The summary's `incident` object of a sample analysed with the deployment file.
fn incident(name: &str) -> Value {
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--deployment",
        &deployment_file(),
        "--json",
        "-",
        &sample(name),
    ]);
    json_of(&out)["incident"].clone()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One line per session that got an answer: client, server:port, user, outcome, broker,
/// gateway, UDP; the unanswered and refused attempts are counted at the end.
fn session_lines(incident: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let mut attempts = 0;
    for s in incident["sessions"].as_array().unwrap() {
        let outcome = text(&s["outcome"]);
        if outcome == "unanswered" || outcome == "refused" {
            attempts += 1;
            continue;
        }
        lines.push(format!(
            "{} -> {}:{} user={} {} broker={} gateway={} udp={}",
            text(&s["client"]),
            text(&s["server"]),
            s["server_port"],
            text(&s["user"]),
            outcome,
            text(&s["via_broker"]["broker"]),
            text(&s["via_gateway"]["gateway"]),
            text(&s["udp"]["answered"]),
        ));
    }
    lines.push(format!("attempts={attempts}"));
    lines
}

/// One line per finding: rule, severity, sources, targets, number of flows and sessions.
fn finding_lines(incident: &Value) -> Vec<String> {
    incident["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let list = |v: &Value| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(text)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                "{} {} {} -> {} flows={} sessions={}",
                text(&f["rule"]),
                text(&f["severity"]),
                list(&f["sources"]),
                if f["targets"].as_array().unwrap().len() > 3 {
                    format!("{} targets", f["targets"].as_array().unwrap().len())
                } else {
                    list(&f["targets"])
                },
                f["flows"].as_array().unwrap().len(),
                f["sessions"].as_array().unwrap().len(),
            )
        })
        .collect()
}

const BROKER_21: &str =
    "10.1.10.21 -> 10.1.2.21:3389 user=- established broker=10.1.2.10:3389 gateway=- udp=true";
const BROKER_22: &str =
    "10.1.10.22 -> 10.1.2.22:3389 user=- established broker=10.1.2.10:3389 gateway=- udp=-";
const CAROL: &str =
    "203.0.113.50 -> 10.1.2.21:3389 user=carol established broker=- gateway=10.1.1.10 udp=true";
const DAVE: &str =
    "198.51.100.23 -> 10.1.2.22:3389 user=dave established broker=- gateway=10.1.1.10 udp=true";
const GATEWAY_UDP: &str =
    "rdp-udp-blocked warning 198.51.100.23,203.0.113.50 -> 10.1.1.10:3391 flows=2 sessions=0";

#[test]
fn deployment_sample_sessions_and_findings() {
    let i = incident("rds-deployment");
    assert_eq!(
        session_lines(&i),
        [BROKER_21, CAROL, BROKER_22, DAVE, "attempts=0"]
    );
    assert_eq!(finding_lines(&i), [GATEWAY_UDP]);
}

#[test]
fn misconfigured_firewall_sample_sessions_and_findings() {
    let i = incident("rds-firewall-misconfigured");
    assert_eq!(
        session_lines(&i),
        [BROKER_21, BROKER_22, CAROL, DAVE, "attempts=0"]
    );
    assert_eq!(finding_lines(&i), [GATEWAY_UDP]);
}

#[test]
fn incident_sample_sessions_and_findings() {
    let i = incident("rds-incident");
    assert_eq!(
        session_lines(&i),
        [
            BROKER_21,
            BROKER_22,
            CAROL,
            "198.51.100.23 -> 10.1.2.21:3389 user=dave established broker=- gateway=- udp=-",
            "198.51.100.77 -> 10.1.2.22:13389 user=administr auth_failed broker=- gateway=- udp=-",
            DAVE,
            "attempts=0",
        ]
    );
    assert_eq!(
        finding_lines(&i),
        [
            "rdp-external-to-session-host high 198.51.100.23 -> 10.1.2.21 flows=1 sessions=1",
            "rdp-external-to-session-host high 198.51.100.77 -> 10.1.2.22 flows=1 sessions=1",
            GATEWAY_UDP,
            "rdp-non-standard-port warning 198.51.100.77 -> 10.1.2.22:13389 flows=1 sessions=1",
        ]
    );
}

#[test]
fn attack_sample_sessions_and_findings() {
    let i = incident("rds-attack");
    let spray = |user: &str| {
        format!("198.51.100.77 -> 10.1.2.21:3389 user={user} auth_failed broker=- gateway=- udp=-")
    };
    let mut want = vec![BROKER_21.to_string(), BROKER_22.into(), CAROL.into()];
    for user in [
        "administr",
        "admin",
        "backup",
        "scanner",
        "helpdesk",
        "svc_sql",
    ] {
        want.push(spray(user));
    }
    want.push(DAVE.into());
    want.push(
        "10.1.2.21 -> 10.1.2.22:3389 user=svc_sql established broker=- gateway=- udp=-".into(),
    );
    want.push("attempts=20".into());
    assert_eq!(session_lines(&i), want);
    assert_eq!(
        finding_lines(&i),
        [
            "rdp-external-to-session-host high 198.51.100.77 -> 10.1.2.21 flows=6 sessions=6",
            "rdp-password-spray high 198.51.100.77 -> 10.1.2.21 flows=6 sessions=6",
            "rdp-scan high 10.1.2.21 -> 20 targets flows=20 sessions=20",
            "rdp-lateral-movement high 10.1.2.21 -> 10.1.2.22 flows=1 sessions=1",
            GATEWAY_UDP,
        ]
    );
    // Every finding names where it starts, in the file the user gave.
    for f in i["findings"].as_array().unwrap() {
        assert_eq!(f["first_packet"]["file"], sample("rds-attack"));
        assert!(f["first_packet"]["number"].as_u64().unwrap() > 0);
    }
}

#[test]
fn thresholds_are_options() {
    // Seven failed logons needed: the six of the spray are not enough, the scan still is.
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--deployment",
        &deployment_file(),
        "--spray-min-cookies",
        "7",
        "--spray-min-failures",
        "7",
        "--scan-min-targets",
        "21",
        "--json",
        "-",
        &sample("rds-attack"),
    ]);
    let rules: Vec<String> = json_of(&out)["incident"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["rule"]))
        .collect();
    assert!(!rules
        .iter()
        .any(|r| r == "rdp-password-spray" || r == "rdp-scan"));
    assert!(rules.iter().any(|r| r == "rdp-lateral-movement"));

    // Too few user names for a spray, enough failures for guessing.
    let out = rdsflows(&[
        "analyze",
        "-q",
        "--deployment",
        &deployment_file(),
        "--spray-min-cookies",
        "7",
        "--json",
        "-",
        &sample("rds-attack"),
    ]);
    let findings = json_of(&out)["incident"]["findings"].clone();
    let guessing: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rdp-password-guessing")
        .collect();
    assert_eq!(guessing.len(), 1);
    assert_eq!(guessing[0]["severity"], "high");
    assert_eq!(guessing[0]["sessions"].as_array().unwrap().len(), 6);
    assert!(text(&guessing[0]["summary"]).contains("6 failed logons from 198.51.100.77"));
}

#[test]
fn sessions_command_filters_by_user_host_and_time() {
    let sessions = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["sessions", "-q", "--json", "-"];
        args.extend_from_slice(extra);
        let attack = sample("rds-attack");
        args.push(&attack);
        let doc = json_of(&rdsflows(&args));
        assert_eq!(doc["format"], "rdsflows-sessions");
        doc["sessions"].as_array().unwrap().clone()
    };
    let by_user = sessions(&["--user", "SVC_SQL"]);
    assert_eq!(by_user.len(), 2);
    assert_eq!(by_user[0]["outcome"], "auth_failed");
    assert_eq!(by_user[1]["outcome"], "established");
    let by_host = sessions(&["--host", "10.1.2.22"]);
    assert_eq!(by_host.len(), 3, "broker 22, dave via the gateway, the hop");
    let window = sessions(&[
        "--from",
        "2026-11-02T08:01:09Z",
        "--until",
        "2026-11-02T08:01:20Z",
        "--host",
        "198.51.100.77",
    ]);
    let users: Vec<String> = window.iter().map(|s| text(&s["user"])).collect();
    assert_eq!(users, ["administr", "admin", "backup"]);
}

#[test]
fn redact_hides_users_in_sessions_and_the_plain_name_still_filters() {
    let out = rdsflows(&[
        "sessions",
        "-q",
        "--redact",
        "--user",
        "helpdesk",
        "--json",
        "-",
        &sample("rds-attack"),
    ]);
    let raw = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        !raw.contains("helpdesk") && !raw.contains("svc_sql"),
        "{raw}"
    );
    let doc = json_of(&out);
    let list = doc["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert!(text(&list[0]["user"]).starts_with("user#"));
}

#[test]
fn pcap_index_shows_file_and_frame_in_the_text_table() {
    let out = rdsflows(&[
        "sessions",
        "--color",
        "never",
        "--pcap-index",
        "--user",
        "carol",
        &sample("rds-attack"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert!(
        line.contains("carol") && line.contains("established"),
        "{line}"
    );
    assert!(
        line.contains(&format!("{}#", sample("rds-attack"))),
        "{line}"
    );
    assert!(text.contains("1 sessions (30 filtered out)"), "{text}");
}

/// ../shared/captures/public beside the checkout, or the folder `RDSFLOWS_PUBLIC_CAPTURES`
/// names.
fn public_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSFLOWS_PUBLIC_CAPTURES")
        .map_or_else(|| root().join("../shared/captures/public"), PathBuf::from);
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

#[test]
fn public_rdp_captures_have_the_outcomes_their_manifest_describes() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    // (file, MANIFEST's words, the outcome of each session, failure codes in order)
    let cases: [(&str, &str, &[&str]); 9] = [
        (
            "awakecoding-wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng",
            "NLA with NTLM rejected by server (two short connections)",
            &[
                "auth_failed",
                "negotiation_failed HYBRID_REQUIRED_BY_SERVER",
            ],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-rejected1.pcapng",
            "without NLA rejected at X.224 negotiation (6 packets)",
            &["negotiation_failed HYBRID_REQUIRED_BY_SERVER"],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-restricted-admin-rejected1.pcapng",
            "NLA + Restricted Admin mode rejected",
            &["auth_failed"],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-kerberos-auth1.pcapng",
            "NLA (CredSSP) Kerberos",
            &["established"],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-smartcard-auth1.pcapng",
            "NLA with Kerberos PKINIT smartcard",
            &["established"],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-accepted1.pcapng",
            "TLS without NLA (PROTOCOL_SSL), accepted, full session",
            &["established"],
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-tls-accepted1.pcapng",
            "Standard RDP Security (no TLS, no NLA), accepted, full session",
            &[
                "negotiation_failed SSL_NOT_ALLOWED_BY_SERVER",
                "established",
            ],
        ),
        (
            "zeek/rdp/rdp-proprietary-encryption.pcap",
            "standard RDP security after a refused TLS request",
            &[
                "negotiation_failed SSL_NOT_ALLOWED_BY_SERVER",
                "established",
            ],
        ),
        (
            "zeek/rdp/rdp-to-ssl.pcap",
            "RDP X.224 negotiation then TLS upgrade (two connections)",
            &["auth_failed", "established"],
        ),
    ];
    for (file, words, want) in cases {
        let path = dir.join(file).display().to_string();
        let doc = json_of(&rdsflows(&["sessions", "-q", "--json", "-", &path]));
        let got: Vec<String> = doc["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| match &s["failure_code"] {
                Value::String(code) => format!("{} {code}", text(&s["outcome"])),
                _ => text(&s["outcome"]),
            })
            .collect();
        assert_eq!(got, want, "{file} ({words})");
    }
    // Standard RDP security accepted: the weak-security finding names the server.
    let path = dir
        .join("awakecoding-wireshark-rdp/rdp-no-tls-accepted1.pcapng")
        .display()
        .to_string();
    let summary = json_of(&rdsflows(&["analyze", "-q", "--json", "-", &path]));
    let rules: Vec<String> = summary["incident"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["rule"]))
        .collect();
    assert!(
        rules.contains(&"rdp-weak-security".to_string()),
        "{rules:?}"
    );
}
