//! Findings: what in the RDP traffic looks like an attack or a weakness, each with its rule,
//! severity, sources, targets and the flows and sessions behind it. Two rules reuse the
//! verdict's unexpected flows (RDP from the internet straight to session hosts; RDP between
//! internal hosts whose roles do not call for it) so that the findings never contradict the
//! verdict; the others read the sessions and the flows ([`Thresholds`] holds their limits).
//! Must not look at packets or do I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::sessions::{Session, SessionOutcome};
use super::{Candidate, CandidateKind, PacketRef, Thresholds};
use crate::classify::probe::rdp::Protocols;
use crate::classify::signature::Role;
use crate::deployment::Deployment;
use crate::time::Timestamp;
use crate::verdict::{Party, Severity, VerdictReport};

/// The rule a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum FindingRule {
    /// RDP from an external address straight to a session host, virtualization host or broker
    /// (the verdict's unexpected `rdp` flows from the internet).
    #[serde(rename = "rdp-external-to-session-host")]
    ExternalToSessionHost,
    /// RDP between internal hosts whose roles do not call for it (the verdict's other
    /// unexpected `rdp` flows): lateral movement, or an administrator hopping.
    #[serde(rename = "rdp-lateral-movement")]
    LateralMovement,
    /// RDP found by payload on a port the map does not list for it.
    #[serde(rename = "rdp-non-standard-port")]
    NonStandardPort,
    /// Many failed logons from one source within the spray window.
    #[serde(rename = "rdp-password-guessing")]
    PasswordGuessing,
    /// Many distinct cookies (user names) from one source within the spray window, some of
    /// them failed.
    #[serde(rename = "rdp-password-spray")]
    PasswordSpray,
    /// RDP attempts from one source to many hosts, unanswered or refused, within the scan
    /// window.
    #[serde(rename = "rdp-scan")]
    Scan,
    /// Standard RDP security selected (PROTOCOL_RDP: no TLS, no NLA; MS-RDPBCGR 5.3).
    #[serde(rename = "rdp-weak-security")]
    WeakSecurity,
    /// RDP-UDP SYNs the server never answered (MS-RDPEUDP 3.1.5.1.1): UDP 3389 blocked, the
    /// session stays on TCP.
    #[serde(rename = "rdp-udp-blocked")]
    UdpBlocked,
}

impl FindingRule {
    /// The rule id, as the JSON writes it.
    pub fn id(self) -> &'static str {
        match self {
            Self::ExternalToSessionHost => "rdp-external-to-session-host",
            Self::LateralMovement => "rdp-lateral-movement",
            Self::NonStandardPort => "rdp-non-standard-port",
            Self::PasswordGuessing => "rdp-password-guessing",
            Self::PasswordSpray => "rdp-password-spray",
            Self::Scan => "rdp-scan",
            Self::WeakSecurity => "rdp-weak-security",
            Self::UdpBlocked => "rdp-udp-blocked",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The rule that fired.
    pub rule: FindingRule,
    /// How much it matters.
    pub severity: Severity,
    /// What it means, in a sentence.
    pub summary: String,
    /// The addresses it comes from.
    pub sources: Vec<String>,
    /// The addresses (or address:port) it is aimed at.
    pub targets: Vec<String>,
    /// The flows behind it (uids), by start.
    pub flows: Vec<String>,
    /// The sessions behind it (their RDP connection's uid), by start.
    pub sessions: Vec<String>,
    /// First packet of the first flow (seconds since the epoch).
    pub first_seen: f64,
    /// Where it starts in the input.
    pub first_packet: PacketRef,
}

/// Collects the flows of one finding as it is built.
struct Draft<'a> {
    rule: FindingRule,
    severity: Severity,
    summary: String,
    sources: BTreeSet<IpAddr>,
    targets: BTreeSet<String>,
    flows: Vec<&'a Candidate>,
    sessions: Vec<String>,
}

impl<'a> Draft<'a> {
    fn new(rule: FindingRule, severity: Severity, summary: String) -> Self {
        Self {
            rule,
            severity,
            summary,
            sources: BTreeSet::new(),
            targets: BTreeSet::new(),
            flows: Vec::new(),
            sessions: Vec::new(),
        }
    }

