//! The protocol fields a flow's payload checks extracted: cookie and routing token, security
//! protocols, server names, interfaces, principals, user names… kept in the flow record as
//! `FlowRecord::details`, and how one [`Finding`] is recorded into them.
//!
//! Owns the `FlowDetails` layout, its JSON form (the protocol objects of a flow line, documented
//! in `report::json`) and two rules: every string from the wire is escaped and length-bounded
//! here, when it is recorded ([`probe::escape`](super::probe::escape)), and user names
//! (the mstshash cookie, Kerberos cname, RADIUS User-Name, RDG-User-Id, FTP USER) are replaced by
//! a stable hash under `--redact` before they are stored. Must not parse bytes (that is
//! `probe`'s job) or decide services (the classifier's).
//!
//! Memory: a flow without recognised payload has no details at all. The first finding allocates
//! the `FlowDetails` box; each protocol's fields sit in their own box so that a DNS flow does
//! not carry room for an RDP handshake. Recording fills fields that are still empty and never
//! replaces a stored string: a packet seen again allocates nothing.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddrV4};

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::payload::Finding;
use super::probe::dcerpc::{self, ContextResult, EptMapEntry, SyntaxId, TowerProtocol};
use super::probe::escape::escape_bytes;
use super::probe::http::Purpose;
use super::probe::kerberos::{ErrorCode, MessageType, PrincipalName};
use super::probe::ldap::{BindAuth, ProtocolOp, ResultCode};
use super::probe::netbios::NetbiosName;
use super::probe::radius::Code;
use super::probe::rdp::{FailureCode, NegotiationResult, Protocols, Token};
use super::probe::rdpeudp::{SynKind, UdpVersion};
use super::probe::smb::{Dialect, Negotiate, SmbKind};
use super::probe::tls::TlsVersion;
use super::probe::{dns, Bounded};
use crate::time::Timestamp;

/// Longest name kept (server names, cookies, user names, DNS names), in output characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest other text kept (HTTP targets, user agents, banners, DNs).
pub const MAX_TEXT_CHARS: usize = 256;
/// Interfaces kept per DCE/RPC flow (binds and alter_contexts).
pub const MAX_INTERFACES: usize = 4;
/// Towers kept per endpoint-mapper answer (Windows returns one or two).
pub const MAX_EPM_TOWERS: usize = 4;
/// Kerberos or LDAP message kinds kept per flow.
pub const MAX_KINDS: usize = 4;

/// How wire text is turned into stored text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordOptions {
    /// Replace user names with a stable hash (`--redact`).
    pub redact: bool,
}

fn text(bytes: &[u8], max: usize) -> String {
    escape_bytes(bytes, max)
}

/// A stable stand-in for a user name: `user#` and 8 hex digits of the FNV-1a hash of the name
/// in ASCII lower case (Windows account names are case-insensitive), so that the same user
/// gets the same token in every run without the name being shown.
pub fn redacted_user(bytes: &[u8]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(b.to_ascii_lowercase());
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("user#{hash:08x}")
}

fn user(bytes: &[u8], options: RecordOptions) -> String {
    if options.redact {
        redacted_user(bytes)
    } else {
        text(bytes, MAX_NAME_CHARS)
    }
}

fn fill(slot: &mut Option<String>, make: impl FnOnce() -> String) {
    if slot.is_none() {
        *slot = Some(make());
    }
}

fn fill_copy<T: Copy>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn push_new<T: Copy + Default + PartialEq, const N: usize>(list: &mut Bounded<T, N>, value: T) {
    if !list.iter().any(|v| *v == value) {
        list.push(value);
    }
}

fn ensure<T: Default>(slot: &mut Option<Box<T>>) -> &mut T {
    slot.get_or_insert_with(Box::default)
}

/// Everything the payload checks extracted from one flow; each protocol's part is present only
/// when that protocol was seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowDetails {
    /// RDP over TCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdp: Option<Box<RdpDetails>>,
    /// RDP over UDP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdpeudp: Option<Box<RdpUdpDetails>>,
    /// TLS or DTLS handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Box<TlsDetails>>,
    /// HTTP request and response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Box<HttpDetails>>,
    /// DCE/RPC interfaces and endpoint-mapper answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dcerpc: Option<Box<DceRpcDetails>>,
    /// Kerberos.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kerberos: Option<Box<KerberosDetails>>,
    /// LDAP or CLDAP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldap: Option<Box<LdapDetails>>,
    /// DNS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<Box<DnsDetails>>,
    /// RADIUS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius: Option<Box<RadiusDetails>>,
    /// SMB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smb: Option<Box<SmbDetails>>,
    /// NetBIOS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netbios: Option<Box<NetbiosDetails>>,
    /// FTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ftp: Option<Box<FtpDetails>>,
}

/// The cookie or routing token line of an X.224 Connection Request (MS-RDPBCGR 2.2.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutingToken {
    /// `Cookie: msts=…`: the Connection Broker's redirect target for the reconnect.
    Redirect {
        /// The decoded target address and port.
        target: Option<SocketAddrV4>,
        /// The value as sent (escaped).
        raw: String,
    },
    /// `tsv://MS Terminal Services Plugin.1.<collection>`: the RD collection asked for.
    Collection(String),
    /// Another line, kept escaped.
    Other(String),
}

impl Serialize for RoutingToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            kind: &'static str,
            value: &'a str,
            target: Option<String>,
        }
        let view = match self {
            Self::Redirect { target, raw } => View {
                kind: "redirect",
                value: raw,
                target: target.map(|t| t.to_string()),
            },
            Self::Collection(c) => View {
                kind: "collection",
                value: c,
                target: None,
            },
            Self::Other(o) => View {
                kind: "other",
                value: o,
                target: None,
            },
        };
        view.serialize(s)
    }
}

