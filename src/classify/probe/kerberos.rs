//! Kerberos V5 messages to and from a KDC (RFC 4120 section 5): AS-REQ, AS-REP, TGS-REQ,
//! TGS-REP and KRB-ERROR, over UDP (bare, RFC 4120 7.2.1) and TCP (a 4-byte big-endian length
//! first, RFC 4120 7.2.2). Reports the message type, realms, the client and service principal
//! names as components (`TERMSRV/<host>` is RDP NLA via Kerberos, `HTTP/<gateway>` is RD
//! Gateway authentication) and the KRB-ERROR error-code with its name.
//!
//! Owns the Kerberos ASN.1 paths, read with [`super::ber`] (definite lengths, bounded depth).
//! Reads laxly where a message spans TCP segments: fields before the cut are reported. Must not
//! decrypt, allocate, or keep state.

use super::ber::{read_tlv_lax, Class, Tlv};
use super::Cursor;

/// Kerberos message type (RFC 4120 5.10 / 7.5.7): the APPLICATION tag and the msg-type field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    /// KRB_AS_REQ
    pub const AS_REQ: Self = Self(10);
    /// KRB_AS_REP
    pub const AS_REP: Self = Self(11);
    /// KRB_TGS_REQ
    pub const TGS_REQ: Self = Self(12);
    /// KRB_TGS_REP
    pub const TGS_REP: Self = Self(13);
    /// KRB_ERROR
    pub const KRB_ERROR: Self = Self(30);

    /// `AS-REQ`, `AS-REP`, `TGS-REQ`, `TGS-REP`, `KRB-ERROR` or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            10 => "AS-REQ",
            11 => "AS-REP",
            12 => "TGS-REQ",
            13 => "TGS-REP",
            30 => "KRB-ERROR",
            _ => "unknown",
        }
    }

    /// True for the requests a client sends to the KDC.
    pub fn is_request(self) -> bool {
        self == Self::AS_REQ || self == Self::TGS_REQ
    }
}

/// KRB-ERROR error-code (RFC 4120 7.5.9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// KDC_ERR_C_PRINCIPAL_UNKNOWN: the client (user) is not in the database.
    pub const C_PRINCIPAL_UNKNOWN: Self = Self(6);
    /// KDC_ERR_S_PRINCIPAL_UNKNOWN: no such service (e.g. a wrong TERMSRV SPN).
    pub const S_PRINCIPAL_UNKNOWN: Self = Self(7);
    /// KDC_ERR_PREAUTH_FAILED: wrong password.
    pub const PREAUTH_FAILED: Self = Self(24);
    /// KDC_ERR_PREAUTH_REQUIRED: the normal first answer to an AS-REQ without padata.
    pub const PREAUTH_REQUIRED: Self = Self(25);
    /// KRB_AP_ERR_SKEW: clocks too far apart.
    pub const SKEW: Self = Self(37);

    /// The RFC 4120 name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "KDC_ERR_NONE",
            1 => "KDC_ERR_NAME_EXP",
            2 => "KDC_ERR_SERVICE_EXP",
            3 => "KDC_ERR_BAD_PVNO",
            6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
            7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
            8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
            12 => "KDC_ERR_POLICY",
            13 => "KDC_ERR_BADOPTION",
            14 => "KDC_ERR_ETYPE_NOSUPP",
            18 => "KDC_ERR_CLIENT_REVOKED",
            23 => "KDC_ERR_KEY_EXPIRED",
            24 => "KDC_ERR_PREAUTH_FAILED",
            25 => "KDC_ERR_PREAUTH_REQUIRED",
            31 => "KRB_AP_ERR_BAD_INTEGRITY",
            32 => "KRB_AP_ERR_TKT_EXPIRED",
            34 => "KRB_AP_ERR_REPEAT",
            37 => "KRB_AP_ERR_SKEW",
            41 => "KRB_AP_ERR_MODIFIED",
            52 => "KRB_ERR_RESPONSE_TOO_BIG",
            60 => "KRB_ERR_GENERIC",
            68 => "KDC_ERR_WRONG_REALM",
            _ => "unknown",
        }
    }
}

/// Components of a PrincipalName kept at most (RFC 4120 5.2.2; service names have 2).
pub const MAX_COMPONENTS: usize = 4;