    fn finish(mut self, inputs: &[String]) -> Option<Finding> {
        self.flows
            .sort_by_key(|c| (c.first_seen, c.first_pos.file, c.first_pos.number));
        self.flows.dedup_by(|a, b| a.uid == b.uid);
        let first = self.flows.first()?;
        Some(Finding {
            rule: self.rule,
            severity: self.severity,
            summary: self.summary,
            sources: self.sources.iter().map(ToString::to_string).collect(),
            targets: self.targets.into_iter().collect(),
            flows: self.flows.iter().map(|c| c.uid.clone()).collect(),
            sessions: self.sessions,
            first_seen: first.first_seen.as_secs_f64(),
            first_packet: PacketRef::of(first.first_pos, inputs),
        })
    }
}

fn secs(t: f64) -> crate::time::Duration {
    crate::time::Duration::from_nanos((t * 1e9) as i64)
}

/// The window (of length `window`, starting at an item; the items sorted by time) holding the
/// most distinct `key`s among windows with at least one `gate` item: its first and last index
/// and that number. Two pointers with counts, so linear in the items whatever the window.
fn best_window<T, K: std::hash::Hash + Eq>(
    items: &[T],
    time: impl Fn(&T) -> Timestamp,
    window: crate::time::Duration,
    key: impl Fn(&T) -> Option<K>,
    gate: impl Fn(&T) -> bool,
) -> Option<(usize, usize, usize)> {
    let mut counts: hashbrown::HashMap<K, usize> = hashbrown::HashMap::new();
    let mut gated = 0usize;
    let mut best: Option<(usize, usize, usize)> = None;
    // `end` is one past the last item in the current window.
    let mut end = 0;
    for (start, first) in items.iter().enumerate() {
        let limit = time(first).plus(window);
        while let Some(next) = items.get(end).filter(|n| time(n) <= limit) {
            if let Some(k) = key(next) {
                *counts.entry(k).or_default() += 1;
            }
            gated += usize::from(gate(next));
            end += 1;
        }
        if gated > 0 && best.is_none_or(|(_, _, b)| counts.len() > b) {
            best = Some((start, end.saturating_sub(1), counts.len()));
        }
        // Drop `first` before the window moves on.
        if let Some(k) = key(first) {
            if let Some(n) = counts.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&k);
                }
            }
        }
        gated -= usize::from(gate(first));
    }
    best
}

