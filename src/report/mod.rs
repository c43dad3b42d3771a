//! The summary: every ended flow folded into per-service and unclassified aggregates, plus the
//! run's counters. Owns the `Summary` value that the text, JSON, HTML and DOT outputs all read;
//! must not do I/O (writers take an `impl Write` from the caller).

pub mod dot;
#[cfg(test)]
mod fixtures;
pub mod flows;
pub mod graph;
pub mod html;
pub mod json;
pub mod layout;
pub mod progress;
mod sha256;
pub mod status;
pub mod text;
pub mod timeline;

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use serde::Serialize;

use crate::classify::details::{self as flow_details, LinkBy, RdpAnswer, RoutingToken};
use crate::classify::signature::Transport;
pub use crate::classify::verdict::PayloadVerdict;
use crate::classify::Classifier;
use crate::flow::key::protocol;
use crate::flow::table::{FlowTableConfig, TableStats};
use crate::flow::{ConnState, EndReason, FlowRecord, Outcome};
use crate::stats::Stats;
use crate::verdict::observed::{ObservedEdge, ObservedEdges};
use crate::verdict::VerdictReport;
pub use timeline::{ServiceTimeline, Timeline};

/// Version of the summary JSON format; raised on any incompatible change (documented in `json`).
pub const SUMMARY_FORMAT_VERSION: u32 = 1;
/// Unclassified ports kept individually; the rest are folded into one "other" line.
const MAX_UNCLASSIFIED_PORTS: usize = 4096;
/// Unclassified ports listed in the summary.
const TOP_UNCLASSIFIED_PORTS: usize = 15;

/// Flow outcomes counted three ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// The responder answered.
    pub answered: u64,
    /// Refused by RST or ICMP.
    pub rejected: u64,
    /// No answer.
    pub unanswered: u64,
}

impl Outcomes {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Answered => self.answered += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Unanswered => self.unanswered += 1,
        }
    }
}

/// Flows, packets and bytes with their outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Flows.
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// IP bytes both ways.
    pub bytes: u64,
    /// How the flows ended up.
    pub outcomes: Outcomes,
}

impl Traffic {
    fn add(&mut self, flow: &FlowRecord) {
        self.flows += 1;
        self.packets += flow.packets();
        self.bytes += flow.ip_bytes();
        self.outcomes.add(flow.outcome());
    }
}

/// One service's line in the summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceSummary {
    /// Service name from the signatures.
    pub service: String,
    /// `tcp` or `udp`.
    pub transport: String,
    /// The ports its rules list, e.g. `3389` or `49152-65535`.
    pub ports: String,
    /// Flows, packets, bytes and outcomes.
    #[serde(flatten)]
    pub traffic: Traffic,
    /// Zeek conn_state codes seen, with counts.
    pub conn_states: BTreeMap<String, u64>,
    /// SYNs sent again within unanswered attempts.
    pub syn_retries: u64,
    /// Flows whose payload confirmed the service (`certain`) vs port only (`likely`).
    pub verdicts: BTreeMap<String, u64>,
    /// Ids of the rules the flows matched.
    pub rules: Vec<String>,
    /// Distinct servers (address, port) seen for this service.
    pub servers: u64,
    /// Distinct clients seen for this service.
    pub clients: u64,
    /// What the payload checks found in these flows (absent when they found nothing).
    #[serde(skip_serializing_if = "DetailsSummary::is_empty")]
    pub details: DetailsSummary,
}

/// A value seen in flows, with how many flows carried it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counted {
    /// The value (escaped when it came from the wire).
    pub value: String,
    /// Flows that carried it.
    pub flows: u64,
}

/// An RDP-UDP side channel and the TCP connection it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SideChannel {
    /// The UDP flow's uid.
    pub udp_uid: String,
    /// The TCP flow's uid.
    pub tcp_uid: String,
    /// `correlation_id` or `host_pair`.
    pub by: LinkBy,
    /// True when the RDPEUDP handshake completed.
    pub answered: bool,
}

