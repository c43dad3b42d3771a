//! RDP connection start over TCP: the client X.224 Connection Request and the server X.224
//! Connection Confirm inside TPKT (MS-RDPBCGR 2.2.1.1 and 2.2.1.2; T.123 section 8; X.224
//! sections 13.3 and 13.4). These are the only cleartext RDP PDUs when TLS follows, and they
//! carry the cookie or routing token, the requested and selected security protocols, and the
//! correlation ID that links the TCP connection to its UDP transport and gateway tunnel.
//!
//! Owns the TPKT/X.224 consistency rules and the rule that tells RDP from other ISO transport
//! users (S7comm/ISO-on-TCP, see [`parse_connection_request`]). Must not follow the connection
//! past the confirm (MCS and TLS are other parsers' business), keep state, or allocate.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::{find_crlf, starts_with_ignore_case, Cursor};

/// TPKT version byte (T.123 section 8).
pub const TPKT_VERSION: u8 = 0x03;
/// Bytes of TPKT header + X.224 fixed CR/CC part (LI, code, DST-REF, SRC-REF, class).
pub const X224_FIXED_LEN: usize = 11;
/// X.224 TPDU code of a Connection Request (X.224 13.3), high nibble.
pub const X224_CR: u8 = 0xE0;
/// X.224 TPDU code of a Connection Confirm (X.224 13.4).
pub const X224_CC: u8 = 0xD0;

/// Security protocols, as requested (a bit set) or selected (one value) (MS-RDPBCGR 2.2.1.1.1
/// and 2.2.1.2.1). Unknown bits are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Protocols(pub u32);

impl Protocols {
    /// Standard RDP security (the value 0).
    pub const RDP: Self = Self(0x00);
    /// TLS 1.0, 1.1 or 1.2.
    pub const SSL: Self = Self(0x01);
    /// CredSSP (NLA); implies TLS.
    pub const HYBRID: Self = Self(0x02);
    /// RDSTLS.
    pub const RDSTLS: Self = Self(0x04);
    /// CredSSP with Early User Authorization Result PDU.
    pub const HYBRID_EX: Self = Self(0x08);
    /// RDS AAD authentication (Entra ID).
    pub const RDSAAD: Self = Self(0x10);

    const NAMED: [(u32, &'static str); 5] = [
        (0x01, "PROTOCOL_SSL"),
        (0x02, "PROTOCOL_HYBRID"),
        (0x04, "PROTOCOL_RDSTLS"),
        (0x08, "PROTOCOL_HYBRID_EX"),
        (0x10, "PROTOCOL_RDSAAD"),
    ];

    /// The name of a selected protocol (a single value): `PROTOCOL_RDP`, `PROTOCOL_SSL`… or
    /// "unknown".
    pub fn name(self) -> &'static str {
        if self.0 == 0 {
            return "PROTOCOL_RDP";
        }
        Self::NAMED
            .iter()
            .find(|(bit, _)| *bit == self.0)
            .map_or("unknown", |(_, name)| name)
    }

    /// The names of the known bits set in a requested-protocols bit set (none for
    /// `PROTOCOL_RDP` alone, which is the value 0).
    pub fn bit_names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMED
            .into_iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| name)
    }

    /// Bits set that MS-RDPBCGR does not define (kept, to be reported raw).
    pub fn unknown_bits(self) -> u32 {
        self.0 & !0x1F
    }

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// RDP_NEG_REQ flags (MS-RDPBCGR 2.2.1.1.1).
pub mod neg_req_flags {
    /// RESTRICTED_ADMIN_MODE_REQUIRED
    pub const RESTRICTED_ADMIN_MODE_REQUIRED: u8 = 0x01;
    /// REDIRECTED_AUTHENTICATION_MODE_REQUIRED
    pub const REDIRECTED_AUTHENTICATION_MODE_REQUIRED: u8 = 0x02;
    /// CORRELATION_INFO_PRESENT: an RDP_NEG_CORRELATION_INFO follows.
    pub const CORRELATION_INFO_PRESENT: u8 = 0x08;
}

