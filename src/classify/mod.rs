//! Classification: which RDS service a flow is and which signature rules it matches. The port
//! gives a first answer when the flow starts; payload checks (`payload`, over the parsers in
//! `probe`) then confirm it, contradict it, or find an RDS service on a port the map does not
//! list, and fill the flow's details. Owns the port index, that decision, and the cross-flow
//! evidence: endpoint-mapper answers (which later connection is RPC, and for which interface)
//! and RDP TCP connections (which UDP side channel belongs to which). Must not read files or
//! print (signatures are loaded by `config`); its cross-flow memory is bounded in entries and
//! time.

pub mod details;
pub mod payload;
pub mod probe;
pub mod signature;
pub mod verdict;

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::flow::key::protocol;
use crate::flow::{Direction, FlowRecord, ServicePorts};
use crate::time::{Duration, Timestamp};
use details::{LinkBy, RdpAnswer, RecordOptions, TcpLink};
use payload::{Context, Finding};
use probe::dcerpc::{SyntaxId, TowerProtocol};
use signature::{Evidence, PortRange, Rule, SignatureSet, Transport};
use verdict::{evidence, App, PayloadVerdict, ServiceId, Verdict};

/// Payload-carrying packets inspected per direction before the classifier stops looking: four,
/// so that a request behind a short preamble is still seen (SOCKS5 puts two exchanges before
/// the RDP Connection Request, arkime/socks5-rdp.pcap).
pub const DEFAULT_INSPECT_PACKETS: u8 = 4;
/// How long an endpoint-mapper answer vouches for a later connection between the same hosts.
const EPM_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Bound on remembered endpoint-mapper exchanges (host pairs) and towers (address, port).
const MAX_EPM_PAIRS: usize = 65_536;
/// How long an RDP TCP connection can own a UDP side channel found by its correlation ID.
const RDP_CORRELATION_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long after an RDP TCP connection between two hosts a UDP side channel between them is
/// taken to be its own when no correlation ID ties them (MS-RDPBCGR 2.2.15.1: the server asks
/// for the UDP transport right after the connection is set up).
const RDP_HOST_PAIR_WINDOW: Duration = Duration::from_secs(2 * 60);
/// Bound on remembered RDP TCP connections (by correlation ID, and by host pair).
const MAX_RDP_SESSIONS: usize = 65_536;

/// A service as the classifier knows it: a name, a transport, and the rules that name it.
#[derive(Clone, Debug)]
pub struct Service {
    /// The name from the signature rules (`rdp`, `rpc-epm`…).
    pub name: String,
    /// Its transport.
    pub transport: Transport,
    /// Indices into the signature set's rules.
    pub rules: Vec<usize>,
    /// True when the port alone must not classify (dynamic RPC ranges).
    pub needs_rpc_evidence: bool,
}

/// An endpoint-mapper tower remembered for the connection it announces.
#[derive(Clone, Copy, Debug)]
struct EpmMapping {
    interface: SyntaxId,
    at: Timestamp,
}

/// An RDP TCP connection remembered for the UDP side channel that may follow.
#[derive(Clone, Copy, Debug)]
struct RdpSession {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    first_seen: Timestamp,
    /// When its Connection Request was seen.
    at: Timestamp,
    /// True once a Connection Confirm without failure answered it.
    confirmed: bool,
}

/// What the payload says about the service the port named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judgement {
    Confirms,
    Contradicts,
    Neutral,
}

/// The application protocols that confirm a service of the built-in map (by service name).
/// Services this table does not know (the broker's 5504, services of a custom signature file)
/// are neither confirmed nor contradicted by payload.
fn expected_apps(service: &str) -> &'static [App] {
    match service {
        "rdp" => &[App::Rdp],
        "rdp-udp" => &[App::RdpUdp],
        "https" | "ldaps" => &[App::Tls],
        "rdg-udp" => &[App::Dtls],
        "smb" => &[App::Smb],
        "netbios-ssn" => &[App::Netbios, App::Smb],
        "netbios-ns" | "netbios-dgm" => &[App::Netbios],
        "rpc-epm" | "rpc-dynamic" | "rpc-dynamic-legacy" | "wmi" => &[App::DceRpc],
        "winrm" | "http" => &[App::Http],
        "kerberos" => &[App::Kerberos],
        "ldap" | "cldap" => &[App::Ldap],
        "dns" => &[App::Dns],
        "ftp" => &[App::Ftp],
        "radius" | "radius-acct" => &[App::Radius],
        _ => &[],
    }
}

/// Compares the apps of both directions with what the port's service speaks.
fn judge_port(service: &str, apps: [Option<App>; 2]) -> Judgement {
    let expected = expected_apps(service);
    if expected.is_empty() {
        return Judgement::Neutral;
    }
    // Unrecognised bytes and encrypted records never contradict: many of these protocols move
    // to TLS (RDP after the confirm, LDAP after StartTLS), and a capture may start midstream.
    let compatible =
        |a: App| expected.contains(&a) || matches!(a, App::Other | App::Tls | App::Dtls);
    let [client, server] = apps;
    let server_speaks_it = server.is_some_and(|s| expected.contains(&s));
    if server.is_some_and(|s| !compatible(s)) {
        return Judgement::Contradicts;
    }
    if client.is_some_and(|c| !compatible(c)) && !server_speaks_it {
        return Judgement::Contradicts;
    }
    // MS-RDPBCGR 1.3.1.1: the server answers a Connection Request with a Connection Confirm;
    // anything else means the listener is not an RDP server (nDPI #2231, ntopng #9808).
    if service == "rdp" && client == Some(App::Rdp) && server == Some(App::Other) {
        return Judgement::Contradicts;
    }
    if server_speaks_it || client.is_some_and(|c| expected.contains(&c)) {
        Judgement::Confirms
    } else {
        Judgement::Neutral
    }
}