/// A PrincipalName: name-type and its components, borrowed (RFC 4120 5.2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrincipalName<'a> {
    /// name-type (1 NT-PRINCIPAL, 2 NT-SRV-INST, 10 NT-ENTERPRISE…).
    pub name_type: i32,
    parts: [&'a [u8]; MAX_COMPONENTS],
    count: u8,
}

impl<'a> PrincipalName<'a> {
    /// The components present (at most [`MAX_COMPONENTS`]).
    pub fn components(&self) -> &[&'a [u8]] {
        self.parts
            .get(..usize::from(self.count))
            .unwrap_or_default()
    }

    /// The first component: the service (`TERMSRV`, `HTTP`, `krbtgt`) or the user name.
    pub fn service(&self) -> Option<&'a [u8]> {
        self.components().first().copied()
    }

    /// The second component: the host of a service principal.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.components().get(1).copied()
    }
}

/// What rdsflows reports from a Kerberos message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KerberosMessage<'a> {
    /// The message type.
    pub msg_type: MessageType,
    /// The service's realm: req-body realm (requests), ticket realm (replies), realm (errors).
    pub realm: Option<&'a [u8]>,
    /// The client's realm (crealm of replies and errors; the req-body realm of AS-REQ).
    pub crealm: Option<&'a [u8]>,
    /// The client principal, when present in cleartext.
    pub cname: Option<PrincipalName<'a>>,
    /// The service principal (req-body sname, ticket sname, error sname).
    pub sname: Option<PrincipalName<'a>>,
    /// KRB-ERROR error-code.
    pub error_code: Option<ErrorCode>,
    /// True when the whole message was in the bytes.
    pub complete: bool,
}

/// Parses a Kerberos message sent bare, as over UDP (RFC 4120 7.2.1).
pub fn parse_kerberos(payload: &[u8]) -> Option<KerberosMessage<'_>> {
    let (app, _) = read_tlv_lax(payload)?;
    message(app)
}

/// Parses a Kerberos message over TCP (RFC 4120 7.2.2): a 4-byte big-endian length whose
/// high bit is reserved (0), then the message. The length must match the message's own.
pub fn parse_kerberos_tcp(payload: &[u8]) -> Option<KerberosMessage<'_>> {
    let mut c = Cursor::new(payload);
    let len = c.be32()?;
    if len & 0x8000_0000 != 0 || len == 0 {
        return None;
    }
    let body = c.rest();
    let (app, rest) = read_tlv_lax(body)?;
    // The record length counts the whole DER message.
    let der_len = body.len().checked_sub(rest.len())?;
    if app.complete && u32::try_from(der_len).ok()? != len {
        return None;
    }
    message(app)
}

fn string(t: Option<Tlv<'_>>) -> Option<&[u8]> {
    let inner = t?.inner()?;
    (inner.is(Class::Universal, 27) && inner.complete).then_some(inner.value)
}

fn integer(t: Option<Tlv<'_>>) -> Option<i64> {
    t?.inner()?.integer()
}

