//! RDP sessions: one record per session, joining its TCP connection, its RDP-UDP side channel
//! (by the [`TcpLink`](crate::classify::details::TcpLink) the payload checks made), the broker
//! hop (a `tsv://` or broker connection, then the `msts=` redirected one) and the RD Gateway
//! tunnel (the same client's 443 connection to the gateway, open while the gateway's RDP
//! connection to the session host starts). The outcome is read from the flow's shape when the
//! rest is encrypted ([`outcome_of`]). Must not look at packets.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

use hashbrown::HashMap;
use serde::Serialize;

use super::{Candidate, CandidateKind, CloseKind, PacketRef, Thresholds};
use crate::classify::details::{RdpAnswer, RoutingToken};
use crate::classify::probe::rdp::Protocols;
use crate::classify::signature::Role;
use crate::deployment::Deployment;
use crate::flow::Outcome;
use crate::time::Timestamp;

/// Established: more than this many packets each way (sustained interactive traffic)…
pub const ESTABLISHED_MIN_PACKETS: u64 = 200;
/// …or lasting longer than this many seconds with payload both ways…
pub const ESTABLISHED_MIN_SECS: f64 = 30.0;
/// …of at least this many payload bytes from the server (a desktop's first screen).
pub const ESTABLISHED_MIN_SERVER_BYTES: u64 = 10_000;
/// Authentication likely failed: NLA selected, TLS done, then closed within this many seconds…
pub const AUTH_FAILED_MAX_SECS: f64 = 15.0;
/// …after at most this many packets both ways: the handshake, the CredSSP round trips and,
/// when the refusal comes after NLA (Restricted Admin refused: the awakecoding capture has
/// 216 packets in 5.5 s), the start of the connection sequence before the server disconnects.
pub const AUTH_FAILED_MAX_PACKETS: u64 = 300;
/// Payload bytes from the server that show its TLS handshake reply went out (a ServerHello
/// with a certificate) when the payload checks did not see the ServerHello itself.
pub const TLS_REPLY_MIN_BYTES: u64 = 600;

/// Earlier broker connections or gateway tunnels looked at for one RDP connection (the most
/// recent first): bounds the join's time on a capture with very many of them.
pub const MAX_LOOK_BACK: usize = 1_000;

/// How an RDP session ended up, read from the negotiation and the flow's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOutcome {
    /// No answer to the SYN.
    Unanswered,
    /// The SYN was refused (RST or ICMP).
    Refused,
    /// The server answered with RDP_NEG_FAILURE (MS-RDPBCGR 2.2.1.2.2).
    NegotiationFailed,
    /// The server selected TLS (or NLA) but the connection ended before its TLS handshake
    /// reply.
    TlsFailed,
    /// NLA selected, TLS done, then a short exchange and a close: CredSSP refused the
    /// credentials (MS-CSSP 3.1.5; the server closes after the failed authentication).
    AuthFailed,
    /// Sustained interactive traffic.
    Established,
    /// The server did not answer the Connection Request with a Connection Confirm.
    NotRdp,
    /// None of the above: still open, too short to tell, or no negotiation seen.
    Unknown,
}

impl SessionOutcome {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unanswered => "unanswered",
            Self::Refused => "refused",
            Self::NegotiationFailed => "negotiation_failed",
            Self::TlsFailed => "tls_failed",
            Self::AuthFailed => "auth_failed",
            Self::Established => "established",
            Self::NotRdp => "not_rdp",
            Self::Unknown => "unknown",
        }
    }

    /// True for the outcomes of a failed logon attempt (what password guessing leaves).
    pub fn is_failed_logon(self) -> bool {
        matches!(self, Self::AuthFailed | Self::TlsFailed)
    }
}

/// The broker connection a session was redirected from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokerHop {
    /// The broker's address and port.
    pub broker: String,
    /// The collection asked for (`tsv://…`), when the request named one.
    pub collection: Option<String>,
    /// The broker connection's uid.
    pub uid: String,
}

