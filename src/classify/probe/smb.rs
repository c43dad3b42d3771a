//! SMB over tcp/445 and tcp/139: the 4-byte session-service header (RFC 1002 4.3.1, MS-SMB2
//! 2.1), then the protocol identifier: `\xffSMB` (SMB1, MS-SMB 2.2.3.1), `\xfeSMB` (SMB2/3,
//! MS-SMB2 2.2.1), `\xfdSMB` (SMB3 transform header: encrypted, MS-SMB2 2.2.41) or `\xfcSMB`
//! (compression transform, MS-SMB2 2.2.42). For NEGOTIATE it reports the dialects a client
//! offers (MS-SMB2 2.2.3; SMB1 dialect strings, MS-SMB 2.2.4.52.1) and the dialect the server
//! picks (MS-SMB2 2.2.4 DialectRevision).
//!
//! Owns those headers. Must not allocate, follow compounded requests, or keep state.

use super::{Bounded, Cursor};

/// Which SMB header follows the session-service header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmbKind {
    /// `\xffSMB`: SMB1 / CIFS.
    Smb1,
    /// `\xfeSMB`: SMB 2 and 3.
    Smb2,
    /// `\xfdSMB`: SMB 3 transform header, the message is encrypted.
    Transform,
    /// `\xfcSMB`: SMB 3.1.1 compression transform header.
    Compressed,
}

impl SmbKind {
    /// `smb1`, `smb2`, `smb3-encrypted`, `smb3-compressed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Smb1 => "smb1",
            Self::Smb2 => "smb2",
            Self::Transform => "smb3-encrypted",
            Self::Compressed => "smb3-compressed",
        }
    }
}

/// An SMB2 dialect revision (MS-SMB2 2.2.3, 2.2.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dialect(pub u16);

impl Dialect {
    /// SMB 2.0.2
    pub const SMB2_0_2: Self = Self(0x0202);
    /// SMB 2.1
    pub const SMB2_1: Self = Self(0x0210);
    /// SMB 3.0
    pub const SMB3_0: Self = Self(0x0300);
    /// SMB 3.0.2
    pub const SMB3_0_2: Self = Self(0x0302);
    /// SMB 3.1.1
    pub const SMB3_1_1: Self = Self(0x0311);
    /// SMB2 wildcard revision: the server answers an SMB1 negotiate that offered "SMB 2.???"
    /// and a second SMB2 negotiate follows.
    pub const WILDCARD: Self = Self(0x02FF);

    /// `SMB 2.0.2`… `SMB 3.1.1`, `SMB 2.???`, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x0202 => "SMB 2.0.2",
            0x0210 => "SMB 2.1",
            0x0300 => "SMB 3.0",
            0x0302 => "SMB 3.0.2",
            0x0311 => "SMB 3.1.1",
            0x02FF => "SMB 2.???",
            _ => "unknown",
        }
    }
}

/// Dialects kept from one negotiate request (Windows offers 5).
pub const MAX_DIALECTS: usize = 16;

/// What a NEGOTIATE carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiate {
    /// SMB2 NEGOTIATE request: the dialects offered, in order.
    Smb2Request(Bounded<Dialect, MAX_DIALECTS>),
    /// SMB2 NEGOTIATE response: the dialect chosen.
    Smb2Response(Dialect),
    /// SMB1 NEGOTIATE request: how many dialect strings, and whether SMB2 is offered
    /// ("SMB 2.002", "SMB 2.???").
    Smb1Request {
        /// Dialect strings seen.
        dialect_count: u8,
        /// "SMB 2.002" offered.
        offers_smb2_002: bool,
        /// "SMB 2.???" offered (multi-protocol negotiate).
        offers_smb2_wildcard: bool,
    },
}

