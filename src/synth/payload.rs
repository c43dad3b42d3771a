//! Payload bytes for the non-RDP protocols a Remote Desktop Services deployment speaks: DNS,
//! NetBIOS name service, Kerberos, LDAP, DCE/RPC and the endpoint mapper, SMB2, RADIUS, HTTP
//! (WinRM, CRL download), NTP and syslog. Owns byte layouts and a minimal DER encoder; must not
//! decide who sends what or when, and must not compute real cryptography (ciphertexts,
//! authenticators and signatures are random bytes of the right length).

use std::net::{IpAddr, Ipv4Addr};

use super::rng::Rng;

// ---------------------------------------------------------------------------------------------
// DER (ITU-T X.690 8.1, definite lengths only): enough for Kerberos, LDAP, SPNEGO and a CRL.
// ---------------------------------------------------------------------------------------------

/// X.690 8.1: one TLV with a definite length (short form below 128, long form above).
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// X.690 8.3: INTEGER, minimal two's complement.
pub fn der_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    der(0x02, &bytes[start..])
}

/// X.690 8.9: SEQUENCE of already encoded parts.
pub fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// A context-specific constructed tag `[n]` (0xA0 | n) around an encoded value.
fn ctx(n: u8, value: Vec<u8>) -> Vec<u8> {
    der(0xA0 | n, &value)
}

/// X.690 8.7: OCTET STRING.
fn octets(b: &[u8]) -> Vec<u8> {
    der(0x04, b)
}

/// RFC 4120 5.2.1: KerberosString = GeneralString (tag 0x1B).
fn kstr(s: &str) -> Vec<u8> {
    der(0x1B, s.as_bytes())
}

/// OID 1.2.840.113554.1.2.2 (Kerberos V5 GSS-API mechanism, RFC 4121).
const OID_KRB5: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x12, 0x01, 0x02, 0x02,
];
/// OID 1.2.840.48018.1.2.2 (Microsoft's Kerberos OID, listed first by Windows).
const OID_MS_KRB5: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x82, 0xF7, 0x12, 0x01, 0x02, 0x02,
];
/// OID 1.3.6.1.5.5.2 (SPNEGO, RFC 4178).
const OID_SPNEGO: &[u8] = &[0x06, 0x06, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x02];
/// OID 1.3.6.1.4.1.311.2.2.10 (NTLMSSP).
const OID_NTLMSSP: &[u8] = &[
    0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A,
];

// ---------------------------------------------------------------------------------------------
// DNS (RFC 1035 4.1) and NetBIOS name service (RFC 1002 4.2).
// ---------------------------------------------------------------------------------------------

/// RFC 1035 3.2.2: QTYPE A.
pub const DNS_TYPE_A: u16 = 1;
/// RFC 3596 2.1: QTYPE AAAA.
pub const DNS_TYPE_AAAA: u16 = 28;

/// RFC 1035 3.1: a domain name as length-prefixed labels ending in the root label.
fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// RFC 1035 4.1.1: header (id, flags, QD/AN/NS/AR counts).
fn dns_header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(12);
    for v in [id, flags, qd, an, 0, 0] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    h
}

/// RFC 1035 4.1: a standard query (RD set, as the Windows resolver sends it) for `name`/`qtype`.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = dns_header(id, 0x0100, 1, 0);
    m.extend_from_slice(&dns_name(name));
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes()); // class IN
    m
}

/// RFC 1035 4.1: an authoritative answer (QR, AA, RD, RA: flags 0x8580, as an AD-integrated DNS
/// server sends for its own zone) repeating the question and one record per address; each answer
/// names the question by a compression pointer to offset 12 (RFC 1035 4.1.4).
pub fn dns_response(id: u16, name: &str, qtype: u16, answers: &[IpAddr], ttl: u32) -> Vec<u8> {
    let mut m = dns_header(id, 0x8580, 1, answers.len() as u16);
    m.extend_from_slice(&dns_name(name));
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for ip in answers {
        m.extend_from_slice(&[0xC0, 0x0C]);
        let (t, rdata) = match ip {
            IpAddr::V4(v4) => (DNS_TYPE_A, v4.octets().to_vec()),
            IpAddr::V6(v6) => (DNS_TYPE_AAAA, v6.octets().to_vec()),
        };
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&rdata);
    }
    m
}

/// RFC 1001 14.1: first-level encoding of a NetBIOS name (15 characters space padded, upper
/// case, plus the suffix byte), each half-byte as 'A' + nibble, as one 32-byte label.
fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    for (slot, b) in raw.iter_mut().zip(name.bytes().take(15)) {
        *slot = b.to_ascii_uppercase();
    }
    raw[15] = suffix;
    let mut out = Vec::with_capacity(34);
    out.push(32);
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0F));
    }
    out.push(0);
    out
}

/// RFC 1002 4.2.12: NAME QUERY REQUEST, unicast (B flag clear, RD set) for `name<suffix>`.
pub fn nbns_query(id: u16, name: &str, suffix: u8) -> Vec<u8> {
    let mut m = dns_header(id, 0x0100, 1, 0);
    m.extend_from_slice(&netbios_name(name, suffix));
    m.extend_from_slice(&0x0020u16.to_be_bytes()); // NB
    m.extend_from_slice(&1u16.to_be_bytes()); // IN
    m
}

/// RFC 1002 4.2.13: POSITIVE NAME QUERY RESPONSE (flags 0x8500) with one NB record: TTL 300000 s,
/// NB_FLAGS H-node unique (0x6000), the address.
pub fn nbns_response(id: u16, name: &str, suffix: u8, addr: Ipv4Addr) -> Vec<u8> {
    let mut m = dns_header(id, 0x8500, 0, 1);
    m.extend_from_slice(&netbios_name(name, suffix));
    m.extend_from_slice(&0x0020u16.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&300_000u32.to_be_bytes());
    m.extend_from_slice(&6u16.to_be_bytes());
    m.extend_from_slice(&0x6000u16.to_be_bytes());
    m.extend_from_slice(&addr.octets());
    m
}

// ---------------------------------------------------------------------------------------------
// Kerberos V5 (RFC 4120 5.4, 5.5; TCP framing 7.2.2).
// ---------------------------------------------------------------------------------------------

/// RFC 4120 6.2: NT-PRINCIPAL.
const NT_PRINCIPAL: i64 = 1;
/// RFC 4120 6.2: NT-SRV-INST.
const NT_SRV_INST: i64 = 2;
/// RFC 3962: aes256-cts-hmac-sha1-96.
const ETYPE_AES256: i64 = 18;
/// Far-future `till` Windows clients ask for (RFC 4120 5.4.1 KerberosTime, GeneralizedTime).
const KRB_TILL: &str = "20370913024805Z";