/// RDP_NEG_RSP flags (MS-RDPBCGR 2.2.1.2.1).
pub mod neg_rsp_flags {
    /// EXTENDED_CLIENT_DATA_SUPPORTED
    pub const EXTENDED_CLIENT_DATA_SUPPORTED: u8 = 0x01;
    /// DYNVC_GFX_PROTOCOL_SUPPORTED
    pub const DYNVC_GFX_PROTOCOL_SUPPORTED: u8 = 0x02;
    /// RESTRICTED_ADMIN_MODE_SUPPORTED
    pub const RESTRICTED_ADMIN_MODE_SUPPORTED: u8 = 0x08;
    /// REDIRECTED_AUTHENTICATION_MODE_SUPPORTED
    pub const REDIRECTED_AUTHENTICATION_MODE_SUPPORTED: u8 = 0x10;
}

/// The cookie or routing token line of a Connection Request (MS-RDPBCGR 2.2.1.1), without its
/// CR LF. Never both: the client sends one line at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// `Cookie: mstshash=IDENTIFIER`: the identifier, usually the (often truncated) user name.
    Cookie(&'a [u8]),
    /// `Cookie: msts=<ip>.<port>.<reserved>`: the redirect token a Connection Broker hands out
    /// for the reconnect to the session host.
    Redirect {
        /// The target decoded per the worked example in protocol-facts.md 2.1 (IPv4 as a
        /// little-endian u32 in decimal, port byte-swapped), when the value parses.
        target: Option<SocketAddrV4>,
        /// The value after `msts=`.
        raw: &'a [u8],
    },
    /// `tsv://MS Terminal Services Plugin.1.<Collection>`: the load-balance info sent to an RD
    /// Connection Broker; the collection name.
    Collection(&'a [u8]),
    /// Any other line (`tsv:` and `mth://` variants, or an empty line), kept raw.
    Other(&'a [u8]),
}

const COOKIE_MSTSHASH: &[u8] = b"Cookie: mstshash=";
const COOKIE_MSTS: &[u8] = b"Cookie: msts=";
const TSV_COLLECTION: &[u8] = b"tsv://MS Terminal Services Plugin.1.";

impl<'a> Token<'a> {
    fn from_line(line: &'a [u8]) -> Self {
        if starts_with_ignore_case(line, COOKIE_MSTSHASH) {
            Self::Cookie(line.get(COOKIE_MSTSHASH.len()..).unwrap_or_default())
        } else if starts_with_ignore_case(line, COOKIE_MSTS) {
            let raw = line.get(COOKIE_MSTS.len()..).unwrap_or_default();
            Self::Redirect {
                target: decode_msts(raw),
                raw,
            }
        } else if starts_with_ignore_case(line, TSV_COLLECTION) {
            Self::Collection(line.get(TSV_COLLECTION.len()..).unwrap_or_default())
        } else {
            Self::Other(line)
        }
    }

    /// A short name for the kind of token: `cookie`, `redirect`, `collection`, `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Cookie(_) => "cookie",
            Self::Redirect { .. } => "redirect",
            Self::Collection(_) => "collection",
            Self::Other(_) => "other",
        }
    }
}

/// Decodes the value of a `Cookie: msts=` redirect token: `<ip>.<port>[.<reserved>]`, the
/// IPv4 address as the decimal value of its bytes read little-endian and the port
/// byte-swapped (`3640205228.15629.0000` = 172.31.249.216:3389; Microsoft Remote Desktop Web
/// Connection documentation, protocol-facts.md 2.1).
pub fn decode_msts(value: &[u8]) -> Option<SocketAddrV4> {
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.split('.');
    let ip: u32 = parts.next()?.parse().ok()?;
    let port: u16 = parts.next()?.parse().ok()?;
    if let Some(reserved) = parts.next() {
        if reserved.is_empty() || !reserved.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if parts.next().is_some() {
        return None;
    }
    Some(SocketAddrV4::new(
        Ipv4Addr::from(ip.to_le_bytes()),
        port.swap_bytes(),
    ))
}

/// RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NegotiationRequest {
    /// Flags ([`neg_req_flags`]), unknown bits kept.
    pub flags: u8,
    /// requestedProtocols, unknown bits kept.
    pub requested: Protocols,
}

/// A client X.224 Connection Request carrying RDP (MS-RDPBCGR 2.2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionRequest<'a> {
    /// TPKT length: the whole PDU.
    pub tpkt_len: u16,
    /// X.224 SRC-REF.
    pub src_ref: u16,
    /// The cookie or routing token, when the client sent one.
    pub token: Option<Token<'a>>,
    /// The negotiation request, when present (absent from very old clients).
    pub negotiation: Option<NegotiationRequest>,
    /// RDP_NEG_CORRELATION_INFO correlationId (MS-RDPBCGR 2.2.1.1.2), when present: the same
    /// ID appears in the MS-RDPEUDP SYN and the RD Gateway `RDG-Correlation-Id`.
    pub correlation_id: Option<[u8; 16]>,
}