/// An SMB message start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmbMessage {
    /// Length from the session-service header.
    pub nbss_length: u32,
    /// The header kind.
    pub kind: SmbKind,
    /// Command: SMB1 command byte or SMB2 command (0 NEGOTIATE, 1 SESSION_SETUP…); 0 for the
    /// transform headers, whose command is encrypted.
    pub command: u16,
    /// True for a server response (SMB1 FLAGS_REPLY, SMB2 SERVER_TO_REDIR).
    pub is_response: bool,
    /// NEGOTIATE details, for NEGOTIATE messages.
    pub negotiate: Option<Negotiate>,
}

/// SMB1 NEGOTIATE (MS-SMB 2.2.4.52).
const SMB1_COM_NEGOTIATE: u8 = 0x72;
/// SMB2 NEGOTIATE (MS-SMB2 2.2.1).
const SMB2_NEGOTIATE: u16 = 0;
/// SMB2 header length (MS-SMB2 2.2.1.1 StructureSize).
const SMB2_HEADER_LEN: u16 = 64;
/// SMB1 header length (MS-SMB 2.2.3.1).
const SMB1_HEADER_LEN: usize = 32;

/// Parses the session-service header (type 0x00, 24-bit length as MS-SMB2 2.1 frames it on
/// tcp/445; on tcp/139 the high byte is RFC 1002's flags, 0 or 1) and the SMB header that
/// follows. `None` when the protocol identifier is not one of the four, or the SMB2
/// StructureSize is not 64.
pub fn parse_smb(payload: &[u8]) -> Option<SmbMessage> {
    let mut c = Cursor::new(payload);
    let [ty, l0, l1, l2] = c.array()?;
    if ty != 0x00 {
        return None;
    }
    let nbss_length = u32::from_be_bytes([0, l0, l1, l2]);
    let [p0, s, m, b] = c.array()?;
    if [s, m, b] != *b"SMB" {
        return None;
    }
    let kind = match p0 {
        0xFF => SmbKind::Smb1,
        0xFE => SmbKind::Smb2,
        0xFD => SmbKind::Transform,
        0xFC => SmbKind::Compressed,
        _ => return None,
    };
    let mut msg = SmbMessage {
        nbss_length,
        kind,
        command: 0,
        is_response: false,
        negotiate: None,
    };
    match kind {
        SmbKind::Smb1 => smb1(c, &mut msg)?,
        SmbKind::Smb2 => smb2(c, &mut msg)?,
        // MS-SMB2 2.2.41: Signature(16) Nonce(16) OriginalMessageSize(4) Reserved(2)
        // Flags/EncryptionAlgorithm(2) SessionId(8): check it is all there.
        SmbKind::Transform => {
            c.skip(32)?;
            let _original_size = c.le32()?;
            c.skip(12)?;
        }
        SmbKind::Compressed => {
            let _original_size = c.le32()?;
        }
    }
    Some(msg)
}

fn smb1(mut c: Cursor<'_>, msg: &mut SmbMessage) -> Option<()> {
    let command = c.u8()?;
    let _status = c.le32()?;
    let flags = c.u8()?;
    c.skip(SMB1_HEADER_LEN - 4 - 6)?;
    msg.command = u16::from(command);
    msg.is_response = flags & 0x80 != 0;
    if command == SMB1_COM_NEGOTIATE && !msg.is_response {
        let word_count = c.u8()?;
        c.skip(usize::from(word_count) * 2)?;
        let byte_count = c.le16()?;
        let rest = c.rest();
        let bytes = rest.get(..usize::from(byte_count)).unwrap_or(rest);
        let (mut count, mut smb2, mut wildcard) = (0u8, false, false);
        // Each dialect: 0x02 BufferFormat, then a NUL-terminated string.
        for entry in bytes.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let Some((&0x02, name)) = entry.split_first() else {
                break;
            };
            count = count.saturating_add(1);
            smb2 |= name == b"SMB 2.002";
            wildcard |= name == b"SMB 2.???";
        }
        msg.negotiate = Some(Negotiate::Smb1Request {
            dialect_count: count,
            offers_smb2_002: smb2,
            offers_smb2_wildcard: wildcard,
        });
    }
    Some(())
}