/// RFC 4120 7.2.2: a Kerberos message over TCP, prefixed by its 4-byte big-endian length.
pub fn kerberos_tcp(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + msg.len());
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// RFC 4120 5.2.2: PrincipalName.
fn principal(name_type: i64, parts: &[&str]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = parts.iter().map(|p| kstr(p)).collect();
    der_seq(&[ctx(0, der_int(name_type)), ctx(1, der_seq(&names))])
}

/// RFC 4120 5.2.9: EncryptedData (cipher is random bytes of a plausible length).
fn encrypted_data(kvno: Option<i64>, cipher: &[u8]) -> Vec<u8> {
    let mut parts = vec![ctx(0, der_int(ETYPE_AES256))];
    if let Some(k) = kvno {
        parts.push(ctx(1, der_int(k)));
    }
    parts.push(ctx(2, octets(cipher)));
    der_seq(&parts)
}

/// RFC 4120 5.3: Ticket (`[APPLICATION 1]`).
fn ticket(rng: &mut Rng, realm: &str, sname: &[&str], cipher_len: usize) -> Vec<u8> {
    der(
        0x61,
        &der_seq(&[
            ctx(0, der_int(5)),
            ctx(1, kstr(realm)),
            ctx(2, principal(NT_SRV_INST, sname)),
            ctx(3, encrypted_data(Some(4), &rng.bytes(cipher_len))),
        ]),
    )
}

/// RFC 4120 5.2.7: PA-DATA.
fn pa_data(pa_type: i64, value: &[u8]) -> Vec<u8> {
    der_seq(&[ctx(1, der_int(pa_type)), ctx(2, octets(value))])
}

/// RFC 4120 5.4.1: KDC-REQ-BODY with Windows' options (forwardable, renewable, canonicalize,
/// renewable-ok) and etypes (18, 17, 23, 24, -135).
fn kdc_req_body(cname: Option<&str>, realm: &str, sname: &[&str], nonce: u32) -> Vec<u8> {
    let mut parts = vec![ctx(0, der(0x03, &[0x00, 0x40, 0x81, 0x00, 0x10]))];
    if let Some(c) = cname {
        parts.push(ctx(1, principal(NT_PRINCIPAL, &[c])));
    }
    parts.push(ctx(2, kstr(realm)));
    parts.push(ctx(3, principal(NT_SRV_INST, sname)));
    parts.push(ctx(5, der(0x18, KRB_TILL.as_bytes())));
    parts.push(ctx(6, der(0x18, KRB_TILL.as_bytes())));
    parts.push(ctx(7, der_int(i64::from(nonce & 0x7FFF_FFFF))));
    let etypes: Vec<Vec<u8>> = [18, 17, 23, 24, -135].iter().map(|&e| der_int(e)).collect();
    parts.push(ctx(8, der_seq(&etypes)));
    der_seq(&parts)
}

/// RFC 4120 5.4.1: AS-REQ (`[APPLICATION 10]`) for `client@realm` with PA-ENC-TIMESTAMP
/// pre-authentication and Microsoft's PA-PAC-REQUEST (MS-KILE 2.2.3).
pub fn krb_as_req(rng: &mut Rng, realm: &str, client: &str) -> Vec<u8> {
    let enc_ts = encrypted_data(None, &rng.bytes(56));
    let pac_req = der_seq(&[ctx(0, der(0x01, &[0xFF]))]);
    let nonce = rng.next_u32();
    der(
        0x6A,
        &der_seq(&[
            ctx(1, der_int(5)),
            ctx(2, der_int(10)),
            ctx(3, der_seq(&[pa_data(2, &enc_ts), pa_data(128, &pac_req)])),
            ctx(
                4,
                kdc_req_body(Some(client), realm, &["krbtgt", realm], nonce),
            ),
        ]),
    )
}

/// RFC 4120 5.4.2: AS-REP (`[APPLICATION 11]`) returning a TGT for `client`.
pub fn krb_as_rep(rng: &mut Rng, realm: &str, client: &str) -> Vec<u8> {
    let salt = format!(
        "{}host{}",
        realm,
        client.trim_end_matches('$').to_lowercase()
    );
    let etype_info2 = der_seq(&[der_seq(&[
        ctx(0, der_int(ETYPE_AES256)),
        ctx(1, kstr(&salt)),
    ])]);
    der(
        0x6B,
        &der_seq(&[
            ctx(0, der_int(5)),
            ctx(1, der_int(11)),
            ctx(2, der_seq(&[pa_data(19, &etype_info2)])),
            ctx(3, kstr(realm)),
            ctx(4, principal(NT_PRINCIPAL, &[client])),
            ctx(5, ticket(rng, realm, &["krbtgt", realm], 1040)),
            ctx(6, encrypted_data(Some(3), &rng.bytes(312))),
        ]),
    )
}

/// RFC 4120 5.5.1: AP-REQ (`[APPLICATION 14]`) presenting a ticket for `sname`, mutual
/// authentication requested.
pub fn krb_ap_req(rng: &mut Rng, realm: &str, sname: &[&str]) -> Vec<u8> {
    der(
        0x6E,
        &der_seq(&[
            ctx(0, der_int(5)),
            ctx(1, der_int(14)),
            ctx(2, der(0x03, &[0x00, 0x20, 0x00, 0x00, 0x00])),
            ctx(3, ticket(rng, realm, sname, 1080)),
            ctx(4, encrypted_data(None, &rng.bytes(188))),
        ]),
    )
}

/// RFC 4120 5.4.1: TGS-REQ (`[APPLICATION 12]`) for service `sname`, with the TGT in a PA-TGS-REQ
/// AP-REQ.
pub fn krb_tgs_req(rng: &mut Rng, realm: &str, sname: &[&str]) -> Vec<u8> {
    let ap_req = krb_ap_req(rng, realm, &["krbtgt", realm]);
    let nonce = rng.next_u32();
    der(
        0x6C,
        &der_seq(&[
            ctx(1, der_int(5)),
            ctx(2, der_int(12)),
            ctx(3, der_seq(&[pa_data(1, &ap_req)])),
            ctx(4, kdc_req_body(None, realm, sname, nonce)),
        ]),
    )
}

/// RFC 4120 5.4.2: TGS-REP (`[APPLICATION 13]`) carrying a service ticket for `sname`.
pub fn krb_tgs_rep(rng: &mut Rng, realm: &str, client: &str, sname: &[&str]) -> Vec<u8> {
    der(
        0x6D,
        &der_seq(&[
            ctx(0, der_int(5)),
            ctx(1, der_int(13)),
            ctx(3, kstr(realm)),
            ctx(4, principal(NT_PRINCIPAL, &[client])),
            ctx(5, ticket(rng, realm, sname, 1080)),
            ctx(6, encrypted_data(None, &rng.bytes(296))),
        ]),
    )
}

/// RFC 4121 4.1 / RFC 2743 3.1: the Kerberos AP-REQ as an initial GSS-API context token
/// (0x60, mechanism OID, TOK_ID 01 00, AP-REQ).
pub fn gss_krb5_ap_req(rng: &mut Rng, realm: &str, sname: &[&str]) -> Vec<u8> {
    let mut inner = OID_KRB5.to_vec();
    inner.extend_from_slice(&[0x01, 0x00]);
    inner.extend_from_slice(&krb_ap_req(rng, realm, sname));
    der(0x60, &inner)
}