/// RDP over UDP handshakes of a service's flows (MS-RDPEUDP 3.1.5.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RdpUdpSummary {
    /// Flows with a client SYN.
    pub handshakes: u64,
    /// Of those, answered by a matching SYN+ACK.
    pub answered: u64,
    /// Of those, never answered.
    pub unanswered: u64,
    /// Tied to their TCP connection by correlation ID.
    pub linked_by_correlation_id: u64,
    /// Tied by host pair and time.
    pub linked_by_host_pair: u64,
    /// Not tied to any TCP connection.
    pub unlinked: u64,
    /// Never answered while the TCP connection worked: "UDP attempted, never answered, the
    /// session stayed on TCP".
    pub stayed_on_tcp: u64,
    /// The side channels and their TCP connections (up to 20).
    pub side_channels: Vec<SideChannel>,
}

/// The payload checks' findings over a set of flows: counts by value, most frequent first,
/// bounded (top 20 for lists of wire strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DetailsSummary {
    /// Flows by payload verdict: confirmed, contradicted, port_only, payload_only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub payload: BTreeMap<String, u64>,
    /// Flows by application protocol the payload showed.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub apps: BTreeMap<String, u64>,
    /// RDP `mstshash` cookies (user names; hashed under `--redact`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<Counted>,
    /// RDP routing tokens: `collection <name>`, `redirect <address:port>`, `other <line>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routing_tokens: Vec<Counted>,
    /// Security protocols the servers selected (MS-RDPBCGR 2.2.1.2.1).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub security_protocols: BTreeMap<String, u64>,
    /// RDP_NEG_FAILURE codes (MS-RDPBCGR 2.2.1.2.2).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub failure_codes: BTreeMap<String, u64>,
    /// RDP Connection Requests answered by something that is not a Connection Confirm.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_rdp_answers: u64,
    /// TLS server names (SNI).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub server_names: Vec<Counted>,
    /// HTTP request purposes (rdg-http, rdg-websocket, rpc-over-http, winrm, crl…).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub http_purposes: BTreeMap<String, u64>,
    /// DCE/RPC interfaces, bound or handed out by the endpoint mapper.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub interfaces: BTreeMap<String, u64>,
    /// What endpoint mappers returned: `interface → address:port`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub epm_returned: Vec<Counted>,
    /// Kerberos service principals asked for (`TERMSRV/host`, `HTTP/gateway`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kerberos_services: Vec<Counted>,
    /// KRB-ERROR codes, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kerberos_errors: BTreeMap<String, u64>,
    /// RADIUS Access-Reject answers, by User-Name of the request ("-" when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub radius_rejects: Vec<Counted>,
    /// SMB dialects the servers chose.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub smb_dialects: BTreeMap<String, u64>,
    /// DNS queries that failed, by response code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dns_errors: BTreeMap<String, u64>,
    /// RDP over UDP handshakes and their TCP connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdpeudp: Option<RdpUdpSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl DetailsSummary {
    /// True when the payload checks found nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Distinct values kept per list; later new values are counted under "(other)".
const MAX_DISTINCT_VALUES: usize = 1024;
/// Values listed per wire-string list.
const TOP_VALUES: usize = 20;
/// Side channels listed per service.
const MAX_SIDE_CHANNELS: usize = 20;

/// A bounded value → flows counter.
#[derive(Debug, Default, Clone)]
struct Counter(HashMap<String, u64>);

impl Counter {
    fn add(&mut self, value: &str) {
        if let Some(n) = self.0.get_mut(value) {
            *n += 1;
        } else if self.0.len() < MAX_DISTINCT_VALUES {
            self.0.insert(value.to_string(), 1);
        } else {
            *self.0.entry("(other)".to_string()).or_default() += 1;
        }
    }