/// The RD Gateway tunnel a session came through.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GatewayHop {
    /// The gateway's address (the inner RDP connection's client).
    pub gateway: String,
    /// The gateway's client-side port (443).
    pub port: u16,
    /// The tunnel connection's uid.
    pub uid: String,
}

/// The RDP-UDP side channel of a session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UdpChannel {
    /// The UDP flow's uid.
    pub uid: String,
    /// The server answered the SYN.
    pub answered: bool,
}

/// One RDP session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    /// The RDP TCP connection's uid.
    pub uid: String,
    /// First packet (seconds since the epoch).
    pub start: f64,
    /// Last packet of any of its flows.
    pub end: f64,
    /// Seconds.
    pub duration: f64,
    /// The user's address: the external client for a gateway session.
    pub client: String,
    /// The session host (or the server of the RDP connection).
    pub server: String,
    /// Its RDP port.
    pub server_port: u16,
    /// The `mstshash` cookie (usually the user name; escaped, hashed under `--redact`).
    pub user: Option<String>,
    /// The routing token (`msts=…` redirect, `tsv://…` collection), escaped.
    pub routing_token: Option<String>,
    /// requestedProtocols, by name.
    pub requested: Option<String>,
    /// selectedProtocol, by name (PROTOCOL_RDP is standard RDP security: weak).
    pub selected: Option<String>,
    /// IP bytes client to server, over all its flows.
    pub bytes_to_server: u64,
    /// IP bytes server to client.
    pub bytes_to_client: u64,
    /// Packets client to server (the RDP TCP connection).
    pub packets_to_server: u64,
    /// Packets server to client.
    pub packets_to_client: u64,
    /// The outcome.
    pub outcome: SessionOutcome,
    /// The RDP_NEG_FAILURE code name, for negotiation_failed.
    pub failure_code: Option<String>,
    /// What decided the outcome.
    pub evidence: String,
    /// How the TCP connection ended: `fin`, `reset`, `open`.
    pub close: &'static str,
    /// The broker hop, when the session was redirected.
    pub via_broker: Option<BrokerHop>,
    /// The RD Gateway tunnel, when the session came through one.
    pub via_gateway: Option<GatewayHop>,
    /// The RDP-UDP side channel.
    pub udp: Option<UdpChannel>,
    /// Every flow of the session (uids): TCP, broker, UDP, gateway tunnel.
    pub flows: Vec<String>,
    /// Where it starts in the input (the first packet of its first flow).
    pub first_packet: PacketRef,
    /// The client of the RDP TCP connection itself (the gateway for a gateway session).
    #[serde(skip)]
    pub tcp_client: IpAddr,
    /// The server address.
    #[serde(skip)]
    pub server_ip: IpAddr,
    /// The user's address.
    #[serde(skip)]
    pub client_ip: IpAddr,
    /// Start as a timestamp.
    #[serde(skip)]
    pub first_seen: Timestamp,
    /// Index of the core candidate.
    #[serde(skip)]
    pub core: usize,
}

fn has_nla(p: Protocols) -> bool {
    p.contains(Protocols::HYBRID) || p.contains(Protocols::HYBRID_EX)
}

/// The outcome of an RDP TCP connection and the evidence that decided it. Thresholds: see the
/// constants of this module.
pub fn outcome_of(c: &Candidate) -> (SessionOutcome, String) {
    let secs = c.duration().as_secs_f64();
    let (outcome, reason) = outcome_reason(c, secs);
    // The evidence is the reason, then the connection's shape that it was read from, written
    // into one string. Formatting the shape apart for every session, with the requested
    // protocols as a list of names (`requested_text`), took the join's session loop 4.1 ms
    // on the benchmark capture where it takes 3.7 now (issue 6).
    let mut evidence = String::with_capacity(reason.len() + 96);
    evidence.push_str(&reason);
    let _ = write!(
        evidence,
        " ({} packets / {} B to server, {} / {} B to client, {:.1} s, close {})",
        c.packets[0],
        c.bytes[0],
        c.packets[1],
        c.bytes[1],
        secs,
        c.close.as_str()
    );
    (outcome, evidence)
}