/// `PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }`
fn principal(t: Option<Tlv<'_>>) -> Option<PrincipalName<'_>> {
    let seq = t?.inner()?;
    if !seq.complete {
        return None;
    }
    let name_type = i32::try_from(integer(seq.child(Class::Context, 0))?).ok()?;
    let strings = seq.child(Class::Context, 1)?.inner()?;
    let mut name = PrincipalName {
        name_type,
        ..PrincipalName::default()
    };
    for part in strings.children().filter(|p| p.is(Class::Universal, 27)) {
        if let Some(slot) = name.parts.get_mut(usize::from(name.count)) {
            *slot = part.value;
            name.count += 1;
        }
    }
    (name.count > 0).then_some(name)
}

fn message(app: Tlv<'_>) -> Option<KerberosMessage<'_>> {
    if app.class != Class::Application || !app.constructed {
        return None;
    }
    let msg_type = MessageType(u8::try_from(app.tag).ok()?);
    let seq = app.inner()?;
    if !seq.is(Class::Universal, 16) {
        return None;
    }
    let mut msg = KerberosMessage {
        msg_type,
        realm: None,
        crealm: None,
        cname: None,
        sname: None,
        error_code: None,
        complete: app.complete,
    };
    // pvno and msg-type sit at [1]/[2] in KDC-REQ and [0]/[1] in KDC-REP and KRB-ERROR.
    let (pvno_tag, type_tag) = if msg_type.is_request() {
        (1, 2)
    } else {
        (0, 1)
    };
    if integer(seq.child(Class::Context, pvno_tag)) != Some(5)
        || integer(seq.child(Class::Context, type_tag)) != Some(i64::from(msg_type.0))
    {
        return None;
    }
    match msg_type {
        MessageType::AS_REQ | MessageType::TGS_REQ => {
            // KDC-REQ-BODY: cname [1], realm [2], sname [3]
            if let Some(body) = seq.child(Class::Context, 4).and_then(|b| b.inner()) {
                msg.cname = principal(body.child(Class::Context, 1));
                msg.realm = string(body.child(Class::Context, 2));
                msg.sname = principal(body.child(Class::Context, 3));
                if msg_type == MessageType::AS_REQ {
                    msg.crealm = msg.realm;
                }
            }
        }
        MessageType::AS_REP | MessageType::TGS_REP => {
            msg.crealm = string(seq.child(Class::Context, 3));
            msg.cname = principal(seq.child(Class::Context, 4));
            // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], … }
            let ticket = seq
                .child(Class::Context, 5)
                .and_then(|t| t.inner())
                .filter(|t| t.is(Class::Application, 1))
                .and_then(|t| t.inner());
            if let Some(ticket) = ticket {
                msg.realm = string(ticket.child(Class::Context, 1));
                msg.sname = principal(ticket.child(Class::Context, 2));
            }
        }
        MessageType::KRB_ERROR => {
            let code = integer(seq.child(Class::Context, 6))?;
            msg.error_code = Some(ErrorCode(i32::try_from(code).ok()?));
            msg.crealm = string(seq.child(Class::Context, 7));
            msg.cname = principal(seq.child(Class::Context, 8));
            msg.realm = string(seq.child(Class::Context, 9));
            msg.sname = principal(seq.child(Class::Context, 10));
        }
        _ => return None,
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

    /// awakecoding-wireshark-rdp/rdp-nla-kerberos-auth1.pcapng frame 7 (→ tcp/88): AS-REQ.
    const AS_REQ_TCP: &str = concat!(
        "000000f1",                                                    // record length 241
        "6a81ee 3081eb",         // [APPLICATION 10] AS-REQ, SEQUENCE
        "a103020105 a20302010a", // pvno 5, msg-type 10
        "a31530133011a10402020080a20904073005a0030101ff", // padata: PA-PAC-REQUEST
        "a481c7 3081c4",         // req-body
        "a00703050040810010",    // kdc-options
        "a11a3018 a003020101 a111300f 1b0d41646d696e6973747261746f72", // cname NT-PRINCIPAL "Administrator"
        "a2121b1061642e69742d68656c702e6e696e6a61",                    // realm "ad.it-help.ninja"
        "a3253023 a003020102 a11c301a 1b066b7262746774 1b1061642e69742d68656c702e6e696e6a61", // sname krbtgt/ad.it-help.ninja
        "a511180f32313030303931333032343830355a", // till
        "a611180f32313030303931333032343830355a", // rtime
        "a706020424588b73",                       // nonce
        "a81530130201120201110201170201180202ff79020103", // etypes
        "a91d301b3019a003020114a112041049542d48454c502d434c49454e542020", // addresses (NetBIOS)
    );

    /// Same file, frame 8 (tcp/88 →): KRB-ERROR 25, KDC_ERR_PREAUTH_REQUIRED.
    const PREAUTH_REQUIRED: &str = concat!(
        "000000c7",                    // record length 199
        "7e81c4 3081c1",               // [APPLICATION 30] KRB-ERROR, SEQUENCE
        "a003020105 a10302011e",       // pvno 5, msg-type 30
        "a411180f32303234303530363230303832355a", // stime
        "a50502030cf927",              // susec
        "a603020119",                  // error-code 25
        "a9121b1061642e69742d68656c702e6e696e6a61", // realm
        "aa253023a003020102a11c301a1b066b72627467741b1061642e69742d68656c702e6e696e6a61", // sname krbtgt/…
        "ac5b045930573034a103020113a22d042b30293020a003020112a1191b1749542d48454c502d444341646d696e6973747261746f723005a0030201173009a103020102a20204003009a103020110a20204003009a10302010fa2020400", // e-data: ETYPE-INFO2 etc.
    );

    /// Same file, frame 11 (→ tcp/88): the TGS-REQ for TERMSRV/IT-HELP-TEST.ad.it-help.ninja that
    /// RDP NLA (CredSSP with Kerberos) sends; 1804 bytes, the AP-REQ padata first, so the
    /// req-body (realm, sname) is at the end.
    const TGS_REQ_TERMSRV: &str = "000007086c82070430820700a103020105a20302010ca38205f2308205ee308205d3a103020101a28205ca048205c66e8205c2308205bea003020105a10302010ea20703050000000000a382050461820500308204fca003020105a1121b1041442e49542d48454c502e4e494e4a41a2253023a003020102a11c301a1b066b72627467741b1041442e49542d48454c502e4e494e4a41a38204b8308204b4a003020112a103020102a28204a6048204a29a1680f576105c153c4780944c1983a1e23f8da5dc4ae092ac14e1c79b64d199e9ef47e152dcefc298a1a9ace274caac4a6c523b7e0680539fa44217732ffc68771fc6dbb77627b2531581653a5a0675d03dd08943f820a58cf820d0f0ee3a9313eadf288aac77ca58032f08d6bf2b13e7b48637f2a582a7e6f06f7a264ab79b3c7db5f1ca96d783d2f7c36d0e52970c14df84af869a0d75ae9e0b520da97bb413a15f35895edef234c81dd53ece8e60145a6a4e56929c24bad366263f91c44132b0d08b40e05b5962034280792dc150d097e094ccec88a916a80987adf269d72800e2af60d2f690a36098e3075e27468c7a1decbfce63027d7fbafc7f8f565ded65804ac37882f0625e54e5ebf88d7595ec80a7de6af5e0418922f6291405a25cf6e7838ef735f6a067d6fad94de210a19341678ae3518f27ea65add62fe7c0bc28316ddd02800edb64b2b339cc73d7b7615dfb1ca7427fa3ded4599c44a97653194cf341edf4d472b1f097ba834cd1bdb6a78ef49c0c8467ca697f80678e7599461e78acebab180b8f1bf90f7730f4f974f798e1c4b6f77fe21332dc4c576a50bcb493db3377ff6b40b02b5501bb42ad65083c11b632610fe661b7b8f60971ed2694780f65988f90e5288325dbcf90ae67d634cb90ff19c6efb1fdc40e8d6c40e7e91c41501261e4a6f12e0ae8cc5a4bc0d83735c10cbf84fa4ba5aa3aba3227cd478d4d204e6b3a85f25fff8b2d69ad029025ff2d047095c02cee17dcb6e981267f90378219da6816c0aafed3d1b45b5f1d08acc258f77b34fb03ce5c6dc9a43bf786221face592cd7048b7f41c6becae224e8d78913619bc123965081d60cb13b04aa299567dc948806c8f860f0bef3c2c3711b6a3c63265bb9373703522b9eb172448db459f133252d4b4d37b8c6fa608f6bdbbfc4defb360ec6594b1ec1ff2b8cac60769481e196e91bf91aa9f6a2f734542067c1b46cd85804a4dcc07ddae17549bb74d6e10d6bcecb487f083694a75639bac57c9371e48d28375e5feb327c07c45a16b1b384bb3b8a5b22bc5fa9fab9b05347587d6413db8092dbbc2ccffaff15e0b29d0f38f344e119249a28375e6a001a0cfd1a39807ec416560b0677c4365c2702d0cc5da4866ac678f671409d71dbfe0d5a9453fe0b0f72976624bff09c250dca9649ca06adfe643fc4e6692250cac2061a983fc5eadc23fcedd8a0f31d0decd565b91be9c2563b574cfd8921751b96587de435d7d1cb12a66caad0a83c39791a30a04f56413b2dd7ec63461610ba7663384af13e8ed5611ed2d815b4c7fc50a66963a6be2d359b10a9eeccfa3a9d176b63828db91df2bc452de308fcf2f92f3e33672b8217ca27c64ec133af132e74df7e0e89683dae3e76f21105befa652132b23fb21abca2236c2ddd01deae4ac6bbd460f9e8d181a0c2b7c771e11db00a6b8b18eabfb3d08da5be5d1c320cf1277f932df41b2b0a7b03d79f6124fddfe6f6abf369273172802815f5595c5859b609d62e80d439d8cefa89a92f6125f3231719974090c30b3d65f5598f051455732e77eafb77f3102d30a0fe1ef29dc5405a2976db20750fa06a1825d1c827aabb0f1e7a6125cae10b96f17ead84d26ac1db3d26c706290b72984b4d756f9d6ddc1ea117783c5343bdf32392430a481a030819da003020112a28195048192dbd767a2a47f12ce7f478d996054cc96a5668fad4b086d0f70c70c15274a80d607cf0a7055a753251bbc161c14aae8b3509962f6e06642f97e571fb98773c62eec6b92382e923aff8dc79b42dbd1e0b36318314b5deff2a89b1c9561d90b7c1827449a44130606b722ae6b715899672d4cc4b90f35964f2f7743cf8a1b2c131ca1be1d17c5aa9aa9342933cba84fee0150703015a104020200a7a20d040b3009a00703050040000000a481fd3081faa00703050040810000a2121b1041442e49542d48454c502e4e494e4a41a3333031a003020102a12a30281b075445524d5352561b1d49542d48454c502d544553542e61642e69742d68656c702e6e696e6a61a511180f32313030303931333032343830355aa706020408101c67a81230100201120201110201170201180202ff79aa773075a003020112a26e046c80d8bc1b389b1cac99f3021add8c6f99a0871515ca274e193c037b83c3bffc5569d70c5984ad4acd95db59f48155a4b3edd2a6218c86a7340b7d656c601f70e8dfc7ae7cd25398c3b8b16b4a33a9f6ab75ee65b9ec0fd71d27f679d131a7b2198747d6172e2fee03839282ed";

    /// Same file, frame 12 (first 200 of 1823 bytes): the TGS-REP, cut inside the ticket's
    /// enc-part, as a snaplen or a segment boundary would cut it.
    const TGS_REP_CUT: &str = "0000071b6d82071730820713a003020105a10302010da3121b1041442e49542d48454c502e4e494e4a41a41a3018a003020101a111300f1b0d41646d696e6973747261746f72a58205806182057c30820578a003020105a1121b1041442e49542d48454c502e4e494e4a41a2333031a003020102a12a30281b075445524d5352561b1d49542d48454c502d544553542e61642e69742d68656c702e6e696e6a61a382052630820522a003020112a103020102a2820514048205108488ed143e74c1337800225e829a";

    /// zeek/krb/kinit.pcap frame 1 (→ udp/88): AS-REQ over UDP, no length prefix.
    const KINIT_AS_REQ_UDP: &str = "6a81af3081aca103020105a20302010aa30e300c300aa10402020095a2020400a4818f30818ca00703050000000010a1233021a003020101a11a30181b1676616c69645f636c69656e745f7072696e636970616ca20b1b09564c4144472e4e4554a31e301ca003020102a11530131b066b72627467741b09564c4144472e4e4554a511180f32303135303131393232353435395aa70602047805a1eba814301202011202011102011002011702011902011a";

    fn parts(name: Option<PrincipalName<'_>>) -> Vec<String> {
        name.unwrap()
            .components()
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    #[test]
    fn as_req_over_tcp() {
        let bytes = hex(AS_REQ_TCP);
        let m = parse_kerberos_tcp(&bytes).unwrap();
        assert_eq!(m.msg_type, MessageType::AS_REQ);
        assert_eq!(m.realm, Some(&b"ad.it-help.ninja"[..]));
        assert_eq!(parts(m.cname), ["Administrator"]);
        assert_eq!(parts(m.sname), ["krbtgt", "ad.it-help.ninja"]);
        assert!(m.complete);
        assert_eq!(
            parse_kerberos(&bytes),
            None,
            "the length prefix is not a message"
        );
    }

    #[test]
    fn preauth_required_error_is_named() {
        let bytes = hex(PREAUTH_REQUIRED);
        let m = parse_kerberos_tcp(&bytes).unwrap();
        assert_eq!(m.msg_type.name(), "KRB-ERROR");
        assert_eq!(m.error_code, Some(ErrorCode::PREAUTH_REQUIRED));
        assert_eq!(m.error_code.unwrap().name(), "KDC_ERR_PREAUTH_REQUIRED");
        assert_eq!(m.realm, Some(&b"ad.it-help.ninja"[..]));
        assert_eq!(ErrorCode(24).name(), "KDC_ERR_PREAUTH_FAILED");
        assert_eq!(ErrorCode(6).name(), "KDC_ERR_C_PRINCIPAL_UNKNOWN");
        assert_eq!(ErrorCode(7).name(), "KDC_ERR_S_PRINCIPAL_UNKNOWN");
        assert_eq!(ErrorCode(37).name(), "KRB_AP_ERR_SKEW");
        assert_eq!(ErrorCode(999).name(), "unknown");
    }

    #[test]
    fn tgs_req_names_the_termsrv_spn() {
        let bytes = hex(TGS_REQ_TERMSRV);
        let m = parse_kerberos_tcp(&bytes).unwrap();
        assert_eq!(m.msg_type, MessageType::TGS_REQ);
        let sname = m.sname.unwrap();
        assert_eq!(sname.service(), Some(&b"TERMSRV"[..]));
        assert_eq!(sname.host(), Some(&b"IT-HELP-TEST.ad.it-help.ninja"[..]));
        assert_eq!(m.realm, Some(&b"AD.IT-HELP.NINJA"[..]));
    }

    #[test]
    fn cut_tgs_rep_still_names_the_service() {
        let bytes = hex(TGS_REP_CUT);
        let m = parse_kerberos_tcp(&bytes).unwrap();
        assert_eq!(m.msg_type, MessageType::TGS_REP);
        assert!(!m.complete);
        assert_eq!(m.crealm, Some(&b"AD.IT-HELP.NINJA"[..]));
        assert_eq!(parts(m.cname), ["Administrator"]);
        assert_eq!(parts(m.sname), ["TERMSRV", "IT-HELP-TEST.ad.it-help.ninja"]);
    }

    #[test]
    fn as_req_over_udp() {
        let bytes = hex(KINIT_AS_REQ_UDP);
        let m = parse_kerberos(&bytes).unwrap();
        assert_eq!(m.msg_type, MessageType::AS_REQ);
        assert_eq!(m.realm, Some(&b"VLADG.NET"[..]));
        assert_eq!(parts(m.cname), ["valid_client_principal"]);
    }

    #[test]
    fn mutations() {
        let good = hex(AS_REQ_TCP);
        // Record length 241 → 240: does not match the DER length.
        let mut len = good.clone();
        len[3] = 0xf0;
        assert_eq!(parse_kerberos_tcp(&len), None);
        // pvno 5 → 4.
        let mut pvno = good.clone();
        pvno[13] = 4;
        assert_eq!(parse_kerberos_tcp(&pvno), None);
        // msg-type 10 → 12 while the tag says AS-REQ: inconsistent.
        let mut ty = good.clone();
        ty[18] = 12;
        assert_eq!(parse_kerberos_tcp(&ty), None);
        // Reserved high bit of the TCP length set (RFC 4120 7.2.2).
        let mut high = good;
        high[0] = 0x80;
        assert_eq!(parse_kerberos_tcp(&high), None);
        // LDAP is not Kerberos.
        assert_eq!(parse_kerberos(&hex("300c020101600702010304008000")), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        // The essential header ends with msg-type: length prefix, application tag, SEQUENCE,
        // pvno and msg-type (20 bytes with 3-byte headers, 22 with 4-byte ones); a KRB-ERROR
        // also needs its error-code, after stime and susec (51 bytes).
        for (vector, essential) in [(AS_REQ_TCP, 20), (PREAUTH_REQUIRED, 51), (TGS_REP_CUT, 22)] {
            let bytes = hex(vector);
            for len in 0..bytes.len() {
                let m = parse_kerberos_tcp(&bytes[..len]);
                assert_eq!(m.is_some(), len >= essential, "len {len}");
            }
        }
        let udp = hex(KINIT_AS_REQ_UDP);
        for len in 0..udp.len() {
            // 3 (tag) + 3 (SEQUENCE) + 5 (pvno) + 5 (msg-type)
            assert_eq!(
                parse_kerberos(&udp[..len]).is_some(),
                len >= 16,
                "len {len}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_kerberos(&bytes);
            let _ = parse_kerberos_tcp(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_messages(index in 0usize..245, value in any::<u8>()) {
            let mut bytes = hex(AS_REQ_TCP);
            let i = index % bytes.len();
            bytes[i] = value;
            let _ = parse_kerberos_tcp(&bytes);
            let mut err = hex(PREAUTH_REQUIRED);
            let i = index % err.len();
            err[i] = value;
            let _ = parse_kerberos_tcp(&err);
        }
    }
}
