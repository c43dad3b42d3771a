//! NetBIOS over TCP/IP (RFC 1001/1002): first-level name decoding (RFC 1002 4.1), the name
//! service on udp/137 (DNS-shaped, RFC 1002 4.2), the datagram service on udp/138 (RFC 1002
//! 4.4) and the session service on tcp/139 (RFC 1002 4.3: session request 0x81 and the
//! 4-byte header that also frames SMB on tcp/445).
//!
//! Owns the NetBIOS name encoding and these headers. Must not allocate (a decoded name is a
//! 16-byte value) or keep state.

use std::net::Ipv4Addr;

use super::dns::{parse_dns, DnsMessage, HEADER_LEN};
use super::Cursor;

/// Length of a first-level encoded name (two characters per byte of the 16-byte name).
pub const ENCODED_LEN: usize = 32;

/// A NetBIOS name: 15 characters (space padded) and the suffix byte that says what it is
/// (0x00 workstation, 0x20 file server, 0x1C domain controllers, 0x1B domain master browser…).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NetbiosName {
    /// The 15 name bytes, space padded.
    pub name: [u8; 15],
    /// The 16th byte.
    pub suffix: u8,
}

impl NetbiosName {
    /// The name without its trailing spaces (and NULs).
    pub fn trimmed(&self) -> &[u8] {
        let end = self
            .name
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i + 1);
        self.name.get(..end).unwrap_or_default()
    }

    /// True for the wildcard name `*` used by node status queries.
    pub fn is_wildcard(&self) -> bool {
        self.name.first() == Some(&b'*')
    }
}

/// Decodes a first-level encoded name (RFC 1002 4.1; RFC 1001 14.1): 32 characters 'A'..='P',
/// each the high or low nibble of a byte plus 'A'.
pub fn decode_first_level(encoded: &[u8]) -> Option<NetbiosName> {
    let chars = encoded.first_chunk::<ENCODED_LEN>()?;
    let mut bytes = [0u8; 16];
    for (out, pair) in bytes.iter_mut().zip(chars.chunks_exact(2)) {
        let [hi, lo] = <[u8; 2]>::try_from(pair).ok()?;
        if !(b'A'..=b'P').contains(&hi) || !(b'A'..=b'P').contains(&lo) {
            return None;
        }
        *out = ((hi - b'A') << 4) | (lo - b'A');
    }
    let [name @ .., suffix] = bytes;
    Some(NetbiosName { name, suffix })
}

/// Reads a length-prefixed encoded name (0x20 then 32 characters) and skips its scope labels
/// up to the terminating zero; returns the name and the bytes after it.
fn encoded_name(input: &[u8]) -> Option<(NetbiosName, &[u8])> {
    let mut c = Cursor::new(input);
    if c.u8()? != 0x20 {
        return None;
    }
    let name = decode_first_level(c.take(ENCODED_LEN)?)?;
    // NetBIOS scope (RFC 1002 4.1): further labels, at most 255 bytes in all.
    for _ in 0..64 {
        let len = c.u8()?;
        if len == 0 {
            return Some((name, c.rest()));
        }
        if len > 63 {
            return None;
        }
        c.skip(usize::from(len))?;
    }
    None
}

/// An NBNS packet (RFC 1002 4.2): the DNS-shaped message and the NetBIOS name it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NbnsMessage<'a> {
    /// Header and first question (NBNS responses carry the name in the answer, not a question).
    pub dns: DnsMessage<'a>,
    /// The decoded name of the question or, in a response, of the first answer.
    pub name: NetbiosName,
}

/// Parses an NBNS packet on udp/137: a DNS header, then at offset 12 the question name (or the
/// answer's, in a response with no question), which must be a first-level encoded NetBIOS
/// name. `None` for plain DNS names.
pub fn parse_nbns(payload: &[u8]) -> Option<NbnsMessage<'_>> {
    let dns = parse_dns(payload)?;
    let (name, _) = encoded_name(payload.get(HEADER_LEN..)?)?;
    let h = dns.header;
    if h.question_count == 0 && h.answer_count == 0 && h.additional_count == 0 {
        return None;
    }
    Some(NbnsMessage { dns, name })
}