/// How the server answered an RDP Connection Request (MS-RDPBCGR 2.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RdpAnswer {
    /// A Connection Confirm with RDP_NEG_RSP, or a bare one (standard RDP security).
    Confirm,
    /// A Connection Confirm with RDP_NEG_FAILURE.
    Failure,
    /// The server answered with something that is not a Connection Confirm: not an RDP server.
    NotRdp,
}

/// RDP over TCP: the fields of the X.224 Connection Request and Confirm.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RdpDetails {
    /// `Cookie: mstshash=` identifier (usually the user name, often cut; hashed under
    /// `--redact`).
    pub cookie: Option<String>,
    /// The routing token, when the request carried one instead of a cookie.
    pub routing_token: Option<RoutingToken>,
    /// requestedProtocols (MS-RDPBCGR 2.2.1.1.1): names of the bits set, unknown bits as hex.
    #[serde(serialize_with = "ser_requested")]
    pub requested_protocols: Option<Protocols>,
    /// RDP_NEG_REQ flags, by name (unknown bits as hex).
    #[serde(serialize_with = "ser_request_flags")]
    pub request_flags: Option<u8>,
    /// RDP_NEG_CORRELATION_INFO correlationId (MS-RDPBCGR 2.2.1.1.2), as a GUID string.
    #[serde(serialize_with = "ser_guid")]
    pub correlation_id: Option<[u8; 16]>,
    /// selectedProtocol of RDP_NEG_RSP (PROTOCOL_RDP for a bare confirm).
    #[serde(serialize_with = "ser_selected")]
    pub selected_protocol: Option<Protocols>,
    /// RDP_NEG_RSP flags, by name.
    #[serde(serialize_with = "ser_response_flags")]
    pub response_flags: Option<u8>,
    /// RDP_NEG_FAILURE failureCode, by name.
    #[serde(serialize_with = "ser_failure")]
    pub failure_code: Option<FailureCode>,
    /// What the server answered.
    pub answer: Option<RdpAnswer>,
}

impl RdpDetails {
    /// The selected protocol's name (`unknown (0x…)` for an undefined value).
    pub fn selected_name(&self) -> Option<String> {
        self.selected_protocol.map(protocol_name)
    }

    /// The failure code's name.
    pub fn failure_name(&self) -> Option<String> {
        self.failure_code.map(failure_name)
    }
}

fn protocol_name(p: Protocols) -> String {
    match p.name() {
        "unknown" => format!("unknown (0x{:08x})", p.0),
        name => name.to_string(),
    }
}

fn failure_name(f: FailureCode) -> String {
    match f.name() {
        "unknown" => format!("unknown ({})", f.0),
        name => name.to_string(),
    }
}

/// How a UDP side channel was tied to its TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBy {
    /// The RDPEUDP SYN's correlation ID equals the TCP Connection Request's (MS-RDPEUDP
    /// 2.2.2.8, MS-RDPBCGR 2.2.1.1.2).
    CorrelationId,
    /// The same client and server had an RDP TCP connection shortly before.
    HostPair,
}

/// The TCP connection an RDP-UDP side channel belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpLink {
    /// The TCP connection's client address and port.
    pub client: (IpAddr, u16),
    /// Its server address and port.
    pub server: (IpAddr, u16),
    /// Its first packet (with the addresses, what its uid is made of).
    pub first_seen: Timestamp,
    /// How the link was made.
    pub by: LinkBy,
    /// True when the TCP connection's X.224 negotiation succeeded (a Connection Confirm
    /// without failure) by the time the UDP SYN was sent.
    pub tcp_confirmed: bool,
}

impl Serialize for TcpLink {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            uid: String,
            by: LinkBy,
            tcp_confirmed: bool,
        }
        View {
            uid: crate::flow::uid_of(
                self.client,
                self.server,
                crate::flow::key::protocol::TCP,
                self.first_seen,
            ),
            by: self.by,
            tcp_confirmed: self.tcp_confirmed,
        }
        .serialize(s)
    }
}

/// RDP over UDP: the MS-RDPEUDP handshake (MS-RDPEUDP 3.1.5.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdpUdpDetails {
    /// Client SYNs seen (within the inspection bound; retransmissions count).
    pub syns: u32,
    /// Server SYN+ACKs seen.
    pub syn_acks: u32,
    /// True when a SYN+ACK acknowledged the SYN's initial sequence number (3.1.5.1.3).
    pub answered: bool,
    /// The version the client offered (RDPUDP_SYNDATAEX_PAYLOAD, 2.2.2.9).
    pub offered_version: Option<UdpVersion>,
    /// The version in use after the SYN+ACK: the server's choice, version 1 when either side
    /// omits SYNEX (MS-RDPEUDP 1.7).
    pub version: Option<UdpVersion>,
    /// uUpStreamMtu of the SYN.
    pub up_mtu: Option<u16>,
    /// uDownStreamMtu of the SYN.
    pub down_mtu: Option<u16>,
    /// True when the client asked for lossy mode (SYNLOSSY: DTLS data phase).
    pub lossy: Option<bool>,
    /// uCorrelationId of the SYN (2.2.2.8).
    pub correlation_id: Option<[u8; 16]>,
    /// The TCP connection this side channel belongs to.
    pub tcp: Option<TcpLink>,
    /// The SYN's snInitialSequenceNumber, to match the SYN+ACK (not reported).
    pub initial_sequence: Option<u32>,
}

impl Serialize for RdpUdpDetails {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            syns: u32,
            syn_acks: u32,
            answered: bool,
            offered_version: Option<String>,
            version: Option<String>,
            up_mtu: Option<u16>,
            down_mtu: Option<u16>,
            lossy: Option<bool>,
            correlation_id: Option<String>,
            tcp: Option<&'a TcpLink>,
            diagnosis: Option<&'static str>,
        }
        View {
            syns: self.syns,
            syn_acks: self.syn_acks,
            answered: self.answered,
            offered_version: self.offered_version.map(udp_version_name),
            version: self.version.map(udp_version_name),
            up_mtu: self.up_mtu,
            down_mtu: self.down_mtu,
            lossy: self.lossy,
            correlation_id: self.correlation_id.as_ref().map(guid_string),
            tcp: self.tcp.as_ref(),
            diagnosis: self.diagnosis(),
        }
        .serialize(s)
    }
}