/// The outcome and why, without the shape.
fn outcome_reason(c: &Candidate, secs: f64) -> (SessionOutcome, Cow<'static, str>) {
    match c.outcome {
        Outcome::Unanswered => return (SessionOutcome::Unanswered, "no answer to the SYN".into()),
        Outcome::Rejected => {
            return (
                SessionOutcome::Refused,
                format!("SYN refused, conn_state {}", c.conn_state.as_str()).into(),
            )
        }
        Outcome::Answered => {}
    }
    let rdp = c.rdp.as_ref();
    if let Some(code) = rdp.and_then(|r| r.failure_code) {
        return (
            SessionOutcome::NegotiationFailed,
            format!("RDP_NEG_FAILURE {}", code.name()).into(),
        );
    }
    if rdp.and_then(|r| r.answer) == Some(RdpAnswer::NotRdp) {
        return (
            SessionOutcome::NotRdp,
            "the server did not answer with an X.224 Connection Confirm".into(),
        );
    }
    let sustained = (c.packets[0] > ESTABLISHED_MIN_PACKETS
        && c.packets[1] > ESTABLISHED_MIN_PACKETS)
        || (secs > ESTABLISHED_MIN_SECS
            && c.payload_bytes[0] > 0
            && c.payload_bytes[1] >= ESTABLISHED_MIN_SERVER_BYTES);
    if sustained {
        return (
            SessionOutcome::Established,
            "sustained traffic both ways".into(),
        );
    }
    let ended = c.close != CloseKind::Open;
    match rdp.and_then(|r| r.selected_protocol) {
        Some(selected) if selected != Protocols::RDP => {
            // Before the Connection Confirm and the ServerHello, the server sends ~19 bytes;
            // a certificate makes the ServerHello flight hundreds of bytes.
            let tls_reply = c.tls_server_hello || c.payload_bytes[1] >= TLS_REPLY_MIN_BYTES;
            if !tls_reply && ended {
                return (
                    SessionOutcome::TlsFailed,
                    format!(
                        "{} selected, no TLS handshake reply before the close",
                        selected.name()
                    )
                    .into(),
                );
            }
            if has_nla(selected)
                && tls_reply
                && ended
                && secs < AUTH_FAILED_MAX_SECS
                && c.packets[0] + c.packets[1] <= AUTH_FAILED_MAX_PACKETS
            {
                return (
                    SessionOutcome::AuthFailed,
                    format!(
                        "{} selected, TLS done, short exchange then close",
                        selected.name()
                    )
                    .into(),
                );
            }
            (
                SessionOutcome::Unknown,
                format!("{} selected, not sustained", selected.name()).into(),
            )
        }
        Some(_) => (
            SessionOutcome::Unknown,
            "standard RDP security, not sustained".into(),
        ),
        None => (SessionOutcome::Unknown, "no X.224 negotiation seen".into()),
    }
}

fn redirect_target(c: &Candidate) -> Option<Option<std::net::SocketAddrV4>> {
    match c.rdp.as_ref()?.routing_token.as_ref()? {
        RoutingToken::Redirect { target, .. } => Some(*target),
        _ => None,
    }
}

fn collection(c: &Candidate) -> Option<String> {
    match c.rdp.as_ref()?.routing_token.as_ref()? {
        RoutingToken::Collection(name) => Some(name.clone()),
        _ => None,
    }
}

fn token_text(token: &RoutingToken) -> String {
    match token {
        RoutingToken::Redirect { raw, .. } => format!("msts={raw}"),
        RoutingToken::Collection(c) => format!("tsv://{c}"),
        RoutingToken::Other(o) => o.clone(),
    }
}

/// requestedProtocols as `PROTOCOL_SSL|PROTOCOL_HYBRID` (PROTOCOL_RDP for none).
fn requested_text(p: Protocols) -> String {
    let mut text = String::new();
    let mut add = |name: &str| {
        if !text.is_empty() {
            text.push('|');
        }
        text.push_str(name);
    };
    p.bit_names().for_each(&mut add);
    if p.0 == 0 {
        add("PROTOCOL_RDP");
    }
    if p.unknown_bits() != 0 {
        add(&format!("0x{:08x}", p.unknown_bits()));
    }
    text
}