    fn top(&self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self
            .0
            .iter()
            .map(|(value, flows)| Counted {
                value: value.clone(),
                flows: *flows,
            })
            .collect();
        all.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.value.cmp(&b.value)));
        all.truncate(n);
        all
    }

    fn map(&self) -> BTreeMap<String, u64> {
        self.0.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[derive(Debug, Default, Clone)]
struct DetailsAgg {
    payload: Counter,
    apps: Counter,
    cookies: Counter,
    routing_tokens: Counter,
    security_protocols: Counter,
    failure_codes: Counter,
    not_rdp_answers: u64,
    server_names: Counter,
    http_purposes: Counter,
    interfaces: Counter,
    epm_returned: Counter,
    kerberos_services: Counter,
    kerberos_errors: Counter,
    radius_rejects: Counter,
    smb_dialects: Counter,
    dns_errors: Counter,
    rdpeudp: Option<RdpUdpSummary>,
}

impl DetailsAgg {
    fn add(&mut self, flow: &FlowRecord) {
        if let Some(p) = flow.class.payload {
            self.payload.add(p.as_str());
        }
        if let Some(app) = flow.class.app() {
            self.apps.add(app.as_str());
        }
        let Some(d) = flow.details() else {
            return;
        };
        if let Some(rdp) = &d.rdp {
            if let Some(cookie) = &rdp.cookie {
                self.cookies.add(cookie);
            }
            match &rdp.routing_token {
                Some(RoutingToken::Collection(c)) => {
                    self.routing_tokens.add(&format!("collection {c}"))
                }
                Some(RoutingToken::Redirect { target, raw }) => self.routing_tokens.add(&format!(
                    "redirect {}",
                    target.map_or_else(|| raw.clone(), |t| t.to_string())
                )),
                Some(RoutingToken::Other(o)) => self.routing_tokens.add(&format!("other {o}")),
                None => {}
            }
            if let Some(name) = rdp.selected_name() {
                self.security_protocols.add(&name);
            }
            if let Some(name) = rdp.failure_name() {
                self.failure_codes.add(&name);
            }
            if rdp.answer == Some(RdpAnswer::NotRdp) {
                self.not_rdp_answers += 1;
            }
        }
        if let Some(name) = d.tls.as_ref().and_then(|t| t.server_name.as_ref()) {
            self.server_names.add(name);
        }
        if let Some(purpose) = d.http.as_ref().and_then(|h| h.purpose) {
            self.http_purposes.add(purpose.name());
        }
        if let Some(rpc) = &d.dcerpc {
            let name = |id: &crate::classify::probe::dcerpc::SyntaxId| {
                id.uuid
                    .interface_name()
                    .map_or_else(|| id.uuid.to_string(), str::to_string)
            };
            let mut seen: Vec<String> = rpc.interfaces.iter().map(name).collect();
            if let Some(mapped) = &rpc.epm_mapped {
                seen.push(name(mapped));
            }
            seen.sort();
            seen.dedup();
            for interface in &seen {
                self.interfaces.add(interface);
            }
            let server = flow.server().0;
            for tower in &rpc.epm_returned {
                let address = tower
                    .ipv4
                    .filter(|a| !a.is_unspecified())
                    .map_or(server, std::net::IpAddr::V4);
                let port = tower
                    .port
                    .map_or_else(|| "-".to_string(), |p| p.to_string());
                self.epm_returned
                    .add(&format!("{} → {address}:{port}", name(&tower.interface)));
            }
        }
        if let Some(krb) = &d.kerberos {
            if let Some(sname) = &krb.sname {
                self.kerberos_services.add(sname);
            }
            if let Some(e) = krb.error {
                self.kerberos_errors.add(&flow_details::krb_error_name(e));
            }
        }
        if let Some(radius) = &d.radius {
            if radius.response.is_some_and(|c| c.0 == 3) {
                self.radius_rejects
                    .add(radius.user_name.as_deref().unwrap_or("-"));
            }
        }
        if let Some(dialect) = d.smb.as_ref().and_then(|s| s.dialect) {
            let name = match dialect.name() {
                "unknown" => format!("unknown (0x{:04x})", dialect.0),
                n => n.to_string(),
            };
            self.smb_dialects.add(&name);
        }
        if let Some(rcode) = d.dns.as_ref().and_then(|x| x.rcode).filter(|r| r.0 != 0) {
            self.dns_errors.add(rcode.name());
        }
        if let Some(udp) = d.rdpeudp.as_ref().filter(|u| u.syns > 0) {
            let s = self.rdpeudp.get_or_insert_with(RdpUdpSummary::default);
            s.handshakes += 1;
            if udp.answered {
                s.answered += 1;
            } else {
                s.unanswered += 1;
            }
            match udp.tcp.map(|l| l.by) {
                Some(LinkBy::CorrelationId) => s.linked_by_correlation_id += 1,
                Some(LinkBy::HostPair) => s.linked_by_host_pair += 1,
                None => s.unlinked += 1,
            }
            if !udp.answered && udp.tcp.is_some_and(|l| l.tcp_confirmed) {
                s.stayed_on_tcp += 1;
            }
            if let Some(link) = udp.tcp {
                if s.side_channels.len() < MAX_SIDE_CHANNELS {
                    s.side_channels.push(SideChannel {
                        udp_uid: flow.uid(),
                        tcp_uid: crate::flow::uid_of(
                            link.client,
                            link.server,
                            protocol::TCP,
                            link.first_seen,
                        ),
                        by: link.by,
                        answered: udp.answered,
                    });
                }
            }
        }
    }

    fn finish(&self) -> DetailsSummary {
        let mut rdpeudp = self.rdpeudp.clone();
        if let Some(r) = rdpeudp.as_mut() {
            r.side_channels
                .sort_by(|a, b| (&a.udp_uid, &a.tcp_uid).cmp(&(&b.udp_uid, &b.tcp_uid)));
        }
        DetailsSummary {
            payload: self.payload.map(),
            apps: self.apps.map(),
            cookies: self.cookies.top(TOP_VALUES),
            routing_tokens: self.routing_tokens.top(TOP_VALUES),
            security_protocols: self.security_protocols.map(),
            failure_codes: self.failure_codes.map(),
            not_rdp_answers: self.not_rdp_answers,
            server_names: self.server_names.top(TOP_VALUES),
            http_purposes: self.http_purposes.map(),
            interfaces: self.interfaces.map(),
            epm_returned: self.epm_returned.top(TOP_VALUES),
            kerberos_services: self.kerberos_services.top(TOP_VALUES),
            kerberos_errors: self.kerberos_errors.map(),
            radius_rejects: self.radius_rejects.top(TOP_VALUES),
            smb_dialects: self.smb_dialects.map(),
            dns_errors: self.dns_errors.map(),
            rdpeudp,
        }
    }
}

/// Traffic to one unclassified server port.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortSummary {
    /// `tcp`, `udp`, `icmp` or `icmp6`.
    pub transport: String,
    /// The server port (for ICMP, the message type), or `null` for the "other ports" line.
    pub port: Option<u16>,
    /// Flows, packets, bytes and outcomes.
    #[serde(flatten)]
    pub traffic: Traffic,
}