/// RFC 4178 4.2.1: SPNEGO NegTokenInit offering MS-KRB5 and KRB5 with an optimistic Kerberos
/// AP-REQ as mechToken (what Windows puts in an LDAP SASL bind or an SMB2 SESSION_SETUP).
pub fn spnego_init_krb5(rng: &mut Rng, realm: &str, sname: &[&str]) -> Vec<u8> {
    let mech_types = der(0x30, &[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP].concat());
    let token = gss_krb5_ap_req(rng, realm, sname);
    let neg = der_seq(&[ctx(0, mech_types), ctx(2, octets(&token))]);
    let mut inner = OID_SPNEGO.to_vec();
    inner.extend_from_slice(&ctx(0, neg));
    der(0x60, &inner)
}

/// RFC 4178 4.2.2: NegTokenResp accept-completed for MS-KRB5 with a Kerberos AP-REP
/// ([APPLICATION 15], RFC 4120 5.5.2) as responseToken.
pub fn spnego_accept_krb5(rng: &mut Rng) -> Vec<u8> {
    let ap_rep = der(
        0x6F,
        &der_seq(&[
            ctx(0, der_int(5)),
            ctx(1, der_int(15)),
            ctx(2, encrypted_data(None, &rng.bytes(108))),
        ]),
    );
    let mut tok = OID_KRB5.to_vec();
    tok.extend_from_slice(&[0x02, 0x00]);
    tok.extend_from_slice(&ap_rep);
    let token = der(0x60, &tok);
    ctx(
        1,
        der_seq(&[
            ctx(0, der(0x0A, &[0x00])),
            ctx(1, OID_MS_KRB5.to_vec()),
            ctx(2, octets(&token)),
        ]),
    )
}

// ---------------------------------------------------------------------------------------------
// LDAP (RFC 4511 4.1.1, 4.2, 4.5).
// ---------------------------------------------------------------------------------------------

/// RFC 4511 4.1.1: LDAPMessage envelope.
fn ldap_message(id: i64, op: Vec<u8>) -> Vec<u8> {
    der_seq(&[der_int(id), op])
}

/// RFC 4511 4.5.1.7: filter `(attr=*)` (present, `[7]`).
pub fn ldap_filter_present(attr: &str) -> Vec<u8> {
    der(0x87, attr.as_bytes())
}

/// RFC 4511 4.5.1.7: filter `(attr=value)` (equalityMatch, `[3]`).
pub fn ldap_filter_equal(attr: &str, value: &str) -> Vec<u8> {
    der(
        0xA3,
        &[octets(attr.as_bytes()), octets(value.as_bytes())].concat(),
    )
}

/// RFC 4511 4.5.1.7: filter `(&…)` (and, `[0]`).
pub fn ldap_filter_and(filters: &[Vec<u8>]) -> Vec<u8> {
    der(0xA0, &filters.concat())
}

/// RFC 4511 4.5.1: searchRequest (`[APPLICATION 3]`); scope 0 base, 2 subtree.
pub fn ldap_search_request(
    id: i64,
    base: &str,
    scope: u8,
    filter: Vec<u8>,
    attrs: &[&str],
) -> Vec<u8> {
    let attrs: Vec<Vec<u8>> = attrs.iter().map(|a| octets(a.as_bytes())).collect();
    let body = [
        octets(base.as_bytes()),
        der(0x0A, &[scope]),
        der(0x0A, &[0x00]), // neverDerefAliases
        der_int(0),
        der_int(120),
        der(0x01, &[0x00]),
        filter,
        der_seq(&attrs),
    ]
    .concat();
    ldap_message(id, der(0x63, &body))
}

/// RFC 4511 4.5.2: searchResEntry (`[APPLICATION 4]`).
pub fn ldap_search_entry(id: i64, dn: &str, attrs: &[(&str, &[&str])]) -> Vec<u8> {
    let list: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(name, vals)| {
            let vals: Vec<u8> = vals.iter().flat_map(|v| octets(v.as_bytes())).collect();
            der_seq(&[octets(name.as_bytes()), der(0x31, &vals)])
        })
        .collect();
    ldap_message(
        id,
        der(0x64, &[octets(dn.as_bytes()), der_seq(&list)].concat()),
    )
}

/// RFC 4511 4.5.2: searchResDone (`[APPLICATION 5]`) with resultCode success.
pub fn ldap_search_done(id: i64) -> Vec<u8> {
    ldap_message(id, der(0x65, &ldap_result_success()))
}

/// RFC 4511 4.1.9: LDAPResult success with empty matchedDN and diagnosticMessage.
fn ldap_result_success() -> Vec<u8> {
    [der(0x0A, &[0x00]), octets(b""), octets(b"")].concat()
}

/// RFC 4511 4.2 / RFC 4513 5.2: bindRequest (`[APPLICATION 0]`) version 3, SASL (`[3]`) with the
/// given mechanism and credentials (Windows: GSS-SPNEGO and a SPNEGO token).
pub fn ldap_bind_request_sasl(id: i64, mechanism: &str, credentials: &[u8]) -> Vec<u8> {
    let sasl = der(
        0xA3,
        &[octets(mechanism.as_bytes()), octets(credentials)].concat(),
    );
    ldap_message(id, der(0x60, &[der_int(3), octets(b""), sasl].concat()))
}

/// RFC 4511 4.2.2: bindResponse (`[APPLICATION 1]`) success.
pub fn ldap_bind_response(id: i64) -> Vec<u8> {
    ldap_message(id, der(0x61, &ldap_result_success()))
}

// ---------------------------------------------------------------------------------------------
// DCE/RPC connection-oriented PDUs (C706 12.6) and the endpoint mapper (C706 App. L, MS-RPCE).
// ---------------------------------------------------------------------------------------------

