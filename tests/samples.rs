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
        1,
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

/// The flow line matching client, server and server port.
fn line<'a>(flows: &'a [Value], client: &str, server: &str, proto: &str, port: u16) -> &'a Value {
    flows
        .iter()
        .find(|f| {
            f["id.orig_h"] == client
                && f["id.resp_h"] == server
                && f["proto"] == proto
                && f["id.resp_p"] == port
        })
        .unwrap_or_else(|| panic!("no {proto} flow {client} -> {server}:{port}"))
}

#[test]
fn deployment_sample_payload_fields_are_extracted() {
    let (summary, flows) = analyse(&sample_path("rds-deployment"));
    // Every RDS flow with payload is confirmed by it (nothing in the sample lies), except the
    // broker's 5504, whose protocol the map does not pin down (TLS: port only).
    for f in &flows {
        if f["service"].is_null() {
            continue;
        }
        let payload = f["payload"].as_str().unwrap();
        let expected = if f["orig_bytes"] == 0 || f["id.resp_p"] == 5504 {
            "port_only"
        } else {
            "confirmed"
        };
        assert_eq!(payload, expected, "{f}");
    }
    // The external users' cookies, on the gateway's RDP legs to the session hosts.
    let carol = line(&flows, "10.1.1.10", "10.1.2.21", "tcp", 3389);
    assert_eq!(carol["rdp"]["cookie"], "carol");
    assert_eq!(carol["rdp"]["selected_protocol"], "PROTOCOL_HYBRID");
    assert_eq!(carol["rdp"]["answer"], "confirm");
    let dave = line(&flows, "10.1.1.10", "10.1.2.22", "tcp", 3389);
    assert_eq!(dave["rdp"]["cookie"], "dave");
    // The internal users go through the broker: a tsv:// collection token to the broker, then
    // the msts= redirect token to the session host (MS-RDPBCGR 2.2.1.1: a request carries a
    // cookie or a routing token, never both), so their names show in Kerberos instead.
    let to_broker = line(&flows, "10.1.10.21", "10.1.2.10", "tcp", 3389);
    assert_eq!(to_broker["rdp"]["routing_token"]["kind"], "collection");
    assert_eq!(to_broker["rdp"]["routing_token"]["value"], "Desktops");
    let alice = line(&flows, "10.1.10.21", "10.1.2.21", "tcp", 3389);
    assert_eq!(alice["rdp"]["routing_token"]["kind"], "redirect");
    assert_eq!(alice["rdp"]["routing_token"]["target"], "10.1.2.21:3389");
    assert_eq!(
        alice["rdp"]["routing_token"]["value"],
        "352452874.15629.0000"
    );
    let bob = line(&flows, "10.1.10.22", "10.1.2.22", "tcp", 3389);
    assert_eq!(bob["rdp"]["routing_token"]["target"], "10.1.2.22:3389");
    for (client, user) in [("10.1.10.21", "alice"), ("10.1.10.22", "bob")] {
        assert!(
            flows.iter().any(|f| f["id.orig_h"] == client
                && f["kerberos"]["cname"] == user
                && f["kerberos"]["sname"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("TERMSRV/"))),
            "{user}: a TERMSRV ticket"
        );
    }
    // RD Gateway: the server name of the users' TLS sessions, and DTLS on 3391.
    for client in ["203.0.113.50", "198.51.100.23"] {
        let gw = line(&flows, client, "10.1.1.10", "tcp", 443);
        assert_eq!(gw["tls"]["server_name"], "rdgw.contoso.example");
        assert_eq!(
            (gw["app"].as_str(), gw["service"].as_str()),
            (Some("tls"), Some("https"))
        );
        let udp = line(&flows, client, "10.1.1.10", "udp", 3391);
        assert_eq!(udp["app"], "dtls");
        assert_eq!(udp["tls"]["dtls"], true);
    }
    // RD Licensing: the endpoint mapper hands out 49672 for the licensing interface, and the
    // connection to it binds that interface.
    let epm = line(&flows, "10.1.2.22", "10.1.2.30", "tcp", 135);
    assert_eq!(epm["dcerpc"]["epm_returned"][0]["port"], 49672);
    let lic = line(&flows, "10.1.2.22", "10.1.2.30", "tcp", 49672);
    assert_eq!(lic["service"], "rpc-dynamic");
    assert_eq!(lic["dcerpc"]["epm_mapped"]["name"], "HydraLsPipe");
    assert_eq!(lic["dcerpc"]["interfaces"][0]["name"], "HydraLsPipe");
    // RDP-UDP side channels: each tied by correlation ID to a TCP flow of the same run.
    let uids: Vec<&str> = flows.iter().map(|f| f["uid"].as_str().unwrap()).collect();
    let side: Vec<&Value> = flows.iter().filter(|f| f["app"] == "rdpeudp").collect();
    assert_eq!(side.len(), 3);
    for f in side {
        assert_eq!(f["rdpeudp"]["answered"], true, "{f}");
        assert_eq!(f["rdpeudp"]["tcp"]["by"], "correlation_id");
        let tcp = f["rdpeudp"]["tcp"]["uid"].as_str().unwrap();
        assert!(uids.contains(&tcp), "{tcp} is a flow of this capture");
        let owner = flows.iter().find(|g| g["uid"] == tcp).unwrap();
        assert_eq!(owner["id.resp_h"], f["id.resp_h"]);
        assert_eq!(
            owner["rdp"]["correlation_id"],
            f["rdpeudp"]["correlation_id"]
        );
    }
    // The summary aggregates the same facts per service.
    let rdp = summary
        .services
        .iter()
        .find(|s| s.service == "rdp")
        .unwrap();
    let cookies: Vec<&str> = rdp
        .details
        .cookies
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(cookies, ["carol", "dave"]);
    assert!(rdp
        .details
        .routing_tokens
        .iter()
        .any(|t| t.value == "redirect 10.1.2.21:3389"));
    assert_eq!(
        rdp.details.security_protocols.get("PROTOCOL_HYBRID"),
        Some(&6)
    );
    let https = summary
        .services
        .iter()
        .find(|s| s.service == "https")
        .unwrap();
    assert!(https
        .details
        .server_names
        .iter()
        .any(|c| c.value == "rdgw.contoso.example" && c.flows == 2));
    let rpc = summary
        .services
        .iter()
        .find(|s| s.service == "rpc-dynamic")
        .unwrap();
    assert_eq!(rpc.details.interfaces.get("HydraLsPipe"), Some(&1));
    let udp = summary
        .services
        .iter()
        .find(|s| s.service == "rdp-udp")
        .unwrap();
    let r = udp.details.rdpeudp.as_ref().unwrap();
    assert_eq!(
        (r.handshakes, r.answered, r.linked_by_correlation_id),
        (3, 3, 3)
    );
}

#[test]
fn incident_sample_finds_rdp_on_13389_by_payload() {
    let (_, flows) = analyse(&sample_path("rds-incident"));
    let odd = line(&flows, "198.51.100.77", "10.1.2.22", "tcp", 13389);
    assert_eq!(odd["service"], "rdp");
    assert_eq!(odd["payload"], "payload_only");
    assert_eq!(odd["port_service"], Value::Null);
    assert_eq!(odd["rdp"]["cookie"], "administr");
    assert_eq!(odd["rdp"]["selected_protocol"], "PROTOCOL_HYBRID");
    let direct = line(&flows, "198.51.100.23", "10.1.2.21", "tcp", 3389);
    assert_eq!(direct["rdp"]["cookie"], "dave");
    assert_eq!(direct["payload"], "confirmed");
}