/// Everything that matched no service.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Unclassified {
    /// All of it together.
    #[serde(flatten)]
    pub traffic: Traffic,
    /// The busiest server ports, most flows first.
    pub top_ports: Vec<PortSummary>,
    /// What the payload checks found in these flows (an RDP request to a server that is not
    /// an RDP server, a contradicted port…; absent when nothing).
    #[serde(skip_serializing_if = "DetailsSummary::is_empty")]
    pub details: DetailsSummary,
}

/// One input file's line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputSummary {
    /// Path as given.
    pub path: String,
    /// Frames read.
    pub packets: u64,
    /// What stopped it early, naming the byte offset.
    pub error: Option<String>,
}

/// The capture as a whole.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaptureSummary {
    /// First packet time (seconds since the epoch).
    pub first_ts: Option<f64>,
    /// Last packet time.
    pub last_ts: Option<f64>,
    /// Seconds from first to last.
    pub duration: f64,
    /// Frames by link type.
    pub link_types: BTreeMap<String, u64>,
    /// Frames whose timestamp went backwards.
    pub timestamps_backwards: u64,
}

/// Totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Frames read.
    pub packets: u64,
    /// Bytes on the wire.
    pub wire_bytes: u64,
    /// Frames carrying IP.
    pub ip_packets: u64,
    /// Flows.
    pub flows: u64,
    /// TCP flows.
    pub tcp_flows: u64,
    /// UDP flows.
    pub udp_flows: u64,
    /// ICMP and ICMPv6 flows.
    pub icmp_flows: u64,
    /// Flows matched to an RDS service.
    pub rds_flows: u64,
    /// Packets of those flows.
    pub rds_packets: u64,
    /// IP bytes of those flows.
    pub rds_bytes: u64,
}

