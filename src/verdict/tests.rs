//! Verdict behaviour on hand-made deployments and observed edges.

use super::*;
use crate::time::Timestamp;

const DEPLOYMENT: &str = r#"
[options]
direct_connections = true

[[network]]
name = "office"
cidr = "10.1.10.0/24"

[[host]]
name = "rdgw"
address = "10.1.1.10"
roles = ["rd_gateway"]

[[host]]
name = "rdsh1"
address = "10.1.2.21"
roles = ["rd_session_host"]

[[host]]
name = "rdsh2"
address = "10.1.2.22"
roles = ["rd_session_host"]

[[host]]
name = "dc1"
address = "10.1.0.5"
roles = ["domain_controller", "dns"]
"#;

fn deployment() -> Deployment {
    Deployment::from_toml(DEPLOYMENT, "test.toml").unwrap()
}

/// An observed edge with round numbers (also the sort test's, in `observed`).
pub(super) fn seen(
    client: &str,
    server: &str,
    proto: u8,
    port: u16,
    service: Option<&str>,
    answered: u64,
    unanswered: u64,
) -> ObservedEdge {
    ObservedEdge {
        client: client.parse().unwrap(),
        server: server.parse().unwrap(),
        protocol: proto,
        server_port: port,
        service: service.map(str::to_string),
        flows: answered + unanswered,
        syn_retries: unanswered * 2,
        answered,
        rejected: 0,
        icmp_rejected: 0,
        icmp_from: None,
        unanswered,
        first_seen: Timestamp::from_parts(1000, 0),
        last_seen: Timestamp::from_parts(1010, 0),
        packets: [10, 10],
        bytes: [1000, 1000],
        found_by_payload: 0,
        epm_mapped: 0,
        epm_mapped_failed: 0,
        epm_interface: None,
    }
}

fn edge<'a>(report: &'a VerdictReport, from: &str, to: &str, service: &str) -> &'a EdgeVerdict {
    report
        .edges
        .iter()
        .find(|e| e.from.starts_with(from) && e.to.starts_with(to) && e.service == service)
        .unwrap_or_else(|| panic!("no edge {from} -> {to} {service}"))
}

#[test]
fn expected_edges_follow_roles_and_options() {
    let d = deployment();
    let edges = expected_edges(&d, &SignatureSet::builtin());
    let has = |src: Party, dst: Party, service: &str| {
        edges
            .iter()
            .any(|e| e.src == src && e.dst == dst && e.service == service)
    };
    // The internet reaches the gateway, never a session host directly.
    assert!(has(Party::External, Party::Host(0), "https"));
    assert!(has(Party::External, Party::Host(0), "rdg-udp"));
    assert!(!has(Party::External, Party::Host(1), "rdp"));
    // Office clients connect directly (direct_connections), the gateway relays to session hosts.
    assert!(has(Party::Network(0), Party::Host(1), "rdp"));
    assert!(has(Party::Host(0), Party::Host(2), "rdp"));
    assert!(has(Party::Host(0), Party::Host(3), "kerberos"));
    // No NPS host: no RADIUS edge; no RD Web host: no 5504.
    assert!(!edges
        .iter()
        .any(|e| e.service == "radius" || e.service == "rdcb"));
}

