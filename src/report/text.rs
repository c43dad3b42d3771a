//! The human summary on stdout: a few aligned tables an administrator reads top to bottom.
//! Owns layout and number formatting; must not compute anything the `Summary` lacks, and prints
//! no string from the wire without escaping it.

use std::io::{self, Write};

use super::{Counted, DetailsSummary, Summary, Traffic};
use crate::time::{format_utc, Timestamp};

/// Thousands separators: 1234567 -> "1,234,567".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in human units (decimal, as Wireshark's statistics show them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A name for common EtherTypes in the JSON's "0x0806" form (IEEE 802 numbers).
fn ether_type_name(hex: &str) -> &'static str {
    match hex {
        "0x0806" => "ARP",
        "0x8035" => "RARP",
        "0x88cc" => "LLDP",
        "0x888e" => "EAPOL",
        "0x8863" => "PPPoE discovery",
        "0x8864" => "PPPoE (not IP)",
        "0x9000" => "loopback test",
        "0x88e5" => "MACsec",
        "0x8847" | "0x8848" => "MPLS",
        "0x0800" | "0x86dd" => "IP",
        h if u16::from_str_radix(h.trim_start_matches("0x"), 16).is_ok_and(|v| v < 0x0600) => {
            "802.3 LLC"
        }
        _ => "other",
    }
}

/// A name for IP protocol numbers that form no flow (IANA protocol numbers).
fn ip_protocol_name(number: &str) -> &'static str {
    match number {
        "2" => "IGMP",
        "4" => "IP-in-IP",
        "41" => "IPv6-in-IPv4",
        "47" => "GRE",
        "50" => "ESP",
        "51" => "AH",
        "89" => "OSPF",
        "103" => "PIM",
        "112" => "VRRP",
        "132" => "SCTP",
        _ => "protocol",
    }
}

fn traffic_columns(t: &Traffic) -> String {
    format!(
        "{:>7} {:>9} {:>9} {:>10} {:>10} {:>10}",
        group(t.flows),
        group(t.outcomes.answered),
        group(t.outcomes.rejected),
        group(t.outcomes.unanswered),
        group(t.packets),
        human_bytes(t.bytes)
    )
}

