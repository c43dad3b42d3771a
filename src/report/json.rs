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
//! | `services[]` | per RDS service seen: `service`, `transport`, `ports`, `flows`, `packets`, `bytes`, `outcomes` {`answered`, `rejected`, `unanswered`}, `conn_states` {code: flows}, `syn_retries`, `verdicts` {`likely`/`certain`: flows}, `rules` (rule ids), `servers`, `clients`, `details` (payload findings, below; absent when none) |
//! | `unclassified` | `flows`, `packets`, `bytes`, `outcomes`, `top_ports[]` {`transport`, `port` (null for the "other" line), `flows`, `packets`, `bytes`, `outcomes`}, `details` (payload findings of the unclassified flows, absent when none) |
//! | `decode` | `errors` and `anomalies` {layer: {kind: frames}}, `truncated_packets`, `non_ip` {"0x0806": frames}, `unsupported_link_types`, `other_ip_protocols`, `fragments_attributed`, `fragments_orphaned`, `icmp_errors_tied`, `icmp_errors_untied` |
//! | `flow_table` | `max_flows`, `peak_flows` (with `--threads`, the worker tables' peaks added up), `tables` (flow tables the flows were split across: the worker threads, or 1), `evicted`, `peak_table_bytes` (the flow table's peak allocation: record slab plus key index; the boxed extras of the flows that have payload details, an ICMP rejection or TCP anomalies are not counted), `ended` {reason: flows}, `timeouts` {`tcp`, `tcp_closed`, `udp`, `icmp`: seconds} |
//! | `timeline` | flow starts per RDS service over the capture: `start` (seconds since the epoch, a multiple of the bucket width; null without packets), `bucket_seconds` (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 86400, 604800 or a doubling of that), `buckets` (at most 60, covering the capture), `services[]` {`service`, `flows` [per bucket], `failed` [per bucket: rejected or unanswered]} in signature order |
//! | `live` | only for `rdsflows capture` (absent for files): `interface`, `link_type`, `filter` (or null), `snaplen`, `promiscuous`, `stopped_by` (`signal`, `duration`, `count`, `error`), `kernel` {`received`, `dropped` (capture buffer full), `if_dropped` (interface or driver)}, `written` (the `-w` files, in order) |
//! | `verdict` | observed versus expected, below |
//! | `incident` | RDP `sessions[]`, `findings[]`, `flows_not_joined` (RDP flows beyond the 100,000 kept for the join) and `tunnels_not_joined` (HTTPS flows beyond the 100,000 kept as possible gateway tunnels), below; absent only when no verdict was made |
//! | `resources` | `flow_record_bytes` (one flow record, `size_of::<FlowRecord>()`: 184 bytes in this version), `peak_rss_bytes` (peak resident memory of the process on Linux, else null) |
//!
//! `verdict`:
//!
//! | field | meaning |
//! |---|---|
//! | `deployment` | `origin` (file path or "inferred from the traffic"), `inferred`, `hosts[]` {`name`, `addresses`, `roles`, `inferred[]` {`role`, `confidence` (low, medium, high), `evidence[]`}}, `networks[]` {`name`, `cidr`, `role`}, `options` {every deployment option} |
//! | `counts` | `expected`, `working`, `rejected`, `unanswered`, `not_seen`, `unexpected`, `unexpected_high` |
//! | `edges[]` | `from`, `from_role`, `to`, `to_role`, `service`, `transport`, `ports`, `rules` (rule ids), `sources` (reference sections), `requirement` (required, conditional), `status` (working, rejected, unanswered, not_seen), `hint` or null, `evidence` |
//! | `unexpected[]` | `kind` (rds_service, unlisted_port), `severity` (info, warning, high), `from`, `from_roles`, `to`, `to_roles`, `service` or null, `transport`, `port`, `reason`, `evidence` |
//! | `unattributed_flows` | flows beyond the observed-edge bound (262,144 host pairs and ports) |
//!
//! `evidence`: `flows`, `syn_retries`, `answered`, `rejected` (TCP reset), `icmp_rejected`,
//! `unanswered`, `first_seen`, `last_seen` (seconds since the epoch, null when not seen),
//! `packets_to_server`, `packets_to_client`, `bytes_to_server`, `bytes_to_client`, `clients` (up to
//! 10 addresses), `icmp_from`, `ports` (server ports seen, up to 10), `found_by_payload` (flows
//! whose service the payload found on a port the map does not list for it; an unexpected entry
//! with such flows has a reason starting "RDP on port 13389 (found by payload)"), `epm_failed[]`
//! {`port`, `interface`, `flows`} (ports an endpoint mapper returned whose connections then
//! failed; the edge's hint then starts "The endpoint mapper returned port X…").
//!
//! `incident.sessions[]` (also what `rdsflows sessions --json` writes, as
//! `{"format": "rdsflows-sessions", "version": 1, "sessions": [...], "filtered_out": N}`), one
//! per RDP TCP connection (a broker connection joins the redirected one), by start:
//!
//! | field | meaning |
//! |---|---|
//! | `uid` | the RDP TCP connection's flow uid (as in `--flows`) |
//! | `start`, `end`, `duration` | seconds since the epoch / seconds, over all the session's flows |
//! | `client`, `server`, `server_port` | the user's address (the external client of a gateway session), the session host, its port |
//! | `user`, `routing_token` | the `mstshash` cookie (escaped; `user#…` under `--redact`), the `msts=…` or `tsv://…` token; null when absent |
//! | `requested`, `selected` | requestedProtocols (`PROTOCOL_SSL\|PROTOCOL_HYBRID`), selectedProtocol; null when not seen |
//! | `bytes_to_server`, `bytes_to_client` | IP bytes over the RDP TCP connection and its UDP side channel |
//! | `packets_to_server`, `packets_to_client` | packets of the RDP TCP connection |
//! | `outcome` | `unanswered`, `refused`, `negotiation_failed` (RDP_NEG_FAILURE, `failure_code` names it), `tls_failed`, `auth_failed` (NLA selected, TLS done, short exchange then close), `established` (sustained traffic), `not_rdp`, `unknown`; the thresholds are in `incident::sessions` |
//! | `failure_code`, `evidence` | the RDP_NEG_FAILURE code name or null; what decided the outcome (packets, bytes, duration, close) |
//! | `close` | `fin`, `reset`, `open` |
//! | `via_broker` | {`broker` (address:port), `collection` or null, `uid`} or null |
//! | `via_gateway` | {`gateway` (address), `port`, `uid` (the client's tunnel connection)} or null |
//! | `udp` | the RDP-UDP side channel {`uid`, `answered`} or null |
//! | `flows` | uids of every flow of the session |
//! | `first_packet` | {`file` (the input path), `number` (frame number, as Wireshark counts)} |
//!
//! `incident.findings[]`, most severe first: `rule` (`rdp-external-to-session-host`,
//! `rdp-lateral-movement`, `rdp-non-standard-port`, `rdp-password-guessing`,
//! `rdp-password-spray`, `rdp-scan`, `rdp-weak-security`, `rdp-udp-blocked`), `severity` (info,
//! warning, high), `summary`, `sources` (addresses), `targets`, `flows` (uids), `sessions`
//! (session uids), `first_seen`, `first_packet` {`file`, `number`}.
//!
//! Service `details` (every member is absent when empty; wire strings are escaped and at most
//! 128 characters; lists of strings hold the 20 most frequent values, `{value, flows}`):
//!
//! | field | meaning |
//! |---|---|
//! | `payload` | flows by payload verdict: `confirmed` (the payload is the port's service), `contradicted` (it is something else; the flow lines say what), `port_only` (no payload, encrypted, or not recognised), `payload_only` (the payload found the service on a port the map does not list for it) |
//! | `apps` | flows by application protocol seen (the flow lines' `app`) |
//! | `cookies[]` | RDP `Cookie: mstshash=` identifiers (user names; `user#…` under `--redact`) |
//! | `routing_tokens[]` | `collection <name>` (`tsv://` broker token), `redirect <address:port>` (`Cookie: msts=`), `other <line>` |
//! | `security_protocols` | selected security protocol by name (`PROTOCOL_HYBRID`…): flows |
//! | `failure_codes` | RDP_NEG_FAILURE code by name: flows |
//! | `not_rdp_answers` | RDP Connection Requests answered by something that is not a Connection Confirm |
//! | `server_names[]` | TLS server names (SNI) |
//! | `http_purposes` | `rdg-http`, `rdg-websocket`, `rpc-over-http`, `winrm`, `crl`, `kdc-proxy`, `other`: flows |
//! | `interfaces` | DCE/RPC interface names (or UUIDs) bound or handed out by an endpoint mapper: flows |
//! | `epm_returned[]` | endpoint-mapper answers, `interface → address:port` |
//! | `kerberos_services[]` | Kerberos service principals (`TERMSRV/host`, `HTTP/gateway`) |
//! | `kerberos_errors` | KRB-ERROR code by name: flows |
//! | `radius_rejects[]` | Access-Reject answers by the request's User-Name (`-` when absent) |
//! | `smb_dialects` | SMB dialect chosen: flows |
//! | `dns_errors` | DNS response codes other than NOERROR: flows |
//! | `rdpeudp` | `handshakes`, `answered`, `unanswered`, `linked_by_correlation_id`, `linked_by_host_pair`, `unlinked`, `stayed_on_tcp` ("UDP attempted, never answered, the session stayed on TCP"), `side_channels[]` {`udp_uid`, `tcp_uid`, `by`, `answered`} (up to 20) |
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
//! rdsflows' own: `rules` (rule ids), `verdict` (not_rds, unsure, likely, certain), `outcome`,
//! `syn_retries`, `icmp_reject` {`code`, `v6`, `from`} or null, `end_reason` (idle, closed,
//! port_reuse, evicted, end_of_input), `last_ts`, `first_packet` {`file` (index into the summary's
//! `inputs`), `number` (frame number in that file, as Wireshark counts)}.
//!
//! What the payload checks found (the first `--inspect-packets` payload packets of each
//! direction): `app` (rdp, rdpeudp, tls, dtls, http, dcerpc, kerberos, ldap, dns, radius, smb,
//! netbios, ftp, other; null without payload), `payload` (confirmed, contradicted, port_only,
//! payload_only; null for a flow neither port nor payload made an RDS service),
//! `port_service` (the service the port or an endpoint-mapper answer named before the payload
//! was seen; differs from `service` when the payload contradicted it). Then one object per
//! protocol seen, present only when seen; every field is null when not seen, wire numbers are
//! given by name (`unknown (0x…)` for values the specification does not define), wire strings
//! are escaped (no control character reaches a terminal) and bounded:
//!
//! | object | fields |
//! |---|---|
//! | `rdp` | `cookie` (`user#…` under `--redact`), `routing_token` {`kind` (redirect, collection, other), `value`, `target` (decoded `msts=` address:port)}, `requested_protocols` (list of names, unknown bits as hex), `request_flags` (list of names), `correlation_id` (GUID), `selected_protocol`, `response_flags` (list of names), `failure_code`, `answer` (confirm, failure, not_rdp) |
//! | `rdpeudp` | `syns`, `syn_acks`, `answered`, `offered_version`, `version`, `up_mtu`, `down_mtu`, `lossy`, `correlation_id`, `tcp` {`uid` (the TCP flow this side channel belongs to), `by` (correlation_id, host_pair), `tcp_confirmed`}, `diagnosis` (e.g. "UDP attempted, never answered, the session stayed on TCP") |
//! | `tls` | `dtls`, `server_name`, `offered_version`, `selected_version`, `alpn` |
//! | `http` | `method`, `target`, `host`, `user_agent`, `purpose` (rdg-http, rdg-websocket, rpc-over-http, winrm, crl, kdc-proxy, other), `status`, `upgrade`, `server`, `rdg_connection_id`, `rdg_correlation_id`, `rdg_user` |
//! | `dcerpc` | `interfaces[]` {`uuid`, `version`, `name`}, `bind_result`, `secondary_address`, `epm_returned[]` {`interface`, `transport`, `port`, `address`}, `epm_mapped` (the interface an endpoint mapper handed this server port out for) |
//! | `kerberos` | `messages` (list of AS-REQ, AS-REP, TGS-REQ, TGS-REP, KRB-ERROR), `realm`, `cname`, `sname`, `error` |
//! | `ldap` | `operations` (list of names), `bind_dn`, `sasl_mechanism`, `search_base`, `result`, `start_tls` |
//! | `dns` | `query`, `qtype`, `rcode` |
//! | `radius` | `request`, `response` (Access-Accept, Access-Reject…), `user_name` |
//! | `smb` | `kind` (smb1, smb2, smb3-encrypted, smb3-compressed), `offered` (list of dialects), `dialect`, `smb1_offers_smb2` |
//! | `netbios` | `service` (name, datagram, session), `name` (`NAME<xx>`), `source_name`, `rcode` |
//! | `ftp` | `reply_code`, `banner`, `user`, `command` |
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

use serde::Serialize;

use super::Summary;
use crate::incident::Session;

/// Writes the session list of `rdsflows sessions --json` (documented above) followed by a
/// newline.
///
/// # Errors
/// Any error from the writer.
pub fn write_sessions<W: Write + ?Sized>(
    out: &mut W,
    sessions: &[&Session],
    filtered_out: usize,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        format: &'static str,
        version: u32,
        sessions: &'a [&'a Session],
        filtered_out: usize,
    }
    serde_json::to_writer_pretty(
        &mut *out,
        &Doc {
            format: "rdsflows-sessions",
            version: 1,
            sessions,
            filtered_out,
        },
    )?;
    out.write_all(b"\n")
}

/// Writes the summary as pretty JSON followed by a newline.
///
/// # Errors
/// Any error from the writer.
pub fn write_summary<W: Write + ?Sized>(out: &mut W, summary: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    out.write_all(b"\n")
}