impl ConnectionRequest<'_> {
    /// True when the PDU carries an RDP-specific field (token or RDP_NEG_REQ). A bare CR (no
    /// variable part) is valid RDP from old clients but is also a plain ISO transport CR: only
    /// the port, or a confirm that follows, can tell.
    pub fn has_rdp_fields(&self) -> bool {
        self.token.is_some() || self.negotiation.is_some()
    }

    /// The mstshash identifier, when the token is a cookie.
    pub fn cookie(&self) -> Option<&[u8]> {
        match self.token {
            Some(Token::Cookie(id)) => Some(id),
            _ => None,
        }
    }
}

/// The TPKT header and X.224 fixed part shared by CR and CC (T.123 8; X.224 13.3.1, 13.4.1):
/// returns the TPKT length, the code byte, DST-REF, SRC-REF and the variable part (bounded by
/// the TPKT length).
fn tpkt_x224(payload: &[u8]) -> Option<(u16, u8, u16, u16, &[u8])> {
    let mut c = Cursor::new(payload);
    let [version, _reserved] = c.array()?;
    let tpkt_len = c.be16()?;
    if version != TPKT_VERSION || usize::from(tpkt_len) < X224_FIXED_LEN {
        return None;
    }
    // The whole PDU must be present: a CR or CC is one small segment. Bytes after it (a next
    // PDU in the same segment) are not read.
    let pdu = payload.get(..usize::from(tpkt_len))?;
    let mut c = Cursor::new(pdu.get(4..)?);
    let li = c.u8()?;
    // X.224 13.2.1: LI counts the TPDU header after itself; for CR/CC that is the whole TPDU.
    if li == 0xFF || usize::from(li) != usize::from(tpkt_len).checked_sub(5)? {
        return None;
    }
    let code = c.u8()?;
    let dst_ref = c.be16()?;
    let src_ref = c.be16()?;
    let class = c.u8()?;
    // MS-RDPBCGR sends class 0 with no options (0x00).
    if class != 0 {
        return None;
    }
    Some((tpkt_len, code, dst_ref, src_ref, c.rest()))
}

/// RDP_NEG_REQ type (MS-RDPBCGR 2.2.1.1.1).
const TYPE_RDP_NEG_REQ: u8 = 0x01;
/// RDP_NEG_RSP type (2.2.1.2.1).
const TYPE_RDP_NEG_RSP: u8 = 0x02;
/// RDP_NEG_FAILURE type (2.2.1.2.2).
const TYPE_RDP_NEG_FAILURE: u8 = 0x03;
/// RDP_NEG_CORRELATION_INFO type (2.2.1.1.2).
const TYPE_RDP_CORRELATION_INFO: u8 = 0x06;
/// Length of RDP_NEG_REQ / RSP / FAILURE.
const NEG_LEN: u16 = 8;
/// Length of RDP_NEG_CORRELATION_INFO.
const CORRELATION_INFO_LEN: u16 = 0x24;

