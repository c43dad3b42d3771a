//! The human summary on stdout: a few aligned tables an administrator reads top to bottom.
//! Owns layout and number formatting; must not compute anything the `Summary` lacks, and prints
//! no string from the wire without escaping it.

use std::io::{self, Write};

use super::{Summary, Traffic};
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
pub fn write_summary<W: Write + ?Sized>(out: &mut W, s: &Summary) -> io::Result<()> {
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
    writeln!(
        out,
        "Flow table: peak {} of {} flows, {} evicted; idle timeouts: {}",
        group(t.peak_flows),
        group(t.max_flows),
        group(t.evicted),
        timeouts.join(", ")
    )?;
    Ok(())
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
