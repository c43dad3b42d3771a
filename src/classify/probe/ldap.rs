//! LDAP messages (RFC 4511 section 4): the LDAPMessage envelope (messageID, protocolOp) and the
//! fields rdsflows reports per operation: bind request (version, name, simple or SASL
//! mechanism), bind/search-done/extended response (resultCode), search request (base object),
//! search result entry (object name) and extended request (OID: StartTLS is
//! 1.3.6.1.4.1.1466.20037, RFC 4511 4.14.1). Works for CLDAP over UDP too (the same envelope,
//! MS-ADTS 6.3.3).
//!
//! Owns the LDAP ASN.1 paths, read with [`super::ber`]. Messages after a SASL bind with
//! integrity are wrapped (a 4-byte length and a GSS-API token) and are not LDAPMessages: they
//! give `None`. Must not allocate, decode filters, or keep state.

use super::ber::{read_tlv_lax, Class, Tlv};

/// The StartTLS extended operation OID (RFC 4511 4.14.1).
pub const START_TLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// protocolOp: the APPLICATION tag number (RFC 4511 4.2 to 4.14).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProtocolOp(pub u8);

impl ProtocolOp {
    /// bindRequest
    pub const BIND_REQUEST: Self = Self(0);
    /// bindResponse
    pub const BIND_RESPONSE: Self = Self(1);
    /// unbindRequest
    pub const UNBIND_REQUEST: Self = Self(2);
    /// searchRequest
    pub const SEARCH_REQUEST: Self = Self(3);
    /// searchResEntry
    pub const SEARCH_RES_ENTRY: Self = Self(4);
    /// searchResDone
    pub const SEARCH_RES_DONE: Self = Self(5);
    /// extendedReq
    pub const EXTENDED_REQUEST: Self = Self(23);
    /// extendedResp
    pub const EXTENDED_RESPONSE: Self = Self(24);

    /// The RFC 4511 name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "bindRequest",
            1 => "bindResponse",
            2 => "unbindRequest",
            3 => "searchRequest",
            4 => "searchResEntry",
            5 => "searchResDone",
            6 => "modifyRequest",
            7 => "modifyResponse",
            8 => "addRequest",
            9 => "addResponse",
            10 => "delRequest",
            11 => "delResponse",
            12 => "modDNRequest",
            13 => "modDNResponse",
            14 => "compareRequest",
            15 => "compareResponse",
            16 => "abandonRequest",
            19 => "searchResRef",
            23 => "extendedReq",
            24 => "extendedResp",
            25 => "intermediateResponse",
            _ => "unknown",
        }
    }

    /// True for operations whose body is an LDAPResult (RFC 4511 4.1.9).
    fn has_result(self) -> bool {
        matches!(self.0, 1 | 5 | 7 | 9 | 11 | 13 | 15 | 24)
    }
}

/// LDAPResult resultCode (RFC 4511 4.1.9 and appendix A).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResultCode(pub u32);

impl ResultCode {
    /// success
    pub const SUCCESS: Self = Self(0);
    /// invalidCredentials
    pub const INVALID_CREDENTIALS: Self = Self(49);

    /// The RFC 4511 name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "success",
            1 => "operationsError",
            2 => "protocolError",
            3 => "timeLimitExceeded",
            4 => "sizeLimitExceeded",
            7 => "authMethodNotSupported",
            8 => "strongerAuthRequired",
            10 => "referral",
            11 => "adminLimitExceeded",
            13 => "confidentialityRequired",
            14 => "saslBindInProgress",
            16 => "noSuchAttribute",
            32 => "noSuchObject",
            34 => "invalidDNSyntax",
            48 => "inappropriateAuthentication",
            49 => "invalidCredentials",
            50 => "insufficientAccessRights",
            51 => "busy",
            52 => "unavailable",
            53 => "unwillingToPerform",
            68 => "entryAlreadyExists",
            80 => "other",
            _ => "unknown",
        }
    }
}

/// Bind authentication choice (RFC 4511 4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindAuth<'a> {
    /// `simple [0]`: a password (never reported).
    Simple,
    /// `sasl [3]`: the mechanism (`GSS-SPNEGO`, `GSSAPI`, `EXTERNAL`…).
    Sasl(&'a [u8]),
    /// Another choice (Microsoft's sicily `[9]`/`[10]`/`[11]` NTLM binds), by tag.
    Other(u32),
}

/// What rdsflows reports from one LDAPMessage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LdapMessage<'a> {
    /// messageID (0 for unsolicited notifications).
    pub message_id: u32,
    /// The operation.
    pub op: ProtocolOp,
    /// resultCode of responses.
    pub result_code: Option<ResultCode>,
    /// The DN the operation names: bind name, search base, entry name, or matchedDN.
    pub dn: Option<&'a [u8]>,
    /// Bind request version.
    pub bind_version: Option<u8>,
    /// Bind request authentication.
    pub bind_auth: Option<BindAuth<'a>>,
    /// requestName of an extended request, responseName of an extended response.
    pub oid: Option<&'a [u8]>,
    /// True when the whole message was in the bytes.
    pub complete: bool,
}

