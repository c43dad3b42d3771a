//! RADIUS packets (RFC 2865 section 3, RFC 2866 section 3): code, identifier, length and the
//! attributes, with the User-Name (type 1) borrowed. NPS answers RD Gateway's authorization
//! requests on udp/1812 and accounting on udp/1813 (legacy 1645/1646).
//!
//! Owns the packet and attribute framing. Must not decrypt User-Password, allocate, or keep
//! state.

use super::Cursor;

/// Smallest and largest RADIUS packet (RFC 2865 3).
const MIN_LEN: u16 = 20;
const MAX_LEN: u16 = 4096;
/// User-Name attribute type (RFC 2865 5.1).
const ATTR_USER_NAME: u8 = 1;

/// RADIUS code (RFC 2865 3, RFC 2866 3, RFC 5176 3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Code(pub u8);

impl Code {
    /// Access-Request
    pub const ACCESS_REQUEST: Self = Self(1);
    /// Access-Accept
    pub const ACCESS_ACCEPT: Self = Self(2);
    /// Access-Reject
    pub const ACCESS_REJECT: Self = Self(3);
    /// Accounting-Request
    pub const ACCOUNTING_REQUEST: Self = Self(4);
    /// Accounting-Response
    pub const ACCOUNTING_RESPONSE: Self = Self(5);
    /// Access-Challenge
    pub const ACCESS_CHALLENGE: Self = Self(11);

    /// The RFC name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "Access-Request",
            2 => "Access-Accept",
            3 => "Access-Reject",
            4 => "Accounting-Request",
            5 => "Accounting-Response",
            11 => "Access-Challenge",
            12 => "Status-Server",
            13 => "Status-Client",
            40 => "Disconnect-Request",
            41 => "Disconnect-ACK",
            42 => "Disconnect-NAK",
            43 => "CoA-Request",
            44 => "CoA-ACK",
            45 => "CoA-NAK",
            _ => "unknown",
        }
    }

    fn is_defined(self) -> bool {
        self.name() != "unknown"
    }
}

/// A RADIUS packet header and the attributes rdsflows reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RadiusPacket<'a> {
    /// Code.
    pub code: Code,
    /// Identifier (matches a response to its request).
    pub identifier: u8,
    /// Length field.
    pub length: u16,
    /// User-Name, borrowed (not validated as UTF-8).
    pub user_name: Option<&'a [u8]>,
    /// Attributes read.
    pub attribute_count: u16,
}

/// Parses a RADIUS packet: a defined code, 20 <= Length <= 4096 with the whole packet present
/// (bytes after Length are padding and ignored, RFC 2865 3), and attributes (type, length >= 2)
/// that end exactly at Length. `None` otherwise.
pub fn parse_radius(payload: &[u8]) -> Option<RadiusPacket<'_>> {
    let mut c = Cursor::new(payload);
    let code = Code(c.u8()?);
    let identifier = c.u8()?;
    let length = c.be16()?;
    if !code.is_defined() || !(MIN_LEN..=MAX_LEN).contains(&length) {
        return None;
    }
    let packet = payload.get(..usize::from(length))?;
    let mut attrs = Cursor::new(packet.get(usize::from(MIN_LEN)..)?);
    let mut user_name = None;
    let mut attribute_count = 0u16;
    while !attrs.is_empty() {
        let ty = attrs.u8()?;
        let len = attrs.u8()?;
        let value = attrs.take(usize::from(len.checked_sub(2)?))?;
        if ty == ATTR_USER_NAME && user_name.is_none() {
            user_name = Some(value);
        }
        attribute_count = attribute_count.saturating_add(1);
    }
    Some(RadiusPacket {
        code,
        identifier,
        length,
        user_name,
        attribute_count,
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

    /// zeek/radius/radius_localhost.pcap frame 1 (→ udp/1812): Access-Request for "steve".
    const ACCESS_REQUEST: &str = concat!(
        "01 67 0057",                             // Access-Request, id 0x67, length 87
        "40b664dbf5d681b2adbd1769515118c8",       // Request Authenticator
        "01 07 7374657665",                       // User-Name "steve"
        "02 12 dbc6c4b758be14f005b3877c9e2fb601", // User-Password (hidden)
        "04 06 c0a8001c",                         // NAS-IP-Address 192.168.0.28
        "05 06 0000007b",                         // NAS-Port 123
        "50 12 5f0f8647e8c89bd881364268fcd04532", // Message-Authenticator
        "4f 0c 0266000a0173746576 65",            // EAP-Message: Response/Identity "steve"
    );
    /// arkime/radius.pcap frame 2 (→ udp/1813 client): Accounting-Response, no attributes.
    const ACCOUNTING_RESPONSE: &str = "05e3001400000000000000000000000000000000";

    #[test]
    fn access_request_user_name() {
        let bytes = hex(ACCESS_REQUEST);
        let p = parse_radius(&bytes).unwrap();
        assert_eq!(p.code, Code::ACCESS_REQUEST);
        assert_eq!(p.code.name(), "Access-Request");
        assert_eq!((p.identifier, p.length), (0x67, 87));
        assert_eq!(p.user_name, Some(&b"steve"[..]));
        assert_eq!(p.attribute_count, 6);
    }

    #[test]
    fn accounting_response_without_attributes() {
        let bytes = hex(ACCOUNTING_RESPONSE);
        let p = parse_radius(&bytes).unwrap();
        assert_eq!(p.code, Code::ACCOUNTING_RESPONSE);
        assert_eq!((p.user_name, p.attribute_count), (None, 0));
        // Padding after Length is ignored.
        let mut padded = hex(ACCOUNTING_RESPONSE);
        padded.extend_from_slice(&[0; 4]);
        assert!(parse_radius(&padded).is_some());
    }

    #[test]
    fn mutations() {
        let good = hex(ACCESS_REQUEST);
        // Length 87 → 86: the last attribute runs past the end.
        let mut len = good.clone();
        len[3] = 86;
        assert_eq!(parse_radius(&len), None);
        // Length 87 → 200: more than the bytes present.
        let mut long = good.clone();
        long[3] = 200;
        assert_eq!(parse_radius(&long), None);
        // An attribute length of 1 (< 2).
        let mut attr = good.clone();
        attr[21] = 1;
        assert_eq!(parse_radius(&attr), None);
        // Code 6 (undefined).
        let mut code = good;
        code[0] = 6;
        assert_eq!(parse_radius(&code), None);
        assert_eq!(Code(99).name(), "unknown");
    }

    #[test]
    fn every_prefix_is_safe() {
        let bytes = hex(ACCESS_REQUEST);
        for len in 0..bytes.len() {
            assert_eq!(parse_radius(&bytes[..len]), None, "len {len}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_radius(&bytes);
        }
    }
}