/// The classifier: built once from a signature set, then fed flows.
///
/// Evidence that one flow gives about another (endpoint-mapper answers, RDP connections the
/// UDP side channel links to) is kept per address pair and used only between the same two
/// addresses. That is how the protocols use it (a client asks the endpoint mapper of the host
/// it then connects to; MS-RDPEMT's UDP transport goes to the server of the TCP connection),
/// and it lets a sharded run (`--threads`) give each shard a whole address pair.
#[derive(Clone, Debug)]
pub struct Classifier {
    signatures: SignatureSet,
    services: Vec<Service>,
    /// Single-port services, indexed by port: `tcp_ports[3389]`.
    tcp_ports: Vec<Option<ServiceId>>,
    udp_ports: Vec<Option<ServiceId>>,
    /// Range services that need evidence, narrowest range first.
    tcp_ranges: Vec<(PortRange, ServiceId)>,
    epm_answers: HashMap<(IpAddr, IpAddr), Timestamp>,
    /// Endpoint-mapper towers: (client, server address, port) → interface.
    epm_ports: HashMap<(IpAddr, IpAddr, u16), EpmMapping>,
    /// RDP TCP connections by address pair and the correlation ID of their Connection Request.
    rdp_by_correlation: HashMap<(IpAddr, IpAddr, [u8; 16]), RdpSession>,
    /// The latest RDP TCP connection per (client, server) address pair.
    rdp_by_pair: HashMap<(IpAddr, IpAddr), RdpSession>,
    inspect_packets: u8,
    record_options: RecordOptions,
}

impl Classifier {
    /// Builds the port index from a signature set. Rules with a `port_setting` and no ports are
    /// indexed once a deployment supplies the port.
    pub fn new(signatures: SignatureSet) -> Self {
        let mut services: Vec<Service> = Vec::new();
        let mut tcp_ports = vec![None; 65_536];
        let mut udp_ports = vec![None; 65_536];
        let mut tcp_ranges = Vec::new();
        for (index, rule) in signatures.rules.iter().enumerate() {
            let id = match services
                .iter()
                .position(|s| s.name == rule.service && s.transport == rule.transport)
            {
                Some(i) => i,
                None => {
                    services.push(Service {
                        name: rule.service.clone(),
                        transport: rule.transport,
                        rules: Vec::new(),
                        needs_rpc_evidence: false,
                    });
                    services.len() - 1
                }
            };
            let service_id = ServiceId::from_index(id);
            if let Some(service) = services.get_mut(id) {
                service.rules.push(index);
                service.needs_rpc_evidence |= rule.needs_evidence == Some(Evidence::Rpc);
            }
            for range in &rule.ports {
                if rule.needs_evidence.is_some() || !range.is_single() {
                    if rule.transport == Transport::Tcp
                        && !tcp_ranges.iter().any(|(r, _)| r == range)
                    {
                        tcp_ranges.push((*range, service_id));
                    }
                    continue;
                }
                let slot = match rule.transport {
                    Transport::Tcp => tcp_ports.get_mut(usize::from(range.first)),
                    Transport::Udp => udp_ports.get_mut(usize::from(range.first)),
                };
                if let Some(slot) = slot {
                    slot.get_or_insert(service_id);
                }
            }
        }
        tcp_ranges.sort_by_key(|(r, _)| r.last - r.first);
        Self {
            signatures,
            services,
            tcp_ports,
            udp_ports,
            tcp_ranges,
            epm_answers: HashMap::new(),
            epm_ports: HashMap::new(),
            rdp_by_correlation: HashMap::new(),
            rdp_by_pair: HashMap::new(),
            inspect_packets: DEFAULT_INSPECT_PACKETS,
            record_options: RecordOptions::default(),
        }
    }
    /// A classifier with the same rules and settings and no evidence yet: one per shard of a
    /// sharded run.
    pub fn fork(&self) -> Self {
        Self {
            epm_answers: HashMap::new(),
            epm_ports: HashMap::new(),
            rdp_by_correlation: HashMap::new(),
            rdp_by_pair: HashMap::new(),
            ..self.clone()
        }
    }

    /// Classifies `port` as the named service too (a deployment's custom RDP port, its fixed WMI
    /// port). Returns false when no rule names that service on that transport.
    pub fn add_port(&mut self, service: &str, transport: Transport, port: u16) -> bool {
        let Some(index) = self
            .services
            .iter()
            .position(|s| s.name == service && s.transport == transport)
        else {
            return false;
        };
        let id = ServiceId::from_index(index);
        let slot = match transport {
            Transport::Tcp => self.tcp_ports.get_mut(usize::from(port)),
            Transport::Udp => self.udp_ports.get_mut(usize::from(port)),
        };
        if let Some(slot) = slot {
            *slot = Some(id);
        }
        true
    }

    /// Sets how many payload packets per direction the checks see.
    pub fn with_inspect_packets(mut self, packets: u8) -> Self {
        self.inspect_packets = packets;
        self
    }

    /// Replaces user names with a stable hash in the details it records (`--redact`).
    pub fn with_redact(mut self, redact: bool) -> Self {
        self.record_options.redact = redact;
        self
    }

    /// The signature set in use.
    pub fn signatures(&self) -> &SignatureSet {
        &self.signatures
    }