#[test]
fn statuses_and_the_udp_fallback_hint() {
    let d = deployment();
    let observed = vec![
        seen("203.0.113.50", "10.1.1.10", 6, 443, Some("https"), 1, 0),
        seen("203.0.113.50", "10.1.1.10", 17, 3391, Some("rdg-udp"), 0, 1),
        seen("10.1.1.10", "10.1.0.5", 6, 88, Some("kerberos"), 1, 0),
        seen("10.1.2.21", "10.1.0.5", 6, 389, Some("ldap"), 0, 1),
    ];
    let report = evaluate(&d, &SignatureSet::builtin(), &observed, 0);
    assert_eq!(
        edge(&report, "external", "rdgw", "https").status,
        EdgeStatus::Working
    );
    let udp = edge(&report, "external", "rdgw", "rdg-udp");
    assert_eq!(udp.status, EdgeStatus::Unanswered);
    let hint = udp.hint.as_deref().unwrap();
    assert!(
        hint.contains("fell back to HTTPS") && hint.contains("Send Receive"),
        "{hint}"
    );
    assert_eq!(
        edge(&report, "rdsh1", "dc1", "ldap").status,
        EdgeStatus::Unanswered
    );
    assert_eq!(
        edge(&report, "rdgw", "dc1", "kerberos").status,
        EdgeStatus::Working
    );
    let not_seen = edge(&report, "rdgw", "dc1", "ldap");
    assert_eq!(not_seen.status, EdgeStatus::NotSeen);
    assert!(not_seen
        .hint
        .as_deref()
        .unwrap()
        .contains("Not proof of a block"));
    assert_eq!(report.counts.expected, report.edges.len() as u64);
    assert_eq!(
        report.counts.working
            + report.counts.rejected
            + report.counts.unanswered
            + report.counts.not_seen,
        report.counts.expected
    );
}

#[test]
fn internet_rdp_to_a_session_host_and_host_to_host_rdp_are_high() {
    let d = deployment();
    let observed = vec![
        seen("198.51.100.23", "10.1.2.21", 6, 3389, Some("rdp"), 1, 0),
        seen("10.1.2.21", "10.1.2.22", 6, 3389, Some("rdp"), 1, 0),
        seen("198.51.100.77", "10.1.2.22", 6, 13389, None, 1, 0),
        seen("10.1.10.21", "10.1.0.5", 17, 53, Some("dns"), 1, 0),
    ];
    let report = evaluate(&d, &SignatureSet::builtin(), &observed, 0);
    let high: Vec<&UnexpectedFlow> = report
        .unexpected
        .iter()
        .filter(|u| u.severity == Severity::High)
        .collect();
    assert_eq!(high.len(), 3, "{:#?}", report.unexpected);
    assert!(high
        .iter()
        .any(|u| u.reason.contains("bypassing the RD Gateway") && u.to.starts_with("rdsh1")));
    assert!(high
        .iter()
        .any(|u| u.reason.contains("from a session host") && u.to.starts_with("rdsh2")));
    assert!(high
        .iter()
        .any(|u| u.kind == "unlisted_port" && u.port == 13389));
    // Office DNS to the DC is infrastructure outside the RDS map: not listed.
    assert!(!report.unexpected.iter().any(|u| u.port == 53));
}

#[test]
fn dynamic_rpc_counts_only_with_evidence() {
    let text = format!("{DEPLOYMENT}\n[[host]]\nname = \"rdlic\"\naddress = \"10.1.2.30\"\nroles = [\"rd_license_server\"]\n");
    let d = Deployment::from_toml(&text, "t.toml").unwrap();
    let unproven = vec![seen("10.1.2.21", "10.1.2.30", 6, 49672, None, 1, 0)];
    let report = evaluate(&d, &SignatureSet::builtin(), &unproven, 0);
    assert_eq!(
        edge(&report, "rdsh1", "rdlic", "rpc-dynamic").status,
        EdgeStatus::NotSeen
    );
    let proven = vec![seen(
        "10.1.2.21",
        "10.1.2.30",
        6,
        49672,
        Some("rpc-dynamic"),
        1,
        0,
    )];
    let report = evaluate(&d, &SignatureSet::builtin(), &proven, 0);
    let rpc = edge(&report, "rdsh1", "rdlic", "rpc-dynamic");
    assert_eq!(rpc.status, EdgeStatus::Working);
    assert_eq!(rpc.evidence.ports, vec![49672]);
}