impl LdapMessage<'_> {
    /// True for a StartTLS extended request or response (RFC 4511 4.14).
    pub fn is_start_tls(&self) -> bool {
        self.oid == Some(START_TLS_OID)
    }
}

fn octets(t: Option<Tlv<'_>>) -> Option<&[u8]> {
    let t = t?;
    (t.is(Class::Universal, 4) && t.complete).then_some(t.value)
}

/// Parses an LDAPMessage (RFC 4511 4.1.1): `SEQUENCE { messageID INTEGER (0..2^31-1),
/// protocolOp [APPLICATION n], controls [0] OPTIONAL }`. Needs the envelope, the messageID and
/// the protocolOp tag; the operation's fields are read as far as the bytes go.
pub fn parse_ldap(payload: &[u8]) -> Option<LdapMessage<'_>> {
    let (envelope, _) = read_tlv_lax(payload)?;
    if !envelope.is(Class::Universal, 16) || !envelope.constructed {
        return None;
    }
    let mut children = envelope.children();
    let id = children.next()?;
    if !id.is(Class::Universal, 2) {
        return None;
    }
    let message_id = u32::try_from(id.integer()?)
        .ok()
        .filter(|&v| v <= 0x7FFF_FFFF)?;
    let op_tlv = children.next()?;
    if op_tlv.class != Class::Application {
        return None;
    }
    let op = ProtocolOp(u8::try_from(op_tlv.tag).ok().filter(|&t| t <= 25)?);
    let mut msg = LdapMessage {
        message_id,
        op,
        result_code: None,
        dn: None,
        bind_version: None,
        bind_auth: None,
        oid: None,
        complete: envelope.complete,
    };
    let mut fields = op_tlv.children();
    match op {
        ProtocolOp::BIND_REQUEST => {
            msg.bind_version = fields
                .next()
                .and_then(|v| v.integer())
                .and_then(|v| u8::try_from(v).ok());
            msg.dn = octets(fields.next());
            msg.bind_auth = fields.next().map(|auth| match auth.tag {
                0 if auth.class == Class::Context => BindAuth::Simple,
                3 if auth.class == Class::Context => BindAuth::Sasl(
                    auth.children()
                        .next()
                        .filter(|m| m.is(Class::Universal, 4))
                        .map_or(&[][..], |m| m.value),
                ),
                tag => BindAuth::Other(tag),
            });
        }
        ProtocolOp::SEARCH_REQUEST | ProtocolOp::SEARCH_RES_ENTRY => msg.dn = octets(fields.next()),
        ProtocolOp::EXTENDED_REQUEST => {
            msg.oid = op_tlv
                .child(Class::Context, 0)
                .filter(|t| t.complete)
                .map(|t| t.value);
        }
        _ if op.has_result() => {
            let code = fields
                .next()
                .filter(|c| c.is(Class::Universal, 10))
                .and_then(|c| c.integer());
            msg.result_code = code.and_then(|c| u32::try_from(c).ok()).map(ResultCode);
            msg.dn = octets(fields.next()).filter(|dn| !dn.is_empty());
            if op == ProtocolOp::EXTENDED_RESPONSE {
                msg.oid = op_tlv
                    .child(Class::Context, 10)
                    .filter(|t| t.complete)
                    .map(|t| t.value);
            }
        }
        _ => {}
    }
    Some(msg)
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

    /// suricata-verify/ldap-starttls/input.pcap frame 4 (→ tcp/389): StartTLS extended request.
    const START_TLS_REQUEST: &str = concat!(
        "301d",                                              // LDAPMessage SEQUENCE, 29 bytes
        "020101",                                            // messageID 1
        "7718",                                              // [APPLICATION 23] extendedReq
        "8016 312e332e362e312e342e312e313436362e3230303337", // requestName [0] "1.3.6.1.4.1.1466.20037"
    );
    /// Same file, frame 6: the extended response, success, no responseName.
    const START_TLS_RESPONSE: &str = "300c 020101 7807 0a0100 0400 0400";
    /// zeek/ldap/aduser1.pcap frame 46 (first 71 of 1412 bytes): SASL GSS-SPNEGO bind request
    /// with a 4-byte messageID.
    const SASL_BIND: &str = concat!(
        "30820580",                                                         // SEQUENCE, 1408 bytes
        "020455d69f61",                                                     // messageID 0x55d69f61
        "60820576",                           // [APPLICATION 0] bindRequest
        "020103",                             // version 3
        "04055573657231",                     // name "User1"
        "a3820568 040a 4753532d53504e45474f", // sasl [3] { mechanism "GSS-SPNEGO",
        "0482055860820554 06062b0601050502 a082054830820544a00d300b06092a", // credentials… (cut)
    );
    /// zeek/ldap/aduser1.pcap frame 47: the bindResponse, Windows' 4-byte length forms.
    const BIND_RESPONSE: &str = "30840000002b020455d69f6161840000001f0a0100040004008716a1143012a0030a0100a10b06092a864882f712010202";
    /// suricata-verify/ldap-udp/cldap.pcap frame 1 (→ udp/389): the DC locator's CLDAP search.
    const CLDAP_SEARCH: &str = "30840000008302010163840000007a04000a01000a0100020100020100010100a08400000053a384000000220409446e73446f6d61696e041573342e686f77746f2e61626172746c65742e6e6574a384000000120404486f7374040a57494e444f5753372d33a3840000000d04054e7456657204041600000030840000000a04084e65746c6f676f6e";
    /// zeek/ldap/ldap_search_umlaut.pcap frame 4: a search with base dc=example,dc=com.
    const UMLAUT_SEARCH: &str = "30370201016332041164633d6578616d706c652c64633d636f6d0a01020a0100020100020100010100a30c04046e616d650404c39cc3bc3000";
    /// zeek/ldap/modify-request.pcapng frame 12 (first bytes): a SASL-wrapped message (4-byte
    /// length and a GSS-API wrap token), not an LDAPMessage.
    const SASL_WRAPPED: &str = "000000cd050404ff000c000c000000005cd0f0c9a2759245bab3798f4c645c8f";

    #[test]
    fn start_tls_request_and_response() {
        let bytes = hex(START_TLS_REQUEST);
        let req = parse_ldap(&bytes).unwrap();
        assert_eq!(req.op, ProtocolOp::EXTENDED_REQUEST);
        assert_eq!(req.message_id, 1);
        assert!(req.is_start_tls());
        let bytes = hex(START_TLS_RESPONSE);
        let resp = parse_ldap(&bytes).unwrap();
        assert_eq!(resp.op.name(), "extendedResp");
        assert_eq!(resp.result_code, Some(ResultCode::SUCCESS));
    }

    #[test]
    fn sasl_bind_and_response() {
        let bytes = hex(SASL_BIND);
        let bind = parse_ldap(&bytes).unwrap();
        assert_eq!(bind.message_id, 0x55d6_9f61);
        assert_eq!(bind.op, ProtocolOp::BIND_REQUEST);
        assert_eq!(bind.bind_version, Some(3));
        assert_eq!(bind.dn, Some(&b"User1"[..]));
        assert_eq!(bind.bind_auth, Some(BindAuth::Sasl(b"GSS-SPNEGO")));
        assert!(!bind.complete);
        let bytes = hex(BIND_RESPONSE);
        let resp = parse_ldap(&bytes).unwrap();
        assert_eq!(resp.op, ProtocolOp::BIND_RESPONSE);
        assert_eq!(resp.result_code.unwrap().name(), "success");
        assert_eq!(resp.dn, None);
    }

    #[test]
    fn searches_give_their_base() {
        let bytes = hex(UMLAUT_SEARCH);
        let search = parse_ldap(&bytes).unwrap();
        assert_eq!(search.op, ProtocolOp::SEARCH_REQUEST);
        assert_eq!(search.dn, Some(&b"dc=example,dc=com"[..]));
        let bytes = hex(CLDAP_SEARCH);
        let cldap = parse_ldap(&bytes).unwrap();
        assert_eq!(cldap.op, ProtocolOp::SEARCH_REQUEST);
        assert_eq!(
            cldap.dn,
            Some(&b""[..]),
            "the DC locator searches the root DSE"
        );
        assert!(cldap.complete);
    }

    #[test]
    fn mutations_and_non_ldap() {
        assert_eq!(parse_ldap(&hex(SASL_WRAPPED)), None);
        // protocolOp tag 23 → 30 (0x7e): not an LDAP operation (it is Kerberos' KRB-ERROR tag).
        let mut op = hex(START_TLS_REQUEST);
        op[5] = 0x7e;
        assert_eq!(parse_ldap(&op), None);
        // messageID INTEGER → OCTET STRING.
        let mut id = hex(START_TLS_REQUEST);
        id[2] = 0x04;
        assert_eq!(parse_ldap(&id), None);
        // OID cut by one byte: no OID, not StartTLS.
        let bytes = hex(START_TLS_REQUEST);
        assert!(!parse_ldap(&bytes[..bytes.len() - 1])
            .unwrap()
            .is_start_tls());
        assert_eq!(ResultCode(49).name(), "invalidCredentials");
    }

    #[test]
    fn every_prefix_is_safe() {
        // The essential header: envelope, messageID and the protocolOp tag and length.
        for (vector, essential) in [(START_TLS_REQUEST, 7), (BIND_RESPONSE, 18), (SASL_BIND, 14)] {
            let bytes = hex(vector);
            for len in 0..bytes.len() {
                assert_eq!(
                    parse_ldap(&bytes[..len]).is_some(),
                    len >= essential,
                    "len {len}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_ldap(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_messages(index in 0usize..200, value in any::<u8>()) {
            let mut bytes = hex(CLDAP_SEARCH);
            let i = index % bytes.len();
            bytes[i] = value;
            let _ = parse_ldap(&bytes);
        }
    }
}