impl RdpUdpDetails {
    /// The diagnosis of an unanswered handshake: "UDP attempted, never answered, the session
    /// stayed on TCP" when the TCP connection it belongs to worked (protocol-facts.md 2.2:
    /// a client SYN repeated with no SYN+ACK is the signature of blocked UDP 3389).
    pub fn diagnosis(&self) -> Option<&'static str> {
        if self.syns == 0 || self.answered {
            return None;
        }
        Some(match self.tcp {
            Some(link) if link.tcp_confirmed => {
                "UDP attempted, never answered, the session stayed on TCP"
            }
            Some(_) => "UDP attempted, never answered; its TCP connection did not complete the RDP negotiation either",
            None => "UDP attempted, never answered (no RDP TCP connection found for it)",
        })
    }
}

/// TLS or DTLS handshake (RFC 8446 4.1.2, 4.1.3; RFC 6066 3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlsDetails {
    /// True for DTLS.
    pub dtls: bool,
    /// server_name (SNI) of the ClientHello.
    pub server_name: Option<String>,
    /// The highest version the client offered.
    #[serde(serialize_with = "ser_tls_version")]
    pub offered_version: Option<TlsVersion>,
    /// The version the server selected.
    #[serde(serialize_with = "ser_tls_version")]
    pub selected_version: Option<TlsVersion>,
    /// The first ALPN protocol offered.
    pub alpn: Option<String>,
}

/// HTTP request line, headers and status (RFC 9112; MS-TSGU 2.2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpDetails {
    /// Method.
    pub method: Option<String>,
    /// Request target.
    pub target: Option<String>,
    /// Host header.
    pub host: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// What the request is for: `rdg-http`, `rdg-websocket`, `rpc-over-http`, `winrm`, `crl`,
    /// `kdc-proxy`, `other`.
    #[serde(serialize_with = "ser_purpose")]
    pub purpose: Option<Purpose>,
    /// Status code of the response.
    pub status: Option<u16>,
    /// Upgrade header (request or response).
    pub upgrade: Option<String>,
    /// Server header of the response.
    pub server: Option<String>,
    /// RDG-Connection-Id.
    pub rdg_connection_id: Option<String>,
    /// RDG-Correlation-Id.
    pub rdg_correlation_id: Option<String>,
    /// RDG-User-Id decoded from base64 UTF-16LE (hashed under `--redact`).
    pub rdg_user: Option<String>,
}

/// DCE/RPC: the interfaces bound and what the endpoint mapper returned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DceRpcDetails {
    /// Interfaces of the bind / alter_context PDUs (C706 12.6.4.3).
    #[serde(serialize_with = "ser_interfaces")]
    pub interfaces: Bounded<SyntaxId, MAX_INTERFACES>,
    /// The first presentation result of the bind_ack (C706 12.6.3.1).
    #[serde(serialize_with = "ser_ack_result")]
    pub bind_result: Option<ContextResult>,
    /// The bind_ack's secondary address (the server port as a string, or a pipe name).
    pub secondary_address: Option<String>,
    /// The towers an ept_map response on this flow returned (C706 appendix L).
    #[serde(serialize_with = "ser_towers")]
    pub epm_returned: Bounded<EptMapEntry, MAX_EPM_TOWERS>,
    /// For a flow to a port an endpoint mapper handed out shortly before: the interface it was
    /// handed out for.
    #[serde(serialize_with = "ser_interface_opt")]
    pub epm_mapped: Option<SyntaxId>,
}

/// Kerberos (RFC 4120).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KerberosDetails {
    /// Message types seen, in order.
    #[serde(serialize_with = "ser_krb_types")]
    pub messages: Bounded<MessageType, MAX_KINDS>,
    /// The realm.
    pub realm: Option<String>,
    /// The client principal (hashed under `--redact`).
    pub cname: Option<String>,
    /// The service principal (`TERMSRV/host`, `HTTP/gateway`, `krbtgt/REALM`).
    pub sname: Option<String>,
    /// KRB-ERROR error-code, by name.
    #[serde(serialize_with = "ser_krb_error")]
    pub error: Option<ErrorCode>,
}

/// LDAP (RFC 4511).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LdapDetails {
    /// Operations seen, in order.
    #[serde(serialize_with = "ser_ldap_ops")]
    pub operations: Bounded<ProtocolOp, MAX_KINDS>,
    /// The bind DN of a bind request (hashed under `--redact`: a simple bind names the user).
    pub bind_dn: Option<String>,
    /// The SASL mechanism of a bind request.
    pub sasl_mechanism: Option<String>,
    /// The base DN of the first search.
    pub search_base: Option<String>,
    /// The first result code, by name.
    #[serde(serialize_with = "ser_ldap_result")]
    pub result: Option<ResultCode>,
    /// True when StartTLS was asked for or answered (RFC 4511 4.14).
    pub start_tls: bool,
}

/// DNS (RFC 1035).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DnsDetails {
    /// The first question's name.
    pub query: Option<String>,
    /// Its type.
    #[serde(serialize_with = "ser_qtype")]
    pub qtype: Option<dns::QType>,
    /// The response code, by name.
    #[serde(serialize_with = "ser_rcode")]
    pub rcode: Option<dns::Rcode>,
}

/// NetBIOS (RFC 1002).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetbiosDetails {
    /// `name`, `datagram` or `session`.
    pub service: Option<&'static str>,
    /// The name asked for (name service), the destination name (datagram) or the called name
    /// (session request), with its suffix: `RDLIC<20>`.
    pub name: Option<String>,
    /// The calling name of a session request, or the datagram's source name.
    pub source_name: Option<String>,
    /// The name service's response code, by name.
    #[serde(serialize_with = "ser_rcode")]
    pub rcode: Option<dns::Rcode>,
}