/// Parses a client X.224 Connection Request carrying RDP (MS-RDPBCGR 2.2.1.1).
///
/// Checks, in order: TPKT version 3 and a length of at least 11 with the whole PDU present;
/// LI = TPKT length − 5; code 0xE0 or 0xE1 (CR with CDT 0 or 1, as Suricata accepts);
/// DST-REF 0; class 0. Then the variable part must consist of RDP fields only: an optional
/// CR LF-terminated cookie/routing-token line, an optional RDP_NEG_REQ (type 1, length 8),
/// and, only after a NEG_REQ, an optional RDP_NEG_CORRELATION_INFO (type 6, length 36).
///
/// **The S7comm rule.** ISO-on-TCP users such as Siemens S7 (tcp/102) send the same TPKT and
/// CR header, but their variable part is X.224 parameters (13.3.4): calling/called TSAP
/// (0xC1/0xC2), TPDU size (0xC0) and others, all coded 0x80 and above. MS-RDPBCGR never sends
/// X.224 parameters, and its own fields start with 0x01 (NEG_REQ) or printable text, so a
/// variable part starting with a byte ≥ 0x80, or any bytes left over after the RDP fields,
/// is not RDP and gives `None`. A CR with no variable part at all is returned, with
/// [`ConnectionRequest::has_rdp_fields`] false.
pub fn parse_connection_request(payload: &[u8]) -> Option<ConnectionRequest<'_>> {
    let (tpkt_len, code, dst_ref, src_ref, mut rest) = tpkt_x224(payload)?;
    if !matches!(code, 0xE0 | 0xE1) || dst_ref != 0 {
        return None;
    }
    let mut token = None;
    match rest.first() {
        None | Some(&TYPE_RDP_NEG_REQ) => {}
        // A token line starts with printable ASCII (or is an empty line); X.224 parameter
        // codes (0xC0 TPDU size, 0xC1/0xC2 TSAPs…) are all >= 0x80: that is S7comm, not RDP.
        Some(&first) if first == b'\r' || (0x20..0x7F).contains(&first) => {
            let end = find_crlf(rest)?;
            let line = rest.get(..end)?;
            token = Some(Token::from_line(line));
            rest = rest.get(end.checked_add(2)?..)?;
        }
        Some(_) => return None,
    }
    let mut negotiation = None;
    let mut correlation_id = None;
    if !rest.is_empty() {
        let mut c = Cursor::new(rest);
        let (ty, flags, len) = (c.u8()?, c.u8()?, c.le16()?);
        if ty != TYPE_RDP_NEG_REQ || len != NEG_LEN {
            return None;
        }
        negotiation = Some(NegotiationRequest {
            flags,
            requested: Protocols(c.le32()?),
        });
        if !c.is_empty() {
            let (ty, _flags, len) = (c.u8()?, c.u8()?, c.le16()?);
            if ty != TYPE_RDP_CORRELATION_INFO || len != CORRELATION_INFO_LEN {
                return None;
            }
            correlation_id = Some(c.array::<16>()?);
            c.skip(16)?;
        }
        if !c.is_empty() {
            return None;
        }
    }
    Some(ConnectionRequest {
        tpkt_len,
        src_ref,
        token,
        negotiation,
        correlation_id,
    })
}

/// RDP_NEG_FAILURE failureCode (MS-RDPBCGR 2.2.1.2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FailureCode(pub u32);

impl FailureCode {
    /// SSL_REQUIRED_BY_SERVER
    pub const SSL_REQUIRED_BY_SERVER: Self = Self(1);
    /// SSL_NOT_ALLOWED_BY_SERVER
    pub const SSL_NOT_ALLOWED_BY_SERVER: Self = Self(2);
    /// SSL_CERT_NOT_ON_SERVER
    pub const SSL_CERT_NOT_ON_SERVER: Self = Self(3);
    /// INCONSISTENT_FLAGS
    pub const INCONSISTENT_FLAGS: Self = Self(4);
    /// HYBRID_REQUIRED_BY_SERVER
    pub const HYBRID_REQUIRED_BY_SERVER: Self = Self(5);
    /// SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: Self = Self(6);

    /// The MS-RDPBCGR name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => "unknown",
        }
    }
}

/// What the server answered to the negotiation (MS-RDPBCGR 2.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegotiationResult {
    /// RDP_NEG_RSP: the selected protocol and the server's flags ([`neg_rsp_flags`]).
    Response {
        /// Flags, unknown bits kept.
        flags: u8,
        /// selectedProtocol.
        selected: Protocols,
    },
    /// RDP_NEG_FAILURE: the connection ends here.
    Failure(FailureCode),
}

/// A server X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionConfirm {
    /// TPKT length.
    pub tpkt_len: u16,
    /// The negotiation answer; `None` for a bare confirm (a server that predates negotiation,
    /// or a client that sent no RDP_NEG_REQ): standard RDP security.
    pub negotiation: Option<NegotiationResult>,
}

impl ConnectionConfirm {
    /// The security protocol in use after this confirm: the selected one, `PROTOCOL_RDP` for a
    /// bare confirm, `None` after a failure.
    pub fn selected_protocol(&self) -> Option<Protocols> {
        match self.negotiation {
            None => Some(Protocols::RDP),
            Some(NegotiationResult::Response { selected, .. }) => Some(selected),
            Some(NegotiationResult::Failure(_)) => None,
        }
    }
}