/// An RPC interface: UUID text and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcInterface {
    /// The UUID as text, e.g. `e1af8308-5d1f-11c9-91a4-08002b14a0fa`.
    pub uuid: &'static str,
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl RpcInterface {
    /// C706 App. O / MS-RPCE 2.2.1.2.1: the endpoint mapper (ept), version 3.0, on TCP 135.
    pub const EPM: Self = Self {
        uuid: "e1af8308-5d1f-11c9-91a4-08002b14a0fa",
        major: 3,
        minor: 0,
    };
    /// C706 14: the NDR transfer syntax, version 2.0.
    pub const NDR: Self = Self {
        uuid: "8a885d04-1ceb-11c9-9fe8-08002b104860",
        major: 2,
        minor: 0,
    };
    /// MS-TSLS: Terminal Server Licensing (HydraLsPipe, lserver.exe), version 1.0.
    pub const TERMSERV_LICENSING: Self = Self {
        uuid: "3d267954-eeb7-11d1-b94e-00c04fa3080d",
        major: 1,
        minor: 0,
    };
    /// MS-TSTS: TermSrvSession, version 1.0 (what a broker asks a session host about sessions).
    pub const TERMSRV_SESSION: Self = Self {
        uuid: "484809d6-4239-471b-b5bc-61df8c23ac48",
        major: 1,
        minor: 0,
    };
    /// MS-LSAD: lsarpc, version 0.0 (name and SID lookups against a domain controller).
    pub const LSARPC: Self = Self {
        uuid: "12345778-1234-abcd-ef00-0123456789ab",
        major: 0,
        minor: 0,
    };

    /// The UUID in NDR little-endian wire order (C706 App. A: time_low, time_mid and
    /// time_hi_and_version in the data representation's byte order, the rest as is).
    pub fn uuid_bytes(&self) -> [u8; 16] {
        let hex: Vec<u8> = self
            .uuid
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c - b'A' + 10,
            })
            .collect();
        let mut be = [0u8; 16];
        for (i, slot) in be.iter_mut().enumerate() {
            let hi = hex.get(2 * i).copied().unwrap_or(0);
            let lo = hex.get(2 * i + 1).copied().unwrap_or(0);
            *slot = (hi << 4) | lo;
        }
        let mut le = be;
        le[0..4].reverse();
        le[4..6].reverse();
        le[6..8].reverse();
        le
    }
}

/// C706 12.6.3.1: PTYPE request.
const PTYPE_REQUEST: u8 = 0;
/// C706 12.6.3.1: PTYPE response.
const PTYPE_RESPONSE: u8 = 2;
/// C706 12.6.3.1: PTYPE bind.
const PTYPE_BIND: u8 = 11;
/// C706 12.6.3.1: PTYPE bind_ack.
const PTYPE_BIND_ACK: u8 = 12;
/// C706 12.6.3.1: PFC_FIRST_FRAG | PFC_LAST_FRAG.
const PFC_FIRST_LAST: u8 = 0x03;
/// Max fragment sizes Windows offers in a bind (5840 = 4 × 1460).
const RPC_MAX_FRAG: u16 = 5840;