/// RADIUS (RFC 2865, 2866).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RadiusDetails {
    /// The request's code, by name.
    #[serde(serialize_with = "ser_radius_code")]
    pub request: Option<Code>,
    /// The response's code, by name (`Access-Reject`…).
    #[serde(serialize_with = "ser_radius_code")]
    pub response: Option<Code>,
    /// User-Name (hashed under `--redact`).
    pub user_name: Option<String>,
}

/// SMB (MS-SMB2 2.2.3, 2.2.4; MS-SMB 2.2.4.52).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SmbDetails {
    /// The first header kind seen: `smb1`, `smb2`, `smb3-encrypted`, `smb3-compressed`.
    #[serde(serialize_with = "ser_smb_kind")]
    pub kind: Option<SmbKind>,
    /// Dialects an SMB2 NEGOTIATE request offered.
    #[serde(serialize_with = "ser_dialects")]
    pub offered: Bounded<Dialect, 8>,
    /// The dialect the server chose.
    #[serde(serialize_with = "ser_dialect")]
    pub dialect: Option<Dialect>,
    /// An SMB1 multi-protocol negotiate offered SMB 2.
    pub smb1_offers_smb2: bool,
}

/// FTP control connection (RFC 959).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FtpDetails {
    /// The first reply code.
    pub reply_code: Option<u16>,
    /// The first reply's text (the banner).
    pub banner: Option<String>,
    /// The USER argument (hashed under `--redact`).
    pub user: Option<String>,
    /// The first command other than USER and PASS.
    pub command: Option<String>,
}

fn principal(name: &PrincipalName<'_>, options: RecordOptions, is_user: bool) -> String {
    let mut joined: Vec<u8> = Vec::new();
    for (i, part) in name.components().iter().enumerate() {
        if i > 0 {
            joined.push(b'/');
        }
        joined.extend_from_slice(part);
    }
    if is_user {
        user(&joined, options)
    } else {
        text(&joined, MAX_NAME_CHARS)
    }
}

fn netbios_name(name: &NetbiosName) -> String {
    let mut out = text(name.trimmed(), MAX_NAME_CHARS);
    let _ = write!(out, "<{:02x}>", name.suffix);
    out
}

/// Decodes base64 (RFC 4648 4, padding optional) into `out`, up to its capacity; `None` for a
/// character outside the alphabet.
fn base64_decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut len = 0usize;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = u8::try_from((acc >> bits) & 0xFF).ok()?;
            *out.get_mut(len)? = byte;
            len += 1;
        }
    }
    Some(len)
}

/// The user name of an RDG-User-Id header (MS-TSGU 2.2.3.2: base64 of the UTF-16LE name), or
/// the header escaped as it is when it does not decode.
fn rdg_user(value: &[u8], options: RecordOptions) -> String {
    let mut raw = [0u8; 2 * MAX_NAME_CHARS];
    let decoded = base64_decode(value, &mut raw)
        .and_then(|n| raw.get(..n))
        .filter(|d| d.len().is_multiple_of(2))
        .and_then(|d| {
            let units: Vec<u16> = d
                .chunks_exact(2)
                .filter_map(|p| <[u8; 2]>::try_from(p).ok())
                .map(u16::from_le_bytes)
                .collect();
            String::from_utf16(&units).ok()
        });
    match decoded {
        Some(name) => user(name.as_bytes(), options),
        None => user(value, options),
    }
}