#[test]
fn rdp_found_by_payload_on_an_unlisted_port_says_so_and_stays_high() {
    let d = deployment();
    let mut found = seen("198.51.100.77", "10.1.2.22", 6, 13389, Some("rdp"), 1, 0);
    found.found_by_payload = 1;
    let report = evaluate(&d, &SignatureSet::builtin(), &[found], 0);
    let u = &report.unexpected[0];
    assert_eq!(
        (u.severity, u.kind, u.port),
        (Severity::High, "rds_service", 13389)
    );
    assert!(
        u.reason
            .starts_with("RDP on port 13389 (found by payload): RDP from the internet"),
        "{}",
        u.reason
    );
    assert_eq!(u.evidence.found_by_payload, 1);
}

#[test]
fn a_failed_connection_to_a_port_the_endpoint_mapper_returned_is_named() {
    let text = format!("{DEPLOYMENT}\n[[host]]\nname = \"rdlic\"\naddress = \"10.1.2.30\"\nroles = [\"rd_license_server\"]\n");
    let d = Deployment::from_toml(&text, "t.toml").unwrap();
    let epm = seen("10.1.2.21", "10.1.2.30", 6, 135, Some("rpc-epm"), 1, 0);
    let mut blocked = seen(
        "10.1.2.21",
        "10.1.2.30",
        6,
        49672,
        Some("rpc-dynamic"),
        0,
        1,
    );
    blocked.epm_mapped = 1;
    blocked.epm_mapped_failed = 1;
    blocked.epm_interface = Some("HydraLsPipe".into());
    let report = evaluate(&d, &SignatureSet::builtin(), &[epm, blocked], 0);
    let rpc = edge(&report, "rdsh1", "rdlic", "rpc-dynamic");
    assert_eq!(rpc.status, EdgeStatus::Unanswered);
    let hint = rpc.hint.as_deref().unwrap();
    assert!(
        hint.starts_with(
            "The endpoint mapper returned port 49672 for HydraLsPipe; the connection to 49672 failed"
        ),
        "{hint}"
    );
    assert_eq!(rpc.evidence.epm_failed[0].port, 49672);
}

#[test]
fn custom_rdp_port_moves_the_rdp_edges() {
    let text = DEPLOYMENT.replace(
        "direct_connections = true",
        "direct_connections = true\nrdp_port = 13389",
    );
    let d = Deployment::from_toml(&text, "t.toml").unwrap();
    let edges = expected_edges(&d, &SignatureSet::builtin());
    let rdp: Vec<&ExpectedEdge> = edges
        .iter()
        .filter(|e| e.service == "rdp" && e.dst == Party::Host(1))
        .collect();
    assert!(!rdp.is_empty());
    assert!(rdp
        .iter()
        .all(|e| e.ports == vec![PortRange::single(13389)]));
}

#[test]
fn inference_counts_a_client_once_whatever_the_services_its_flows_were_given() {
    // One client's RDP flows to one host under three services (rdp, tls and none) are
    // three observed edges, two of them answered, but one client; a second
    // answered client makes two, and a third whose flows went unanswered is not counted.
    let observed = [
        seen(
            "10.1.10.5",
            "10.1.2.21",
            protocol::TCP,
            3389,
            Some("rdp"),
            3,
            0,
        ),
        seen("10.1.10.5", "10.1.2.21", protocol::TCP, 3389, None, 0, 1),
        seen(
            "10.1.10.5",
            "10.1.2.21",
            protocol::TCP,
            3389,
            Some("tls"),
            1,
            0,
        ),
        seen(
            "10.1.10.6",
            "10.1.2.21",
            protocol::TCP,
            3389,
            Some("rdp"),
            1,
            0,
        ),
        seen("10.1.10.7", "10.1.2.21", protocol::TCP, 3389, None, 0, 2),
    ];
    let deployment = infer::infer(&observed, "test");
    let host = deployment
        .hosts
        .iter()
        .find(|h| h.addresses == ["10.1.2.21".parse::<IpAddr>().unwrap()])
        .expect("the session host is inferred");
    let evidence = &host.inferred.first().expect("one inference").evidence;
    assert_eq!(
        evidence.first().map(String::as_str),
        Some("answers tcp/3389 for 2 clients")
    );
    // All three clients opened RDP to it: their /24 is a client network.
    assert_eq!(deployment.networks.len(), 1);
}
