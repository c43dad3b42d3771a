//! What the classifier concluded about a flow: the service, how sure it is, the application
//! protocol the payload showed and whether that confirms the port, and the evidence. Owns the
//! closed `Verdict`, `App` and `PayloadVerdict` vocabularies; must not compute anything (that is
//! `classify`'s job).

use std::num::NonZeroU16;

use serde::Serialize;

/// Index of a service in the loaded signature set (`Classifier::service_name`).
///
/// Held as the index plus one in a `NonZeroU16`, so that `Option<ServiceId>` takes two bytes,
/// not four: every flow record holds two of them (issue 6: records small enough for a million
/// flows). Ids order as their indexes do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(NonZeroU16);

impl ServiceId {
    /// The id of the service at `index`, saturating at the last id a `u16` holds (a signature
    /// set has a few dozen services).
    pub fn from_index(index: usize) -> Self {
        let biased = u16::try_from(index).map_or(u16::MAX, |i| i.saturating_add(1));
        Self(NonZeroU16::new(biased).unwrap_or(NonZeroU16::MAX))
    }

    /// The service's index in the signature set.
    pub fn index(self) -> u16 {
        self.0.get() - 1
    }
}

/// How sure rdsflows is that a flow is the RDS service it names (rusticata's graded probe result).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not an RDS service, or no evidence at all.
    #[default]
    NotRds,
    /// The port suggests a service but something weakens it (a range port with only indirect evidence).
    Unsure,
    /// The server port is one the map lists for the service.
    Likely,
    /// The payload confirms the service.
    Certain,
}

impl Verdict {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRds => "not_rds",
            Self::Unsure => "unsure",
            Self::Likely => "likely",
            Self::Certain => "certain",
        }
    }
}

/// Evidence bits gathered while a flow is alive.
pub mod evidence {
    /// The first client payload is a DCE/RPC connection-oriented PDU (C706 section 12.6).
    pub const DCERPC_PAYLOAD: u8 = 0x01;
    /// The same client asked the same server's endpoint mapper (tcp/135) shortly before.
    pub const EPM_BEFORE: u8 = 0x02;
    /// The server port is in a dynamic RPC range and the SYN showed who the server is.
    pub const SERVER_FROM_SYN: u8 = 0x04;
    /// An endpoint-mapper answer (ept_map tower, C706 appendix L) named this server address and
    /// port for an interface shortly before.
    pub const EPM_TOWER: u8 = 0x08;
    /// The client sent a DCE/RPC bind or alter_context (C706 12.6.4.3): it asks for an interface,
    /// so the other side is the RPC server.
    pub const DCERPC_BIND: u8 = 0x10;
}

/// The application protocol a payload check recognised (a closed vocabulary for reports; the
/// protocol-specific fields are in the flow's details).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum App {
    /// RDP over TCP: X.224 Connection Request / Confirm (MS-RDPBCGR 2.2.1.1, 2.2.1.2).
    Rdp,
    /// RDP over UDP: MS-RDPEUDP SYN / SYN+ACK (MS-RDPEUDP 3.1.5.1).
    RdpUdp,
    /// TLS: a handshake message or a well-formed record header (RFC 8446 5.1).
    Tls,
    /// DTLS (RFC 6347 4.1), as the RD Gateway UDP transport uses it (MS-TSGU 2.1.3).
    Dtls,
    /// HTTP/1.x request or status line (RFC 9112).
    Http,
    /// Connection-oriented DCE/RPC (C706 chapter 12).
    DceRpc,
    /// Kerberos (RFC 4120).
    Kerberos,
    /// LDAP or CLDAP (RFC 4511).
    Ldap,
    /// DNS (RFC 1035).
    Dns,
    /// RADIUS (RFC 2865, 2866).
    Radius,
    /// SMB 1, 2 or 3 (MS-SMB, MS-SMB2).
    Smb,
    /// NetBIOS name, datagram or session service (RFC 1002).
    Netbios,
    /// FTP control connection (RFC 959).
    Ftp,
    /// Payload that none of the checks recognised.
    Other,
}