/// Parses a server X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2): the TPKT/X.224 checks of
/// [`parse_connection_request`] with code 0xD0 (DST-REF is the client's SRC-REF, any value),
/// then either nothing (a bare CC) or exactly one 8-byte RDP_NEG_RSP (type 2) or
/// RDP_NEG_FAILURE (type 3) with length 8. Anything else (X.224 parameters as S7 servers send,
/// a wrong length) gives `None`.
pub fn parse_connection_confirm(payload: &[u8]) -> Option<ConnectionConfirm> {
    let (tpkt_len, code, _dst_ref, _src_ref, rest) = tpkt_x224(payload)?;
    if code != X224_CC {
        return None;
    }
    let negotiation = if rest.is_empty() {
        None
    } else {
        let mut c = Cursor::new(rest);
        let (ty, flags, len, value) = (c.u8()?, c.u8()?, c.le16()?, c.le32()?);
        if len != NEG_LEN || !c.is_empty() {
            return None;
        }
        match ty {
            TYPE_RDP_NEG_RSP => Some(NegotiationResult::Response {
                flags,
                selected: Protocols(value),
            }),
            TYPE_RDP_NEG_FAILURE => Some(NegotiationResult::Failure(FailureCode(value))),
            _ => return None,
        }
    };
    Some(ConnectionConfirm {
        tpkt_len,
        negotiation,
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::super::test_util::hex;
    use super::*;
    use proptest::prelude::*;

    /// zeek/rdp/rdp-to-ssl.pcap frame 4 (49206 → 3389): CR with cookie and NEG_REQ.
    const ZEEK_SSL_CR: &str = concat!(
        "03 00 002f",                                                // TPKT v3, length 47
        "2a e0 0000 0000 00", // LI 42, CR CDT 0, DST-REF 0, SRC-REF 0, class 0
        "436f6f6b69653a206d737473686173683d4157414b45434f4449 0d0a", // "Cookie: mstshash=AWAKECODI\r\n"
        "01 00 0800 03000000", // RDP_NEG_REQ flags 0, requested SSL|HYBRID
    );
    /// Same file, frame 6 (3389 → 49206): CC with RDP_NEG_RSP.
    const ZEEK_SSL_CC: &str = concat!(
        "03 00 0013",          // TPKT length 19
        "0e d0 0000 1234 00",  // LI 14, CC, DST-REF 0, SRC-REF 0x1234, class 0
        "02 01 0800 02000000", // RDP_NEG_RSP flags EXTENDED_CLIENT_DATA, selected HYBRID
    );
    /// zeek/rdp/rdp-no-cookie-mstshash.pcap frame 7: no cookie, NEG_REQ for SSL|HYBRID|HYBRID_EX.
    const NO_COOKIE_CR: &str = "03 00 0013 0e e0 0000 0000 00 01 00 0800 0b000000";
    /// Same file, frame 9: CC selecting HYBRID_EX, flags 0x1f.
    const NO_COOKIE_CC: &str = "03 00 0013 0e d0 0000 1234 00 02 1f 0800 08000000";
    /// awakecoding-wireshark-rdp/rdp-no-nla-rejected1.pcapng frame 5: RDP_NEG_FAILURE 5.
    const REJECTED_CC: &str = concat!(
        "03 00 0013 0e d0 0000 1234 00",
        "03 00 0800 05000000", // RDP_NEG_FAILURE, HYBRID_REQUIRED_BY_SERVER
    );
    /// awakecoding-wireshark-rdp/rdp-restricted-admin-rejected1.pcapng frame 4: NEG_REQ with
    /// RESTRICTED_ADMIN_MODE_REQUIRED, requesting HYBRID|HYBRID_EX.
    const RESTRICTED_ADMIN_CR: &str = concat!(
        "0300002f 2ae00000000000",
        "436f6f6b69653a206d737473686173683d41646d696e69737472 0d0a", // mstshash=Administr
        "01 01 0800 0a000000",
    );
    /// suricata-verify/rdp-protocol/RDP-003.pcap frame 4: cookie only, no NEG_REQ.
    const RDP003_CR: &str =
        "030000241fe00000000000 436f6f6b69653a206d737473686173683d413730303637 0d0a";
    /// Same file, frame 6: a bare CC (standard RDP security, no negotiation).
    const RDP003_CC: &str = "0300000b 06 d0 0000 1234 00";
    /// malcolm-test-artifacts/esteemedaudit-failed-XPSP2.pcap frame 4: an empty token line.
    const ESTEEMED_CR: &str = "0300000d 08 e0 0000 0000 00 0d0a";
    /// ndpi/s7comm.pcap frame 1 (→ tcp/102): ISO-on-TCP CR with X.224 parameters.
    const S7_CR: &str = concat!(
        "03 00 0016 11 e0 0000 0007 00", // same TPKT + CR header shape as RDP
        "c1 02 0100",                    // calling TSAP
        "c2 02 0102",                    // called TSAP
        "c0 01 0a",                      // TPDU size 1024
    );
    /// ndpi/s7comm.pcap frame 2: the S7 CC, parameters again.
    const S7_CC: &str = "0300001611d00007000300c0010ac1020100c2020102";
    /// zeek/rdp/rdp-invalid-length.pcap frame 5: a CC whose NEG_RSP length field is 0.
    const INVALID_LENGTH_CC: &str =
        "030000130ed000001234000203000001000002001232000200080000000000";
    /// zeek/modbus/modbus-and-non-modbus-p502.pcap frame 82: the honeypot's answer to an RDP CR
    /// on tcp/502 (TPKT-looking, not a CC).
    const MODBUS_REPLY: &str = "0300002b0003008001";
    /// Same file, frame 65 (first bytes): an HTTP request.
    const HTTP_GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 160.97.70.34\r\nAccept: */*\r\n";
    /// The worked example of protocol-facts.md 2.1 (Suricata `rdp.rs` unit test).
    const SURICATA_EXAMPLE: &[u8] =
        b"\x03\x00\x00\x25\x20\xe0\x00\x00\x00\x00\x00Cookie: mstshash=user123\r\n";

    /// Test vectors live for the whole test run, so parsed values can borrow them.
    fn leak(vector: &str) -> &'static [u8] {
        Box::leak(hex(vector).into_boxed_slice())
    }

    /// A CR built around `line` (without CR LF) and optional trailing bytes.
    fn cr_with(line: &[u8], tail: &[u8]) -> Vec<u8> {
        let len = 11 + line.len() + 2 + tail.len();
        let mut v = vec![
            3,
            0,
            (len >> 8) as u8,
            len as u8,
            (len - 5) as u8,
            0xe0,
            0,
            0,
            0,
            0,
            0,
        ];
        v.extend_from_slice(line);
        v.extend_from_slice(b"\r\n");
        v.extend_from_slice(tail);
        v
    }

    #[test]
    fn cookie_and_negotiation_request() {
        let bytes = hex(ZEEK_SSL_CR);
        let cr = parse_connection_request(&bytes).unwrap();
        assert_eq!(cr.tpkt_len, 47);
        assert_eq!(cr.cookie(), Some(&b"AWAKECODI"[..]));
        let neg = cr.negotiation.unwrap();
        assert_eq!(neg.flags, 0);
        assert_eq!(neg.requested, Protocols(3));
        assert_eq!(
            neg.requested.bit_names().collect::<Vec<_>>(),
            ["PROTOCOL_SSL", "PROTOCOL_HYBRID"]
        );
        assert!(cr.has_rdp_fields());
        assert_eq!(cr.correlation_id, None);
    }

    #[test]
    fn confirm_with_selected_protocol() {
        let cc = parse_connection_confirm(&hex(ZEEK_SSL_CC)).unwrap();
        assert_eq!(
            cc.negotiation,
            Some(NegotiationResult::Response {
                flags: neg_rsp_flags::EXTENDED_CLIENT_DATA_SUPPORTED,
                selected: Protocols::HYBRID
            })
        );
        assert_eq!(cc.selected_protocol().unwrap().name(), "PROTOCOL_HYBRID");
        let cc = parse_connection_confirm(&hex(NO_COOKIE_CC)).unwrap();
        assert_eq!(cc.selected_protocol(), Some(Protocols::HYBRID_EX));
    }

    #[test]
    fn request_without_cookie() {
        let cr = parse_connection_request(leak(NO_COOKIE_CR)).unwrap();
        assert_eq!(cr.token, None);
        assert_eq!(cr.negotiation.unwrap().requested, Protocols(0x0b));
        assert!(cr.has_rdp_fields());
    }

    #[test]
    fn negotiation_failure_is_named() {
        let cc = parse_connection_confirm(&hex(REJECTED_CC)).unwrap();
        assert_eq!(
            cc.negotiation,
            Some(NegotiationResult::Failure(
                FailureCode::HYBRID_REQUIRED_BY_SERVER
            ))
        );
        assert_eq!(cc.selected_protocol(), None);
        assert_eq!(FailureCode(5).name(), "HYBRID_REQUIRED_BY_SERVER");
        assert_eq!(FailureCode(77).name(), "unknown");
    }

    #[test]
    fn restricted_admin_flag_is_kept() {
        let cr = parse_connection_request(leak(RESTRICTED_ADMIN_CR)).unwrap();
        let neg = cr.negotiation.unwrap();
        assert_eq!(neg.flags, neg_req_flags::RESTRICTED_ADMIN_MODE_REQUIRED);
        assert!(neg.requested.contains(Protocols::HYBRID_EX));
        assert_eq!(cr.cookie(), Some(&b"Administr"[..]), "cut at 9 characters");
    }

    #[test]
    fn legacy_cookie_only_and_bare_confirm() {
        let cr = parse_connection_request(leak(RDP003_CR)).unwrap();
        assert_eq!(cr.cookie(), Some(&b"A70067"[..]));
        assert_eq!(cr.negotiation, None);
        let cc = parse_connection_confirm(&hex(RDP003_CC)).unwrap();
        assert_eq!(cc.negotiation, None);
        assert_eq!(cc.selected_protocol(), Some(Protocols::RDP));
        assert_eq!(Protocols::RDP.name(), "PROTOCOL_RDP");
    }

    #[test]
    fn empty_token_line_is_other() {
        let cr = parse_connection_request(leak(ESTEEMED_CR)).unwrap();
        assert_eq!(cr.token, Some(Token::Other(b"")));
    }

    #[test]
    fn worked_example_and_routing_tokens() {
        let cr = parse_connection_request(SURICATA_EXAMPLE).unwrap();
        assert_eq!(cr.cookie(), Some(&b"user123"[..]));

        let redirect = cr_with(b"Cookie: msts=3640205228.15629.0000", &[]);
        let cr = parse_connection_request(&redirect).unwrap();
        assert_eq!(
            cr.token,
            Some(Token::Redirect {
                target: Some("172.31.249.216:3389".parse().unwrap()),
                raw: b"3640205228.15629.0000"
            })
        );
        assert_eq!(
            decode_msts(b"3640205228.15629"),
            Some("172.31.249.216:3389".parse().unwrap()),
            "the reserved part is optional"
        );
        assert_eq!(decode_msts(b"3640205228"), None);
        assert_eq!(
            decode_msts(b"99999999999.15629.0000"),
            None,
            "ip overflows u32"
        );

        let broker = cr_with(
            b"tsv://MS Terminal Services Plugin.1.Sales_Desktops",
            &hex("01 00 0800 03000000"),
        );
        let cr = parse_connection_request(&broker).unwrap();
        assert_eq!(cr.token, Some(Token::Collection(b"Sales_Desktops")));
        assert!(cr.negotiation.is_some());

        let mth = cr_with(b"mth://10.0.0.5/vm1", &[]);
        let cr = parse_connection_request(&mth).unwrap();
        assert_eq!(cr.token, Some(Token::Other(b"mth://10.0.0.5/vm1")));
        assert_eq!(cr.token.unwrap().kind(), "other");
    }

    #[test]
    fn correlation_info_follows_the_request() {
        // MS-RDPBCGR 2.2.1.1.2 layout with a correlation ID whose first byte is neither 0x00 nor
        // 0xF4 and that holds no 0x0D.
        let tail = hex(concat!(
            "01 08 0800 0b000000",               // NEG_REQ, CORRELATION_INFO_PRESENT
            "06 00 2400",                        // RDP_NEG_CORRELATION_INFO, length 36
            "1122334455667788 99aabbccddeeff01", // correlationId
            "00000000000000000000000000000000",  // reserved
        ));
        let bytes = cr_with(b"Cookie: mstshash=alice", &tail);
        let cr = parse_connection_request(&bytes).unwrap();
        assert_eq!(
            cr.correlation_id,
            Some(hex("112233445566778899aabbccddeeff01").try_into().unwrap())
        );
        // Mutation: correlation length 0x24 → 0x20: not an RDP field any more → None.
        let mut bad = bytes.clone();
        let at = bad.len() - 34;
        bad[at] = 0x20;
        assert_eq!(parse_connection_request(&bad), None);
    }

    #[test]
    fn s7comm_cotp_is_not_rdp() {
        assert_eq!(parse_connection_request(&hex(S7_CR)), None);
        assert_eq!(parse_connection_confirm(&hex(S7_CC)), None);
        // The same header with the variable part removed is a bare CR: accepted, but without
        // RDP fields (only the port can make it RDP).
        let mut bare = hex(S7_CR)[..11].to_vec();
        bare[3] = 11;
        bare[4] = 6;
        let cr = parse_connection_request(&bare).unwrap();
        assert!(!cr.has_rdp_fields());
    }

    #[test]
    fn other_protocols_are_not_rdp() {
        assert_eq!(parse_connection_request(HTTP_GET), None);
        assert_eq!(parse_connection_confirm(HTTP_GET), None);
        assert_eq!(parse_connection_confirm(&hex(MODBUS_REPLY)), None);
        assert_eq!(parse_connection_confirm(&hex(INVALID_LENGTH_CC)), None);
        assert_eq!(
            parse_connection_request(&hex(ZEEK_SSL_CC)),
            None,
            "a CC is not a CR"
        );
        assert_eq!(parse_connection_confirm(&hex(ZEEK_SSL_CR)), None);
    }

    #[test]
    fn mutations() {
        let good = hex(ZEEK_SSL_CR);
        // LI 42 → 41: no longer TPKT length − 5.
        let mut li = good.clone();
        li[4] = 41;
        assert_eq!(parse_connection_request(&li), None);
        // CDT 1 (code 0xE1) is accepted, as Suricata does.
        let mut cdt = good.clone();
        cdt[5] = 0xe1;
        assert!(parse_connection_request(&cdt).is_some());
        // DST-REF set: a CR must carry 0.
        let mut dst = good.clone();
        dst[7] = 1;
        assert_eq!(parse_connection_request(&dst), None);
        // Class 4 instead of 0.
        let mut class = good.clone();
        class[10] = 0x40;
        assert_eq!(parse_connection_request(&class), None);
        // The CR LF of the cookie becomes "\r!": the token never ends.
        let mut crlf = good.clone();
        crlf[38] = b'!';
        assert_eq!(parse_connection_request(&crlf), None);
        // NEG_REQ length 8 → 9.
        let mut neg = good.clone();
        neg[41] = 9;
        assert_eq!(parse_connection_request(&neg), None);
        // Unknown requested bit 0x100 is kept, not rejected.
        let mut unknown = good.clone();
        unknown[44] = 0x01;
        let cr = parse_connection_request(&unknown).unwrap();
        assert_eq!(cr.negotiation.unwrap().requested.unknown_bits(), 0x100);
        // Extra bytes in the segment after the PDU are not read.
        let mut longer = good.clone();
        longer.extend_from_slice(b"\x16\x03\x01");
        assert!(parse_connection_request(&longer).is_some());
        // NEG_RSP type 2 → 4: unknown structure.
        let mut cc = hex(ZEEK_SSL_CC);
        cc[11] = 4;
        assert_eq!(parse_connection_confirm(&cc), None);
    }

    #[test]
    fn every_prefix_is_safe_and_incomplete_pdus_are_none() {
        for vector in [
            ZEEK_SSL_CR,
            ZEEK_SSL_CC,
            RESTRICTED_ADMIN_CR,
            RDP003_CR,
            RDP003_CC,
            S7_CR,
        ] {
            let bytes = hex(vector);
            for len in 0..bytes.len() {
                assert_eq!(
                    parse_connection_request(&bytes[..len]),
                    None,
                    "{vector} {len}"
                );
                assert_eq!(
                    parse_connection_confirm(&bytes[..len]),
                    None,
                    "{vector} {len}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = parse_connection_request(&bytes);
            let _ = parse_connection_confirm(&bytes);
            let _ = decode_msts(&bytes);
        }

        #[test]
        fn never_panics_with_a_valid_tpkt_head(body in proptest::collection::vec(any::<u8>(), 0..80), code in any::<u8>()) {
            let len = 11 + body.len();
            let mut v = vec![3, 0, (len >> 8) as u8, len as u8, (len - 5) as u8, code, 0, 0, 0, 0, 0];
            v.extend_from_slice(&body);
            let _ = parse_connection_request(&v);
            let _ = parse_connection_confirm(&v);
        }
    }
}