    /// Every service, indexed by `ServiceId`.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// A service by id.
    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(usize::from(id.index()))
    }

    /// The server ports the map lists, so the flow table can orient midstream flows.
    pub fn service_ports(&self) -> ServicePorts {
        let mut ports = ServicePorts::default();
        for rule in &self.signatures.rules {
            let proto = match rule.transport {
                Transport::Tcp => protocol::TCP,
                Transport::Udp => protocol::UDP,
            };
            for range in rule.ports.iter().filter(|r| r.is_single()) {
                ports.insert(proto, range.first);
            }
        }
        ports
    }

    /// The rules a classified flow matches (index into the signature set, rule): its service's
    /// rules whose ports hold the server port.
    pub fn rules_for<'s>(
        &'s self,
        flow: &FlowRecord,
    ) -> impl Iterator<Item = (usize, &'s Rule)> + 's {
        let server_port = flow.server().1;
        flow.class
            .service
            .and_then(|id| self.service(id))
            .map(|s| s.rules.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| Some((i, self.signatures.rules.get(i)?)))
            .filter(move |(_, rule)| rule.ports.iter().any(|r| r.contains(server_port)))
    }

    /// First look at a new flow: the server port, and what an endpoint mapper said about it.
    pub fn on_new_flow(&mut self, flow: &mut FlowRecord) {
        self.classify_port(flow);
        flow.class.port_service = flow.class.service;
        if flow.class.service.is_some() {
            flow.class.payload = Some(PayloadVerdict::PortOnly);
        }
    }

    fn classify_port(&mut self, flow: &mut FlowRecord) {
        let (client, _) = flow.client();
        let (server, port) = flow.server();
        let by_port = match flow.key.protocol {
            protocol::TCP => self.tcp_ports.get(usize::from(port)).copied().flatten(),
            protocol::UDP => self.udp_ports.get(usize::from(port)).copied().flatten(),
            _ => None,
        };
        if let Some(id) = by_port {
            flow.class.service = Some(id);
            flow.class.verdict = Verdict::Likely;
            return;
        }
        if flow.key.protocol != protocol::TCP {
            return;
        }
        // An ept_map answer named this very address and port for an interface (C706 appendix
        // L): the connection is RPC for that interface, whoever's range the port is in.
        let tower = self
            .epm_ports
            .get(&(client, server, port))
            .filter(|m| m.at <= flow.first_seen && flow.first_seen.since(m.at) <= EPM_WINDOW)
            .copied();
        if let Some(mapping) = tower {
            flow.class.evidence |= evidence::EPM_TOWER | evidence::EPM_BEFORE;
            let d = flow.details_or_default();
            d.dcerpc.get_or_insert_with(Box::default).epm_mapped = Some(mapping.interface);
            if let Some(id) = self.range_service(port) {
                flow.class.service = Some(id);
                flow.class.verdict = Verdict::Likely;
            }
            return;
        }
        // Dynamic RPC: the range is also every Windows client's ephemeral range, so the port
        // only counts when the SYN proved which side is the server, and even then only with an
        // endpoint-mapper answer between the same hosts just before (MS-RPCE 2.1.1.1; KB 929851).
        if flow.client_isn().is_some() && !flow.flipped {
            if let Some(id) = self.range_service(port) {
                flow.class.evidence |= evidence::SERVER_FROM_SYN;
                let epm_recent = self.epm_answers.get(&(client, server)).is_some_and(|at| {
                    flow.first_seen.since(*at) <= EPM_WINDOW && *at <= flow.first_seen
                });
                if epm_recent {
                    flow.class.evidence |= evidence::EPM_BEFORE;
                    flow.class.service = Some(id);
                    flow.class.verdict = Verdict::Likely;
                }
            }
        }
    }

    /// Payload seen in one direction: runs the checks on the first few payload packets of each
    /// direction (the inspection bound), records what they extract, and decides again. True
    /// when it did; false when the flow is left as it was (no payload, or past the bound).
    #[inline]
    pub fn on_payload(&mut self, flow: &mut FlowRecord, dir: Direction, payload: &[u8]) -> bool {
        // Every packet with a payload comes here, nearly all of them past the bound: that test
        // is inlined into the caller, the inspection is not.
        let seen = flow.class.inspected.get(dir.index()).copied();
        if payload.is_empty() || seen.is_none_or(|seen| seen >= self.inspect_packets) {
            return false;
        }
        self.inspect_payload(flow, dir, payload);
        true
    }

    /// [`Self::on_payload`] within the bound.
    #[inline(never)]
    fn inspect_payload(&mut self, flow: &mut FlowRecord, dir: Direction, payload: &[u8]) {
        let Some(seen) = flow.class.inspected.get_mut(dir.index()) else {
            return;
        };
        *seen += 1;
        let tcp = match flow.key.protocol {
            protocol::TCP => true,
            protocol::UDP => false,
            _ => return,
        };
        let ctx = Context {
            tcp,
            server_port: flow.server().1,
            client_port: flow.client().1,
        };
        let finding = payload::inspect(ctx, payload);
        let app = finding.as_ref().map_or(App::Other, Finding::app);
        if let Some(slot) = flow.class.apps.get_mut(dir.index()) {
            if slot.is_none_or(|a| a == App::Other) {
                *slot = Some(app);
            }
        }
        if let Some(finding) = finding {
            if let Finding::Dce(h)
            | Finding::DceEptMap(probe::dcerpc::EptMapResponse { header: h, .. }) = finding
            {
                flow.class.evidence |= evidence::DCERPC_PAYLOAD;
                if dir == Direction::ToServer
                    && matches!(
                        h.ptype,
                        probe::dcerpc_ptype::BIND | probe::dcerpc_ptype::ALTER_CONTEXT
                    )
                {
                    flow.class.evidence |= evidence::DCERPC_BIND;
                }
            }
            if matches!(finding, Finding::DceBind(_) | Finding::DceBindAck(_)) {
                flow.class.evidence |= evidence::DCERPC_PAYLOAD;
                if dir == Direction::ToServer && matches!(finding, Finding::DceBind(_)) {
                    flow.class.evidence |= evidence::DCERPC_BIND;
                }
            }
            flow.details_or_default().record(
                &finding,
                dir == Direction::ToServer,
                self.record_options,
            );
            self.cross_flow(flow, dir, &finding);
        }
        self.decide(flow);
    }

    /// Keeps what later flows need: endpoint-mapper towers and answers, RDP TCP connections;
    /// and links an RDP-UDP side channel to its TCP connection.
    fn cross_flow(&mut self, flow: &mut FlowRecord, dir: Direction, finding: &Finding<'_>) {
        let (client, server) = (flow.client(), flow.server());
        match finding {
            Finding::DceEptMap(answer) if dir == Direction::ToClient => {
                self.remember_epm_answer(client.0, server.0, flow.last_seen);
                for entry in &answer.entries {
                    let Some(port) = entry.port.filter(|_| entry.transport == TowerProtocol::TCP)
                    else {
                        continue;
                    };
                    // Floor 5's address; 0.0.0.0 means "the host you asked" (C706 appendix L).
                    // A tower naming another host is not followed: evidence stays within the
                    // address pair (see [`Classifier`]).
                    let address = entry
                        .ipv4
                        .filter(|a| !a.is_unspecified())
                        .map_or(server.0, IpAddr::V4);
                    if address == server.0 {
                        self.remember_epm_tower(
                            (client.0, address, port),
                            entry.interface,
                            flow.last_seen,
                        );
                    }
                }
            }
            // Any other answer of an endpoint mapper vouches for the host pair (the tower may
            // be in a later segment, or NDR64 cut short).
            Finding::Dce(h)
                if dir == Direction::ToClient
                    && h.ptype == probe::dcerpc_ptype::RESPONSE
                    && self.is_service(flow.class.port_service, "rpc-epm") =>
            {
                self.remember_epm_answer(client.0, server.0, flow.last_seen);
            }
            Finding::RdpRequest(cr) if flow.is_tcp() => {
                let session = RdpSession {
                    client,
                    server,
                    first_seen: flow.first_seen,
                    at: flow.last_seen,
                    confirmed: false,
                };
                if let Some(id) = cr.correlation_id {
                    let key = (client.0, server.0, id);
                    Self::remember_bounded(&mut self.rdp_by_correlation, key, session, |s| {
                        flow.last_seen.since(s.at) <= RDP_CORRELATION_WINDOW
                    });
                }
                Self::remember_bounded(&mut self.rdp_by_pair, (client.0, server.0), session, |s| {
                    flow.last_seen.since(s.at) <= RDP_HOST_PAIR_WINDOW
                });
            }
            Finding::RdpConfirm(_) if flow.is_tcp() => {
                let rdp = flow.details().and_then(|d| d.rdp.as_deref());
                let confirmed = rdp.is_some_and(|r| r.answer == Some(RdpAnswer::Confirm));
                let correlation = rdp.and_then(|r| r.correlation_id);
                let same = |s: &RdpSession| s.client == client && s.first_seen == flow.first_seen;
                if let Some(s) = correlation
                    .and_then(|id| self.rdp_by_correlation.get_mut(&(client.0, server.0, id)))
                    .filter(|s| same(s))
                {
                    s.confirmed = confirmed;
                }
                if let Some(s) = self
                    .rdp_by_pair
                    .get_mut(&(client.0, server.0))
                    .filter(|s| same(s))
                {
                    s.confirmed = confirmed;
                }
            }
            Finding::RdpUdp(syn) if !flow.is_tcp() => {
                let starts = flow.first_seen;
                let Some(d) = flow.details_mut().and_then(|d| d.rdpeudp.as_mut()) else {
                    return;
                };
                if d.tcp.is_some() || syn.kind != probe::rdpeudp::SynKind::Syn {
                    return;
                }
                let by_id = syn
                    .correlation_id
                    .and_then(|id| self.rdp_by_correlation.get(&(client.0, server.0, id)))
                    .filter(|s| s.at <= starts && starts.since(s.at) <= RDP_CORRELATION_WINDOW)
                    .map(|s| (*s, LinkBy::CorrelationId));
                let by_pair = || {
                    self.rdp_by_pair
                        .get(&(client.0, server.0))
                        .filter(|s| s.at <= starts && starts.since(s.at) <= RDP_HOST_PAIR_WINDOW)
                        .map(|s| (*s, LinkBy::HostPair))
                };
                if let Some((s, by)) = by_id.or_else(by_pair) {
                    d.tcp = Some(TcpLink {
                        client: s.client,
                        server: s.server,
                        first_seen: s.first_seen,
                        by,
                        tcp_confirmed: s.confirmed,
                    });
                }
            }
            _ => {}
        }
    }

    /// Inserts into a bounded memory: when full, entries `fresh` rejects are dropped first,
    /// then everything (the bound matters more than the history).
    fn remember_bounded<K: std::hash::Hash + Eq, V>(
        map: &mut HashMap<K, V>,
        key: K,
        value: V,
        fresh: impl Fn(&V) -> bool,
    ) {
        if map.len() >= MAX_RDP_SESSIONS && !map.contains_key(&key) {
            map.retain(|_, v| fresh(v));
            if map.len() >= MAX_RDP_SESSIONS {
                map.clear();
            }
        }
        map.insert(key, value);
    }

    fn is_service(&self, id: Option<ServiceId>, name: &str) -> bool {
        id.and_then(|id| self.service(id))
            .is_some_and(|s| s.name == name)
    }

    fn service_id(&self, name: &str, transport: Transport) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.name == name && s.transport == transport)
            .filter(|&i| i < usize::from(u16::MAX))
            .map(ServiceId::from_index)
    }

    /// The RDS service the payload found, regardless of the port. RDP and RDP-UDP count when
    /// the client spoke them and the server answered in kind or not at all (an attempt is
    /// worth reporting; an answer in another protocol means the server is not an RDP server);
    /// the other protocols need both sides. TLS, DTLS, DNS, NetBIOS and FTP name no service
    /// here: they are too generic, or their checks too weak, to claim an unlisted port.
    fn payload_service(&self, flow: &FlowRecord) -> Option<ServiceId> {
        let [client, server] = flow.class.apps;
        let both = |app: App| client == Some(app) && server == Some(app);
        let transport = if flow.is_tcp() {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let answered_in_kind_or_silent =
            |app: App| server.is_none_or(|s| s == app || s == App::Tls);
        let details = flow.details();
        match flow.class.app()? {
            App::Rdp
                if flow.is_tcp()
                    && ((client == Some(App::Rdp) && answered_in_kind_or_silent(App::Rdp))
                        || server == Some(App::Rdp)) =>
            {
                self.service_id("rdp", Transport::Tcp)
            }
            App::RdpUdp
                if !flow.is_tcp()
                    && ((client == Some(App::RdpUdp)
                        && answered_in_kind_or_silent(App::RdpUdp))
                        || server == Some(App::RdpUdp)) =>
            {
                self.service_id("rdp-udp", Transport::Udp)
            }
            App::Http if flow.is_tcp() && answered_in_kind_or_silent(App::Http) => {
                use probe::http::Purpose;
                match details
                    .and_then(|d| d.http.as_ref())
                    .and_then(|h| h.purpose)?
                {
                    Purpose::RdGatewayHttp | Purpose::RdGatewayWebSocket | Purpose::RpcOverHttp => {
                        self.service_id("https", Transport::Tcp)
                    }
                    Purpose::WinRm => self.service_id("winrm", Transport::Tcp),
                    _ => None,
                }
            }
            // A bind from the client to a port of a dynamic RPC range (C706 12.6.4.3): the
            // other side is an RPC server on that port.
            App::DceRpc if flow.is_tcp() && flow.class.evidence & evidence::DCERPC_BIND != 0 => {
                self.range_service(flow.server().1)
            }
            App::Kerberos if both(App::Kerberos) => self.service_id("kerberos", transport),
            App::Ldap if both(App::Ldap) => {
                self.service_id(if flow.is_tcp() { "ldap" } else { "cldap" }, transport)
            }
            App::Smb if both(App::Smb) && flow.is_tcp() => self.service_id("smb", Transport::Tcp),
            App::Radius if both(App::Radius) && !flow.is_tcp() => {
                let accounting = details
                    .and_then(|d| d.radius.as_ref())
                    .and_then(|r| r.request)
                    .is_some_and(|c| c.0 == 4);
                self.service_id(
                    if accounting { "radius-acct" } else { "radius" },
                    Transport::Udp,
                )
            }
            _ => None,
        }
    }

    /// True when some rule of the service lists the flow's server port.
    fn lists_port(&self, id: ServiceId, port: u16) -> bool {
        self.service(id).is_some_and(|s| {
            s.rules
                .iter()
                .filter_map(|&i| self.signatures.rules.get(i))
                .any(|r| r.ports.iter().any(|p| p.contains(port)))
        }) || self.tcp_ports.get(usize::from(port)).copied().flatten() == Some(id)
            || self.udp_ports.get(usize::from(port)).copied().flatten() == Some(id)
    }

    /// Decides the flow's service, payload verdict and certainty from the port's service and
    /// the apps seen so far (a flow is decided again after every inspected packet; the last
    /// decision is what the reports show).
    fn decide(&self, flow: &mut FlowRecord) {
        let [client, server] = flow.class.apps;
        // MS-RDPBCGR 2.2.1.2: an RDP server answers the request with a Connection Confirm.
        if client == Some(App::Rdp) && server.is_some_and(|s| s != App::Rdp && s != App::Tls) {
            if let Some(rdp) = flow.details_mut().and_then(|d| d.rdp.as_mut()) {
                rdp.answer.get_or_insert(RdpAnswer::NotRdp);
            }
        }
        let port = flow.server().1;
        let judgement = flow
            .class
            .port_service
            .and_then(|id| self.service(id))
            .map(|s| judge_port(&s.name, flow.class.apps));
        match (flow.class.port_service, judgement) {
            (Some(id), Some(Judgement::Confirms)) => {
                flow.class.service = Some(id);
                flow.class.payload = Some(PayloadVerdict::Confirmed);
                flow.class.verdict = Verdict::Certain;
            }
            (Some(id), Some(Judgement::Neutral) | None) => {
                flow.class.service = Some(id);
                flow.class.payload = Some(PayloadVerdict::PortOnly);
                flow.class.verdict = Verdict::Likely;
            }
            (Some(_), Some(Judgement::Contradicts)) => {
                let found = self.payload_service(flow);
                flow.class.service = found;
                flow.class.payload = Some(PayloadVerdict::Contradicted);
                flow.class.verdict = if found.is_some() {
                    Verdict::Certain
                } else {
                    Verdict::NotRds
                };
            }
            (None, _) => match self.payload_service(flow) {
                Some(id) => {
                    flow.class.service = Some(id);
                    flow.class.payload = Some(if self.lists_port(id, port) {
                        PayloadVerdict::Confirmed
                    } else {
                        PayloadVerdict::PayloadOnly
                    });
                    flow.class.verdict = Verdict::Certain;
                }
                None => {
                    flow.class.service = None;
                    flow.class.payload = None;
                    flow.class.verdict = Verdict::NotRds;
                }
            },
        }
    }

    fn range_service(&self, port: u16) -> Option<ServiceId> {
        self.tcp_ranges
            .iter()
            .find(|(r, _)| r.contains(port))
            .map(|(_, id)| *id)
    }

    fn remember_epm_answer(&mut self, client: IpAddr, server: IpAddr, at: Timestamp) {
        if self.epm_answers.len() >= MAX_EPM_PAIRS
            && !self.epm_answers.contains_key(&(client, server))
        {
            self.epm_answers
                .retain(|_, seen| at.since(*seen) <= EPM_WINDOW);
            if self.epm_answers.len() >= MAX_EPM_PAIRS {
                self.epm_answers.clear();
            }
        }
        self.epm_answers.insert((client, server), at);
    }

    fn remember_epm_tower(
        &mut self,
        key: (IpAddr, IpAddr, u16),
        interface: SyntaxId,
        at: Timestamp,
    ) {
        if self.epm_ports.len() >= MAX_EPM_PAIRS && !self.epm_ports.contains_key(&key) {
            self.epm_ports.retain(|_, m| at.since(m.at) <= EPM_WINDOW);
            if self.epm_ports.len() >= MAX_EPM_PAIRS {
                self.epm_ports.clear();
            }
        }
        self.epm_ports.insert(key, EpmMapping { interface, at });
    }

    /// The service name of a flow, or `None` when unclassified.
    pub fn service_name(&self, flow: &FlowRecord) -> Option<&str> {
        flow.class
            .service
            .and_then(|id| self.service(id))
            .map(|s| s.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;
    use crate::flow::FlowKey;

    const CLIENT: [u8; 4] = [10, 1, 2, 21];
    const SERVER: [u8; 4] = [10, 1, 2, 30];

    /// A TCP flow client -> server:port; `from_syn`: the SYN was seen (the server side is known).
    fn flow(port: u16, from_syn: bool, at_secs: i64) -> FlowRecord {
        let (key, side) = FlowKey::new(
            IpAddr::from(CLIENT),
            50_123,
            IpAddr::from(SERVER),
            port,
            protocol::TCP,
        );
        let mut record = FlowRecord::new(
            key,
            side,
            false,
            Timestamp::from_parts(at_secs, 0),
            PacketPos::default(),
        );
        if from_syn {
            record.set_client_isn(1);
        }
        record
    }

    fn classifier() -> Classifier {
        Classifier::new(SignatureSet::builtin())
    }

    fn name(c: &Classifier, f: &FlowRecord) -> Option<String> {
        c.service_name(f).map(str::to_string)
    }

    /// An ept_map response header (DCE/RPC PTYPE 2) as the endpoint mapper sends it.
    const EPM_RESPONSE: [u8; 16] = [5, 0, 2, 3, 0x10, 0, 0, 0, 0x8c, 0, 0, 0, 2, 0, 0, 0];
    /// A bind header (PTYPE 11).
    const BIND: [u8; 16] = [5, 0, 11, 3, 0x10, 0, 0, 0, 0x74, 0, 0, 0, 2, 0, 0, 0];

    #[test]
    fn well_known_port_classifies_as_likely() {
        let mut c = classifier();
        let mut f = flow(3389, true, 0);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f).as_deref(), Some("rdp"));
        assert_eq!(f.class.verdict, Verdict::Likely);
        assert!(
            c.rules_for(&f).count() >= 3,
            "every RDP rule that lists 3389"
        );
    }

    #[test]
    fn dynamic_port_alone_is_not_rpc() {
        let mut c = classifier();
        let mut f = flow(49_700, true, 0);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f), None);
        assert_eq!(f.class.verdict, Verdict::NotRds);
    }

    #[test]
    fn dynamic_port_after_an_epm_answer_is_rpc() {
        let mut c = classifier();
        let mut epm = flow(135, true, 0);
        c.on_new_flow(&mut epm);
        c.on_payload(&mut epm, Direction::ToClient, &EPM_RESPONSE);
        let mut f = flow(49_700, true, 1);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f).as_deref(), Some("rpc-dynamic"));
        assert_eq!(f.class.verdict, Verdict::Likely);
        // The same port without the SYN (midstream: who is the server?) stays unclassified.
        let mut midstream = flow(49_701, false, 1);
        c.on_new_flow(&mut midstream);
        assert_eq!(name(&c, &midstream), None);
        // An answer long ago does not vouch for a connection now.
        let mut late = flow(49_702, true, 3600);
        c.on_new_flow(&mut late);
        assert_eq!(name(&c, &late), None);
    }

    #[test]
    fn dcerpc_bind_on_a_dynamic_port_is_rpc_with_certainty() {
        let mut c = classifier();
        let mut f = flow(49_800, true, 0);
        c.on_new_flow(&mut f);
        c.on_payload(&mut f, Direction::ToServer, &BIND);
        assert_eq!(name(&c, &f).as_deref(), Some("rpc-dynamic"));
        assert_eq!(f.class.verdict, Verdict::Certain);
        // In the legacy range (before Windows Server 2008) the same bind names the legacy service.
        let mut old = flow(1032, true, 0);
        c.on_new_flow(&mut old);
        c.on_payload(&mut old, Direction::ToServer, &BIND);
        assert_eq!(name(&c, &old).as_deref(), Some("rpc-dynamic-legacy"));
    }

    #[test]
    fn payload_checks_stop_after_the_bound() {
        let mut c = classifier().with_inspect_packets(1);
        let mut f = flow(49_900, true, 0);
        c.on_new_flow(&mut f);
        c.on_payload(&mut f, Direction::ToServer, b"not rpc at all");
        c.on_payload(&mut f, Direction::ToServer, &BIND);
        assert_eq!(
            name(&c, &f),
            None,
            "the second packet is past the inspection bound"
        );
    }

    #[test]
    fn service_ports_cover_the_single_port_rules() {
        let ports = classifier().service_ports();
        assert!(ports.contains(protocol::TCP, 3389));
        assert!(ports.contains(protocol::UDP, 3391));
        assert!(ports.contains(protocol::TCP, 5504));
        assert!(!ports.contains(protocol::TCP, 49_700));
    }

    // ---- Payload checks (issue 4): vectors from the public captures, cited per constant. ----

    use probe::test_util::{hex, MAPI_EPT_MAP};

    /// zeek/rdp/rdp-to-ssl.pcap frame 4 (49206 → 3389): CR, cookie AWAKECODI, NEG_REQ SSL|HYBRID.
    const ZEEK_SSL_CR: &str = "0300002f2ae00000000000436f6f6b69653a206d737473686173683d4157414b45434f44490d0a0100080003000000";
    /// Same file, frame 6 (3389 → 49206): CC selecting HYBRID.
    const ZEEK_SSL_CC: &str = "030000130ed00000123400020108000200000000";
    /// zeek/modbus/modbus-and-non-modbus-p502.pcap frame 82: the honeypot's answer to an RDP
    /// CR (TPKT-looking, not a CC).
    const MODBUS_REPLY: &str = "0300002b0003008001";
    /// zeek/rdp/rdpeudp-handshake-fail.pcap frame 1 (head; the datagram is zero-padded to
    /// 1232 bytes): SYN with correlation ID f8530360ca7f4241a67374e5201a0000, SYNEX version 2.
    const FAIL_SYN: &str = "ffffffff00401801ee4071dc04d004d0f8530360ca7f4241a67374e5201a00000000000000000000000000000000000000010002";

    fn padded(head: &str) -> Vec<u8> {
        let mut v = hex(head);
        v.resize(1232, 0);
        v
    }

    /// A flow between two given addresses.
    fn flow_between(
        client: [u8; 4],
        server: [u8; 4],
        port: u16,
        proto: u8,
        at_secs: i64,
    ) -> FlowRecord {
        let (key, side) = FlowKey::new(
            IpAddr::from(client),
            50_123,
            IpAddr::from(server),
            port,
            proto,
        );
        let mut record = FlowRecord::new(
            key,
            side,
            false,
            Timestamp::from_parts(at_secs, 0),
            PacketPos::default(),
        );
        if proto == protocol::TCP {
            record.set_client_isn(1);
        }
        record
    }

    fn udp_flow(port: u16, at_secs: i64) -> FlowRecord {
        flow_between(CLIENT, SERVER, port, protocol::UDP, at_secs)
    }

    /// A CR carrying RDP_NEG_CORRELATION_INFO (MS-RDPBCGR 2.2.1.1.2) with `id`, built from the
    /// layout: TPKT length 55, LI 50, NEG_REQ with CORRELATION_INFO_PRESENT.
    fn cr_with_correlation(id: &[u8]) -> Vec<u8> {
        let mut cr = hex("03000037 32e00000000000 01080800 03000000 06002400");
        cr.extend_from_slice(id);
        cr.extend_from_slice(&[0; 16]);
        cr
    }

    fn run(c: &mut Classifier, f: &mut FlowRecord, packets: &[(Direction, &[u8])]) {
        c.on_new_flow(f);
        for (dir, bytes) in packets {
            c.on_payload(f, *dir, bytes);
        }
    }

    #[test]
    fn rdp_on_an_unlisted_port_is_found_by_payload() {
        let mut c = classifier();
        let mut f = flow(13389, true, 0);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f), None);
        c.on_payload(&mut f, Direction::ToServer, &hex(ZEEK_SSL_CR));
        // The request alone is an RDP attempt on that port.
        assert_eq!(name(&c, &f).as_deref(), Some("rdp"));
        c.on_payload(&mut f, Direction::ToClient, &hex(ZEEK_SSL_CC));
        assert_eq!(name(&c, &f).as_deref(), Some("rdp"));
        assert_eq!(f.class.payload, Some(PayloadVerdict::PayloadOnly));
        assert_eq!(f.class.verdict, Verdict::Certain);
        assert_eq!(f.class.app(), Some(App::Rdp));
        let rdp = f.details().unwrap().rdp.as_ref().unwrap();
        assert_eq!(rdp.cookie.as_deref(), Some("AWAKECODI"));
        assert_eq!(rdp.selected_name().as_deref(), Some("PROTOCOL_HYBRID"));
        assert_eq!(rdp.answer, Some(RdpAnswer::Confirm));
        // On 3389 the same exchange confirms the port.
        let mut std = flow(3389, true, 0);
        run(
            &mut c,
            &mut std,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, &hex(ZEEK_SSL_CC)),
            ],
        );
        assert_eq!(std.class.payload, Some(PayloadVerdict::Confirmed));
    }

    #[test]
    fn an_rdp_request_answered_otherwise_is_not_an_rdp_server() {
        let mut c = classifier();
        // 3389 answered by the honeypot's non-CC: the port said RDP, the server is not.
        let mut f = flow(3389, true, 0);
        run(
            &mut c,
            &mut f,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, &hex(MODBUS_REPLY)),
            ],
        );
        assert_eq!(f.class.payload, Some(PayloadVerdict::Contradicted));
        assert_eq!(name(&c, &f), None);
        assert_eq!(
            f.class
                .port_service
                .and_then(|id| c.service(id))
                .map(|s| s.name.as_str()),
            Some("rdp")
        );
        assert_eq!(f.class.app(), Some(App::Rdp), "what the client spoke");
        let rdp = f.details().unwrap().rdp.as_ref().unwrap();
        assert_eq!(rdp.answer, Some(RdpAnswer::NotRdp));
        // The same on tcp/502 (unlisted): no service, the RDP request is still reported.
        let mut scan = flow(502, true, 0);
        run(
            &mut c,
            &mut scan,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, &hex(MODBUS_REPLY)),
            ],
        );
        assert_eq!((name(&c, &scan), scan.class.payload), (None, None));
        assert_eq!(scan.class.app(), Some(App::Rdp));
        // A client speaking RDP to a web server on 80: the server is HTTP (ntopng #9808).
        let mut web = flow(80, true, 0);
        run(
            &mut c,
            &mut web,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, b"HTTP/1.1 400 Bad Request\r\n\r\n"),
            ],
        );
        assert_eq!(name(&c, &web).as_deref(), Some("http"));
        assert_eq!(web.class.payload, Some(PayloadVerdict::Confirmed));
        assert_eq!(web.class.app(), Some(App::Http));
        // HTTP on 3389: contradicted, and the flow says what it looked like.
        let mut http = flow(3389, true, 0);
        run(
            &mut c,
            &mut http,
            &[(Direction::ToServer, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
        );
        assert_eq!(http.class.payload, Some(PayloadVerdict::Contradicted));
        assert_eq!(http.class.app(), Some(App::Http));
        assert_eq!(name(&c, &http), None);
    }

    #[test]
    fn rdp_answering_on_https_takes_the_flow_from_the_port() {
        // RDP moved to 443 (SigmaHQ PR #2968): the port says https, both sides speak RDP.
        let mut c = classifier();
        let mut f = flow(443, true, 0);
        run(
            &mut c,
            &mut f,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, &hex(ZEEK_SSL_CC)),
            ],
        );
        assert_eq!(name(&c, &f).as_deref(), Some("rdp"));
        assert_eq!(f.class.payload, Some(PayloadVerdict::Contradicted));
        assert_eq!(f.class.verdict, Verdict::Certain);
        assert_eq!(
            f.class
                .port_service
                .and_then(|id| c.service(id))
                .map(|s| s.name.as_str()),
            Some("https")
        );
        assert_eq!(c.rules_for(&f).count(), 0, "no RDP rule lists 443");
    }

    #[test]
    fn encrypted_or_unrecognised_payload_leaves_the_port_alone() {
        let mut c = classifier();
        // zeek/tls/openjdk-25.0.2-zeek.org.pcap frame 6: an application_data record header.
        let mut tls = flow(3389, false, 0);
        run(
            &mut c,
            &mut tls,
            &[(Direction::ToServer, &hex("1703030032a64b4629404a2b22f3"))],
        );
        assert_eq!(tls.class.payload, Some(PayloadVerdict::PortOnly));
        assert_eq!(tls.class.app(), Some(App::Tls));
        assert_eq!(name(&c, &tls).as_deref(), Some("rdp"));
        let mut other = flow(3389, false, 0);
        run(
            &mut c,
            &mut other,
            &[(Direction::ToServer, b"\x01\x02\x03 random")],
        );
        assert_eq!(other.class.payload, Some(PayloadVerdict::PortOnly));
        assert_eq!(other.class.app(), Some(App::Other));
    }

    #[test]
    fn rdpeudp_is_found_on_any_port_and_tied_to_its_tcp_connection() {
        let mut c = classifier();
        let id = hex("f8530360ca7f4241a67374e5201a0000");
        let mut tcp = flow(3389, true, 100);
        run(
            &mut c,
            &mut tcp,
            &[
                (Direction::ToServer, &cr_with_correlation(&id)),
                (Direction::ToClient, &hex(ZEEK_SSL_CC)),
            ],
        );
        assert_eq!(tcp.class.payload, Some(PayloadVerdict::Confirmed));
        // The SYN, three times, never answered (the failed handshake capture), on udp/3389.
        let mut udp = udp_flow(3389, 101);
        c.on_new_flow(&mut udp);
        for _ in 0..3 {
            c.on_payload(&mut udp, Direction::ToServer, &padded(FAIL_SYN));
        }
        assert_eq!(udp.class.payload, Some(PayloadVerdict::Confirmed));
        let d = udp.details().unwrap().rdpeudp.as_ref().unwrap();
        assert_eq!((d.syns, d.answered), (3, false));
        let link = d.tcp.unwrap();
        assert_eq!((link.by, link.tcp_confirmed), (LinkBy::CorrelationId, true));
        assert_eq!(link.first_seen, tcp.first_seen);
        assert_eq!(
            d.diagnosis(),
            Some("UDP attempted, never answered, the session stayed on TCP")
        );
        // The same SYN on an unlisted UDP port is RDP-UDP found by payload.
        let mut odd = udp_flow(40_000, 102);
        run(
            &mut c,
            &mut odd,
            &[(Direction::ToServer, &padded(FAIL_SYN))],
        );
        assert_eq!(name(&c, &odd).as_deref(), Some("rdp-udp"));
        assert_eq!(odd.class.payload, Some(PayloadVerdict::PayloadOnly));
    }

    #[test]
    fn without_a_correlation_id_the_host_pair_and_time_tie_them() {
        let mut c = classifier();
        let mut tcp = flow(3389, true, 100);
        run(
            &mut c,
            &mut tcp,
            &[
                (Direction::ToServer, &hex(ZEEK_SSL_CR)),
                (Direction::ToClient, &hex(ZEEK_SSL_CC)),
            ],
        );
        let mut near = udp_flow(3389, 105);
        run(
            &mut c,
            &mut near,
            &[(Direction::ToServer, &padded(FAIL_SYN))],
        );
        let link = near
            .details()
            .unwrap()
            .rdpeudp
            .as_ref()
            .unwrap()
            .tcp
            .as_ref()
            .unwrap();
        assert_eq!(link.by, LinkBy::HostPair);
        // Ten minutes later the pair no longer vouches.
        let mut late = udp_flow(3389, 700);
        run(
            &mut c,
            &mut late,
            &[(Direction::ToServer, &padded(FAIL_SYN))],
        );
        assert_eq!(late.details().unwrap().rdpeudp.as_ref().unwrap().tcp, None);
    }

    #[test]
    fn an_endpoint_mapper_tower_labels_the_connection_with_its_interface() {
        let mut c = classifier();
        let (client, server) = ([192, 168, 0, 173], [192, 168, 0, 2]);
        let mut epm = flow_between(client, server, 135, protocol::TCP, 0);
        run(
            &mut c,
            &mut epm,
            &[(Direction::ToClient, &hex(MAPI_EPT_MAP))],
        );
        let returned = &epm.details().unwrap().dcerpc.as_ref().unwrap().epm_returned;
        assert_eq!(returned.first().and_then(|t| t.port), Some(4997));
        // The connection to the port it returned (the pre-2008 range: the legacy service).
        let mut rpc = flow_between(client, server, 4997, protocol::TCP, 1);
        c.on_new_flow(&mut rpc);
        assert_eq!(name(&c, &rpc).as_deref(), Some("rpc-dynamic-legacy"));
        let mapped = rpc
            .details()
            .unwrap()
            .dcerpc
            .as_ref()
            .unwrap()
            .epm_mapped
            .unwrap();
        assert_eq!(
            mapped.uuid.to_string(),
            "f5cc5a18-4264-101a-8c59-08002b2f8426"
        );
        assert_ne!(rpc.class.evidence & evidence::EPM_TOWER, 0);
        // Another port of the same host is not labelled by the tower.
        let mut other = flow_between(client, server, 4998, protocol::TCP, 1);
        c.on_new_flow(&mut other);
        assert!(other.details().is_none());
    }

    #[test]
    fn redaction_hides_the_cookie_behind_a_stable_hash() {
        let mut c = classifier().with_redact(true);
        let mut f = flow(3389, true, 0);
        run(&mut c, &mut f, &[(Direction::ToServer, &hex(ZEEK_SSL_CR))]);
        let cookie = f
            .details()
            .unwrap()
            .rdp
            .as_ref()
            .unwrap()
            .cookie
            .as_deref()
            .unwrap();
        assert_eq!(cookie, details::redacted_user(b"awakecodi"));
        assert!(cookie.starts_with("user#") && !cookie.contains("AWAKE"));
    }
}
