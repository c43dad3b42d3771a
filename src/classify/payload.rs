//! Which payload checks run on one packet, and in what order: the dispatch from a payload's
//! first byte (and, for the weak checks, the port) to the parsers in `probe`, and the one
//! `Finding` that results. Owns that dispatch and the rule that decides which checks may run on
//! any port; must not keep state, allocate (a finding borrows the payload), or decide services
//! (that is the classifier's job).
//!
//! Strong checks run on every port, because their tests are structural: the RDP TPKT/X.224
//! rules (MS-RDPBCGR 2.2.1.1/2.2.1.2), the full MS-RDPEUDP SYN test (3.1.5.1.1), TLS/DTLS
//! handshakes and record headers (RFC 8446 5.1), HTTP request and status lines (RFC 9112),
//! DCE/RPC connection-oriented headers (C706 12.6.3.1), Kerberos (RFC 4120 5.10 application
//! tags), LDAP envelopes (RFC 4511 4.1.1), SMB protocol identifiers (MS-SMB2 2.2.1) and the
//! NetBIOS session request with its two encoded names (RFC 1002 4.3.2). Weak checks, whose
//! headers random bytes pass too easily (DNS, NBNS, NBDGM, the other NetBIOS session types,
//! RADIUS, FTP), run only on the ports those protocols use.

use super::probe::{
    dcerpc, dns, ftp, http, kerberos, ldap, netbios, radius, rdp, rdpeudp, smb, tls,
};
use super::verdict::App;

/// Where a payload was seen: the transport and the ports of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// True for TCP, false for UDP.
    pub tcp: bool,
    /// The server port.
    pub server_port: u16,
    /// The client port.
    pub client_port: u16,
}

impl Context {
    fn port_is(&self, ports: &[u16]) -> bool {
        ports.contains(&self.server_port) || ports.contains(&self.client_port)
    }
}

/// DNS and its relatives that share the message format (RFC 1035; mDNS 5353, LLMNR 5355).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];
/// RADIUS (RFC 2865 3: 1812; RFC 2866: 1813; the legacy 1645/1646; RFC 5176 CoA 3799).
const RADIUS_PORTS: [u16; 5] = [1812, 1813, 1645, 1646, 3799];
/// NetBIOS name, datagram and session services (RFC 1002).
const NBNS_PORT: u16 = 137;
const NBDGM_PORT: u16 = 138;
const NBSS_PORT: u16 = 139;
/// FTP control (RFC 959).
const FTP_PORT: u16 = 21;

