//! Hints: a short, plain-language sentence for every problem edge, grounded in the reference
//! document (shared/seeds/rds-ports.md, cited by each rule's `source`). Owns the wording; must not
//! change any status.

use super::{EdgeStatus, EdgeVerdict, ExpectedEdge};
use crate::classify::signature::{SignatureSet, Transport};

/// The first sentence of a rule's description: what the flow is for.
fn purpose(edge: &EdgeVerdict, expected: &ExpectedEdge, signatures: &SignatureSet) -> String {
    let description = expected
        .rules
        .first()
        .and_then(|i| signatures.rules.get(*i))
        .map(|r| r.description.as_str())
        .unwrap_or_default();
    let first = description
        .split_inclusive(". ")
        .next()
        .unwrap_or(description)
        .trim();
    if first.is_empty() {
        format!("{} is needed between these roles.", edge.service)
    } else {
        first.to_string()
    }
}

fn attempts(edge: &EdgeVerdict) -> String {
    let e = &edge.evidence;
    let mut text = format!("{} attempt{}", e.flows, if e.flows == 1 { "" } else { "s" });
    if e.syn_retries > 0 {
        text.push_str(&format!(
            " ({} SYN retr{})",
            e.syn_retries,
            if e.syn_retries == 1 { "y" } else { "ies" }
        ));
    }
    text
}

/// Is the sibling edge (same parties, this service) working?
fn sibling_status(
    edges: &[EdgeVerdict],
    edge: &EdgeVerdict,
    service: &str,
    transport: Transport,
) -> Option<EdgeStatus> {
    edges
        .iter()
        .find(|e| {
            e.from == edge.from
                && e.to == edge.to
                && e.service == service
                && e.transport == transport
        })
        .map(|e| e.status)
}

/// Sets `hint` on every edge that needs one. `expected` is in the same order as `edges`.
pub fn annotate(edges: &mut [EdgeVerdict], signatures: &SignatureSet, expected: &[ExpectedEdge]) {
    // Hints are made against every edge as it stands, then set: a hint may read its siblings'
    // status. (A copy of every edge to read them from took 1 ms of a 5.5 ms verdict on the
    // benchmark capture, issue 6.)
    let hints: Vec<Option<String>> = edges
        .iter()
        .zip(expected)
        .map(|(edge, exp)| {
            let port = format!("{}/{}", edge.transport, edge.ports);
            let why = purpose(edge, exp, signatures);
            let e = &edge.evidence;
            let hint = match edge.status {
                EdgeStatus::Working if e.rejected + e.icmp_rejected + e.unanswered > 0 => Some(format!(
                    "Works, but {} of {} attempts failed ({} rejected, {} unanswered): an intermittent block, \
                     a service restart, or a load balancer with a dead member.",
                    e.rejected + e.icmp_rejected + e.unanswered,
                    e.flows,
                    e.rejected + e.icmp_rejected,
                    e.unanswered
                )),
                EdgeStatus::Working => None,
                EdgeStatus::NotSeen => Some(
                    "Not seen in this capture: it was not needed while the capture ran, or the capture point \
                     does not see this path. Not proof of a block."
                        .to_string(),
                ),
                EdgeStatus::Rejected if e.icmp_rejected > 0 && e.rejected == 0 => Some(format!(
                    "Refused by ICMP destination unreachable from {}: a router or firewall blocks {port}. {why}",
                    e.icmp_from.as_deref().unwrap_or("a router")
                )),
                EdgeStatus::Rejected => Some(format!(
                    "{} refused with a TCP reset: nothing listens on {port} on the server, or a firewall rejects it. {why}",
                    capitalise(&attempts(edge))
                )),
                EdgeStatus::Unanswered => Some(unanswered_hint(edges, edge, &port, &why)),
            };
            match (epm_sentence(&edge.evidence), hint) {
                (Some(epm), Some(hint)) => Some(format!("{epm} {hint}")),
                (Some(epm), None) => Some(epm),
                (None, hint) => hint,
            }
        })
        .collect();
    for (edge, hint) in edges.iter_mut().zip(hints) {
        edge.hint = hint;
    }
}

/// For dynamic-RPC edges: which ports the endpoint mapper handed out whose connections then
/// failed (C706 appendix L: ept_map returns the port in its tower). TCP 135 got through, so
/// the block is on the dynamic port.
fn epm_sentence(e: &super::EdgeEvidence) -> Option<String> {
    if e.epm_failed.is_empty() {
        return None;
    }
    let parts: Vec<String> = e
        .epm_failed
        .iter()
        .map(|f| {
            let interface = f
                .interface
                .as_deref()
                .map(|i| format!(" for {i}"))
                .unwrap_or_default();
            format!(
                "the endpoint mapper returned port {}{interface}; the connection to {} failed",
                f.port, f.port
            )
        })
        .collect();
    Some(format!(
        "{}: TCP 135 gets through, the dynamic port does not.",
        capitalise(&parts.join("; "))
    ))
}

fn unanswered_hint(all: &[EdgeVerdict], edge: &EdgeVerdict, port: &str, why: &str) -> String {
    let base = format!(
        "{} to {port} got no answer: a firewall drops it on the way, or the server is down.",
        capitalise(&attempts(edge))
    );
    match edge.service.as_str() {
        // rds-ports.md § Remote Desktop Gateway: UDP 3391 for RDP over UDP; the note on
        // directional UDP analysis (TMG) requiring "Send Receive".
        "rdg-udp" => {
            let https = sibling_status(all, edge, "https", Transport::Tcp);
            let fallback = match https {
                Some(EdgeStatus::Working) => "Clients fell back to HTTPS (TCP 443 to the gateway works), so sessions run, \
                                              but over TCP only.",
                _ => "TCP 443 to the gateway does not work either, so clients cannot connect through the gateway.",
            };
            format!(
                "{base} {fallback} Allow UDP 3391 both ways; firewalls with directional UDP analysis (such as TMG) \
                 need UDP \"Send Receive\" (rds-ports.md § Remote Desktop Gateway)."
            )
        }
        // rds-ports.md: "TCP and UDP 3389", and the same "Send Receive" note for gateway → resources.
        "rdp-udp" => {
            let tcp = sibling_status(all, edge, "rdp", Transport::Tcp);
            let fallback = match tcp {
                Some(EdgeStatus::Working) => "Sessions stayed on TCP 3389 (it works), without UDP's better latency.",
                _ => "TCP 3389 between them does not work either.",
            };
            format!("{base} {fallback} Allow UDP {} both ways (\"Send Receive\" on firewalls with directional UDP analysis).", edge.ports)
        }
        "rpc-epm" | "rpc-dynamic" | "rpc-dynamic-legacy" => format!(
            "{base} {why} RPC needs TCP 135 and then the dynamic port the endpoint mapper hands out \
             (49152-65535 since Windows Server 2008): open both."
        ),
        _ => format!("{base} {why}"),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