/// C706 12.6.3.1: the 16-byte common header, little-endian data representation (drep 10 00 00 00).
fn rpc_pdu(ptype: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let frag_len = (16 + body.len()) as u16;
    let mut out = Vec::with_capacity(usize::from(frag_len));
    out.extend_from_slice(&[5, 0, ptype, PFC_FIRST_LAST, 0x10, 0x00, 0x00, 0x00]);
    out.extend_from_slice(&frag_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // auth_length
    out.extend_from_slice(&call_id.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Interface id as p_syntax_id_t (C706 12.6.3.1): UUID + version u16 major, u16 minor.
fn syntax_id(iface: &RpcInterface) -> Vec<u8> {
    let mut v = iface.uuid_bytes().to_vec();
    v.extend_from_slice(&iface.major.to_le_bytes());
    v.extend_from_slice(&iface.minor.to_le_bytes());
    v
}

/// C706 12.6.4.3: bind with one presentation context (id 0) for `iface` over NDR.
pub fn rpc_bind(call_id: u32, iface: &RpcInterface) -> Vec<u8> {
    let mut body = Vec::with_capacity(56);
    body.extend_from_slice(&RPC_MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&RPC_MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes()); // assoc_group_id: new
    body.extend_from_slice(&[1, 0, 0, 0]); // n_context_elem + pad
    body.extend_from_slice(&0u16.to_le_bytes()); // p_cont_id
    body.extend_from_slice(&[1, 0]); // n_transfer_syn + pad
    body.extend_from_slice(&syntax_id(iface));
    body.extend_from_slice(&syntax_id(&RpcInterface::NDR));
    rpc_pdu(PTYPE_BIND, call_id, &body)
}

/// C706 12.6.4.4: bind_ack accepting context 0 with NDR; `sec_addr` is the port string the server
/// listens on ("135", "49667"; C706 12.6.3.1 port_any_t, NUL included in the length).
pub fn rpc_bind_ack(call_id: u32, assoc_group: u32, sec_addr: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(60);
    body.extend_from_slice(&RPC_MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&RPC_MAX_FRAG.to_le_bytes());
    body.extend_from_slice(&assoc_group.to_le_bytes());
    body.extend_from_slice(&((sec_addr.len() + 1) as u16).to_le_bytes());
    body.extend_from_slice(sec_addr.as_bytes());
    body.push(0);
    while (16 + body.len()) % 4 != 0 {
        body.push(0); // align the result list to 4 bytes
    }
    body.extend_from_slice(&[1, 0, 0, 0]); // n_results + pads
    body.extend_from_slice(&0u16.to_le_bytes()); // acceptance
    body.extend_from_slice(&0u16.to_le_bytes()); // reason
    body.extend_from_slice(&syntax_id(&RpcInterface::NDR));
    rpc_pdu(PTYPE_BIND_ACK, call_id, &body)
}

/// C706 12.6.4.9: request on context 0 (alloc_hint, p_cont_id, opnum, stub).
pub fn rpc_request(call_id: u32, opnum: u16, stub: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(8 + stub.len());
    body.extend_from_slice(&(stub.len() as u32).to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&opnum.to_le_bytes());
    body.extend_from_slice(stub);
    rpc_pdu(PTYPE_REQUEST, call_id, &body)
}

/// C706 12.6.4.10: response on context 0 (alloc_hint, p_cont_id, cancel_count, reserved, stub).
pub fn rpc_response(call_id: u32, stub: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(8 + stub.len());
    body.extend_from_slice(&(stub.len() as u32).to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(stub);
    rpc_pdu(PTYPE_RESPONSE, call_id, &body)
}

/// C706 App. L: an ncacn_ip_tcp protocol tower, 5 floors: interface UUID + major (rhs minor),
/// NDR, RPC connection-oriented (0x0B), TCP port (0x07, big-endian), IPv4 host (0x09).
pub fn epm_tower(iface: &RpcInterface, port: u16, host: Ipv4Addr) -> Vec<u8> {
    let mut t = Vec::with_capacity(75);
    t.extend_from_slice(&5u16.to_le_bytes());
    for id in [iface, &RpcInterface::NDR] {
        t.extend_from_slice(&19u16.to_le_bytes());
        t.push(0x0D);
        t.extend_from_slice(&id.uuid_bytes());
        t.extend_from_slice(&id.major.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&id.minor.to_le_bytes());
    }
    t.extend_from_slice(&[0x01, 0x00, 0x0B, 0x02, 0x00, 0x00, 0x00]);
    t.extend_from_slice(&[0x01, 0x00, 0x07, 0x02, 0x00]);
    t.extend_from_slice(&port.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x00, 0x09, 0x04, 0x00]);
    t.extend_from_slice(&host.octets());
    t
}

/// NDR twr_t (C706 App. L, MS-RPCE 2.2.1.2.1): conformance count, tower_length, octets, padded
/// to 4 bytes.
fn ndr_tower(tower: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(tower.len() + 12);
    v.extend_from_slice(&(tower.len() as u32).to_le_bytes());
    v.extend_from_slice(&(tower.len() as u32).to_le_bytes());
    v.extend_from_slice(tower);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// C706 App. O ept_map (opnum 3) request stub: object (nil UUID by pointer), map_tower asking for
/// `iface` over ncacn_ip_tcp with port 0 and host 0.0.0.0, a null entry_handle, max_towers 4.
pub fn epm_map_request(call_id: u32, iface: &RpcInterface) -> Vec<u8> {
    let mut stub = Vec::with_capacity(128);
    stub.extend_from_slice(&1u32.to_le_bytes()); // referent id of obj
    stub.extend_from_slice(&[0u8; 16]);
    stub.extend_from_slice(&2u32.to_le_bytes()); // referent id of map_tower
    stub.extend_from_slice(&ndr_tower(&epm_tower(iface, 0, Ipv4Addr::UNSPECIFIED)));
    stub.extend_from_slice(&[0u8; 20]); // entry_handle
    stub.extend_from_slice(&4u32.to_le_bytes()); // max_towers
    rpc_request(call_id, 3, &stub)
}

/// C706 App. O ept_map response stub: entry_handle, num_towers 1, the towers array
/// (max_count 4, offset 0, actual_count 1, one pointer) with one tower naming `port` on `host`,
/// status 0.
pub fn epm_map_response(call_id: u32, iface: &RpcInterface, port: u16, host: Ipv4Addr) -> Vec<u8> {
    let mut stub = Vec::with_capacity(140);
    stub.extend_from_slice(&[0u8; 20]);
    stub.extend_from_slice(&1u32.to_le_bytes()); // num_towers
    stub.extend_from_slice(&4u32.to_le_bytes()); // max_count
    stub.extend_from_slice(&0u32.to_le_bytes()); // offset
    stub.extend_from_slice(&1u32.to_le_bytes()); // actual_count
    stub.extend_from_slice(&3u32.to_le_bytes()); // referent id
    stub.extend_from_slice(&ndr_tower(&epm_tower(iface, port, host)));
    stub.extend_from_slice(&0u32.to_le_bytes()); // status
    rpc_response(call_id, &stub)
}

// ---------------------------------------------------------------------------------------------
// SMB2 (MS-SMB2 2.1 transport, 2.2.1.2 header, 2.2.3/2.2.4 NEGOTIATE, 2.2.5/2.2.6 SESSION_SETUP,
// 2.2.41 TRANSFORM_HEADER).
// ---------------------------------------------------------------------------------------------

/// MS-SMB2 2.1: Direct TCP transport header (zero byte + 24-bit length) around one message.
fn nbss(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + msg.len());
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// MS-SMB2 2.2.1.2: the 64-byte sync header.
fn smb2_header(command: u16, response: bool, message_id: u64, session_id: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\xFESMB");
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&if response { 0u16 } else { 1u16 }.to_le_bytes()); // CreditCharge
    h.extend_from_slice(&0u32.to_le_bytes()); // Status / ChannelSequence
    h.extend_from_slice(&command.to_le_bytes());
    h.extend_from_slice(&if response { 1u16 } else { 31u16 }.to_le_bytes()); // credits
    h.extend_from_slice(&u32::from(response).to_le_bytes()); // SMB2_FLAGS_SERVER_TO_REDIR
    h.extend_from_slice(&0u32.to_le_bytes()); // NextCommand
    h.extend_from_slice(&message_id.to_le_bytes());
    h.extend_from_slice(&0x0000_FEFFu32.to_le_bytes()); // Reserved (ProcessId)
    h.extend_from_slice(&0u32.to_le_bytes()); // TreeId
    h.extend_from_slice(&session_id.to_le_bytes());
    h.extend_from_slice(&[0u8; 16]); // Signature
    h
}

/// MS-SMB2 2.2.3.1: a negotiate context (type, length, reserved, data), 8-byte aligned by the
/// caller.
fn smb2_context(out: &mut Vec<u8>, ctype: u16, data: &[u8]) {
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    out.extend_from_slice(&ctype.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(data);
}

/// MS-SMB2 2.2.3.1.1 preauth integrity (SHA-512) context data with a 32-byte salt.
fn preauth_context(salt: &[u8; 32]) -> Vec<u8> {
    let mut d = vec![0x01, 0x00, 0x20, 0x00, 0x01, 0x00];
    d.extend_from_slice(salt);
    d
}

/// MS-SMB2 2.2.3: NEGOTIATE request offering 2.0.2 … 3.1.1, signing enabled, with
/// PREAUTH_INTEGRITY and ENCRYPTION_CAPABILITIES (AES-128-GCM, AES-128-CCM) contexts.
pub fn smb2_negotiate_request(client_guid: [u8; 16], salt: [u8; 32]) -> Vec<u8> {
    let mut m = smb2_header(0x0000, false, 0, 0);
    let dialects: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
    m.extend_from_slice(&36u16.to_le_bytes());
    m.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // SMB2_NEGOTIATE_SIGNING_ENABLED
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&0x7Fu32.to_le_bytes()); // capabilities
    m.extend_from_slice(&client_guid);
    let ctx_offset_pos = m.len();
    m.extend_from_slice(&0u32.to_le_bytes()); // NegotiateContextOffset, patched below
    m.extend_from_slice(&2u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    for d in dialects {
        m.extend_from_slice(&d.to_le_bytes());
    }
    while !m.len().is_multiple_of(8) {
        m.push(0);
    }
    let offset = m.len() as u32;
    m[ctx_offset_pos..ctx_offset_pos + 4].copy_from_slice(&offset.to_le_bytes());
    smb2_context(&mut m, 0x0001, &preauth_context(&salt));
    smb2_context(&mut m, 0x0002, &[0x02, 0x00, 0x02, 0x00, 0x01, 0x00]);
    nbss(&m)
}

/// MS-SMB2 2.2.4: NEGOTIATE response selecting 3.1.1, with a SPNEGO NegTokenInit listing the
/// server's mechanisms as security buffer and the two negotiate contexts.
pub fn smb2_negotiate_response(server_guid: [u8; 16], salt: [u8; 32], filetime: u64) -> Vec<u8> {
    let mech_types = der(0x30, &[OID_MS_KRB5, OID_KRB5, OID_NTLMSSP].concat());
    let hints = ctx(
        3,
        der_seq(&[ctx(0, kstr("not_defined_in_RFC4178@please_ignore"))]),
    );
    let mut inner = OID_SPNEGO.to_vec();
    inner.extend_from_slice(&ctx(0, der_seq(&[ctx(0, mech_types), hints])));
    let blob = der(0x60, &inner);

    let mut m = smb2_header(0x0000, true, 0, 0);
    m.extend_from_slice(&65u16.to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // signing enabled
    m.extend_from_slice(&0x0311u16.to_le_bytes());
    m.extend_from_slice(&2u16.to_le_bytes()); // NegotiateContextCount
    m.extend_from_slice(&server_guid);
    m.extend_from_slice(&0x2Fu32.to_le_bytes()); // capabilities
    for max in [8_388_608u32; 3] {
        m.extend_from_slice(&max.to_le_bytes()); // MaxTransact/Read/WriteSize
    }
    m.extend_from_slice(&filetime.to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes()); // ServerStartTime
    m.extend_from_slice(&128u16.to_le_bytes()); // SecurityBufferOffset
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    let ctx_offset_pos = m.len();
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&blob);
    while !m.len().is_multiple_of(8) {
        m.push(0);
    }
    let offset = m.len() as u32;
    m[ctx_offset_pos..ctx_offset_pos + 4].copy_from_slice(&offset.to_le_bytes());
    smb2_context(&mut m, 0x0001, &preauth_context(&salt));
    smb2_context(&mut m, 0x0002, &[0x01, 0x00, 0x02, 0x00]);
    nbss(&m)
}

/// MS-SMB2 2.2.5: SESSION_SETUP request carrying a security blob.
pub fn smb2_session_setup_request(message_id: u64, blob: &[u8]) -> Vec<u8> {
    let mut m = smb2_header(0x0001, false, message_id, 0);
    m.extend_from_slice(&25u16.to_le_bytes());
    m.push(0); // Flags
    m.push(1); // SecurityMode: signing enabled
    m.extend_from_slice(&1u32.to_le_bytes()); // Capabilities: DFS
    m.extend_from_slice(&0u32.to_le_bytes()); // Channel
    m.extend_from_slice(&88u16.to_le_bytes()); // SecurityBufferOffset = 64 + 24
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes()); // PreviousSessionId
    m.extend_from_slice(blob);
    nbss(&m)
}

/// MS-SMB2 2.2.6: SESSION_SETUP response (STATUS_SUCCESS) with the server's security blob.
pub fn smb2_session_setup_response(message_id: u64, session_id: u64, blob: &[u8]) -> Vec<u8> {
    let mut m = smb2_header(0x0001, true, message_id, session_id);
    m.extend_from_slice(&9u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes()); // SessionFlags
    m.extend_from_slice(&72u16.to_le_bytes()); // SecurityBufferOffset = 64 + 8
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(blob);
    nbss(&m)
}

/// MS-SMB2 2.2.41: an encrypted message: SMB2 TRANSFORM_HEADER (0xFD 'SMB', signature, nonce,
/// OriginalMessageSize, Flags = Encrypted, SessionId) and `len` bytes of ciphertext.
pub fn smb3_encrypted(rng: &mut Rng, session_id: u64, len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(52 + len);
    m.extend_from_slice(b"\xFDSMB");
    m.extend_from_slice(&rng.array16());
    let mut nonce = [0u8; 16];
    rng.fill(&mut nonce[..12]);
    m.extend_from_slice(&nonce);
    m.extend_from_slice(&(len as u32).to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes());
    m.extend_from_slice(&session_id.to_le_bytes());
    m.extend_from_slice(&rng.bytes(len));
    nbss(&m)
}

// ---------------------------------------------------------------------------------------------
// RADIUS (RFC 2865 3, 5; accounting RFC 2866 4, 5).
// ---------------------------------------------------------------------------------------------

/// RFC 2865 4.1: Access-Request.
pub const RADIUS_ACCESS_REQUEST: u8 = 1;
/// RFC 2865 4.2: Access-Accept.
pub const RADIUS_ACCESS_ACCEPT: u8 = 2;
/// RFC 2866 4.1: Accounting-Request.
pub const RADIUS_ACCOUNTING_REQUEST: u8 = 4;
/// RFC 2866 4.2: Accounting-Response.
pub const RADIUS_ACCOUNTING_RESPONSE: u8 = 5;

/// RFC 2865 3: code, identifier, length, 16-byte authenticator, attributes (type, length, value).
pub fn radius_packet(
    code: u8,
    id: u8,
    authenticator: [u8; 16],
    attrs: &[(u8, Vec<u8>)],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    for (t, v) in attrs {
        body.push(*t);
        body.push((v.len() + 2) as u8);
        body.extend_from_slice(v);
    }
    let mut out = Vec::with_capacity(20 + body.len());
    out.push(code);
    out.push(id);
    out.extend_from_slice(&((20 + body.len()) as u16).to_be_bytes());
    out.extend_from_slice(&authenticator);
    out.extend_from_slice(&body);
    out
}

/// The parties of one RADIUS-authorized session, as an RD Gateway (the NAS) reports them.
#[derive(Clone, Copy, Debug)]
pub struct RadiusSession<'a> {
    /// User-Name (`DOMAIN\user`).
    pub user: &'a str,
    /// NAS-IP-Address: the gateway.
    pub nas: Ipv4Addr,
    /// NAS-Identifier: the gateway's name.
    pub nas_id: &'a str,
    /// Calling-Station-Id: the remote client's address.
    pub calling: IpAddr,
    /// Acct-Session-Id.
    pub session_id: &'a str,
}

/// RFC 2865 4.1: the Access-Request an RD Gateway sends to NPS: User-Name, User-Password
/// (16 obfuscated bytes), NAS-IP-Address, Service-Type Login, NAS-Port-Type Virtual,
/// Calling-Station-Id (the remote client), NAS-Identifier, Message-Authenticator (RFC 3579 3.2).
pub fn radius_access_request(rng: &mut Rng, id: u8, s: &RadiusSession<'_>) -> Vec<u8> {
    let attrs = vec![
        (1, s.user.as_bytes().to_vec()),
        (2, rng.bytes(16)),
        (4, s.nas.octets().to_vec()),
        (6, 1u32.to_be_bytes().to_vec()),
        (61, 5u32.to_be_bytes().to_vec()),
        (31, s.calling.to_string().into_bytes()),
        (32, s.nas_id.as_bytes().to_vec()),
        (80, rng.bytes(16)),
    ];
    radius_packet(RADIUS_ACCESS_REQUEST, id, rng.array16(), &attrs)
}

/// RFC 2865 4.2: Access-Accept with a Class attribute (25) and a Message-Authenticator.
pub fn radius_access_accept(rng: &mut Rng, id: u8) -> Vec<u8> {
    let mut class = b"\x00\x00\x01\x37".to_vec();
    class.extend_from_slice(&rng.bytes(28));
    radius_packet(
        RADIUS_ACCESS_ACCEPT,
        id,
        rng.array16(),
        &[(25, class), (80, rng.bytes(16))],
    )
}

/// RFC 2866 4.1 / 5: Accounting-Request: Acct-Status-Type (1 Start, 2 Stop), Acct-Session-Id,
/// User-Name, NAS-IP-Address, Acct-Authentic RADIUS, Calling-Station-Id; a Stop (`stop_secs`
/// given) adds Acct-Session-Time and Acct-Terminate-Cause User-Request.
pub fn radius_accounting_request(
    rng: &mut Rng,
    id: u8,
    s: &RadiusSession<'_>,
    stop_secs: Option<u32>,
) -> Vec<u8> {
    let status: u32 = if stop_secs.is_some() { 2 } else { 1 };
    let mut attrs = vec![
        (40, status.to_be_bytes().to_vec()),
        (44, s.session_id.as_bytes().to_vec()),
        (1, s.user.as_bytes().to_vec()),
        (4, s.nas.octets().to_vec()),
        (45, 1u32.to_be_bytes().to_vec()),
        (31, s.calling.to_string().into_bytes()),
    ];
    if let Some(secs) = stop_secs {
        attrs.push((46, secs.to_be_bytes().to_vec()));
        attrs.push((49, 1u32.to_be_bytes().to_vec()));
    }
    radius_packet(RADIUS_ACCOUNTING_REQUEST, id, rng.array16(), &attrs)
}

/// RFC 2866 4.2: Accounting-Response (no attributes).
pub fn radius_accounting_response(rng: &mut Rng, id: u8) -> Vec<u8> {
    radius_packet(RADIUS_ACCOUNTING_RESPONSE, id, rng.array16(), &[])
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 (RFC 9112): WinRM (MS-WSMV 2.1 over HTTP on 5985) and a CRL download.
// ---------------------------------------------------------------------------------------------

/// MS-WSMV 2.1.1 / WS-Management over HTTP: the first `POST /wsman` a Windows WinRM client sends,
/// empty and carrying a Kerberos token (base64 of a GSS AP-REQ) in `Authorization: Kerberos`.
pub fn winrm_auth_request(rng: &mut Rng, host: &str, realm: &str) -> Vec<u8> {
    let token = base64(&gss_krb5_ap_req(rng, realm, &["HTTP", host]));
    format!(
        "POST /wsman HTTP/1.1\r\nConnection: Keep-Alive\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n\
         Authorization: Kerberos {token}\r\nUser-Agent: Microsoft WinRM Client\r\nContent-Length: 0\r\nHost: {host}:5985\r\n\r\n"
    )
    .into_bytes()
}

/// MS-WSMV 2.2.9.1: a Kerberos-sealed WS-Management message, `POST /wsman` with a
/// `multipart/encrypted` body (the SOAP envelope is opaque: `sealed_len` random bytes).
pub fn winrm_sealed_request(rng: &mut Rng, host: &str, sealed_len: usize) -> Vec<u8> {
    let body = winrm_sealed_body(rng, sealed_len);
    let mut out = format!(
        "POST /wsman HTTP/1.1\r\nConnection: Keep-Alive\r\n\
         Content-Type: multipart/encrypted;protocol=\"application/HTTP-Kerberos-session-encrypted\";boundary=\"Encrypted Boundary\"\r\n\
         User-Agent: Microsoft WinRM Client\r\nContent-Length: {}\r\nHost: {host}:5985\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The HTTP 200 a WinRM server answers: empty with a `WWW-Authenticate: Kerberos` mutual token
/// when `sealed_len` is 0, otherwise a `multipart/encrypted` body.
pub fn winrm_response(rng: &mut Rng, sealed_len: usize) -> Vec<u8> {
    if sealed_len == 0 {
        let token = base64(&spnego_accept_krb5(rng));
        return format!(
            "HTTP/1.1 200 \r\nWWW-Authenticate: Kerberos {token}\r\nServer: Microsoft-HTTPAPI/2.0\r\n\
             Date: Mon, 02 Nov 2026 08:00:00 GMT\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes();
    }
    let body = winrm_sealed_body(rng, sealed_len);
    let mut out = format!(
        "HTTP/1.1 200 \r\n\
         Content-Type: multipart/encrypted;protocol=\"application/HTTP-Kerberos-session-encrypted\";boundary=\"Encrypted Boundary\"\r\n\
         Server: Microsoft-HTTPAPI/2.0\r\nDate: Mon, 02 Nov 2026 08:00:00 GMT\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// MS-WSMV 2.2.9.1.1: the two-part `multipart/encrypted` body around the sealed SOAP message.
fn winrm_sealed_body(rng: &mut Rng, sealed_len: usize) -> Vec<u8> {
    let mut b = format!(
        "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-Kerberos-session-encrypted\r\n\
         \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={}\r\n--Encrypted Boundary\r\n\
         \tContent-Type: application/octet-stream\r\n",
        sealed_len.saturating_sub(60)
    )
    .into_bytes();
    b.extend_from_slice(&60u32.to_le_bytes());
    b.extend_from_slice(&rng.bytes(sealed_len));
    b.extend_from_slice(b"--Encrypted Boundary--\r\n");
    b
}

/// RFC 9112 3: the CRL fetch Windows CryptoAPI makes for a CDP URL over HTTP.
pub fn http_crl_request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nCache-Control: max-age = 86400\r\nConnection: Keep-Alive\r\nAccept: */*\r\n\
         If-Modified-Since: Sun, 01 Nov 2026 07:12:09 GMT\r\nUser-Agent: Microsoft-CryptoAPI/10.0\r\nHost: {host}\r\n\r\n"
    )
    .into_bytes()
}

/// RFC 9112 / RFC 5280 5: `200 OK` with `application/pkix-crl` and a DER CRL body.
pub fn http_crl_response(rng: &mut Rng, issuer_cn: &str) -> Vec<u8> {
    let crl = der_crl(rng, issuer_cn);
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nLast-Modified: Mon, 02 Nov 2026 06:12:09 GMT\r\n\
         Accept-Ranges: bytes\r\nETag: \"80d1a2b34f0ddd1:0\"\r\nServer: Microsoft-IIS/10.0\r\n\
         Date: Mon, 02 Nov 2026 08:00:00 GMT\r\nContent-Length: {}\r\n\r\n",
        crl.len()
    )
    .into_bytes();
    out.extend_from_slice(&crl);
    out
}

/// RFC 5280 5.1: a v2 CertificateList with no revoked certificates, signed sha256WithRSA
/// (signature random).
fn der_crl(rng: &mut Rng, issuer_cn: &str) -> Vec<u8> {
    // sha256WithRSAEncryption 1.2.840.113549.1.1.11, NULL parameters.
    let alg = der_seq(&[
        vec![
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B,
        ],
        vec![0x05, 0x00],
    ]);
    // Name: CN (2.5.4.3) as PrintableString.
    let issuer = der_seq(&[der(
        0x31,
        &der_seq(&[
            vec![0x06, 0x03, 0x55, 0x04, 0x03],
            der(0x13, issuer_cn.as_bytes()),
        ]),
    )]);
    let tbs = der_seq(&[
        der_int(1),
        alg.clone(),
        issuer,
        der(0x17, b"261102061209Z"),
        der(0x17, b"261109183209Z"),
    ]);
    let mut sig = vec![0x00];
    sig.extend_from_slice(&rng.bytes(256));
    der_seq(&[tbs, alg, der(0x03, &sig)])
}

/// RFC 4648 4: standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3F) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// RFC 9112: a small plain-HTTP page request, as a browser sends it.
pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\
         User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n"
    )
    .into_bytes()
}

/// RFC 9112: `200 OK` with a text/html body of `len` bytes.
pub fn http_ok_html(len: usize) -> Vec<u8> {
    let mut body =
        b"<!doctype html><html><head><title>Example Domain</title></head><body><p>".to_vec();
    while body.len() + 18 < len {
        body.extend_from_slice(b"This domain is for use in documentation examples. ");
    }
    body.extend_from_slice(b"</p></body></html>");
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\nCache-Control: max-age=604800\r\n\
         Date: Mon, 02 Nov 2026 08:00:00 GMT\r\nServer: ECAcc (nyd/D16A)\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

// ---------------------------------------------------------------------------------------------
// NTP (RFC 5905 7.3), syslog (RFC 3164 4.1), ICMP echo data.
// ---------------------------------------------------------------------------------------------

/// RFC 5905 6: seconds between 1900-01-01 (NTP era 0) and the Unix epoch.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// RFC 5905 6: an NTP short-format timestamp for Unix nanoseconds.
fn ntp_timestamp(unix_nanos: i64) -> [u8; 8] {
    let nanos = u64::try_from(unix_nanos).unwrap_or(0);
    let secs = (nanos / 1_000_000_000 + NTP_UNIX_OFFSET) as u32;
    let frac = (((nanos % 1_000_000_000) << 32) / 1_000_000_000) as u32;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&secs.to_be_bytes());
    out[4..].copy_from_slice(&frac.to_be_bytes());
    out
}

/// RFC 5905 7.3: a client-mode (3) NTPv3 request as Windows w32time sends it (LI unknown 3,
/// poll 2^17, precision 2^-23), transmit timestamp = `unix_nanos`.
pub fn ntp_request(unix_nanos: i64) -> Vec<u8> {
    let mut p = vec![0xDB, 0x00, 0x11, 0xE9];
    p.extend_from_slice(&[0u8; 36]);
    p.extend_from_slice(&ntp_timestamp(unix_nanos));
    p
}

/// RFC 5905 7.3: the server-mode (4) answer from a stratum-2 domain controller.
pub fn ntp_response(request: &[u8], recv_nanos: i64, xmit_nanos: i64) -> Vec<u8> {
    let mut p = vec![0x1C, 0x02, 0x11, 0xE9];
    p.extend_from_slice(&0x0000_0C00u32.to_be_bytes()); // root delay
    p.extend_from_slice(&0x0000_0F00u32.to_be_bytes()); // root dispersion
    p.extend_from_slice(&[192, 0, 2, 123]); // reference id: upstream server
    p.extend_from_slice(&ntp_timestamp(recv_nanos - 60_000_000_000)); // reference
    p.extend_from_slice(request.get(40..48).unwrap_or(&[0u8; 8])); // origin
    p.extend_from_slice(&ntp_timestamp(recv_nanos));
    p.extend_from_slice(&ntp_timestamp(xmit_nanos));
    p
}

/// RFC 3164 4.1: a BSD syslog message (PRI, timestamp, host, tag, text).
pub fn syslog_message(pri: u8, stamp: &str, host: &str, text: &str) -> Vec<u8> {
    format!("<{pri}>{stamp} {host} {text}").into_bytes()
}

/// The 32 data bytes of a Windows `ping` echo request.
pub const WINDOWS_PING_DATA: &[u8] = b"abcdefghijklmnopqrstuvwabcdefghi";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_int_is_minimal() {
        assert_eq!(der_int(5), [0x02, 0x01, 0x05]);
        assert_eq!(der_int(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_int(-135), [0x02, 0x02, 0xFF, 0x79]);
        assert_eq!(der_int(0), [0x02, 0x01, 0x00]);
    }

    #[test]
    fn der_long_lengths() {
        assert_eq!(&der(0x04, &[0; 200])[..3], &[0x04, 0x81, 200]);
        assert_eq!(&der(0x04, &[0; 300])[..4], &[0x04, 0x82, 0x01, 0x2C]);
    }

    #[test]
    fn epm_uuid_wire_order() {
        // e1af8308-5d1f-11c9-91a4-08002b14a0fa as it appears in a bind (C706 App. A, LE drep).
        assert_eq!(
            RpcInterface::EPM.uuid_bytes(),
            [
                0x08, 0x83, 0xAF, 0xE1, 0x1F, 0x5D, 0xC9, 0x11, 0x91, 0xA4, 0x08, 0x00, 0x2B, 0x14,
                0xA0, 0xFA
            ]
        );
    }

    #[test]
    fn epm_tower_is_75_bytes_with_big_endian_port() {
        let t = epm_tower(
            &RpcInterface::TERMSERV_LICENSING,
            49_672,
            Ipv4Addr::new(10, 1, 2, 30),
        );
        assert_eq!(t.len(), 75);
        assert_eq!(&t[64..66], &49_672u16.to_be_bytes());
        assert_eq!(&t[71..75], &[10, 1, 2, 30]);
    }

    #[test]
    fn rpc_frag_length_matches() {
        for pdu in [
            rpc_bind(1, &RpcInterface::EPM),
            rpc_bind_ack(1, 0x1234, "135"),
            epm_map_request(2, &RpcInterface::LSARPC),
            epm_map_response(2, &RpcInterface::LSARPC, 49_667, Ipv4Addr::UNSPECIFIED),
        ] {
            assert_eq!(usize::from(u16::from_le_bytes([pdu[8], pdu[9]])), pdu.len());
            assert_eq!(&pdu[..2], &[5, 0]);
        }
    }

    #[test]
    fn netbios_name_encoding() {
        // RFC 1001 14.1 example: "FRED" + spaces + 0x20 suffix begins "EGFCEFEE".
        let n = netbios_name("FRED", 0x20);
        assert_eq!(n[0], 32);
        assert_eq!(&n[1..9], b"EGFCEFEE");
        assert_eq!(&n[31..33], b"CA");
    }

    #[test]
    fn base64_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn smb2_negotiate_offsets_are_consistent() {
        let m = smb2_negotiate_request([1; 16], [2; 32]);
        assert_eq!(m[0], 0);
        let len = u32::from_be_bytes([0, m[1], m[2], m[3]]) as usize;
        assert_eq!(len + 4, m.len());
        assert_eq!(&m[4..8], b"\xFESMB");
        let smb = &m[4..];
        let ctx_off = u32::from_le_bytes([smb[64 + 28], smb[64 + 29], smb[64 + 30], smb[64 + 31]]);
        assert_eq!(ctx_off, 112);
        assert_eq!(&smb[112..114], &[0x01, 0x00]);
    }
}