/// What could not be decoded, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DecodeSummary {
    /// Frames that could not be decoded at all: layer -> kind -> count.
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
    /// Frames decoded in part (they still count toward their flow): layer -> kind -> count.
    pub anomalies: BTreeMap<String, BTreeMap<String, u64>>,
    /// Frames cut short by the snapshot length (counted by the headers that survive).
    pub truncated_packets: u64,
    /// Non-IP frames by EtherType (`0x0806` ARP…).
    pub non_ip: BTreeMap<String, u64>,
    /// Frames of link types rdsflows does not decode, by link type.
    pub unsupported_link_types: BTreeMap<String, u64>,
    /// IP packets of protocols that form no flow, by protocol number.
    pub other_ip_protocols: BTreeMap<String, u64>,
    /// Non-first IP fragments counted toward their flow.
    pub fragments_attributed: u64,
    /// Non-first fragments whose first fragment was not seen.
    pub fragments_orphaned: u64,
    /// ICMP unreachable errors tied to the flow they refuse.
    pub icmp_errors_tied: u64,
    /// ICMP unreachable errors for flows not in the capture.
    pub icmp_errors_untied: u64,
}

/// The flow table's limits and what they did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowTableSummary {
    /// `--max-flows`.
    pub max_flows: u64,
    /// Most flows alive at once; with several worker tables (`--threads`), their peaks added
    /// up (an upper bound: the workers peak at different moments).
    pub peak_flows: u64,
    /// Flow tables the flows were split across (`--threads`; 1 for a single table).
    pub tables: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// The flow table's peak hash-map allocation, in bytes.
    pub peak_table_bytes: u64,
    /// Flows ended, by reason.
    pub ended: BTreeMap<String, u64>,
    /// Idle timeouts in seconds.
    pub timeouts: BTreeMap<String, f64>,
}

/// What the run cost in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// Bytes of one flow record (the table adds hashing overhead on top).
    pub flow_record_bytes: u64,
    /// Peak resident memory of the process, where the OS reports it (Linux).
    pub peak_rss_bytes: Option<u64>,
}

/// Kernel counters of a live capture (`pcap_stats`), as the summary reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KernelSummary {
    /// Packets the capture received (on Linux: those that passed the filter).
    pub received: u64,
    /// Dropped because the capture buffer was full (rdsflows read too slowly).
    pub dropped: u64,
    /// Dropped by the interface or its driver.
    pub if_dropped: u64,
}

/// What only a live capture has: the device, the filter, why it stopped, what the kernel
/// dropped, and the `-w` files. Absent (and not in the JSON) for files.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiveSummary {
    /// The device captured on.
    pub interface: String,
    /// Its link type.
    pub link_type: String,
    /// The BPF filter, or null.
    pub filter: Option<String>,
    /// Bytes kept of each frame.
    pub snaplen: u32,
    /// Whether the device was in promiscuous mode.
    pub promiscuous: bool,
    /// `signal` (Ctrl-C, SIGTERM, SIGHUP), `duration`, `count` or `error`.
    pub stopped_by: &'static str,
    /// Kernel counters: always reported, drops included.
    pub kernel: KernelSummary,
    /// The `-w` files written, in order.
    pub written: Vec<String>,
}