/// NetBIOS datagram service message types (RFC 1002 4.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DatagramType(pub u8);

impl DatagramType {
    /// DIRECT_UNIQUE DATAGRAM
    pub const DIRECT_UNIQUE: Self = Self(0x10);
    /// DIRECT_GROUP DATAGRAM
    pub const DIRECT_GROUP: Self = Self(0x11);
    /// BROADCAST DATAGRAM
    pub const BROADCAST: Self = Self(0x12);

    /// The RFC 1002 name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x10 => "DIRECT_UNIQUE",
            0x11 => "DIRECT_GROUP",
            0x12 => "BROADCAST",
            0x13 => "DATAGRAM_ERROR",
            0x14 => "DATAGRAM_QUERY_REQUEST",
            0x15 => "DATAGRAM_POSITIVE_QUERY_RESPONSE",
            0x16 => "DATAGRAM_NEGATIVE_QUERY_RESPONSE",
            _ => "unknown",
        }
    }
}

/// An NBDGM header (RFC 1002 4.4.1, 4.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatagramHeader {
    /// MSG_TYPE.
    pub msg_type: DatagramType,
    /// SOURCE_IP.
    pub source_ip: Ipv4Addr,
    /// SOURCE_PORT.
    pub source_port: u16,
    /// SOURCE_NAME (types 0x10–0x12).
    pub source_name: Option<NetbiosName>,
    /// DESTINATION_NAME (types 0x10–0x12, and the queried name of 0x14–0x16).
    pub destination_name: Option<NetbiosName>,
}

/// Parses a NetBIOS datagram header on udp/138: MSG_TYPE 0x10..=0x16, FLAGS (only the
/// defined bits: M, F, SNT), DGM_ID, SOURCE_IP, SOURCE_PORT, then for direct and broadcast
/// datagrams DGM_LENGTH, PACKET_OFFSET and the two encoded names.
pub fn parse_nbdgm(payload: &[u8]) -> Option<DatagramHeader> {
    let mut c = Cursor::new(payload);
    let msg_type = DatagramType(c.u8()?);
    let flags = c.u8()?;
    if !(0x10..=0x16).contains(&msg_type.0) || flags & 0xF0 != 0 {
        return None;
    }
    let _dgm_id = c.be16()?;
    let source_ip = Ipv4Addr::from(c.array::<4>()?);
    let source_port = c.be16()?;
    let mut header = DatagramHeader {
        msg_type,
        source_ip,
        source_port,
        source_name: None,
        destination_name: None,
    };
    match msg_type.0 {
        0x10..=0x12 => {
            let _dgm_length = c.be16()?;
            let _packet_offset = c.be16()?;
            let (source, rest) = encoded_name(c.rest())?;
            let (destination, _) = encoded_name(rest)?;
            header.source_name = Some(source);
            header.destination_name = Some(destination);
        }
        0x14..=0x16 => header.destination_name = Some(encoded_name(c.rest())?.0),
        _ => {}
    }
    Some(header)
}

/// Session service packet types (RFC 1002 4.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionType(pub u8);

impl SessionType {
    /// SESSION MESSAGE: the payload (SMB) follows.
    pub const MESSAGE: Self = Self(0x00);
    /// SESSION REQUEST: called and calling names.
    pub const REQUEST: Self = Self(0x81);
    /// POSITIVE SESSION RESPONSE
    pub const POSITIVE_RESPONSE: Self = Self(0x82);
    /// NEGATIVE SESSION RESPONSE
    pub const NEGATIVE_RESPONSE: Self = Self(0x83);
    /// RETARGET SESSION RESPONSE
    pub const RETARGET_RESPONSE: Self = Self(0x84);
    /// SESSION KEEP ALIVE
    pub const KEEP_ALIVE: Self = Self(0x85);

