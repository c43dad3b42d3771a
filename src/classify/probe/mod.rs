//! Payload checks: small, bounded tests on the first bytes of a flow's payload, each citing the
//! specification it follows. Owns byte-level recognition; must not keep state, allocate, or
//! index bytes without a check. More protocols plug in here (issue: payload checks).

/// The fixed part of a connection-oriented DCE/RPC PDU header (C706 section 12.6.3.1; MS-RPCE 2.2.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DceRpcHeader {
    /// PDU type: 0 request, 2 response, 3 fault, 11 bind, 12 bind_ack, 13 bind_nak, 14 alter_context…
    pub ptype: u8,
    /// Fragment length, in the byte order the data representation names.
    pub frag_length: u16,
}

/// DCE/RPC packet types this crate names (C706 section 12.6.4).
pub mod dcerpc_ptype {
    /// request
    pub const REQUEST: u8 = 0;
    /// response
    pub const RESPONSE: u8 = 2;
    /// bind
    pub const BIND: u8 = 11;
    /// bind_ack
    pub const BIND_ACK: u8 = 12;
    /// The highest PTYPE defined (rts, MS-RPCH 2.2.3.6.2).
    pub const MAX: u8 = 20;
}

/// Length of the connection-oriented common header (C706 12.6.3.1).
const DCERPC_CO_HEADER_LEN: u16 = 16;

/// Recognises a connection-oriented DCE/RPC PDU header: version 5, minor 0 or 1, a defined
/// PTYPE, an integer/character representation byte with only the defined bits set
/// (`drep[0] & 0xEE == 0`: 0x10 little-endian or 0x00 big-endian, ASCII), and a fragment
/// length no shorter than the header itself.
pub fn probe_dcerpc(payload: &[u8]) -> Option<DceRpcHeader> {
    let &[version, minor, ptype, _flags, drep0, _drep1, _drep2, _drep3, len0, len1] =
        payload.first_chunk::<10>()?;
    if version != 5 || minor > 1 || ptype > dcerpc_ptype::MAX || drep0 & 0xEE != 0 {
        return None;
    }
    let frag_length = if drep0 & 0x10 != 0 {
        u16::from_le_bytes([len0, len1])
    } else {
        u16::from_be_bytes([len0, len1])
    };
    (frag_length >= DCERPC_CO_HEADER_LEN).then_some(DceRpcHeader { ptype, frag_length })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bind PDU header as Windows sends it to the endpoint mapper (little-endian drep,
    /// frag_length 0x0074 = 116): 05 00 0b 03 10 00 00 00 74 00 00 00 02 00 00 00.
    const BIND_HEADER: [u8; 16] = [
        0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00, 0x74, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00,
    ];

    #[test]
    fn bind_header_is_recognised() {
        assert_eq!(
            probe_dcerpc(&BIND_HEADER),
            Some(DceRpcHeader {
                ptype: dcerpc_ptype::BIND,
                frag_length: 116
            })
        );
    }

    #[test]
    fn mutations_are_rejected() {
        let mut wrong_version = BIND_HEADER;
        wrong_version[0] = 4; // connectionless version: not a CO PDU
        assert_eq!(probe_dcerpc(&wrong_version), None);
        let mut bad_drep = BIND_HEADER;
        bad_drep[4] = 0x20; // integer representation 2: undefined (only 0 big, 1 little endian)
        assert_eq!(probe_dcerpc(&bad_drep), None);
        let mut short_frag = BIND_HEADER;
        short_frag[8] = 0x08; // frag_length 8 < header length
        assert_eq!(probe_dcerpc(&short_frag), None);
        assert_eq!(
            probe_dcerpc(b"\x03\x00\x00\x13\x0e\xe0"),
            None,
            "TPKT is not DCE/RPC"
        );
    }

    #[test]
    fn every_prefix_is_safe() {
        for len in 0..BIND_HEADER.len() {
            let result = probe_dcerpc(&BIND_HEADER[..len]);
            assert_eq!(result.is_some(), len >= 10);
        }
    }
}
