//! Conformance over the public captures in ../shared/captures/public: every file in MANIFEST.tsv
//! is analysed without error; TCP and UDP flow counts are checked against tshark's conversation
//! counts (CONVERSATIONS.tsv) and the service ports against MANIFEST.tsv. Every file where
//! rdsflows counts differently is listed below with the reason. Skips (and says so) when the
//! folder is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use serde_json::Value;

fn public_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

struct Analysis {
    flows: Vec<Value>,
    damaged: bool,
    packets: u64,
}

fn analyse(path: &Path, config: FlowTableConfig) -> Analysis {
    let (mut source, errors) = open_inputs(&[path.to_path_buf()]);
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    let inputs = vec![path.display().to_string()];
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let mut lines = Vec::new();
    let summary = rdsflows::pipeline::run(
        &mut source,
        &inputs,
        &mut classifier,
        config,
        Some(&mut lines),
        &Progress::new(None, true),
        1,
    )
    .unwrap();
    let flows = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Analysis {
        flows,
        damaged: summary.status != "complete",
        packets: summary.totals.packets,
    }
}

fn count(flows: &[Value], proto: &str) -> usize {
    flows.iter().filter(|f| f["proto"] == proto).count()
}

/// Files where rdsflows' TCP/UDP flow count differs from tshark's conversation count, with the
/// expected rdsflows count and why. The test also re-runs each of them with every idle timeout
/// raised to a day and checks that the counts then equal tshark's, so the reason is verified.
fn known_differences() -> BTreeMap<&'static str, (usize, usize, &'static str)> {
    BTreeMap::from([
        (
            "suricata-verify/smb2-ntlmssp-negotiateflags/input.pcap",
            (8, 195, "udp: 5 LLMNR/NetBIOS/SSDP conversations pause longer than the 2-minute UDP idle \
                      timeout and resume; tshark has no timeout and counts each once"),
        ),
        (
            "malcolm-test-artifacts/esteemedaudit-failed-XPSP2.pcap",
            (5, 8, "udp: the NetBIOS datagram (138) browser announcements and DHCP repeat every \
                    few minutes, beyond the 2-minute UDP idle timeout; tshark counts each pair once"),
        ),
    ])
}

fn no_timeouts() -> FlowTableConfig {
    let day = rdsflows::time::Duration::from_secs(86_400);
    FlowTableConfig {
        tcp_idle: day,
        udp_idle: day,
        icmp_idle: day,
        ..FlowTableConfig::default()
    }
}

#[test]
fn public_captures_match_tshark_conversations_and_manifest_ports() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let conversations: BTreeMap<String, (usize, usize)> =
        std::fs::read_to_string(dir.join("CONVERSATIONS.tsv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                Some((
                    cols.first()?.to_string(),
                    (cols.get(1)?.parse().ok()?, cols.get(2)?.parse().ok()?),
                ))
            })
            .collect();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let differences = known_differences();
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, ports) = (cols[0], cols[8]);
        let analysis = analyse(&dir.join(file), FlowTableConfig::default());
        checked += 1;
        if analysis.damaged {
            failures.push(format!("{file}: reported as damaged"));
        }
        let expected_packets: u64 = cols[7].parse().unwrap();
        if analysis.packets != expected_packets {
            failures.push(format!(
                "{file}: {} packets, manifest says {expected_packets}",
                analysis.packets
            ));
        }
        let (tcp, udp) = (count(&analysis.flows, "tcp"), count(&analysis.flows, "udp"));
        let (want_tcp, want_udp) = match differences.get(file) {
            Some((t, u, _why)) => (*t, *u),
            None => conversations[file],
        };
        if (tcp, udp) != (want_tcp, want_udp) {
            failures.push(format!(
                "{file}: tcp {tcp} udp {udp}, expected tcp {want_tcp} udp {want_udp}"
            ));
        }
        if differences.contains_key(file) {
            let relaxed = analyse(&dir.join(file), no_timeouts());
            let counts = (count(&relaxed.flows, "tcp"), count(&relaxed.flows, "udp"));
            if counts != conversations[file] {
                failures.push(format!(
                    "{file}: without idle timeouts {counts:?}, tshark {:?}",
                    conversations[file]
                ));
            }
        }
        // Service ports: `tcp/3389 x2 [..]; udp/53 x1 [..]; +N more`.
        for entry in ports.split("; ").filter(|e| e.contains('/')) {
            let (proto, rest) = entry.split_once('/').unwrap();
            let port: u16 = rest.split(' ').next().unwrap().parse().unwrap();
            let seen = analysis
                .flows
                .iter()
                .any(|f| f["proto"] == proto && (f["id.resp_p"] == port || f["id.orig_p"] == port));
            if !seen {
                failures.push(format!("{file}: no flow on {proto}/{port}"));
            }
        }
    }
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
