//! JSON output: the summary (`--json`) as one object and the flows (`--flows`) as JSON Lines.
//! Owns the documentation of both formats; must not compute anything the `Summary` lacks.
//!
//! # Summary (`--json FILE|-`)
//!
//! One JSON object, `format` = `"rdsflows-summary"`, `version` = 1 (raised on any incompatible
//! change; new fields may appear without a version change):
//!
//! | field | meaning |
//! |---|---|
//! | `status` | `complete`, or `damaged` when an input could not be read to its end |
//! | `signatures` | where the rules came from (`builtin` or the file given) |
//! | `inputs[]` | `path`, `packets` read, `error` (names the byte offset) or null |
//! | `capture` | `first_ts`, `last_ts` (seconds since the epoch), `duration`, `link_types` {name: frames}, `timestamps_backwards` |
//! | `totals` | `packets`, `wire_bytes`, `ip_packets`, `flows`, `tcp_flows`, `udp_flows`, `icmp_flows`, `rds_flows`, `rds_packets`, `rds_bytes` |
//! | `services[]` | per RDS service seen: `service`, `transport`, `ports`, `flows`, `packets`, `bytes`, `outcomes` {`answered`, `rejected`, `unanswered`}, `conn_states` {code: flows}, `syn_retries`, `verdicts` {`likely`/`certain`: flows}, `rules` [rule ids], `servers`, `clients` |
//! | `unclassified` | `flows`, `packets`, `bytes`, `outcomes`, `top_ports[]` {`transport`, `port` (null for the "other" line), `flows`, `packets`, `bytes`, `outcomes`} |
//! | `decode` | `errors` and `anomalies` {layer: {kind: frames}}, `truncated_packets`, `non_ip` {"0x0806": frames}, `unsupported_link_types`, `other_ip_protocols`, `fragments_attributed`, `fragments_orphaned`, `icmp_errors_tied`, `icmp_errors_untied` |
//! | `flow_table` | `max_flows`, `peak_flows`, `evicted`, `ended` {reason: flows}, `timeouts` {`tcp`, `tcp_closed`, `udp`, `icmp`: seconds} |
//! | `live` | only for `rdsflows capture` (absent for files): `interface`, `link_type`, `filter` (or null), `snaplen`, `promiscuous`, `stopped_by` (`signal`, `duration`, `count`, `error`), `kernel` {`received`, `dropped` (capture buffer full), `if_dropped` (interface or driver)}, `written` (the `-w` files, in order) |
//!
//! For a live capture, `inputs` holds one entry named after the interface; an error there (the
//! device failed, or a `-w` file could not be written) ends the capture and sets `status` to
//! `damaged`. `capture` times are libpcap's packet timestamps.
//!
//! Layers: link, vlan, pppoe, ip, ipv6_ext, tcp, udp, icmp. Kinds: too_short, malformed,
//! length_mismatch. An outcome is `answered` (the responder sent a SYN+ACK, or anything on UDP),
//! `rejected` (RST answering the SYN: conn_state REJ; or an ICMP unreachable) or `unanswered`.
//!
//! # Flows (`--flows FILE|-`)
//!
//! One object per line, written as each flow ends (idle timeout, close, eviction, or the end of
//! the input). Zeek conn.log names: `ts`, `uid` (stable: derived from the key and first-packet
//! time), `id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`, `proto` (tcp, udp, icmp, icmp6),
//! `service` (rdsflows service name or null), `duration`, `orig_bytes`, `resp_bytes` (payload
//! bytes), `conn_state`, `history`, `orig_pkts`, `orig_ip_bytes`, `resp_pkts`, `resp_ip_bytes`.
//! rdsflows' own: `rules` [ids], `verdict` (not_rds, unsure, likely, certain), `outcome`,
//! `syn_retries`, `icmp_reject` {`code`, `v6`, `from`} or null, `end_reason` (idle, closed,
//! port_reuse, evicted, end_of_input), `last_ts`, `first_packet` {`file` (index into the summary's
//! `inputs`), `number` (frame number in that file, as Wireshark counts)}.
//!
//! `conn_state` codes (Zeek): S0 attempt, no reply; S1 established, not closed; SF normal
//! establishment and close (UDP: both sides sent); REJ attempt rejected; S2 / S3 established,
//! only the originator / responder closed; RSTO / RSTR established, then reset by originator /
//! responder; RSTOS0 SYN then RST from the originator, no SYN+ACK; RSTRH SYN+ACK then RST from the
//! responder, no SYN seen; SH / SHR SYN / SYN+ACK then FIN, half open (UDP SHR: only the responder
//! sent); OTH midstream. `history` letters: s SYN, h SYN+ACK, a pure ACK, d data, f FIN, r RST,
//! q SYN with FIN or RST, t retransmitted data, w zero window, ^ direction flipped; upper case is
//! the originator; t and w repeat at 1, 10 and 100 occurrences.

use std::io::{self, Write};

use super::Summary;

/// Writes the summary as pretty JSON followed by a newline.
///
/// # Errors
/// Any error from the writer.
pub fn write_summary<W: Write + ?Sized>(out: &mut W, summary: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    out.write_all(b"\n")
}