/// What one packet's payload was recognised as, borrowed from the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding<'a> {
    /// X.224 Connection Request carrying RDP (MS-RDPBCGR 2.2.1.1).
    RdpRequest(rdp::ConnectionRequest<'a>),
    /// X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
    RdpConfirm(rdp::ConnectionConfirm),
    /// MS-RDPEUDP SYN or SYN+ACK (MS-RDPEUDP 3.1.5.1).
    RdpUdp(rdpeudp::SynDatagram),
    /// TLS or DTLS ClientHello (RFC 8446 4.1.2).
    TlsClientHello(tls::ClientHello<'a>),
    /// TLS or DTLS ServerHello (RFC 8446 4.1.3).
    TlsServerHello(tls::ServerHello),
    /// Another TLS or DTLS record: the stream is encrypted.
    TlsRecord(tls::RecordHeader),
    /// HTTP request (RFC 9112 3).
    HttpRequest(http::Request<'a>),
    /// HTTP status line (RFC 9112 4).
    HttpResponse(http::Response<'a>),
    /// DCE/RPC bind or alter_context (C706 12.6.4.3).
    DceBind(dcerpc::Bind),
    /// DCE/RPC bind_ack or alter_context_resp (C706 12.6.4.4).
    DceBindAck(dcerpc::BindAck<'a>),
    /// An endpoint mapper ept_map response with its towers (C706 appendix L).
    DceEptMap(dcerpc::EptMapResponse),
    /// Any other connection-oriented DCE/RPC PDU (or a bind too short to read).
    Dce(dcerpc::DceRpcHeader),
    /// Kerberos message over UDP or TCP (RFC 4120 7.2).
    Kerberos(kerberos::KerberosMessage<'a>),
    /// LDAP or CLDAP message (RFC 4511 4.1.1).
    Ldap(ldap::LdapMessage<'a>),
    /// DNS message (RFC 1035 4.1).
    Dns(dns::DnsMessage<'a>),
    /// NetBIOS name service packet (RFC 1002 4.2).
    Nbns(netbios::NbnsMessage<'a>),
    /// NetBIOS datagram (RFC 1002 4.4).
    Nbdgm(netbios::DatagramHeader),
    /// NetBIOS session service packet (RFC 1002 4.3).
    Nbss(netbios::SessionHeader),
    /// RADIUS packet (RFC 2865 3).
    Radius(radius::RadiusPacket<'a>),
    /// SMB message (MS-SMB2 2.2.1, MS-SMB 2.2.3.1).
    Smb(smb::SmbMessage),
    /// FTP server reply (RFC 959 4.2).
    FtpReply(ftp::Reply<'a>),
    /// FTP client command (RFC 959 4.1).
    FtpCommand(ftp::Command<'a>),
}

impl Finding<'_> {
    /// The application protocol this finding belongs to.
    pub fn app(&self) -> App {
        match self {
            Self::RdpRequest(_) | Self::RdpConfirm(_) => App::Rdp,
            Self::RdpUdp(_) => App::RdpUdp,
            Self::TlsClientHello(h) if h.dtls => App::Dtls,
            Self::TlsServerHello(h) if h.dtls => App::Dtls,
            Self::TlsRecord(h) if h.dtls => App::Dtls,
            Self::TlsClientHello(_) | Self::TlsServerHello(_) | Self::TlsRecord(_) => App::Tls,
            Self::HttpRequest(_) | Self::HttpResponse(_) => App::Http,
            Self::DceBind(_) | Self::DceBindAck(_) | Self::DceEptMap(_) | Self::Dce(_) => {
                App::DceRpc
            }
            Self::Kerberos(_) => App::Kerberos,
            Self::Ldap(_) => App::Ldap,
            Self::Dns(_) => App::Dns,
            Self::Nbns(_) | Self::Nbdgm(_) | Self::Nbss(_) => App::Netbios,
            Self::Radius(_) => App::Radius,
            Self::Smb(_) => App::Smb,
            Self::FtpReply(_) | Self::FtpCommand(_) => App::Ftp,
        }
    }
}

/// Runs the checks that apply to `payload` (the first bytes of one packet of one direction)
/// and returns the first that recognises it, or `None`.
pub fn inspect(ctx: Context, payload: &[u8]) -> Option<Finding<'_>> {
    if ctx.tcp {
        inspect_tcp(ctx, payload)
    } else {
        inspect_udp(ctx, payload)
    }
}

fn inspect_tls(payload: &[u8]) -> Option<Finding<'_>> {
    if let Some(hello) = tls::parse_client_hello(payload) {
        return Some(Finding::TlsClientHello(hello));
    }
    if let Some(hello) = tls::parse_server_hello(payload) {
        return Some(Finding::TlsServerHello(hello));
    }
    tls::parse_record_header(payload).map(Finding::TlsRecord)
}

fn inspect_tcp(ctx: Context, payload: &[u8]) -> Option<Finding<'_>> {
    let first = *payload.first()?;
    match first {
        // TPKT version 3 (T.123 8): RDP's X.224 CR or CC.
        rdp::TPKT_VERSION => rdp::parse_connection_request(payload)
            .map(Finding::RdpRequest)
            .or_else(|| rdp::parse_connection_confirm(payload).map(Finding::RdpConfirm)),
        // TLS content types 20..=24 (RFC 8446 5.1).
        0x14..=0x18 => inspect_tls(payload),
        // DCE/RPC version 5 (C706 12.6.3.1).
        0x05 => {
            let header = dcerpc::probe_dcerpc(payload)?;
            Some(match header.ptype {
                dcerpc::dcerpc_ptype::BIND | dcerpc::dcerpc_ptype::ALTER_CONTEXT => {
                    dcerpc::parse_bind(payload).map_or(Finding::Dce(header), Finding::DceBind)
                }
                dcerpc::dcerpc_ptype::BIND_ACK | dcerpc::dcerpc_ptype::ALTER_CONTEXT_RESP => {
                    dcerpc::parse_bind_ack(payload)
                        .map_or(Finding::Dce(header), Finding::DceBindAck)
                }
                dcerpc::dcerpc_ptype::RESPONSE => dcerpc::parse_ept_map_response(payload)
                    .map_or(Finding::Dce(header), Finding::DceEptMap),
                _ => Finding::Dce(header),
            })
        }
        // A 4-byte length prefix: SMB behind the session-service header (MS-SMB2 2.1), Kerberos
        // record marking (RFC 4120 7.2.2), DNS over TCP (RFC 1035 4.2.2), NBSS.
        0x00 => smb::parse_smb(payload)
            .map(Finding::Smb)
            .or_else(|| kerberos::parse_kerberos_tcp(payload).map(Finding::Kerberos))
            .or_else(|| {
                ctx.port_is(&DNS_PORTS)
                    .then(|| dns::parse_dns_tcp(payload))
                    .flatten()
                    .map(Finding::Dns)
            })
            .or_else(|| {
                (ctx.port_is(&[NBSS_PORT]))
                    .then(|| netbios::parse_nbss(payload))
                    .flatten()
                    .map(Finding::Nbss)
            }),
        // BER SEQUENCE: an LDAPMessage (RFC 4511 4.1.1).
        0x30 => ldap::parse_ldap(payload).map(Finding::Ldap),
        // NBSS session request with both names anywhere; the other session types on 139 only.
        0x81 => netbios::parse_nbss(payload).map(Finding::Nbss),
        0x82..=0x85 if ctx.port_is(&[NBSS_PORT]) => netbios::parse_nbss(payload).map(Finding::Nbss),
        b'A'..=b'Z' | b'a'..=b'z' => {
            if let Some(response) = http::parse_response(payload) {
                return Some(Finding::HttpResponse(response));
            }
            if let Some(request) = http::parse_request(payload) {
                return Some(Finding::HttpRequest(request));
            }
            if ctx.port_is(&[FTP_PORT]) {
                return ftp::parse_command(payload).map(Finding::FtpCommand);
            }
            None
        }
        b'1'..=b'5' if ctx.port_is(&[FTP_PORT]) => ftp::parse_reply(payload).map(Finding::FtpReply),
        _ => None,
    }
}

fn inspect_udp(ctx: Context, payload: &[u8]) -> Option<Finding<'_>> {
    // The SYN test checks the size first (1132..=1232 bytes): cheap for every other datagram.
    if let Some(syn) = rdpeudp::parse_syn(payload).or_else(|| rdpeudp::parse_syn_ack(payload)) {
        return Some(Finding::RdpUdp(syn));
    }
    let first = *payload.first()?;
    let strong = match first {
        0x14..=0x18 => inspect_tls(payload),
        // Kerberos application tags AS-REQ, AS-REP, TGS-REQ, TGS-REP, KRB-ERROR (RFC 4120 5.10).
        0x6a..=0x6d | 0x7e => kerberos::parse_kerberos(payload).map(Finding::Kerberos),
        // CLDAP (RFC 4511 4.1.1 over UDP, MS-ADTS 6.3.3).
        0x30 => ldap::parse_ldap(payload).map(Finding::Ldap),
        _ => None,
    };
    if strong.is_some() {
        return strong;
    }
    if ctx.port_is(&[NBNS_PORT]) {
        if let Some(message) = netbios::parse_nbns(payload) {
            return Some(Finding::Nbns(message));
        }
    }
    if ctx.port_is(&[NBDGM_PORT]) {
        if let Some(header) = netbios::parse_nbdgm(payload) {
            return Some(Finding::Nbdgm(header));
        }
    }
    if ctx.port_is(&RADIUS_PORTS) {
        if let Some(packet) = radius::parse_radius(payload) {
            return Some(Finding::Radius(packet));
        }
    }
    if ctx.port_is(&DNS_PORTS) || ctx.port_is(&[NBNS_PORT]) {
        return dns::parse_dns(payload).map(Finding::Dns);
    }
    None
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tcp(port: u16) -> Context {
        Context {
            tcp: true,
            server_port: port,
            client_port: 50_000,
        }
    }

    fn udp(port: u16) -> Context {
        Context {
            tcp: false,
            server_port: port,
            client_port: 50_000,
        }
    }

    /// The Suricata `rdp.rs` unit-test CR (protocol-facts.md 2.1): cookie user123, no NEG_REQ.
    const CR: &[u8] = b"\x03\x00\x00\x25\x20\xe0\x00\x00\x00\x00\x00Cookie: mstshash=user123\r\n";

    #[test]
    fn rdp_is_found_on_any_tcp_port() {
        for port in [3389, 13389, 502, 80] {
            let found = inspect(tcp(port), CR).unwrap();
            assert_eq!(found.app(), App::Rdp, "port {port}");
        }
        // A typical 19-byte CC (protocol-facts.md 2.1) selecting HYBRID.
        let cc = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x02\x00\x00\x00";
        assert!(matches!(
            inspect(tcp(3389), cc),
            Some(Finding::RdpConfirm(_))
        ));
        // The same CR over UDP is nothing.
        assert_eq!(inspect(udp(3389), CR), None);
    }

    #[test]
    fn weak_checks_need_their_port() {
        // A DNS query header + question ("a", A, IN): found on 53, not on 3389.
        let query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01";
        assert_eq!(inspect(udp(53), query).map(|f| f.app()), Some(App::Dns));
        assert_eq!(inspect(udp(3389), query), None);
        // "220 ready" is an FTP reply on 21 only.
        assert_eq!(
            inspect(tcp(21), b"220 ready\r\n").map(|f| f.app()),
            Some(App::Ftp)
        );
        assert_eq!(inspect(tcp(8021), b"220 ready\r\n"), None);
        // An HTTP request is HTTP even on 21 (HTTP is tried first).
        assert_eq!(
            inspect(tcp(21), b"GET / HTTP/1.1\r\n").map(|f| f.app()),
            Some(App::Http)
        );
    }

    #[test]
    fn encrypted_streams_are_tls_records() {
        // zeek/tls/openjdk-25.0.2-zeek.org.pcap frame 6, the application_data record header.
        let record = b"\x17\x03\x03\x00\x32\xa6\x4b";
        assert!(matches!(
            inspect(tcp(3389), record),
            Some(Finding::TlsRecord(h)) if h.content_type == 23
        ));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1300), port in any::<u16>(), tcp_flow in any::<bool>()) {
            let ctx = Context { tcp: tcp_flow, server_port: port, client_port: 137 };
            let _ = inspect(ctx, &bytes).map(|f| f.app());
        }
    }
}