impl FlowDetails {
    /// Records what one packet showed. `from_client` is the packet's direction. Fields already
    /// filled keep their first value.
    pub fn record(&mut self, finding: &Finding<'_>, from_client: bool, options: RecordOptions) {
        match finding {
            Finding::RdpRequest(cr) => {
                let d = ensure(&mut self.rdp);
                match cr.token {
                    Some(Token::Cookie(id)) => fill(&mut d.cookie, || user(id, options)),
                    Some(Token::Redirect { target, raw }) if d.routing_token.is_none() => {
                        d.routing_token = Some(RoutingToken::Redirect {
                            target,
                            raw: text(raw, MAX_NAME_CHARS),
                        });
                    }
                    Some(Token::Collection(c)) if d.routing_token.is_none() => {
                        d.routing_token = Some(RoutingToken::Collection(text(c, MAX_NAME_CHARS)));
                    }
                    Some(Token::Other(o)) if d.routing_token.is_none() => {
                        d.routing_token = Some(RoutingToken::Other(text(o, MAX_NAME_CHARS)));
                    }
                    _ => {}
                }
                fill_copy(
                    &mut d.requested_protocols,
                    cr.negotiation.map(|n| n.requested),
                );
                fill_copy(&mut d.request_flags, cr.negotiation.map(|n| n.flags));
                fill_copy(&mut d.correlation_id, cr.correlation_id);
            }
            Finding::RdpConfirm(cc) => {
                let d = ensure(&mut self.rdp);
                match cc.negotiation {
                    Some(NegotiationResult::Failure(code)) => {
                        fill_copy(&mut d.failure_code, Some(code));
                        d.answer.get_or_insert(RdpAnswer::Failure);
                    }
                    Some(NegotiationResult::Response { flags, selected }) => {
                        fill_copy(&mut d.selected_protocol, Some(selected));
                        fill_copy(&mut d.response_flags, Some(flags));
                    }
                    None => fill_copy(&mut d.selected_protocol, Some(Protocols::RDP)),
                }
                if d.failure_code.is_none() {
                    d.answer = Some(RdpAnswer::Confirm);
                }
            }
            Finding::RdpUdp(syn) => {
                let d = ensure(&mut self.rdpeudp);
                match syn.kind {
                    SynKind::Syn => {
                        d.syns = d.syns.saturating_add(1);
                        fill_copy(&mut d.initial_sequence, Some(syn.initial_sequence));
                        fill_copy(&mut d.offered_version, syn.version);
                        fill_copy(&mut d.up_mtu, Some(syn.up_mtu));
                        fill_copy(&mut d.down_mtu, Some(syn.down_mtu));
                        fill_copy(&mut d.lossy, Some(syn.is_lossy()));
                        fill_copy(&mut d.correlation_id, syn.correlation_id);
                    }
                    SynKind::SynAck { acked } => {
                        d.syn_acks = d.syn_acks.saturating_add(1);
                        if d.initial_sequence.is_none_or(|isn| isn == acked) {
                            d.answered = true;
                        }
                        // MS-RDPEUDP 1.7: version 1 when either side omits SYNEX. Without the
                        // SYN (a capture that starts after it) only the server's side is known.
                        let version = match (syn.version, d.offered_version) {
                            (Some(v), Some(_)) => Some(v),
                            (server, None) if d.syns == 0 => server,
                            _ => Some(UdpVersion::V1),
                        };
                        fill_copy(&mut d.version, version);
                    }
                }
            }
            Finding::TlsClientHello(hello) => {
                let d = ensure(&mut self.tls);
                d.dtls |= hello.dtls;
                if let Some(name) = hello.server_name {
                    fill(&mut d.server_name, || text(name, MAX_NAME_CHARS));
                }
                fill_copy(&mut d.offered_version, Some(hello.offered_version()));
                if let Some(alpn) = hello.alpn {
                    fill(&mut d.alpn, || text(alpn, MAX_NAME_CHARS));
                }
            }
            Finding::TlsServerHello(hello) => {
                let d = ensure(&mut self.tls);
                d.dtls |= hello.dtls;
                fill_copy(&mut d.selected_version, Some(hello.selected_version));
            }
            Finding::TlsRecord(_) => {}
            Finding::HttpRequest(req) => {
                let d = ensure(&mut self.http);
                fill(&mut d.method, || text(req.method, MAX_NAME_CHARS));
                fill(&mut d.target, || text(req.target, MAX_TEXT_CHARS));
                fill_copy(&mut d.purpose, Some(req.purpose()));
                let optional = [
                    (&mut d.host, req.host),
                    (&mut d.user_agent, req.user_agent),
                    (&mut d.upgrade, req.upgrade),
                    (&mut d.rdg_connection_id, req.rdg_connection_id),
                    (&mut d.rdg_correlation_id, req.rdg_correlation_id),
                ];
                for (slot, value) in optional {
                    if let Some(v) = value {
                        fill(slot, || text(v, MAX_TEXT_CHARS));
                    }
                }
                if let Some(v) = req.rdg_user_id {
                    fill(&mut d.rdg_user, || rdg_user(v, options));
                }
            }
            Finding::HttpResponse(resp) => {
                let d = ensure(&mut self.http);
                fill_copy(&mut d.status, Some(resp.status));
                if let Some(v) = resp.server {
                    fill(&mut d.server, || text(v, MAX_TEXT_CHARS));
                }
                if let Some(v) = resp.upgrade {
                    fill(&mut d.upgrade, || text(v, MAX_TEXT_CHARS));
                }
            }
            Finding::DceBind(bind) => {
                let d = ensure(&mut self.dcerpc);
                for ctx in &bind.contexts {
                    push_new(&mut d.interfaces, ctx.abstract_syntax);
                }
            }
            Finding::DceBindAck(ack) => {
                let d = ensure(&mut self.dcerpc);
                fill_copy(&mut d.bind_result, ack.results.first().map(|r| r.result));
                if !ack.secondary_address.is_empty() {
                    fill(&mut d.secondary_address, || {
                        text(ack.secondary_address, MAX_NAME_CHARS)
                    });
                }
            }
            Finding::DceEptMap(answer) => {
                let d = ensure(&mut self.dcerpc);
                for entry in &answer.entries {
                    push_new(&mut d.epm_returned, *entry);
                }
            }
            Finding::Dce(_) => {
                ensure(&mut self.dcerpc);
            }
            Finding::Kerberos(m) => {
                let d = ensure(&mut self.kerberos);
                push_new(&mut d.messages, m.msg_type);
                if let Some(realm) = m.realm.or(m.crealm) {
                    fill(&mut d.realm, || text(realm, MAX_NAME_CHARS));
                }
                if let Some(cname) = &m.cname {
                    fill(&mut d.cname, || principal(cname, options, true));
                }
                if let Some(sname) = &m.sname {
                    fill(&mut d.sname, || principal(sname, options, false));
                }
                fill_copy(&mut d.error, m.error_code);
            }
            Finding::Ldap(m) => {
                let d = ensure(&mut self.ldap);
                push_new(&mut d.operations, m.op);
                d.start_tls |= m.is_start_tls();
                fill_copy(&mut d.result, m.result_code);
                match (m.op, m.dn) {
                    (ProtocolOp::BIND_REQUEST, Some(dn)) if !dn.is_empty() => {
                        fill(&mut d.bind_dn, || {
                            if options.redact {
                                redacted_user(dn)
                            } else {
                                text(dn, MAX_TEXT_CHARS)
                            }
                        });
                    }
                    (ProtocolOp::SEARCH_REQUEST, Some(dn)) => {
                        fill(&mut d.search_base, || text(dn, MAX_TEXT_CHARS));
                    }
                    _ => {}
                }
                if let Some(BindAuth::Sasl(mechanism)) = m.bind_auth {
                    fill(&mut d.sasl_mechanism, || text(mechanism, MAX_NAME_CHARS));
                }
            }
            Finding::Dns(m) => {
                let d = ensure(&mut self.dns);
                if let Some(q) = &m.question {
                    let mut buf = [0u8; dns::MAX_NAME_LEN + 1];
                    if let Some(n) = q.name.write_dotted(&mut buf) {
                        fill(&mut d.query, || {
                            text(buf.get(..n).unwrap_or_default(), MAX_TEXT_CHARS)
                        });
                    }
                    fill_copy(&mut d.qtype, Some(q.qtype));
                }
                if m.header.is_response() {
                    fill_copy(&mut d.rcode, Some(m.header.rcode()));
                }
            }
            Finding::Nbns(m) => {
                let d = ensure(&mut self.netbios);
                d.service.get_or_insert("name");
                fill(&mut d.name, || netbios_name(&m.name));
                if m.dns.header.is_response() {
                    fill_copy(&mut d.rcode, Some(m.dns.header.rcode()));
                }
            }
            Finding::Nbdgm(h) => {
                let d = ensure(&mut self.netbios);
                d.service.get_or_insert("datagram");
                if let Some(n) = &h.destination_name {
                    fill(&mut d.name, || netbios_name(n));
                }
                if let Some(n) = &h.source_name {
                    fill(&mut d.source_name, || netbios_name(n));
                }
            }
            Finding::Nbss(h) => {
                let d = ensure(&mut self.netbios);
                d.service.get_or_insert("session");
                if let Some(n) = &h.called {
                    fill(&mut d.name, || netbios_name(n));
                }
                if let Some(n) = &h.calling {
                    fill(&mut d.source_name, || netbios_name(n));
                }
            }
            Finding::Radius(p) => {
                let d = ensure(&mut self.radius);
                // RFC 2865 3: requests are 1 and 4 (and 40/43 for CoA, RFC 5176); the rest answer.
                if from_client && matches!(p.code.0, 1 | 4 | 40 | 43) {
                    fill_copy(&mut d.request, Some(p.code));
                } else {
                    fill_copy(&mut d.response, Some(p.code));
                }
                if let Some(name) = p.user_name {
                    fill(&mut d.user_name, || user(name, options));
                }
            }
            Finding::Smb(m) => {
                let d = ensure(&mut self.smb);
                fill_copy(&mut d.kind, Some(m.kind));
                match m.negotiate {
                    Some(Negotiate::Smb2Request(dialects)) => {
                        for dialect in &dialects {
                            push_new(&mut d.offered, *dialect);
                        }
                    }
                    // The wildcard answer to an SMB1 negotiate is followed by an SMB2 one.
                    Some(Negotiate::Smb2Response(dialect))
                        if dialect != Dialect::WILDCARD || d.dialect.is_none() =>
                    {
                        d.dialect = Some(dialect);
                    }
                    Some(Negotiate::Smb1Request {
                        offers_smb2_002,
                        offers_smb2_wildcard,
                        ..
                    }) => d.smb1_offers_smb2 |= offers_smb2_002 || offers_smb2_wildcard,
                    Some(Negotiate::Smb2Response(_)) | None => {}
                }
            }
            Finding::FtpReply(r) => {
                let d = ensure(&mut self.ftp);
                fill_copy(&mut d.reply_code, Some(r.code));
                fill(&mut d.banner, || text(r.text, MAX_TEXT_CHARS));
            }
            Finding::FtpCommand(c) => {
                let d = ensure(&mut self.ftp);
                match c.verb {
                    super::probe::ftp::Verb::User => {
                        fill(&mut d.user, || user(c.argument, options))
                    }
                    super::probe::ftp::Verb::Pass => {}
                    _ => fill(&mut d.command, || text(c.verb_text, MAX_NAME_CHARS)),
                }
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

// ---- JSON helpers: wire numbers by name, unknown values kept ("unknown" plus the number). ----

fn ser_requested<S: Serializer>(v: &Option<Protocols>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(p) => {
            let mut names: Vec<String> = p.bit_names().map(str::to_string).collect();
            if p.0 == 0 {
                names.push("PROTOCOL_RDP".into());
            }
            if p.unknown_bits() != 0 {
                names.push(format!("0x{:08x}", p.unknown_bits()));
            }
            let mut seq = s.serialize_seq(Some(names.len()))?;
            for n in &names {
                seq.serialize_element(n)?;
            }
            seq.end()
        }
    }
}

fn flag_names(value: u8, named: &[(u8, &str)]) -> Vec<String> {
    let mut out: Vec<String> = named
        .iter()
        .filter(|(bit, _)| value & bit != 0)
        .map(|(_, n)| (*n).to_string())
        .collect();
    let known = named.iter().fold(0u8, |a, (b, _)| a | b);
    if value & !known != 0 {
        out.push(format!("0x{:02x}", value & !known));
    }
    out
}

fn ser_request_flags<S: Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    use super::probe::rdp::neg_req_flags as f;
    let named = [
        (
            f::RESTRICTED_ADMIN_MODE_REQUIRED,
            "RESTRICTED_ADMIN_MODE_REQUIRED",
        ),
        (
            f::REDIRECTED_AUTHENTICATION_MODE_REQUIRED,
            "REDIRECTED_AUTHENTICATION_MODE_REQUIRED",
        ),
        (f::CORRELATION_INFO_PRESENT, "CORRELATION_INFO_PRESENT"),
    ];
    v.map(|x| flag_names(x, &named)).serialize(s)
}

fn ser_response_flags<S: Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    use super::probe::rdp::neg_rsp_flags as f;
    let named = [
        (
            f::EXTENDED_CLIENT_DATA_SUPPORTED,
            "EXTENDED_CLIENT_DATA_SUPPORTED",
        ),
        (
            f::DYNVC_GFX_PROTOCOL_SUPPORTED,
            "DYNVC_GFX_PROTOCOL_SUPPORTED",
        ),
        (0x04, "NEGRSP_FLAG_RESERVED"),
        (
            f::RESTRICTED_ADMIN_MODE_SUPPORTED,
            "RESTRICTED_ADMIN_MODE_SUPPORTED",
        ),
        (
            f::REDIRECTED_AUTHENTICATION_MODE_SUPPORTED,
            "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED",
        ),
    ];
    v.map(|x| flag_names(x, &named)).serialize(s)
}

/// A GUID in its registry form (the first three fields little-endian, as Windows stores them).
pub fn guid_string(id: &[u8; 16]) -> String {
    let u = dcerpc::Uuid::from_wire(*id, true);
    u.to_string()
}

fn ser_guid<S: Serializer>(v: &Option<[u8; 16]>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(guid_string).serialize(s)
}

fn ser_selected<S: Serializer>(v: &Option<Protocols>, s: S) -> Result<S::Ok, S::Error> {
    v.map(protocol_name).serialize(s)
}

fn ser_failure<S: Serializer>(v: &Option<FailureCode>, s: S) -> Result<S::Ok, S::Error> {
    v.map(failure_name).serialize(s)
}

/// An MS-RDPEUDP version's name, with the number when it is unknown.
pub fn udp_version_name(v: UdpVersion) -> String {
    match v.name() {
        "unknown" => format!("unknown (0x{:04x})", v.0),
        n => n.to_string(),
    }
}

fn ser_tls_version<S: Serializer>(v: &Option<TlsVersion>, s: S) -> Result<S::Ok, S::Error> {
    v.map(|x| match x.name() {
        "unknown" => format!("unknown (0x{:04x})", x.0),
        n => n.to_string(),
    })
    .serialize(s)
}

fn ser_purpose<S: Serializer>(v: &Option<Purpose>, s: S) -> Result<S::Ok, S::Error> {
    v.map(Purpose::name).serialize(s)
}

#[derive(Serialize)]
struct InterfaceView {
    uuid: String,
    version: String,
    name: Option<&'static str>,
}

fn interface_view(id: &SyntaxId) -> InterfaceView {
    InterfaceView {
        uuid: id.uuid.to_string(),
        version: format!("{}.{}", id.major, id.minor),
        name: id.uuid.interface_name(),
    }
}

fn ser_interfaces<S: Serializer>(
    v: &Bounded<SyntaxId, MAX_INTERFACES>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for id in v {
        seq.serialize_element(&interface_view(id))?;
    }
    seq.end()
}

fn ser_interface_opt<S: Serializer>(v: &Option<SyntaxId>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(interface_view).serialize(s)
}

fn ser_ack_result<S: Serializer>(v: &Option<ContextResult>, s: S) -> Result<S::Ok, S::Error> {
    v.map(ContextResult::name).serialize(s)
}

fn ser_towers<S: Serializer>(
    v: &Bounded<EptMapEntry, MAX_EPM_TOWERS>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Tower {
        interface: InterfaceView,
        transport: &'static str,
        port: Option<u16>,
        address: Option<String>,
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for e in v {
        seq.serialize_element(&Tower {
            interface: interface_view(&e.interface),
            transport: tower_transport(e.transport),
            port: e.port,
            address: e.ipv4.map(|a| a.to_string()),
        })?;
    }
    seq.end()
}

fn tower_transport(t: TowerProtocol) -> &'static str {
    match t {
        TowerProtocol::TCP => "tcp",
        TowerProtocol::UDP => "udp",
        other => other.name(),
    }
}

fn ser_krb_types<S: Serializer>(
    v: &Bounded<MessageType, MAX_KINDS>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for t in v {
        seq.serialize_element(t.name())?;
    }
    seq.end()
}

/// A KRB-ERROR code's name, with the number when it is unknown.
pub fn krb_error_name(e: ErrorCode) -> String {
    match e.name() {
        "unknown" => format!("unknown ({})", e.0),
        n => n.to_string(),
    }
}

fn ser_krb_error<S: Serializer>(v: &Option<ErrorCode>, s: S) -> Result<S::Ok, S::Error> {
    v.map(krb_error_name).serialize(s)
}

fn ser_ldap_ops<S: Serializer>(
    v: &Bounded<ProtocolOp, MAX_KINDS>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for t in v {
        seq.serialize_element(t.name())?;
    }
    seq.end()
}

fn ser_ldap_result<S: Serializer>(v: &Option<ResultCode>, s: S) -> Result<S::Ok, S::Error> {
    v.map(ResultCode::name).serialize(s)
}

fn ser_qtype<S: Serializer>(v: &Option<dns::QType>, s: S) -> Result<S::Ok, S::Error> {
    v.map(|q| match q.name() {
        "unknown" => q.0.to_string(),
        n => n.to_string(),
    })
    .serialize(s)
}

fn ser_rcode<S: Serializer>(v: &Option<dns::Rcode>, s: S) -> Result<S::Ok, S::Error> {
    v.map(dns::Rcode::name).serialize(s)
}

/// A RADIUS code's name (`Access-Reject`), with the number when it is unknown.
pub fn radius_code_name(c: Code) -> String {
    match c.name() {
        "unknown" => format!("unknown ({})", c.0),
        n => n.to_string(),
    }
}

fn ser_radius_code<S: Serializer>(v: &Option<Code>, s: S) -> Result<S::Ok, S::Error> {
    v.map(radius_code_name).serialize(s)
}

fn ser_smb_kind<S: Serializer>(v: &Option<SmbKind>, s: S) -> Result<S::Ok, S::Error> {
    v.map(SmbKind::name).serialize(s)
}

fn dialect_name(d: Dialect) -> String {
    match d.name() {
        "unknown" => format!("unknown (0x{:04x})", d.0),
        n => n.to_string(),
    }
}

fn ser_dialects<S: Serializer>(v: &Bounded<Dialect, 8>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for d in v {
        seq.serialize_element(&dialect_name(*d))?;
    }
    seq.end()
}

fn ser_dialect<S: Serializer>(v: &Option<Dialect>, s: S) -> Result<S::Ok, S::Error> {
    v.map(dialect_name).serialize(s)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::super::payload::{inspect, Context};
    use super::super::probe::test_util::hex;
    use super::*;

    const TCP_3389: Context = Context {
        tcp: true,
        server_port: 3389,
        client_port: 50_000,
    };

    fn record(details: &mut FlowDetails, bytes: &[u8], from_client: bool, redact: bool) {
        let finding = inspect(TCP_3389, bytes).unwrap();
        details.record(&finding, from_client, RecordOptions { redact });
    }

    #[test]
    fn routing_tokens_are_decoded_and_escaped() {
        // The Microsoft example of protocol-facts.md 2.1 (the synthetic sample's alice uses the
        // same form): msts=3640205228.15629.0000 is 172.31.249.216:3389.
        let line = b"Cookie: msts=3640205228.15629.0000\r\n";
        let mut cr = hex("03000000 00e00000000000");
        cr.extend_from_slice(line);
        let len = cr.len() as u16;
        cr[2..4].copy_from_slice(&len.to_be_bytes());
        cr[4] = (len - 5) as u8;
        let mut d = FlowDetails::default();
        record(&mut d, &cr, true, false);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["rdp"]["routing_token"]["kind"], "redirect");
        assert_eq!(
            json["rdp"]["routing_token"]["target"],
            "172.31.249.216:3389"
        );
        assert_eq!(json["rdp"]["requested_protocols"], serde_json::Value::Null);
        // A collection name with a control byte reaches the report escaped.
        let mut cr = hex("03000000 00e00000000000");
        cr.extend_from_slice(b"tsv://MS Terminal Services Plugin.1.Desk\x1b[31mtops\r\n");
        let len = cr.len() as u16;
        cr[2..4].copy_from_slice(&len.to_be_bytes());
        cr[4] = (len - 5) as u8;
        let mut d = FlowDetails::default();
        record(&mut d, &cr, true, false);
        assert_eq!(
            d.rdp.unwrap().routing_token,
            Some(RoutingToken::Collection("Desk\\x1b[31mtops".into()))
        );
    }