fn smb2(mut c: Cursor<'_>, msg: &mut SmbMessage) -> Option<()> {
    if c.le16()? != SMB2_HEADER_LEN {
        return None;
    }
    let _credit_charge = c.le16()?;
    let _status = c.le32()?;
    let command = c.le16()?;
    let _credits = c.le16()?;
    let flags = c.le32()?;
    c.skip(usize::from(SMB2_HEADER_LEN) - 20)?;
    msg.command = command;
    msg.is_response = flags & 0x0000_0001 != 0;
    if command != SMB2_NEGOTIATE {
        return Some(());
    }
    let structure_size = c.le16()?;
    if msg.is_response {
        // MS-SMB2 2.2.4: StructureSize 65, SecurityMode, DialectRevision.
        if structure_size != 65 {
            return None;
        }
        let _security_mode = c.le16()?;
        msg.negotiate = Some(Negotiate::Smb2Response(Dialect(c.le16()?)));
    } else {
        // MS-SMB2 2.2.3: StructureSize 36, DialectCount, … Dialects at body offset 36.
        if structure_size != 36 {
            return None;
        }
        let count = c.le16()?;
        c.skip(32)?;
        let mut dialects = Bounded::default();
        for _ in 0..count {
            let Some(d) = c.le16() else { break };
            dialects.push(Dialect(d));
        }
        msg.negotiate = Some(Negotiate::Smb2Request(dialects));
    }
    Some(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::super::test_util::hex;
    use super::*;
    use proptest::prelude::*;

    /// zeek/smb/smb311.pcap frame 1 (→ tcp/445, first 106 of 188 bytes): SMB2 NEGOTIATE
    /// request offering 3.1.1 only.
    const SMB311_NEGOTIATE: &str = concat!(
        "00 0000b8",                             // session message, 184 bytes
        "fe534d42 4000 0000 00000000 0000 0200", // SMB2, StructureSize 64, NEGOTIATE, 2 credits
        "00000000 00000000 0000000000000000",    // flags 0 (request), next command, message id 0
        "0b010000 00000000 0000000000000000",    // process id 0x10b, tree id, session id
        "00000000000000000000000000000000",      // signature
        "2400 0100 0100 0000 77000000", // StructureSize 36, 1 dialect, signing enabled, caps
        "b466f294dc014341828b4cefaf39f64b", // ClientGuid
        "68000000 0300 0000",           // negotiate contexts at 0x68, 3 of them
        "1103",                         // dialect 0x0311
    );
    /// Same file, frame 2 (first 76 of 312 bytes): the NEGOTIATE response choosing 3.1.1.
    const SMB311_RESPONSE: &str = concat!(
        "00 000134",
        "fe534d42 4000 0000 00000000 0000 0100 01000000", // NEGOTIATE, 1 credit, flags SERVER_TO_REDIR
        "00000000 0000000000000000 0b010000 00000000",    // next, message id, process id, tree id
        "00000000000000000000000000000000",               // session id (8) + signature (first 8)
        "0000000000000000",                               // signature (last 8)
        "4100 0300 1103 0200", // StructureSize 65, security mode, dialect 0x0311, 2 contexts
    );
    /// zeek/krb/kerberos_tso.pcapng frame 4 (→ tcp/445): the SMB1 multi-protocol NEGOTIATE
    /// Windows sends first.
    const SMB1_NEGOTIATE: &str = concat!(
        "00 000045",
        "ff534d42 72 00000000 18 53c8 0000 0000000000000000 0000 ffff fffe 0000 0000", // NEGOTIATE request, flags2 0xc853
        "00 2200",                    // WordCount 0, ByteCount 34
        "02 4e54204c4d20302e3132 00", // "NT LM 0.12"
        "02 534d4220322e303032 00",   // "SMB 2.002"
        "02 534d4220322e3f3f3f 00",   // "SMB 2.???"
    );

    /// An SMB 3 transform header per MS-SMB2 2.2.41 (no public capture in the set is
    /// encrypted): ProtocolId 0xFD 'SMB', Signature, Nonce, OriginalMessageSize 0x68,
    /// Reserved, Flags 0x0001 (encrypted), SessionId.
    const TRANSFORM: &str = concat!(
        "00 0000a4 fd534d42",
        "00112233445566778899aabbccddeeff",
        "0102030405060708090a0b0c0d0e0f10",
        "68000000 0000 0100 1100000000300000",
    );

    fn dialects(msg: &SmbMessage) -> Vec<u16> {
        match msg.negotiate.unwrap() {
            Negotiate::Smb2Request(d) => d.iter().map(|d| d.0).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn smb2_negotiate_request_and_response() {
        let req = parse_smb(&hex(SMB311_NEGOTIATE)).unwrap();
        assert_eq!(req.kind, SmbKind::Smb2);
        assert!(!req.is_response);
        assert_eq!(dialects(&req), [0x0311]);
        let resp = parse_smb(&hex(SMB311_RESPONSE)).unwrap();
        assert!(resp.is_response);
        assert_eq!(
            resp.negotiate,
            Some(Negotiate::Smb2Response(Dialect::SMB3_1_1))
        );
        assert_eq!(Dialect::SMB3_1_1.name(), "SMB 3.1.1");
        assert_eq!(Dialect::WILDCARD.name(), "SMB 2.???");
    }

    #[test]
    fn smb1_multi_protocol_negotiate() {
        let m = parse_smb(&hex(SMB1_NEGOTIATE)).unwrap();
        assert_eq!(m.kind.name(), "smb1");
        assert_eq!(m.command, 0x72);
        assert_eq!(
            m.negotiate,
            Some(Negotiate::Smb1Request {
                dialect_count: 3,
                offers_smb2_002: true,
                offers_smb2_wildcard: true
            })
        );
    }

    #[test]
    fn transform_header_is_encrypted_smb3() {
        let m = parse_smb(&hex(TRANSFORM)).unwrap();
        assert_eq!(m.kind, SmbKind::Transform);
        assert_eq!(m.negotiate, None);
    }

    #[test]
    fn mutations() {
        // StructureSize 64 → 65: not an SMB2 header.
        let mut size = hex(SMB311_NEGOTIATE);
        size[8] = 65;
        assert_eq!(parse_smb(&size), None);
        // ProtocolId 0xFB.
        let mut proto = hex(SMB311_NEGOTIATE);
        proto[4] = 0xfb;
        assert_eq!(parse_smb(&proto), None);
        // Session type 0x81 (a session request, not a message).
        let mut ty = hex(SMB311_NEGOTIATE);
        ty[0] = 0x81;
        assert_eq!(parse_smb(&ty), None);
        // Negotiate response StructureSize 65 → 36.
        let mut resp = hex(SMB311_RESPONSE);
        resp[68] = 36;
        assert_eq!(parse_smb(&resp), None);
        // DialectCount 1 → 9 with only one present: the one present is kept.
        let mut count = hex(SMB311_NEGOTIATE);
        count[70] = 9;
        assert_eq!(dialects(&parse_smb(&count).unwrap()), [0x0311]);
    }

    #[test]
    fn every_prefix_is_safe() {
        for vector in [SMB311_NEGOTIATE, SMB311_RESPONSE, SMB1_NEGOTIATE, TRANSFORM] {
            let bytes = hex(vector);
            for len in 0..bytes.len() {
                let m = parse_smb(&bytes[..len]);
                if len < 4 + 32 {
                    assert_eq!(m, None, "len {len}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_smb(&bytes);
            let mut framed = hex("00000100fe534d42");
            framed.extend_from_slice(&bytes);
            let _ = parse_smb(&framed);
        }
    }
}