/// Writes the human summary.
///
/// # Errors
/// Any error from the writer.
pub fn write_summary<W: Write + ?Sized>(out: &mut W, s: &Summary, style: Style) -> io::Result<()> {
    let inputs: Vec<&str> = s.inputs.iter().map(|i| i.path.as_str()).collect();
    writeln!(
        out,
        "rdsflows {} — {}",
        env!("CARGO_PKG_VERSION"),
        inputs.join(", ")
    )?;
    let span = match (s.capture.first_ts, s.capture.last_ts) {
        (Some(a), Some(b)) => format!(
            "{} → {} UTC ({:.0} s)",
            format_utc(Timestamp::from_nanos((a * 1e9) as i64)),
            format_utc(Timestamp::from_nanos((b * 1e9) as i64)),
            s.capture.duration
        ),
        _ => "no packets".into(),
    };
    let links: Vec<String> = s
        .capture
        .link_types
        .iter()
        .map(|(l, n)| format!("{l} {}", group(*n)))
        .collect();
    writeln!(
        out,
        "Capture: {} packets, {} on the wire, {span}; link types: {}",
        group(s.totals.packets),
        human_bytes(s.totals.wire_bytes),
        if links.is_empty() {
            "none".into()
        } else {
            links.join(", ")
        }
    )?;
    if let Some(live) = &s.live {
        let filter = match &live.filter {
            Some(f) => format!("filter '{}'", f.escape_debug()),
            None => "no filter".into(),
        };
        writeln!(
            out,
            "Live: {} ({}), {filter}, snaplen {}{}; stopped by {}",
            live.interface,
            live.link_type,
            live.snaplen,
            if live.promiscuous {
                ", promiscuous"
            } else {
                ""
            },
            live.stopped_by
        )?;
        writeln!(
            out,
            "Kernel: {} received, {} dropped (capture buffer full), {} dropped by the interface",
            group(live.kernel.received),
            group(live.kernel.dropped),
            group(live.kernel.if_dropped)
        )?;
        if !live.written.is_empty() {
            writeln!(out, "Written: {}", live.written.join(", "))?;
        }
    }
    writeln!(
        out,
        "Flows: {} (tcp {}, udp {}, icmp {}); RDS services: {} flows, {} packets, {}",
        group(s.totals.flows),
        group(s.totals.tcp_flows),
        group(s.totals.udp_flows),
        group(s.totals.icmp_flows),
        group(s.totals.rds_flows),
        group(s.totals.rds_packets),
        human_bytes(s.totals.rds_bytes)
    )?;
    for input in s.inputs.iter().filter(|i| i.error.is_some()) {
        writeln!(
            out,
            "DAMAGED INPUT: {} (analysed up to there)",
            input.error.as_deref().unwrap_or_default()
        )?;
    }
    if let Some(verdict) = &s.verdict {
        writeln!(out)?;
        write_verdict(out, verdict, style)?;
    }
    if let Some(incident) = &s.incident {
        writeln!(out)?;
        write_findings(out, incident, style)?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "{:<32} {:>7} {:>9} {:>9} {:>10} {:>10} {:>10}  conn_state",
        "RDS service", "flows", "answered", "rejected", "unanswered", "packets", "bytes"
    )?;
    if s.services.is_empty() {
        writeln!(out, "  (no flow matched an RDS service)")?;
    }
    for svc in &s.services {
        let label = format!("{} {}/{}", svc.service, svc.transport, svc.ports);
        let states: Vec<String> = svc
            .conn_states
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        let mut extra = String::new();
        if svc.syn_retries > 0 {
            extra = format!("; {} SYN retries", group(svc.syn_retries));
        }
        writeln!(
            out,
            "  {label:<30} {}  {}{extra}",
            traffic_columns(&svc.traffic),
            states.join(", ")
        )?;
        for line in details_lines(&svc.details) {
            writeln!(out, "      {line}")?;
        }
    }

    writeln!(out)?;
    writeln!(
        out,
        "{:<32} {}",
        "Unclassified",
        traffic_columns(&s.unclassified.traffic)
    )?;
    for port in &s.unclassified.top_ports {
        let label = match port.port {
            Some(p) => format!("{}/{p}", port.transport),
            None => "other ports".into(),
        };
        writeln!(out, "  {label:<30} {}", traffic_columns(&port.traffic))?;
    }
    for line in details_lines(&s.unclassified.details) {
        writeln!(out, "      {line}")?;
    }

    writeln!(out)?;
    let d = &s.decode;
    let errors: u64 = d.errors.values().flat_map(|m| m.values()).sum();
    let anomalies: u64 = d.anomalies.values().flat_map(|m| m.values()).sum();
    let by_layer = |m: &std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, u64>,
    >| {
        m.iter()
            .flat_map(|(layer, kinds)| kinds.iter().map(move |(k, n)| format!("{layer} {k} {n}")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    write!(out, "Decode: {} undecodable", group(errors))?;
    if errors > 0 {
        write!(out, " ({})", by_layer(&d.errors))?;
    }
    write!(out, ", {} partly decoded", group(anomalies))?;
    if anomalies > 0 {
        write!(out, " ({})", by_layer(&d.anomalies))?;
    }
    writeln!(out, ", {} cut by snaplen", group(d.truncated_packets))?;
    let non_ip: u64 = d.non_ip.values().sum();
    if non_ip > 0 {
        let kinds: Vec<String> = d
            .non_ip
            .iter()
            .map(|(t, n)| format!("{} {t}: {n}", ether_type_name(t)))
            .collect();
        writeln!(
            out,
            "  non-IP frames: {} ({})",
            group(non_ip),
            kinds.join(", ")
        )?;
    }
    if !d.unsupported_link_types.is_empty() {
        let kinds: Vec<String> = d
            .unsupported_link_types
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        writeln!(out, "  unsupported link types: {}", kinds.join(", "))?;
    }
    if !d.other_ip_protocols.is_empty() {
        let kinds: Vec<String> = d
            .other_ip_protocols
            .iter()
            .map(|(t, n)| format!("{} {t}: {n}", ip_protocol_name(t)))
            .collect();
        writeln!(out, "  other IP protocols (no flow): {}", kinds.join(", "))?;
    }
    if d.fragments_attributed + d.fragments_orphaned > 0 {
        writeln!(
            out,
            "  IP fragments: {} counted toward their flow, {} orphaned",
            d.fragments_attributed, d.fragments_orphaned
        )?;
    }
    if d.icmp_errors_tied + d.icmp_errors_untied > 0 {
        writeln!(
            out,
            "  ICMP unreachable: {} tied to their flow, {} for flows not seen",
            d.icmp_errors_tied, d.icmp_errors_untied
        )?;
    }
    let t = &s.flow_table;
    let timeouts: Vec<String> = t
        .timeouts
        .iter()
        .map(|(k, v)| format!("{k} {v:.0} s"))
        .collect();
    let split = if t.tables > 1 {
        format!(" (peaks of {} worker tables added up)", t.tables)
    } else {
        String::new()
    };
    writeln!(
        out,
        "Flow table: peak {}{split} of {} flows, {} evicted; idle timeouts: {}",
        group(t.peak_flows),
        group(t.max_flows),
        group(t.evicted),
        timeouts.join(", ")
    )?;
    if let Some(peak) = s.resources.peak_rss_bytes {
        writeln!(
            out,
            "Memory: peak {} resident; {} bytes per flow record",
            human_bytes(peak),
            s.resources.flow_record_bytes
        )?;
    }
    Ok(())
}

/// Items shown per list in the text summary (the JSON has up to 20).
const TEXT_TOP: usize = 5;

fn counted(list: &[Counted]) -> String {
    let mut items: Vec<String> = list
        .iter()
        .take(TEXT_TOP)
        .map(|c| format!("{} {}", c.value, c.flows))
        .collect();
    if list.len() > TEXT_TOP {
        items.push(format!("+{} more", list.len() - TEXT_TOP));
    }
    items.join(", ")
}

fn mapped(map: &std::collections::BTreeMap<String, u64>) -> String {
    let mut items: Vec<(&String, &u64)> = map.iter().collect();
    items.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut text: Vec<String> = items
        .iter()
        .take(TEXT_TOP)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if items.len() > TEXT_TOP {
        text.push(format!("+{} more", items.len() - TEXT_TOP));
    }
    text.join(", ")
}

/// For unclassified traffic: the recognised protocols (what is not RDS, or not RDS any more).
fn unclassified_apps(d: &DetailsSummary) -> String {
    if !d.payload.is_empty() {
        return String::new();
    }
    let known: std::collections::BTreeMap<String, u64> = d
        .apps
        .iter()
        .filter(|(k, _)| k.as_str() != "other")
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    mapped(&known)
}

/// The payload findings of a service, briefly: a few `label: values` parts per line. Wire
/// strings were escaped when they were recorded.
fn details_lines(d: &DetailsSummary) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let payload: Vec<String> = super::PayloadVerdict::ALL
        .iter()
        .filter_map(|v| {
            d.payload
                .get(v.as_str())
                .map(|n| format!("{n} {}", v.as_str().replace('_', " ")))
        })
        .collect();
    // All confirmed is the normal case: say nothing then.
    let all_confirmed = d.payload.len() == 1 && d.payload.contains_key("confirmed");
    if !payload.is_empty() && !all_confirmed {
        parts.push(format!("payload: {}", payload.join(", ")));
    }
    let lists: [(&str, String); 8] = [
        ("cookies", counted(&d.cookies)),
        ("routing tokens", counted(&d.routing_tokens)),
        ("server names", counted(&d.server_names)),
        ("endpoint mapper returned", counted(&d.epm_returned)),
        ("kerberos services", counted(&d.kerberos_services)),
        ("RADIUS rejects", counted(&d.radius_rejects)),
        ("security", mapped(&d.security_protocols)),
        ("negotiation failures", mapped(&d.failure_codes)),
    ];
    let maps: [(&str, String); 6] = [
        ("interfaces", mapped(&d.interfaces)),
        ("kerberos errors", mapped(&d.kerberos_errors)),
        ("http", mapped(&d.http_purposes)),
        ("smb", mapped(&d.smb_dialects)),
        ("dns errors", mapped(&d.dns_errors)),
        ("protocols seen", unclassified_apps(d)),
    ];
    for (label, value) in lists.into_iter().chain(maps) {
        if !value.is_empty() {
            parts.push(format!("{label}: {value}"));
        }
    }
    if d.not_rdp_answers > 0 {
        parts.push(format!(
            "{} RDP request{} answered by a server that is not RDP",
            d.not_rdp_answers,
            if d.not_rdp_answers == 1 { "" } else { "s" }
        ));
    }
    if let Some(u) = &d.rdpeudp {
        let mut text = format!(
            "rdp-udp handshakes: {} answered, {} unanswered",
            u.answered, u.unanswered
        );
        let linked = u.linked_by_correlation_id + u.linked_by_host_pair;
        if linked > 0 {
            text.push_str(&format!("; {linked} tied to their TCP connection"));
        }
        if u.stayed_on_tcp > 0 {
            text.push_str(&format!(
                "; {} UDP attempted, never answered, the session stayed on TCP",
                u.stayed_on_tcp
            ));
        }
        parts.push(text);
    }
    // One part per line keeps long server-name lists readable; short parts share a line.
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        match lines.last_mut() {
            Some(last) if last.chars().count() + part.chars().count() < 96 => {
                last.push_str(" · ");
                last.push_str(&part);
            }
            _ => lines.push(part),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_units() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }
}

/// ANSI styling, only when asked for (a terminal without NO_COLOR, or `--color always`).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
    /// Show where sessions and findings start (`file#frame`, `--pcap-index`).
    pub pcap_index: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn status_label(status: crate::verdict::EdgeStatus, style: Style) -> String {
    use crate::verdict::EdgeStatus::*;
    let (text, code) = match status {
        Working => ("WORKING", "32"),
        Rejected => ("REJECTED", "1;31"),
        Unanswered => ("UNANSWERED", "1;33"),
        NotSeen => ("NOT SEEN", "2"),
    };
    style.paint(code, &format!("{text:<10}"))
}

fn evidence_text(e: &crate::verdict::EdgeEvidence) -> String {
    let mut parts = vec![format!(
        "{} flow{}",
        group(e.flows),
        if e.flows == 1 { "" } else { "s" }
    )];
    if e.syn_retries > 0 {
        parts.push(format!("{} SYN retries", group(e.syn_retries)));
    }
    if e.rejected + e.icmp_rejected > 0 && e.answered > 0 {
        parts.push(format!("{} rejected", e.rejected + e.icmp_rejected));
    }
    if e.packets_to_server + e.packets_to_client > 0 {
        parts.push(format!(
            "{}/{} pkts, {}",
            group(e.packets_to_server),
            group(e.packets_to_client),
            human_bytes(e.bytes_to_server + e.bytes_to_client)
        ));
    }
    if let (Some(first), Some(last)) = (e.first_seen, e.last_seen) {
        let t = |s: f64| format_utc(Timestamp::from_nanos((s * 1e9) as i64));
        let (first, last) = (t(first), t(last));
        let last_time = last.get(11..).unwrap_or(&last);
        parts.push(format!("{first}–{last_time}"));
    }
    parts.join(", ")
}

/// Writes the verdict: headline, expected edges grouped by role pair, then the unexpected.
///
/// # Errors
/// Any error from the writer.
pub fn write_verdict<W: Write + ?Sized>(
    out: &mut W,
    v: &crate::verdict::VerdictReport,
    style: Style,
) -> io::Result<()> {
    use crate::verdict::{EdgeStatus, Severity};
    let d = &v.deployment;
    let source = d.describe();
    writeln!(
        out,
        "{} — deployment: {source}",
        style.paint("1", "Verdict")
    )?;
    let c = &v.counts;
    writeln!(
        out,
        "  {} expected flows: {} working, {} rejected, {} unanswered, {} not seen; {} unexpected ({} high)",
        c.expected,
        style.paint("32", &c.working.to_string()),
        style.paint("1;31", &c.rejected.to_string()),
        style.paint("1;33", &c.unanswered.to_string()),
        c.not_seen,
        c.unexpected,
        style.paint(if c.unexpected_high > 0 { "1;31" } else { "0" }, &c.unexpected_high.to_string()),
    )?;
    let mut group_key = None;
    for edge in &v.edges {
        let key = (edge.from_role, edge.to_role);
        if group_key != Some(key) {
            group_key = Some(key);
            writeln!(out)?;
            writeln!(out, "{} → {}", edge.from_role, edge.to_role)?;
        }
        let flow = format!("{} → {}", edge.from, edge.to);
        let service = format!("{} {}/{}", edge.service, edge.transport, edge.ports);
        write!(
            out,
            "  {} {service:<28} {flow}",
            status_label(edge.status, style)
        )?;
        if edge.status != EdgeStatus::NotSeen {
            write!(out, "  [{}]", evidence_text(&edge.evidence))?;
        }
        writeln!(out)?;
        if let Some(hint) = edge
            .hint
            .as_ref()
            .filter(|_| edge.status != EdgeStatus::NotSeen)
        {
            writeln!(out, "             ↳ {hint}")?;
        }
    }
    if c.not_seen > 0 {
        writeln!(
            out,
            "\n  NOT SEEN: not needed while the capture ran, or the capture point does not see the path; not proof of a block."
        )?;
    }
    writeln!(out)?;
    if v.unexpected.is_empty() {
        writeln!(out, "Unexpected: none")?;
    } else {
        writeln!(
            out,
            "{}",
            style.paint("1", "Unexpected (traffic the roles do not call for)")
        )?;
    }
    for u in &v.unexpected {
        let (label, code) = match u.severity {
            Severity::High => ("HIGH", "1;31"),
            Severity::Warning => ("WARNING", "33"),
            Severity::Info => ("INFO", "2"),
        };
        let service = u.service.as_deref().unwrap_or("unlisted");
        writeln!(
            out,
            "  {} {service} {}/{} {} → {}  [{}]",
            style.paint(code, &format!("{label:<7}")),
            u.transport,
            u.port,
            u.from,
            u.to,
            evidence_text(&u.evidence)
        )?;
        writeln!(out, "          ↳ {}", u.reason)?;
        if u.evidence.clients.len() > 1
            || matches!(
                u.from.as_str(),
                "external (internet)" | "other internal addresses"
            )
        {
            writeln!(out, "          clients: {}", u.evidence.clients.join(", "))?;
        }
    }
    if v.unattributed_flows > 0 {
        writeln!(
            out,
            "  ({} flows beyond the observed-edge bound were not attributed)",
            group(v.unattributed_flows)
        )?;
    }
    Ok(())
}

fn severity_label(severity: crate::verdict::Severity, style: Style) -> String {
    use crate::verdict::Severity;
    let (label, code) = match severity {
        Severity::High => ("HIGH", "1;31"),
        Severity::Warning => ("WARNING", "33"),
        Severity::Info => ("INFO", "2"),
    };
    style.paint(code, &format!("{label:<7}"))
}

fn packet_ref(p: &crate::incident::PacketRef) -> String {
    format!("{}#{}", p.file, p.number)
}

/// Writes the incident findings: one block per finding, most severe first, with its rule,
/// sources, targets and how many flows and sessions are behind it.
///
/// # Errors
/// Any error from the writer.
pub fn write_findings<W: Write + ?Sized>(
    out: &mut W,
    incident: &crate::incident::IncidentReport,
    style: Style,
) -> io::Result<()> {
    if incident.findings.is_empty() {
        writeln!(
            out,
            "Findings: none ({} RDP sessions)",
            incident.sessions.len()
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} ({} RDP sessions; `rdsflows sessions` lists them)",
        style.paint("1", "Findings"),
        incident.sessions.len()
    )?;
    for f in &incident.findings {
        write!(
            out,
            "  {} {:<29} {} → {}  [{} flows, {} sessions, from {}]",
            severity_label(f.severity, style),
            f.rule.id(),
            list_text(&f.sources),
            list_text(&f.targets),
            f.flows.len(),
            f.sessions.len(),
            crate::time::format_utc(crate::time::Timestamp::from_nanos(
                (f.first_seen * 1e9) as i64
            )),
        )?;
        if style.pcap_index {
            write!(out, " {}", packet_ref(&f.first_packet))?;
        }
        writeln!(out)?;
        writeln!(out, "          ↳ {}", f.summary)?;
    }
    if incident.flows_not_joined > 0 {
        writeln!(
            out,
            "  ({} RDP flows beyond the session bound were not joined)",
            group(incident.flows_not_joined)
        )?;
    }
    Ok(())
}

/// At most five items, then "+N".
fn list_text(items: &[String]) -> String {
    let mut text = items.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        text.push_str(&format!(" +{}", items.len() - 5));
    }
    if text.is_empty() {
        text.push('-');
    }
    text
}

/// Writes the session table of `rdsflows sessions`.
///
/// # Errors
/// Any error from the writer.
pub fn write_sessions<W: Write + ?Sized>(
    out: &mut W,
    sessions: &[&crate::incident::Session],
    filtered_out: usize,
    style: Style,
) -> io::Result<()> {
    use crate::incident::SessionOutcome;
    writeln!(
        out,
        "{:<19} {:>8} {:<22} {:<24} {:<16} {:<18} {:<18} {:>10} {:>10}  via",
        "start (UTC)",
        "duration",
        "client",
        "server",
        "user",
        "selected",
        "outcome",
        "to server",
        "to client"
    )?;
    for s in sessions {
        let start =
            crate::time::format_utc(crate::time::Timestamp::from_nanos((s.start * 1e9) as i64));
        let outcome = match s.outcome {
            SessionOutcome::Established => {
                style.paint("32", &format!("{:<18}", s.outcome.as_str()))
            }
            SessionOutcome::AuthFailed
            | SessionOutcome::TlsFailed
            | SessionOutcome::NegotiationFailed
            | SessionOutcome::Refused => {
                style.paint("1;31", &format!("{:<18}", s.outcome.as_str()))
            }
            _ => format!("{:<18}", s.outcome.as_str()),
        };
        let mut via = Vec::new();
        if let Some(g) = &s.via_gateway {
            via.push(format!("gateway {}", g.gateway));
        }
        if let Some(b) = &s.via_broker {
            via.push(format!("broker {}", b.broker));
        }
        if let Some(u) = &s.udp {
            via.push(if u.answered {
                "udp".into()
            } else {
                "udp unanswered".into()
            });
        }
        let selected = s
            .selected
            .as_deref()
            .map(|x| x.trim_start_matches("PROTOCOL_"))
            .unwrap_or("-");
        write!(
            out,
            "{start:<19} {:>7.1}s {:<22} {:<24} {:<16} {:<18} {outcome} {:>10} {:>10}  {}",
            s.duration,
            s.client,
            format!("{}:{}", s.server, s.server_port),
            s.user.as_deref().unwrap_or("-"),
            selected,
            human_bytes(s.bytes_to_server),
            human_bytes(s.bytes_to_client),
            if via.is_empty() {
                "-".to_string()
            } else {
                via.join(", ")
            },
        )?;
        if style.pcap_index {
            write!(out, "  {}", packet_ref(&s.first_packet))?;
        }
        writeln!(out)?;
        if let Some(code) = &s.failure_code {
            writeln!(out, "    ↳ {code}")?;
        }
    }
    writeln!(
        out,
        "{} sessions{}",
        sessions.len(),
        if filtered_out > 0 {
            format!(" ({filtered_out} filtered out)")
        } else {
            String::new()
        }
    )?;
    Ok(())
}