    #[test]
    fn unknown_protocol_bits_are_kept_and_shown() {
        // awakecoding rdp-restricted-admin-rejected1 frame 4 with requestedProtocols mutated
        // from 0x0a to 0x4a (bit 0x40 is undefined) and flags 0x01 | 0x80.
        let cr = hex(concat!(
            "0300002f 2ae00000000000",
            "436f6f6b69653a206d737473686173683d41646d696e69737472 0d0a",
            "01 81 0800 4a000000",
        ));
        let mut d = FlowDetails::default();
        record(&mut d, &cr, true, false);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json["rdp"]["requested_protocols"],
            serde_json::json!(["PROTOCOL_HYBRID", "PROTOCOL_HYBRID_EX", "0x00000040"])
        );
        assert_eq!(
            json["rdp"]["request_flags"],
            serde_json::json!(["RESTRICTED_ADMIN_MODE_REQUIRED", "0x80"])
        );
        // An undefined selected protocol is named unknown with its value.
        let cc = hex("030000130ed00000123400020008002000000000");
        record(&mut d, &cc, false, false);
        assert_eq!(
            d.rdp.unwrap().selected_name().as_deref(),
            Some("unknown (0x00000020)")
        );
    }

    #[test]
    fn the_first_value_stays_and_a_repeat_changes_nothing() {
        // zeek/rdp/rdp-to-ssl.pcap frame 4, then the same CR with another cookie.
        let first = hex("0300002f2ae00000000000436f6f6b69653a206d737473686173683d4157414b45434f44490d0a0100080003000000");
        let mut other = first.clone();
        other[28] = b'X';
        let mut d = FlowDetails::default();
        record(&mut d, &first, true, false);
        record(&mut d, &other, true, false);
        assert_eq!(d.rdp.as_ref().unwrap().cookie.as_deref(), Some("AWAKECODI"));
        assert!(!d.is_empty());
        let finding = inspect(TCP_3389, &first).unwrap();
        let before = d.clone();
        d.record(&finding, true, RecordOptions::default());
        assert_eq!(d, before);
    }

    #[test]
    fn redaction_is_stable_and_case_insensitive() {
        assert_eq!(redacted_user(b"Alice"), redacted_user(b"alice"));
        assert_ne!(redacted_user(b"alice"), redacted_user(b"bob"));
        assert_eq!(redacted_user(b"alice").len(), "user#".len() + 8);
    }

    #[test]
    fn rdg_user_id_is_decoded_from_base64_utf16() {
        // MS-TSGU 2.2.3.2: base64 of the UTF-16LE user name ("alice").
        assert_eq!(
            rdg_user(b"YQBsAGkAYwBlAA==", RecordOptions::default()),
            "alice"
        );
        assert_eq!(
            rdg_user(b"YQBsAGkAYwBlAA==", RecordOptions { redact: true }),
            redacted_user(b"alice")
        );
        // Not base64, or an odd byte count: kept escaped as sent.
        assert_eq!(
            rdg_user(b"not*base64", RecordOptions::default()),
            "not*base64"
        );
        assert_eq!(rdg_user(b"YWJj", RecordOptions::default()), "YWJj");
        let mut out = [0u8; 4];
        assert_eq!(
            base64_decode(b"YWJjZGVm", &mut out),
            None,
            "longer than the buffer"
        );
    }

    #[test]
    fn the_udp_diagnosis_needs_a_syn_and_no_answer() {
        let mut d = RdpUdpDetails::default();
        assert_eq!(d.diagnosis(), None);
        d.syns = 3;
        assert!(d.diagnosis().unwrap().contains("no RDP TCP connection"));
        d.tcp = Some(TcpLink {
            client: (IpAddr::from([10, 0, 0, 1]), 50_000),
            server: (IpAddr::from([10, 0, 0, 2]), 3389),
            first_seen: Timestamp::from_parts(0, 0),
            by: LinkBy::HostPair,
            tcp_confirmed: true,
        });
        assert_eq!(
            d.diagnosis(),
            Some("UDP attempted, never answered, the session stayed on TCP")
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["tcp"]["by"], "host_pair");
        assert!(json["tcp"]["uid"].as_str().unwrap().starts_with('C'));
        d.answered = true;
        assert_eq!(d.diagnosis(), None);
    }
}