impl App {
    /// Lower-case name for reports: `rdp`, `rdpeudp`, `tls`, `dtls`, `http`, `dcerpc`,
    /// `kerberos`, `ldap`, `dns`, `radius`, `smb`, `netbios`, `ftp`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rdp => "rdp",
            Self::RdpUdp => "rdpeudp",
            Self::Tls => "tls",
            Self::Dtls => "dtls",
            Self::Http => "http",
            Self::DceRpc => "dcerpc",
            Self::Kerberos => "kerberos",
            Self::Ldap => "ldap",
            Self::Dns => "dns",
            Self::Radius => "radius",
            Self::Smb => "smb",
            Self::Netbios => "netbios",
            Self::Ftp => "ftp",
            Self::Other => "other",
        }
    }
}

/// What the payload says about the service the port suggested (issue 4: "ports lie").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadVerdict {
    /// The payload is the protocol the port's service speaks.
    Confirmed,
    /// The payload is something else (the flow's `app` says what), or a request the server
    /// answered in another protocol (an RDP Connection Request not answered by a Confirm).
    Contradicted,
    /// Nothing decisive: no payload seen, encrypted, or not recognised.
    PortOnly,
    /// The payload found an RDS service on a port the map does not list for it.
    PayloadOnly,
}

impl PayloadVerdict {
    /// Every value, in report order.
    pub const ALL: [Self; 4] = [
        Self::Confirmed,
        Self::Contradicted,
        Self::PortOnly,
        Self::PayloadOnly,
    ];

    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Contradicted => "contradicted",
            Self::PortOnly => "port_only",
            Self::PayloadOnly => "payload_only",
        }
    }
}

/// The classification stored in each flow record: small and `Copy`, so the flow table stays lean
/// (the extracted protocol fields live in the record's boxed details, allocated once per flow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowClass {
    /// The service, when one applies (after the payload was considered).
    pub service: Option<ServiceId>,
    /// The service the server port (or endpoint-mapper evidence) named when the flow started,
    /// before any payload was seen.
    pub port_service: Option<ServiceId>,
    /// How sure.
    pub verdict: Verdict,
    /// What the payload says about the port's service; `None` for a flow that neither the port
    /// nor the payload made an RDS service.
    pub payload: Option<PayloadVerdict>,
    /// The first application protocol recognised in each direction (to server, to client):
    /// `Other` until a later packet within the inspection bound is recognised.
    pub apps: [Option<App>; 2],
    /// Evidence bits (see [`evidence`]).
    pub evidence: u8,
    /// Payload-carrying packets already inspected, per direction (to server, to client); the
    /// classifier stops looking after a bounded number.
    pub inspected: [u8; 2],
}

impl FlowClass {
    /// The application protocol of the flow: what both sides agree on; else the client's when
    /// the server's answer is TLS (a cleartext start upgraded: RDP, LDAP StartTLS) or not
    /// recognised; else the server's (it says what the service really is: an RDP request
    /// answered by a web server is HTTP); else what the client spoke.
    pub fn app(&self) -> Option<App> {
        match self.apps {
            [Some(c), Some(s)] if c == s => Some(c),
            [Some(c), Some(App::Tls | App::Other)] if c != App::Other => Some(c),
            [_, Some(s)] if s != App::Other => Some(s),
            [Some(c), _] => Some(c),
            [None, s] => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids_keep_their_index_and_order_in_two_bytes() {
        assert_eq!(ServiceId::from_index(0).index(), 0);
        assert_eq!(ServiceId::from_index(41).index(), 41);
        assert!(ServiceId::from_index(3) < ServiceId::from_index(4));
        assert_eq!(ServiceId::from_index(usize::MAX).index(), u16::MAX - 1);
        assert_eq!(size_of::<Option<ServiceId>>(), 2);
    }
}