/// The whole summary: what `--json` writes and the text report prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Always `rdsflows-summary`.
    pub format: &'static str,
    /// [`SUMMARY_FORMAT_VERSION`].
    pub version: u32,
    /// `complete`, or `damaged` when some input could not be read to the end.
    pub status: &'static str,
    /// Where the signatures came from.
    pub signatures: String,
    /// Per input file.
    pub inputs: Vec<InputSummary>,
    /// Time span and link types.
    pub capture: CaptureSummary,
    /// Totals.
    pub totals: Totals,
    /// One line per RDS service seen, in signature order.
    pub services: Vec<ServiceSummary>,
    /// Traffic that matched no service.
    pub unclassified: Unclassified,
    /// Decode problems.
    pub decode: DecodeSummary,
    /// Flow table limits and evictions.
    pub flow_table: FlowTableSummary,
    /// Flow starts per service over the capture, in fixed buckets (for the report's timeline).
    pub timeline: Timeline,
    /// Observed versus expected (set by the caller from `observed` and a deployment).
    pub verdict: Option<VerdictReport>,
    /// Memory: the flow record's size and the process's peak (set by the caller).
    pub resources: Resources,
    /// Flows folded per (client, server, transport, port, service): what the verdict reads.
    #[serde(skip)]
    pub observed: Vec<ObservedEdge>,
    /// Flows that did not fit in the observed-edge table.
    #[serde(skip)]
    pub unattributed_flows: u64,
    /// Ended RDP (and 443) flows kept for the incident view's session join.
    #[serde(skip)]
    pub candidates: crate::incident::Candidates,
    /// RDP sessions and findings (set by the caller after the verdict; see `incident`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<crate::incident::IncidentReport>,
    /// Live capture facts; `None` for files (and then absent from the JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSummary>,
}

#[derive(Debug, Default, Clone)]
struct ServiceAgg {
    traffic: Traffic,
    conn_states: BTreeMap<ConnState, u64>,
    syn_retries: u64,
    verdicts: BTreeMap<&'static str, u64>,
    rules: BTreeSet<usize>,
    servers: hashbrown::HashSet<(std::net::IpAddr, u16)>,
    clients: hashbrown::HashSet<std::net::IpAddr>,
    details: DetailsAgg,
}

/// Folds ended flows into a [`Summary`]: memory grows with services and ports, never with flows.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    services: Vec<ServiceAgg>,
    unclassified: Traffic,
    unclassified_ports: HashMap<(u8, u16), Traffic>,
    unclassified_other: Traffic,
    unclassified_details: DetailsAgg,
    totals: Totals,
    observed: ObservedEdges,
    timeline: timeline::TimelineBuilder,
    candidates: crate::incident::Candidates,
}

/// Bound on distinct servers/clients remembered per service (the count saturates there).
const MAX_DISTINCT_HOSTS: usize = 65_536;

impl SummaryBuilder {
    /// Adds an ended flow.
    pub fn add(&mut self, flow: &FlowRecord, classifier: &Classifier) {
        let service = flow.class.service.and_then(|id| {
            classifier
                .service(id)
                .map(|s| (id.index(), s.name.as_str()))
        });
        self.observed.add(flow, service);
        self.candidates.add(flow, service.map(|(_, name)| name));
        self.totals.flows += 1;
        match flow.key.protocol {
            protocol::TCP => self.totals.tcp_flows += 1,
            protocol::UDP => self.totals.udp_flows += 1,
            _ => self.totals.icmp_flows += 1,
        }
        let Some(id) = flow.class.service else {
            self.unclassified.add(flow);
            self.unclassified_details.add(flow);
            let key = (
                flow.key.protocol,
                flow.icmp_type.map_or(flow.server().1, u16::from),
            );
            if let Some(t) = self.unclassified_ports.get_mut(&key) {
                t.add(flow);
            } else if self.unclassified_ports.len() < MAX_UNCLASSIFIED_PORTS {
                self.unclassified_ports.entry(key).or_default().add(flow);
            } else {
                self.unclassified_other.add(flow);
            }
            return;
        };
        self.timeline.add(
            id.index(),
            flow.first_seen,
            flow.outcome() != Outcome::Answered,
        );
        self.totals.rds_flows += 1;
        self.totals.rds_packets += flow.packets();
        self.totals.rds_bytes += flow.ip_bytes();
        let index = usize::from(id.index());
        if self.services.len() <= index {
            self.services.resize_with(index + 1, ServiceAgg::default);
        }
        let Some(agg) = self.services.get_mut(index) else {
            return;
        };
        agg.traffic.add(flow);
        *agg.conn_states.entry(flow.conn_state()).or_default() += 1;
        agg.syn_retries += u64::from(flow.syn_retries);
        *agg.verdicts.entry(flow.class.verdict.as_str()).or_default() += 1;
        agg.rules.extend(classifier.rules_for(flow).map(|(i, _)| i));
        if agg.servers.len() < MAX_DISTINCT_HOSTS {
            agg.servers.insert(flow.server());
        }
        if agg.clients.len() < MAX_DISTINCT_HOSTS {
            agg.clients.insert(flow.client().0);
        }
        agg.details.add(flow);
    }

