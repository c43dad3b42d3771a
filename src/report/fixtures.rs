//! Summaries for the report tests: the bundled scenarios run through the real pipeline and
//! verdict, and hand-made deployments (hostile names, 50 hosts). Test-only; must not be used by
//! the program.

use std::fmt::Write as _;

use crate::capture::replay::ReplaySource;
use crate::capture::LinkType;
use crate::classify::signature::SignatureSet;
use crate::classify::Classifier;
use crate::deployment::Deployment;
use crate::flow::FlowTableConfig;
use crate::report::progress::Progress;
use crate::report::Summary;
use crate::time::Timestamp;
use crate::verdict::evaluate;
use crate::verdict::observed::ObservedEdge;

/// The sample deployment file.
pub(crate) const SAMPLE_DEPLOYMENT: &str = include_str!("../../samples/rds-deployment.toml");

/// The summary of a bundled scenario with the verdict against `deployment` (TOML text); the
/// name `empty` stands for a capture without a packet.
pub(crate) fn scenario(name: &str, deployment: &str) -> Summary {
    let frames = if name == "empty" {
        Vec::new()
    } else {
        crate::synth::generate(name).unwrap()
    };
    let mut source = ReplaySource::new(
        LinkType::ETHERNET,
        frames.into_iter().map(|f| (f.ts, f.data)).collect(),
    );
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let inputs = vec![format!("{name}.pcap")];
    let mut summary = crate::pipeline::run(
        &mut source,
        &inputs,
        &mut classifier,
        FlowTableConfig::default(),
        None,
        &Progress::new(None, true),
        1,
    )
    .unwrap();
    let deployment = Deployment::from_toml(deployment, "test-deployment.toml").unwrap();
    summary.verdict = Some(evaluate(
        &deployment,
        classifier.signatures(),
        &summary.observed,
        0,
    ));
    summary
}

/// A deployment of `n` hosts or so: 2 gateways, 2 web servers, 2 brokers, session hosts for
/// the rest, 2 virtualization hosts, 2 licence servers, 3 domain controllers, 2 NPS, 1 CRL,
/// 2 admin workstations, an office and a VPN network.
pub(crate) fn big_deployment(n: usize) -> String {
    let mut t = String::from(
        "[options]\ndirect_connections = true\nper_user_cal = true\n\n[[network]]\nname = \"office\"\ncidr = \"10.1.10.0/24\"\n\n[[network]]\nname = \"vpn\"\ncidr = \"10.9.0.0/16\"\n\n[[network]]\nname = \"it\"\ncidr = \"10.1.99.0/24\"\nrole = \"admin\"\n",
    );
    let mut host = |name: String, address: String, roles: &str| {
        let _ = write!(
            t,
            "\n[[host]]\nname = \"{name}\"\naddress = \"{address}\"\nroles = [{roles}]\n"
        );
    };
    let fixed = [
        ("rdgw", 2, "\"rd_gateway\"", "10.1.1"),
        ("rdweb", 2, "\"rd_web\"", "10.1.3"),
        ("rdcb", 2, "\"rd_broker\"", "10.1.2"),
        ("rdvh", 2, "\"rd_virtualization_host\"", "10.1.5"),
        ("rdlic", 2, "\"rd_license_server\"", "10.1.6"),
        ("dc", 3, "\"domain_controller\", \"dns\"", "10.1.0"),
        ("nps", 2, "\"nps\"", "10.1.7"),
        ("pki", 1, "\"crl\"", "10.1.8"),
        ("admin", 2, "\"admin\"", "10.1.9"),
    ];
    let used: usize = fixed.iter().map(|f| f.1).sum();
    for (name, count, roles, net) in fixed {
        for i in 1..=count {
            host(format!("{name}{i}"), format!("{net}.{}", 10 + i), roles);
        }
    }
    for i in 1..=n.saturating_sub(used) {
        host(
            format!("rdsh-{i:02}.contoso.example"),
            format!("10.1.4.{}", 10 + i),
            "\"rd_session_host\"",
        );
    }
    t
}

/// An observed edge for hand-made verdicts.
pub(crate) fn seen(
    client: &str,
    server: &str,
    proto: u8,
    port: u16,
    service: &str,
    outcome: u8,
) -> ObservedEdge {
    let ts = Timestamp::from_parts(1_793_606_400, 0);
    ObservedEdge {
        client: client.parse().unwrap(),
        server: server.parse().unwrap(),
        protocol: proto,
        server_port: port,
        service: Some(service.to_string()).filter(|s| !s.is_empty()),
        flows: 1,
        syn_retries: u64::from(outcome == 2) * 2,
        answered: u64::from(outcome == 0),
        rejected: u64::from(outcome == 1),
        icmp_rejected: 0,
        icmp_from: None,
        unanswered: u64::from(outcome == 2),
        first_seen: ts,
        last_seen: ts,
        packets: [3, u64::from(outcome == 0) * 3],
        bytes: [180, u64::from(outcome == 0) * 180],
        found_by_payload: 0,
        epm_mapped: 0,
        epm_mapped_failed: 0,
        epm_interface: None,
    }
}

/// A summary whose verdict is `deployment` (TOML) against hand-made observed edges.
pub(crate) fn with_verdict(deployment: &str, observed: Vec<ObservedEdge>) -> Summary {
    let mut summary = scenario("rds-incident", SAMPLE_DEPLOYMENT);
    let deployment = Deployment::from_toml(deployment, "test-deployment.toml").unwrap();
    summary.verdict = Some(evaluate(
        &deployment,
        &SignatureSet::builtin(),
        &observed,
        0,
    ));
    summary.observed = observed;
    summary
}

/// The 50-host deployment with some traffic: working, a rejected and an unanswered flow, and
/// RDP from the internet straight to a session host.
pub(crate) fn big_summary() -> Summary {
    use crate::flow::key::protocol::{TCP, UDP};
    let mut observed = vec![
        seen("10.1.10.21", "10.1.3.11", TCP, 443, "https", 0),
        seen("10.1.3.11", "10.1.2.11", TCP, 5504, "rdcb", 1),
        seen("10.1.4.13", "10.1.6.11", TCP, 135, "rpc-epm", 2),
        seen("198.51.100.7", "10.1.4.12", TCP, 3389, "rdp", 0),
        seen("10.1.1.11", "10.1.7.11", UDP, 1812, "radius", 0),
    ];
    for i in 1..=30 {
        observed.push(seen(
            "10.1.2.11",
            &format!("10.1.4.{}", 10 + i),
            TCP,
            445,
            "smb",
            0,
        ));
        observed.push(seen(
            &format!("10.1.4.{}", 10 + i),
            "10.1.0.11",
            TCP,
            389,
            "ldap",
            0,
        ));
    }
    with_verdict(&big_deployment(50), observed)
}