/// Runs every rule.
pub fn find(
    candidates: &[Candidate],
    sessions: &[Session],
    deployment: &Deployment,
    verdict: &VerdictReport,
    thresholds: &Thresholds,
    inputs: &[String],
) -> Vec<Finding> {
    let mut drafts: Vec<Draft<'_>> = Vec::new();
    // The session each flow belongs to, and each flow by uid (the rules look both up often).
    let mut session_by_flow: hashbrown::HashMap<&str, &str> = hashbrown::HashMap::new();
    for s in sessions {
        for uid in &s.flows {
            session_by_flow
                .entry(uid.as_str())
                .or_insert(s.uid.as_str());
        }
    }
    let session_of = |c: &Candidate| {
        session_by_flow
            .get(c.uid.as_str())
            .map(|u| (*u).to_string())
    };
    let by_uid: hashbrown::HashMap<&str, &Candidate> =
        candidates.iter().map(|c| (c.uid.as_str(), c)).collect();

    // The verdict's unexpected RDP: matched back to flows by the same party labels and port.
    for unexpected in &verdict.unexpected {
        let kind = match unexpected.service.as_deref() {
            Some("rdp") => CandidateKind::Rdp,
            Some("rdp-udp") => CandidateKind::RdpUdp,
            _ => continue,
        };
        let external = unexpected.from_roles.contains(&Role::Internet);
        let rule = if external {
            FindingRule::ExternalToSessionHost
        } else {
            FindingRule::LateralMovement
        };
        let mut draft = Draft::new(rule, unexpected.severity, unexpected.reason.clone());
        let (from, to) = (
            parties_labelled(deployment, &unexpected.from),
            parties_labelled(deployment, &unexpected.to),
        );
        for c in candidates.iter().filter(|c| c.kind == kind) {
            if c.server.1 == unexpected.port
                && from.contains(&Party::of(deployment, c.client.0))
                && to.contains(&Party::of(deployment, c.server.0))
            {
                draft.sources.insert(c.client.0);
                draft.targets.insert(c.server.0.to_string());
                draft.sessions.extend(session_of(c));
                draft.flows.push(c);
            }
        }
        drafts.push(draft);
    }

    // RDP on a port the map does not list, found by the payload: one finding per server port.
    let mut by_port: BTreeMap<(IpAddr, u16), Vec<&Candidate>> = BTreeMap::new();
    for c in candidates
        .iter()
        .filter(|c| c.kind == CandidateKind::Rdp && c.payload_only)
    {
        by_port.entry(c.server).or_default().push(c);
    }
    for ((ip, port), flows) in by_port {
        let mut draft = Draft::new(
            FindingRule::NonStandardPort,
            Severity::Warning,
            format!("RDP answering on port {port} of {ip} (found by payload): a listener moved off 3389 or a tunnel"),
        );
        draft.targets.insert(format!("{ip}:{port}"));
        for c in flows {
            draft.sources.insert(c.client.0);
            draft.sessions.extend(session_of(c));
            draft.flows.push(c);
        }
        drafts.push(draft);
    }

    // Password guessing and spraying, per user-facing source.
    let mut by_source: BTreeMap<IpAddr, Vec<&Session>> = BTreeMap::new();
    for s in sessions {
        by_source.entry(s.client_ip).or_default().push(s);
    }
    let spray_window = secs(thresholds.spray_window_secs);
    for (source, list) in &by_source {
        let failed_logon = |s: &&Session| s.outcome.is_failed_logon();
        let failed = best_window(
            list,
            |s| s.first_seen,
            spray_window,
            |s| failed_logon(s).then_some(s.core),
            failed_logon,
        );
        let cookies = best_window(
            list,
            |s| s.first_seen,
            spray_window,
            |s| s.user.as_deref(),
            failed_logon,
        );
        let spray = cookies.filter(|(_, _, n)| *n >= thresholds.spray_min_cookies as usize);
        let guess = failed.filter(|(_, _, n)| *n >= thresholds.spray_min_failures as usize);
        let (rule, window, summary) = match (spray, guess) {
            (Some((a, b, n)), _) => (
                FindingRule::PasswordSpray,
                (a, b),
                format!(
                    "password spraying: {n} distinct user names from {source} within {}, with failed logons",
                    window_text(thresholds.spray_window_secs)
                ),
            ),
            (None, Some((a, b, n))) => (
                FindingRule::PasswordGuessing,
                (a, b),
                format!(
                    "password guessing: {n} failed logons from {source} within {}",
                    window_text(thresholds.spray_window_secs)
                ),
            ),
            (None, None) => continue,
        };
        let severity = if is_external(deployment, *source) {
            Severity::High
        } else {
            Severity::Warning
        };
        let mut draft = Draft::new(rule, severity, summary);
        draft.sources.insert(*source);
        for s in list.get(window.0..=window.1).unwrap_or_default() {
            if !(s.outcome.is_failed_logon() || s.user.is_some()) {
                continue;
            }
            draft.targets.insert(s.server.clone());
            draft.sessions.push(s.uid.clone());
            draft.flows.extend(
                s.flows
                    .iter()
                    .filter_map(|u| by_uid.get(u.as_str()).copied()),
            );
        }
        drafts.push(draft);
    }

    // Scanning: attempts that never became a session, to many hosts from one source.
    let mut attempts: BTreeMap<IpAddr, Vec<(&Candidate, SessionOutcome)>> = BTreeMap::new();
    for s in sessions {
        if matches!(
            s.outcome,
            SessionOutcome::Unanswered | SessionOutcome::Refused | SessionOutcome::NotRdp
        ) {
            if let Some(c) = candidates.get(s.core) {
                attempts
                    .entry(s.tcp_client)
                    .or_default()
                    .push((c, s.outcome));
            }
        }
    }
    let scan_window = secs(thresholds.scan_window_secs);
    for (source, list) in &attempts {
        let best = best_window(
            list,
            |(c, _)| c.first_seen,
            scan_window,
            |(c, _)| Some(c.server.0),
            |_| true,
        );
        let Some((a, b, n)) = best.filter(|(_, _, n)| *n >= thresholds.scan_min_targets as usize)
        else {
            continue;
        };
        let window = list.get(a..=b).unwrap_or_default();
        let refused = window
            .iter()
            .filter(|(_, o)| *o == SessionOutcome::Refused)
            .count();
        let mut draft = Draft::new(
            FindingRule::Scan,
            Severity::High,
            format!(
                "RDP scanning: {source} tried {n} hosts within {} ({} unanswered, {refused} refused)",
                window_text(thresholds.scan_window_secs),
                window.len() - refused,
            ),
        );
        draft.sources.insert(*source);
        for (c, _) in window {
            draft.targets.insert(c.server.0.to_string());
            draft.sessions.extend(session_of(c));
            draft.flows.push(c);
        }
        drafts.push(draft);
    }

    // Weak security, per server.
    let mut weak: BTreeMap<(IpAddr, u16), Vec<&Session>> = BTreeMap::new();
    for s in sessions {
        let selected = candidates
            .get(s.core)
            .and_then(|c| c.rdp.as_ref())
            .and_then(|r| r.selected_protocol);
        if selected == Some(Protocols::RDP) {
            weak.entry((s.server_ip, s.server_port))
                .or_default()
                .push(s);
        }
    }
    for ((ip, port), list) in weak {
        let mut draft = Draft::new(
            FindingRule::WeakSecurity,
            Severity::Warning,
            format!("standard RDP security (PROTOCOL_RDP, no TLS or NLA) selected by {ip}:{port}: credentials cross under RC4 and the server is not authenticated"),
        );
        draft.targets.insert(format!("{ip}:{port}"));
        for s in list {
            draft.sources.insert(s.client_ip);
            draft.sessions.push(s.uid.clone());
            draft.flows.extend(candidates.get(s.core));
        }
        drafts.push(draft);
    }

    // RDP over UDP (direct, or the gateway's UDP transport) never answered, per server.
    let mut blocked: BTreeMap<(IpAddr, u16), Vec<&Candidate>> = BTreeMap::new();
    for c in candidates.iter().filter(|c| {
        matches!(c.kind, CandidateKind::RdpUdp | CandidateKind::RdgUdp) && !c.udp_answered
    }) {
        blocked.entry(c.server).or_default().push(c);
    }
    for ((ip, port), flows) in blocked {
        let what = if flows.iter().any(|c| c.kind == CandidateKind::RdgUdp) {
            "the RD Gateway's UDP transport (DTLS)"
        } else {
            "RDP-UDP"
        };
        let mut draft = Draft::new(
            FindingRule::UdpBlocked,
            Severity::Warning,
            format!("{what} to {ip}:{port} never answered: UDP blocked on the way, sessions stay on TCP"),
        );
        draft.targets.insert(format!("{ip}:{port}"));
        for c in flows {
            draft.sources.insert(c.client.0);
            draft.flows.push(c);
        }
        drafts.push(draft);
    }

    let mut out: Vec<Finding> = drafts
        .into_iter()
        .filter_map(|d| d.finish(inputs))
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_packet.cmp(&b.first_packet))
            .then(a.rule.cmp(&b.rule))
    });
    out
}