    /// The finished summary.
    pub fn finish(
        self,
        classifier: &Classifier,
        stats: &Stats,
        table: &TableStats,
        config: &FlowTableConfig,
    ) -> Summary {
        let mut totals = self.totals;
        totals.packets = stats.packets;
        totals.wire_bytes = stats.wire_bytes;
        totals.ip_packets = stats.ip_packets;

        let services = self
            .services
            .iter()
            .enumerate()
            .filter(|(_, agg)| agg.traffic.flows > 0)
            .filter_map(|(index, agg)| {
                let service = classifier.services().get(index)?;
                Some(ServiceSummary {
                    service: service.name.clone(),
                    transport: service.transport.to_string(),
                    ports: service_ports(classifier, &service.rules),
                    traffic: agg.traffic,
                    conn_states: agg
                        .conn_states
                        .iter()
                        .map(|(s, n)| (s.as_str().to_string(), *n))
                        .collect(),
                    syn_retries: agg.syn_retries,
                    verdicts: agg
                        .verdicts
                        .iter()
                        .map(|(v, n)| ((*v).to_string(), *n))
                        .collect(),
                    rules: agg
                        .rules
                        .iter()
                        .filter_map(|i| classifier.signatures().rules.get(*i))
                        .map(|r| r.id.clone())
                        .collect(),
                    servers: agg.servers.len() as u64,
                    clients: agg.clients.len() as u64,
                    details: agg.details.finish(),
                })
            })
            .collect();

        let mut ports: Vec<_> = self.unclassified_ports.into_iter().collect();
        ports.sort_by(|(ka, a), (kb, b)| {
            b.flows
                .cmp(&a.flows)
                .then(b.packets.cmp(&a.packets))
                .then(ka.cmp(kb))
        });
        let mut rest = self.unclassified_other;
        let mut top_ports: Vec<PortSummary> = Vec::new();
        for (n, ((proto, port), traffic)) in ports.into_iter().enumerate() {
            if n < TOP_UNCLASSIFIED_PORTS {
                top_ports.push(PortSummary {
                    transport: protocol_name(proto).into(),
                    port: Some(port),
                    traffic,
                });
            } else {
                rest.flows += traffic.flows;
                rest.packets += traffic.packets;
                rest.bytes += traffic.bytes;
                rest.outcomes.answered += traffic.outcomes.answered;
                rest.outcomes.rejected += traffic.outcomes.rejected;
                rest.outcomes.unanswered += traffic.outcomes.unanswered;
            }
        }
        if rest.flows > 0 {
            top_ports.push(PortSummary {
                transport: "other".into(),
                port: None,
                traffic: rest,
            });
        }

        let to_map = |counts: &crate::stats::ErrorCounts| {
            let mut map: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            for (layer, kind, n) in counts.iter() {
                map.entry(layer.as_str().into())
                    .or_default()
                    .insert(kind.as_str().into(), n);
            }
            map
        };
        let decode = DecodeSummary {
            errors: to_map(&stats.decode_errors),
            anomalies: to_map(&stats.anomalies),
            truncated_packets: stats.truncated_packets,
            non_ip: stats
                .non_ip
                .iter()
                .map(|(t, n)| (format!("0x{t:04x}"), *n))
                .collect(),
            unsupported_link_types: stats
                .unsupported_links
                .iter()
                .map(|(l, n)| (l.name(), *n))
                .collect(),
            other_ip_protocols: stats
                .other_ip_protocols
                .iter()
                .map(|(p, n)| (p.to_string(), *n))
                .collect(),
            fragments_attributed: table.fragments_attributed,
            fragments_orphaned: table.fragments_orphaned,
            icmp_errors_tied: table.icmp_errors_tied,
            icmp_errors_untied: table.icmp_errors_untied,
        };
        let secs = |d: crate::time::Duration| d.as_secs_f64();
        let flow_table = FlowTableSummary {
            max_flows: config.max_flows as u64,
            peak_flows: table.peak_flows,
            tables: 1,
            peak_table_bytes: table.peak_table_bytes,
            evicted: table.ended.get(3).copied().unwrap_or_default(),
            ended: EndReason::ALL
                .iter()
                .zip(table.ended.iter())
                .map(|(r, n)| (r.as_str().to_string(), *n))
                .collect(),
            timeouts: [
                ("tcp", secs(config.tcp_idle)),
                ("tcp_closed", secs(config.tcp_closed)),
                ("udp", secs(config.udp_idle)),
                ("icmp", secs(config.icmp_idle)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        };
        let capture = CaptureSummary {
            first_ts: stats.first_ts.map(|t| t.as_secs_f64()),
            last_ts: stats.last_ts.map(|t| t.as_secs_f64()),
            duration: match (stats.first_ts, stats.last_ts) {
                (Some(a), Some(b)) => b.since(a).as_secs_f64(),
                _ => 0.0,
            },
            link_types: stats
                .link_types()
                .iter()
                .map(|(l, n)| (l.name(), *n))
                .collect(),
            timestamps_backwards: stats.ts_backwards,
        };
        let timeline = self.timeline.finish(
            |id| {
                classifier
                    .services()
                    .get(usize::from(id))
                    .map(|s| s.name.clone())
            },
            stats.first_ts.zip(stats.last_ts),
        );
        Summary {
            format: "rdsflows-summary",
            version: SUMMARY_FORMAT_VERSION,
            status: if stats.input_damaged() {
                "damaged"
            } else {
                "complete"
            },
            signatures: classifier.signatures().origin.clone(),
            inputs: stats
                .inputs
                .iter()
                .map(|i| InputSummary {
                    path: i.path.clone(),
                    packets: i.packets,
                    error: i.error.clone(),
                })
                .collect(),
            capture,
            totals,
            services,
            unclassified: Unclassified {
                traffic: self.unclassified,
                top_ports,
                details: self.unclassified_details.finish(),
            },
            decode,
            flow_table,
            timeline,
            verdict: None,
            resources: Resources {
                flow_record_bytes: std::mem::size_of::<FlowRecord>() as u64,
                peak_rss_bytes: None,
            },
            unattributed_flows: self.observed.overflow,
            candidates: self.candidates,
            incident: None,
            observed: self.observed.into_sorted(),
            live: None,
        }
    }
}

/// The ports a service's rules list, joined: `3389`, `49152-65535`, `53`.
fn service_ports(classifier: &Classifier, rules: &[usize]) -> String {
    let mut ranges: Vec<(u16, u16)> = rules
        .iter()
        .filter_map(|i| classifier.signatures().rules.get(*i))
        .flat_map(|r| r.ports.iter().map(|p| (p.first, p.last)))
        .collect();
    ranges.sort_unstable();
    ranges.dedup();
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Transport name for reports.
pub fn protocol_name(proto: u8) -> &'static str {
    match proto {
        protocol::TCP => "tcp",
        protocol::UDP => "udp",
        protocol::ICMP => "icmp",
        protocol::ICMPV6 => "icmp6",
        _ => "other",
    }
}

impl Transport {
    /// The IP protocol number.
    pub fn protocol(self) -> u8 {
        match self {
            Self::Tcp => protocol::TCP,
            Self::Udp => protocol::UDP,
        }
    }
}
