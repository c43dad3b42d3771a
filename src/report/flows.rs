//! One JSON object per ended flow (JSON Lines), with Zeek conn.log field names where one exists.
//! Owns the flow line format (documented in `report::json`); must not decide anything about the
//! flow, only render it.

use std::io::{self, Write};

use serde::Serialize;

use crate::classify::details::FlowDetails;
use crate::classify::Classifier;
use crate::flow::record::IcmpReject;
use crate::flow::state::HistoryText;
use crate::flow::{EndReason, FlowRecord};
use crate::report::protocol_name;

/// Version of the flow-line format; raised on any incompatible change.
pub const FLOWS_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct FlowLine<'a> {
    ts: f64,
    uid: String,
    #[serde(rename = "id.orig_h")]
    orig_h: String,
    #[serde(rename = "id.orig_p")]
    orig_p: u16,
    #[serde(rename = "id.resp_h")]
    resp_h: String,
    #[serde(rename = "id.resp_p")]
    resp_p: u16,
    proto: &'static str,
    service: Option<&'a str>,
    duration: f64,
    orig_bytes: u64,
    resp_bytes: u64,
    conn_state: &'static str,
    history: HistoryText,
    orig_pkts: u64,
    orig_ip_bytes: u64,
    resp_pkts: u64,
    resp_ip_bytes: u64,
    // rdsflows' own fields.
    rules: Vec<&'a str>,
    verdict: &'static str,
    outcome: &'static str,
    syn_retries: u32,
    icmp_reject: Option<IcmpReject>,
    end_reason: EndReason,
    last_ts: f64,
    first_packet: FirstPacket,
    // What the payload checks found (issue 4).
    app: Option<&'static str>,
    payload: Option<&'static str>,
    port_service: Option<&'a str>,
    #[serde(flatten)]
    details: Option<&'a FlowDetails>,
}

#[derive(Serialize)]
struct FirstPacket {
    file: u32,
    number: u64,
}

/// A stable flow id in Zeek's style (`C` + base62), derived from the key and first-packet time
/// (FNV-1a), so the same capture gives the same ids on every run and machine.
pub fn flow_uid(flow: &FlowRecord) -> String {
    flow.uid()
}

/// Writes one flow as a JSON line.
///
/// # Errors
/// Any error from the writer.
pub fn write_flow<W: Write + ?Sized>(
    out: &mut W,
    flow: &FlowRecord,
    reason: EndReason,
    classifier: &Classifier,
) -> io::Result<()> {
    let (client, client_port) = flow.client();
    let (server, server_port) = flow.server();
    // Zeek logs ICMP "ports" as the originator's message type and the answer's type (echo) or
    // the code (other messages).
    let (orig_p, resp_p) = match flow.icmp_type {
        Some(8) => (8, 0),
        Some(128) => (128, 129),
        Some(t) => (u16::from(t), server_port),
        None => (client_port, server_port),
    };
    let line = FlowLine {
        ts: flow.first_seen.as_secs_f64(),
        uid: flow_uid(flow),
        orig_h: client.to_string(),
        orig_p,
        resp_h: server.to_string(),
        resp_p,
        proto: protocol_name(flow.key.protocol),
        service: classifier.service_name(flow),
        duration: flow.duration().as_secs_f64(),
        orig_bytes: flow.to_server().payload_bytes,
        resp_bytes: flow.to_client().payload_bytes,
        conn_state: flow.conn_state().as_str(),
        history: flow.history.text(),
        orig_pkts: flow.to_server().packets,
        orig_ip_bytes: flow.to_server().ip_bytes,
        resp_pkts: flow.to_client().packets,
        resp_ip_bytes: flow.to_client().ip_bytes,
        rules: classifier
            .rules_for(flow)
            .map(|(_, r)| r.id.as_str())
            .collect(),
        verdict: flow.class.verdict.as_str(),
        outcome: flow.outcome().as_str(),
        syn_retries: flow.syn_retries,
        icmp_reject: flow.icmp_reject().copied(),
        end_reason: reason,
        last_ts: flow.last_seen.as_secs_f64(),
        first_packet: {
            let pos = flow.first_pos();
            FirstPacket {
                file: pos.file,
                number: pos.number,
            }
        },
        app: flow.class.app().map(|a| a.as_str()),
        payload: flow.class.payload.map(|p| p.as_str()),
        port_service: flow
            .class
            .port_service
            .and_then(|id| classifier.service(id))
            .map(|s| s.name.as_str()),
        details: flow.details(),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}