/// Every party of the deployment whose label is `label`. Comparing parties, not the labels of
/// each flow's two addresses, spared formatting two labels for every RDP flow (issue 6).
fn parties_labelled(deployment: &Deployment, label: &str) -> Vec<Party> {
    let hosts = (0..deployment.hosts.len()).map(Party::Host);
    let networks = (0..deployment.networks.len()).map(Party::Network);
    hosts
        .chain(networks)
        .chain([Party::Internal, Party::External])
        .filter(|party| party.label(deployment) == label)
        .collect()
}

fn is_external(deployment: &Deployment, ip: IpAddr) -> bool {
    Party::of(deployment, ip) == Party::External
}

fn window_text(secs: f64) -> String {
    if secs >= 60.0 && secs % 60.0 == 0.0 {
        format!("{} min", secs / 60.0)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_nanos(secs * 1_000_000_000)
    }

    #[test]
    fn best_window_counts_distinct_keys_in_the_busiest_window() {
        // (time, key, gate): three keys within 10 s at 100–108, one gated item among them.
        let items = [
            (0, 'a', false),
            (100, 'a', false),
            (102, 'b', true),
            (105, 'a', false),
            (108, 'c', false),
            (200, 'd', true),
        ];
        let best = best_window(
            &items,
            |i| at(i.0),
            crate::time::Duration::from_secs(10),
            |i| Some(i.1),
            |i| i.2,
        );
        assert_eq!(best, Some((1, 4, 3)));
        // Without any gated item no window counts.
        let none = best_window(
            &items,
            |i| at(i.0),
            crate::time::Duration::from_secs(10),
            |i| Some(i.1),
            |_| false,
        );
        assert_eq!(none, None);
    }

    #[test]
    fn best_window_is_linear_on_a_large_scan() {
        // 200,000 attempts to distinct hosts, one a millisecond: the window of 5 minutes holds
        // all of them. Re-counting each window would take minutes; running counts do not.
        let items: Vec<i64> = (0..200_000).collect();
        let best = best_window(
            &items,
            |i| Timestamp::from_nanos(i * 1_000_000),
            crate::time::Duration::from_secs(300),
            |i| Some(*i),
            |_| true,
        );
        assert_eq!(best, Some((0, 199_999, 200_000)));
    }
}