fn has_role(deployment: &Deployment, ip: IpAddr, role: Role) -> bool {
    deployment
        .host_of(ip)
        .and_then(|h| deployment.hosts.get(h))
        .is_some_and(|h| h.roles.contains(&role))
}

fn endpoint(addr: (IpAddr, u16)) -> String {
    match addr.0 {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.1),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.1),
    }
}

/// Joins the candidates into sessions, sorted by start.
pub fn join(
    candidates: &[Candidate],
    deployment: &Deployment,
    thresholds: &Thresholds,
    inputs: &[String],
) -> Vec<Session> {
    let mut tcp: Vec<usize> = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == CandidateKind::Rdp)
        .map(|(i, _)| i)
        .collect();
    tcp.sort_by_key(|i| {
        candidates
            .get(*i)
            .map(|c| (c.first_seen, c.first_pos.file, c.first_pos.number))
    });

    // Broker hops: a connection to a broker (or carrying a collection token) followed, from the
    // same client, by a connection carrying an `msts=` redirect. The first becomes part of the
    // second's session.
    let window = crate::time::Duration::from_nanos((thresholds.broker_window_secs * 1e9) as i64);
    let mut hop_of: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut absorbed = vec![false; candidates.len()];
    // Possible broker connections per client, by start.
    let mut brokers: HashMap<IpAddr, Vec<usize>> = HashMap::new();
    for &j in &tcp {
        if let Some(b) = candidates.get(j) {
            if collection(b).is_some() || has_role(deployment, b.server.0, Role::RdBroker) {
                brokers.entry(b.client.0).or_default().push(j);
            }
        }
    }
    for &i in &tcp {
        let Some(c) = candidates.get(i) else { continue };
        let Some(target) = redirect_target(c) else {
            continue;
        };
        if let Some(t) = target {
            if IpAddr::V4(*t.ip()) != c.server.0 {
                continue;
            }
        }
        let list = brokers
            .get(&c.client.0)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The latest broker connection that started before this one and ended at most the
        // window before it (list is by start: look back from the first later one).
        let later = list.partition_point(|&j| {
            candidates
                .get(j)
                .is_some_and(|b| b.first_seen <= c.first_seen)
        });
        let broker = list
            .get(..later)
            .unwrap_or_default()
            .iter()
            .rev()
            .take(MAX_LOOK_BACK)
            .copied()
            .find(|&j| {
                j != i
                    && !absorbed[j]
                    && candidates.get(j).is_some_and(|b| {
                        b.server.0 != c.server.0 && c.first_seen <= b.last_seen.plus(window)
                    })
            });
        if let Some(j) = broker {
            hop_of[i] = Some(j);
            absorbed[j] = true;
        }
    }

    // Tunnels per gateway address, by start.
    let mut gateways: HashMap<IpAddr, Vec<&Candidate>> = HashMap::new();
    for c in candidates.iter().filter(|c| {
        c.kind == CandidateKind::Https && has_role(deployment, c.server.0, Role::RdGateway)
    }) {
        gateways.entry(c.server.0).or_default().push(c);
    }
    for list in gateways.values_mut() {
        list.sort_by_key(|g| g.first_seen);
    }
    // Side channels by the TCP connection they name.
    let mut side_channels: HashMap<(IpAddr, (IpAddr, u16), Timestamp), &Candidate> = HashMap::new();
    for u in candidates
        .iter()
        .filter(|u| u.kind == CandidateKind::RdpUdp)
    {
        if let Some(l) = u.tcp_link {
            side_channels
                .entry((l.client.0, l.server, l.first_seen))
                .or_insert(u);
        }
    }

    let mut sessions = Vec::with_capacity(tcp.len());
    for &i in &tcp {
        if absorbed[i] {
            continue;
        }
        let Some(c) = candidates.get(i) else { continue };
        let (outcome, evidence) = outcome_of(c);
        let rdp = c.rdp.as_ref();
        let mut flows = vec![c.uid.clone()];
        let mut start = c.first_seen;
        let mut end = c.last_seen;
        let mut first_pos = c.first_pos;
        let mut bytes = c.bytes;
        let via_broker = hop_of[i].and_then(|j| candidates.get(j)).map(|b| {
            flows.push(b.uid.clone());
            if b.first_seen < start {
                start = b.first_seen;
                first_pos = b.first_pos;
            }
            end = end.max(b.last_seen);
            BrokerHop {
                broker: endpoint(b.server),
                collection: collection(b),
                uid: b.uid.clone(),
            }
        });
        let udp = side_channels
            .get(&(c.client.0, c.server, c.first_seen))
            .map(|u| {
                flows.push(u.uid.clone());
                end = end.max(u.last_seen);
                bytes[0] += u.bytes[0];
                bytes[1] += u.bytes[1];
                UdpChannel {
                    uid: u.uid.clone(),
                    answered: u.udp_answered,
                }
            });
        // The gateway tunnel: the latest 443 connection to this gateway (the RDP connection's
        // client) that was open when the RDP connection started.
        let tunnel = gateways.get(&c.client.0).and_then(|list| {
            let later = list.partition_point(|g| g.first_seen <= c.first_seen);
            list.get(..later)
                .unwrap_or_default()
                .iter()
                .rev()
                .take(MAX_LOOK_BACK)
                .find(|g| c.first_seen <= g.last_seen)
        });
        let mut client_ip = c.client.0;
        let via_gateway = tunnel.map(|g| {
            flows.push(g.uid.clone());
            client_ip = g.client.0;
            if g.first_seen < start {
                start = g.first_seen;
                first_pos = g.first_pos;
            }
            end = end.max(g.last_seen);
            GatewayHop {
                gateway: c.client.0.to_string(),
                port: g.server.1,
                uid: g.uid.clone(),
            }
        });
        sessions.push(Session {
            uid: c.uid.clone(),
            start: start.as_secs_f64(),
            end: end.as_secs_f64(),
            duration: end.since(start).as_secs_f64(),
            client: client_ip.to_string(),
            server: c.server.0.to_string(),
            server_port: c.server.1,
            // A redirected connection carries the msts= token instead of the cookie: the
            // user is then the broker connection's cookie, when it had one.
            user: rdp.and_then(|r| r.cookie.clone()).or_else(|| {
                hop_of[i]
                    .and_then(|j| candidates.get(j))
                    .and_then(|b| b.rdp.as_ref())
                    .and_then(|r| r.cookie.clone())
            }),
            routing_token: rdp.and_then(|r| r.routing_token.as_ref()).map(token_text),
            requested: rdp.and_then(|r| r.requested_protocols).map(requested_text),
            selected: rdp.and_then(|r| r.selected_name()),
            bytes_to_server: bytes[0],
            bytes_to_client: bytes[1],
            packets_to_server: c.packets[0],
            packets_to_client: c.packets[1],
            outcome,
            failure_code: rdp.and_then(|r| r.failure_name()),
            evidence,
            close: c.close.as_str(),
            via_broker,
            via_gateway,
            udp,
            flows,
            first_packet: PacketRef::of(first_pos, inputs),
            tcp_client: c.client.0,
            server_ip: c.server.0,
            client_ip,
            first_seen: start,
            core: i,
        });
    }
    sessions.sort_by(|a, b| {
        a.first_seen
            .cmp(&b.first_seen)
            .then(a.first_packet.cmp(&b.first_packet))
    });
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;
    use crate::classify::details::RdpDetails;
    use crate::classify::probe::rdp::FailureCode;
    use crate::flow::ConnState;

    /// An answered RDP connection that selected `selected`, with `packets` each way over
    /// `secs` seconds, `server_bytes` of payload from the server, ended by `close`.
    fn conn(
        selected: Protocols,
        packets: u64,
        secs: i64,
        server_bytes: u64,
        close: CloseKind,
    ) -> Candidate {
        let t0 = Timestamp::from_nanos(1_000_000_000_000_000_000);
        Candidate {
            kind: CandidateKind::Rdp,
            uid: "C1".into(),
            client: ("192.0.2.1".parse().unwrap(), 50_000),
            server: ("10.0.0.2".parse().unwrap(), 3389),
            first_seen: t0,
            last_seen: t0.plus(crate::time::Duration::from_secs(secs)),
            first_pos: PacketPos { file: 0, number: 1 },
            packets: [packets, packets],
            bytes: [packets * 100, packets * 100 + server_bytes],
            payload_bytes: [packets * 50, server_bytes],
            outcome: Outcome::Answered,
            conn_state: ConnState::SF,
            close,
            payload_only: false,
            rdp: Some(RdpDetails {
                selected_protocol: Some(selected),
                answer: Some(RdpAnswer::Confirm),
                ..RdpDetails::default()
            }),
            tls_server_hello: false,
            tcp_link: None,
            udp_answered: false,
        }
    }

    #[test]
    fn negotiation_failure_names_its_code() {
        let mut c = conn(Protocols::RDP, 2, 0, 19, CloseKind::Reset);
        if let Some(r) = c.rdp.as_mut() {
            r.selected_protocol = None;
            r.failure_code = Some(FailureCode::HYBRID_REQUIRED_BY_SERVER);
            r.answer = Some(RdpAnswer::Failure);
        }
        let (outcome, evidence) = outcome_of(&c);
        assert_eq!(outcome, SessionOutcome::NegotiationFailed);
        assert!(evidence.contains("HYBRID_REQUIRED_BY_SERVER"), "{evidence}");
    }

    #[test]
    fn no_tls_reply_before_the_close_is_tls_failed() {
        // The server's 19-byte Connection Confirm, then a reset: no ServerHello.
        let c = conn(Protocols::HYBRID, 3, 1, 19, CloseKind::Reset);
        assert_eq!(outcome_of(&c).0, SessionOutcome::TlsFailed);
        // Still open at the end of the capture: too early to tell.
        let c = conn(Protocols::HYBRID, 3, 1, 19, CloseKind::Open);
        assert_eq!(outcome_of(&c).0, SessionOutcome::Unknown);
    }

    #[test]
    fn short_nla_exchange_then_close_is_auth_failed() {
        let c = conn(Protocols::HYBRID_EX, 10, 3, 2_300, CloseKind::Reset);
        assert_eq!(outcome_of(&c).0, SessionOutcome::AuthFailed);
        // The same shape without NLA (TLS only): the logon happens inside the session.
        let c = conn(Protocols::SSL, 10, 3, 2_300, CloseKind::Reset);
        assert_eq!(outcome_of(&c).0, SessionOutcome::Unknown);
        // Longer than the window: not a refused logon.
        let c = conn(Protocols::HYBRID_EX, 10, 20, 2_300, CloseKind::Fin);
        assert_eq!(outcome_of(&c).0, SessionOutcome::Unknown);
    }

    #[test]
    fn sustained_traffic_is_established() {
        let c = conn(Protocols::HYBRID_EX, 201, 7, 350_000, CloseKind::Reset);
        assert_eq!(outcome_of(&c).0, SessionOutcome::Established);
        // Few packets but long, with a first screen from the server.
        let c = conn(Protocols::HYBRID, 60, 45, 20_000, CloseKind::Open);
        assert_eq!(outcome_of(&c).0, SessionOutcome::Established);
    }

    #[test]
    fn unanswered_and_refused_come_from_the_tcp_outcome() {
        let mut c = conn(Protocols::RDP, 1, 0, 0, CloseKind::Open);
        c.rdp = None;
        c.outcome = Outcome::Unanswered;
        assert_eq!(outcome_of(&c).0, SessionOutcome::Unanswered);
        c.outcome = Outcome::Rejected;
        c.conn_state = ConnState::REJ;
        assert_eq!(outcome_of(&c).0, SessionOutcome::Refused);
    }
}