    /// The RFC 1002 name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x00 => "SESSION_MESSAGE",
            0x81 => "SESSION_REQUEST",
            0x82 => "POSITIVE_SESSION_RESPONSE",
            0x83 => "NEGATIVE_SESSION_RESPONSE",
            0x84 => "RETARGET_SESSION_RESPONSE",
            0x85 => "SESSION_KEEP_ALIVE",
            _ => "unknown",
        }
    }
}

/// A session service header (RFC 1002 4.3.1) and, for a session request, its names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionHeader {
    /// TYPE.
    pub session_type: SessionType,
    /// LENGTH: bytes after the 4-byte header (17 bits: the low FLAGS bit extends it).
    pub length: u32,
    /// CALLED NAME of a session request.
    pub called: Option<NetbiosName>,
    /// CALLING NAME of a session request.
    pub calling: Option<NetbiosName>,
}

/// Parses a NetBIOS session service header (tcp/139, and the same framing for SMB on tcp/445):
/// a known TYPE, FLAGS with only the length-extension bit, and for a session request (0x81)
/// the two encoded names. A negative response must carry its 1-byte error code and a keep-alive
/// a zero length.
pub fn parse_nbss(payload: &[u8]) -> Option<SessionHeader> {
    let mut c = Cursor::new(payload);
    let session_type = SessionType(c.u8()?);
    let flags = c.u8()?;
    let low = c.be16()?;
    if flags & 0xFE != 0 {
        return None;
    }
    let length = (u32::from(flags & 1) << 16) | u32::from(low);
    let mut header = SessionHeader {
        session_type,
        length,
        called: None,
        calling: None,
    };
    match session_type.0 {
        0x00 | 0x82 => {}
        0x81 => {
            let (called, rest) = encoded_name(c.rest())?;
            let (calling, _) = encoded_name(rest)?;
            header.called = Some(called);
            header.calling = Some(calling);
        }
        0x83 if length == 1 => {}
        0x84 if length == 6 => {}
        0x85 if length == 0 => {}
        _ => return None,
    }
    Some(header)
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

    /// arkime/nbns.pcap frame 1 (→ udp/137): a registration of MDJR98<03>.
    const NBNS_REGISTRATION: &str = concat!(
        "0004 2900 0001 0000 0000 0001", // id, opcode 5 (registration), RD, B; 1 question, 1 additional
        "20 454e4545454b4643444a4449434143414341434143414341434143414341414400", // "MDJR98" padded, suffix 0x03
        "0020 0001",                                                             // NB, IN
        "c00c 0020 0001 000493e0 0006 0000 c0a8ef81", // additional: TTL, NB flags 0 (B node, unique), 192.168.239.129
    );
    /// arkime/nbns.pcap frame 30 (first 90 bytes, → udp/138): a browser announcement datagram.
    const NBDGM_DIRECT_GROUP: &str = "1102000cc0a8ef81008a00bb000020454e4545454b4643444a444943414341434143414341434143414341434141410020464845504643454c45484643455046464641434143414341434143414341424e00ff534d4225000000";
    /// ndpi/netbios.pcap frame 261 (→ tcp/139): the session request before SMB.
    const NBSS_REQUEST: &str = concat!(
        "81 00 0044", // SESSION REQUEST, length 68
        "20 454a4543454a454745494642444244424648464444414443444443414341434100", // called
        "20 464345504644454745494642444144484648464444414441444543414341414100", // calling
    );

    #[test]
    fn first_level_decoding() {
        let name = decode_first_level(b"ENEEEKFCDJDICACACACACACACACACAAD").unwrap();
        assert_eq!(name.trimmed(), b"MDJR98");
        assert_eq!(name.suffix, 0x03);
        assert_eq!(
            decode_first_level(b"ENEEEKFCDJDICACACACACACACACACAAQ"),
            None,
            "Q is not a nibble"
        );
        assert_eq!(decode_first_level(b"ENEE"), None);
        let wildcard = decode_first_level(b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(wildcard.is_wildcard());
    }

    #[test]
    fn nbns_registration() {
        let bytes = hex(NBNS_REGISTRATION);
        let m = parse_nbns(&bytes).unwrap();
        assert_eq!(m.dns.header.opcode(), 5);
        assert_eq!(m.name.trimmed(), b"MDJR98");
        assert_eq!(m.dns.question.unwrap().qtype.name(), "NB");
        // A plain DNS query is not NBNS.
        let dns = hex("de1f01000001000000000000055f6c646170045f746370026463065f6d7364637307636f6e746f736f03636f6d0000210001");
        assert_eq!(parse_nbns(&dns), None);
    }

    #[test]
    fn nbdgm_browser_announcement() {
        let d = parse_nbdgm(&hex(NBDGM_DIRECT_GROUP)).unwrap();
        assert_eq!(d.msg_type, DatagramType::DIRECT_GROUP);
        assert_eq!(d.source_ip, Ipv4Addr::new(192, 168, 239, 129));
        assert_eq!(d.source_port, 138);
        assert_eq!(d.source_name.unwrap().trimmed(), b"MDJR98");
        assert_eq!(d.destination_name.unwrap().trimmed(), b"WORKGROUP");
        assert_eq!(d.destination_name.unwrap().suffix, 0x1d);
    }

    #[test]
    fn session_request_names() {
        let s = parse_nbss(&hex(NBSS_REQUEST)).unwrap();
        assert_eq!(s.session_type, SessionType::REQUEST);
        assert_eq!(s.length, 68);
        assert_eq!(s.called.unwrap().trimmed(), b"IBIFHQ11WS023");
        assert_eq!(s.calling.unwrap().suffix, 0x00);
        assert_eq!(
            parse_nbss(&[0x85, 0, 0, 0]).unwrap().session_type.name(),
            "SESSION_KEEP_ALIVE"
        );
    }

    #[test]
    fn mutations() {
        let mut flags = hex(NBSS_REQUEST);
        flags[1] = 0x02; // FLAGS bit other than the length extension
        assert_eq!(parse_nbss(&flags), None);
        let mut ty = hex(NBSS_REQUEST);
        ty[0] = 0x86; // undefined session type
        assert_eq!(parse_nbss(&ty), None);
        let mut nibble = hex(NBSS_REQUEST);
        nibble[5] = b'Z'; // not 'A'..='P' in the called name
        assert_eq!(parse_nbss(&nibble), None);
        let mut dgm = hex(NBDGM_DIRECT_GROUP);
        dgm[0] = 0x17; // undefined datagram type
        assert_eq!(parse_nbdgm(&dgm), None);
        assert_eq!(
            parse_nbss(&[0x85, 0, 0, 1]),
            None,
            "keep-alive with a length"
        );
        assert_eq!(parse_nbss(b"\xffSMB"), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        let request = hex(NBSS_REQUEST);
        for len in 0..request.len() {
            assert_eq!(parse_nbss(&request[..len]), None, "len {len}");
        }
        let nbns = hex(NBNS_REGISTRATION);
        for len in 0..nbns.len() {
            let m = parse_nbns(&nbns[..len]);
            assert_eq!(m.is_some(), len >= 12 + 34 + 4, "len {len}");
        }
        let dgm = hex(NBDGM_DIRECT_GROUP);
        for len in 0..dgm.len() {
            let _ = parse_nbdgm(&dgm[..len]);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_nbns(&bytes);
            let _ = parse_nbdgm(&bytes);
            let _ = parse_nbss(&bytes);
            let _ = decode_first_level(&bytes);
        }
    }
}
