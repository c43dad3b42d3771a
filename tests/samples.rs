//! The bundled samples: reproducible from the generator, and analysed to the exact flow list the
//! generator says they contain (5-tuple, outcome, packets), with the services that follow.

use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::report::Summary;
use rdsflows::synth;
use serde_json::Value;

fn sample_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(format!("{name}.pcap"))
}

fn analyse(path: &Path) -> (Summary, Vec<Value>) {
    let (mut source, errors) = open_inputs(&[path.to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let mut lines = Vec::new();
    let summary = rdsflows::pipeline::run(
        &mut source,
        &[path.display().to_string()],
        &mut classifier,
        FlowTableConfig::default(),
        Some(&mut lines),
        &Progress::new(None, true),
    )
    .unwrap();
    let flows = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (summary, flows)
}

#[test]
fn committed_samples_are_what_the_generator_writes() {
    for name in synth::scenario_names() {
        let mut bytes = Vec::new();
        synth::write_pcap(&synth::generate(name).unwrap(), &mut bytes).unwrap();
        let committed = std::fs::read(sample_path(name)).unwrap();
        assert!(
            committed == bytes,
            "samples/{name}.pcap differs from the generator: run `cargo run -- generate {name} -o samples/{name}.pcap`"
        );
    }
}

#[test]
fn every_expected_flow_is_found_with_its_outcome_and_packets() {
    for name in synth::scenario_names() {
        let expected = synth::describe(name).unwrap();
        let (summary, flows) = analyse(&sample_path(name));
        assert_eq!(summary.status, "complete", "{name}");
        assert_eq!(flows.len(), expected.len(), "{name}: flow count");
        for want in &expected {
            let found: Vec<&Value> = flows
                .iter()
                .filter(|f| {
                    f["id.orig_h"] == want.client.to_string()
                        && f["id.resp_h"] == want.server.to_string()
                        && f["proto"] == want.transport
                        && (want.transport == "icmp"
                            || (f["id.orig_p"] == want.client_port
                                && f["id.resp_p"] == want.server_port))
                })
                .collect();
            assert_eq!(found.len(), 1, "{name}: {want:?} matched {found:?}");
            let got = found[0];
            let outcome = if want.outcome == "icmp-rejected" {
                "rejected"
            } else {
                want.outcome
            };
            assert_eq!(got["outcome"], outcome, "{name}: {want:?} -> {got}");
            if want.outcome == "icmp-rejected" {
                assert!(!got["icmp_reject"].is_null(), "{name}: {got}");
            }
            let packets = got["orig_pkts"].as_u64().unwrap() + got["resp_pkts"].as_u64().unwrap();
            assert_eq!(packets, want.packets, "{name}: {want:?} -> {got}");
        }
    }
}

/// The service each expected flow must get, from its transport and server port. Dynamic RPC
/// ports get `rpc-dynamic` only because an endpoint-mapper answer or a DCE/RPC bind came first.
fn expected_service(transport: &str, port: u16) -> Option<&'static str> {
    Some(match (transport, port) {
        // Found by payload: the incident's RDP on a port the map does not list.
        ("tcp", 3389 | 13389) => "rdp",
        ("udp", 3389) => "rdp-udp",
        ("tcp", 443) => "https",
        ("udp", 3391) => "rdg-udp",
        ("tcp", 5504) => "rdcb",
        ("tcp", 135) => "rpc-epm",
        ("tcp", 49152..=65535) => "rpc-dynamic",
        ("tcp", 445) => "smb",
        ("tcp", 88) => "kerberos",
        ("tcp", 389) => "ldap",
        ("tcp", 636) => "ldaps",
        ("udp", 53) | ("tcp", 53) => "dns",
        ("tcp", 80) => "http",
        ("udp", 1812) => "radius",
        ("udp", 1813) => "radius-acct",
        ("tcp", 5985) => "winrm",
        ("udp", 137) => "netbios-ns",
        _ => return None,
    })
}

#[test]
fn services_follow_the_map_and_rpc_needs_evidence() {
    for name in synth::scenario_names() {
        let (_, flows) = analyse(&sample_path(name));
        for want in synth::describe(name).unwrap() {
            let flow = flows
                .iter()
                .find(|f| {
                    f["id.orig_h"] == want.client.to_string()
                        && f["id.resp_h"] == want.server.to_string()
                        && f["proto"] == want.transport
                        && (want.transport == "icmp" || f["id.orig_p"] == want.client_port)
                })
                .unwrap();
            let service = flow["service"].as_str();
            match expected_service(want.transport, want.server_port) {
                Some(expected) => assert_eq!(service, Some(expected), "{name}: {flow}"),
                None => assert_eq!(service, None, "{name}: {flow}"),
            }
        }
    }
}

#[test]
fn deployment_sample_failures_are_visible_in_the_summary() {
    let (summary, _) = analyse(&sample_path("rds-deployment"));
    let service = |name: &str| {
        summary
            .services
            .iter()
            .find(|s| s.service == name)
            .unwrap()
            .clone()
    };
    // Unanswered UDP 3391 from both external clients: the gateway's UDP transport is blocked.
    let rdg_udp = service("rdg-udp");
    assert_eq!(
        (rdg_udp.traffic.flows, rdg_udp.traffic.outcomes.unanswered),
        (2, 2)
    );
    // A reset on 5504 (RD Web Access to the broker), then a working retry.
    let rdcb = service("rdcb");
    assert_eq!(
        (
            rdcb.traffic.outcomes.rejected,
            rdcb.traffic.outcomes.answered
        ),
        (1, 1)
    );
    assert_eq!(rdcb.conn_states.get("REJ"), Some(&1));
    // Unanswered SYNs on 135 (rdsh1 to the licence server): one attempt, its retries counted.
    let epm = service("rpc-epm");
    assert_eq!(epm.traffic.outcomes.unanswered, 1);
    assert!(epm.syn_retries >= 2);
    // The syslog datagram refused by ICMP port unreachable.
    assert_eq!(summary.decode.icmp_errors_tied, 1);
    assert_eq!(summary.unclassified.traffic.outcomes.rejected, 1);
}
