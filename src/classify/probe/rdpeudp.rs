//! RDP over UDP: the MS-RDPEUDP SYN and SYN+ACK datagrams that open a UDP transport on
//! udp/3389 (MS-RDPEUDP 2.2.2, 3.1.5.1), and a structural check for MS-RDPEUDP2 packets that
//! follow when version 0x0101 was negotiated (MS-RDPEUDP2 2.2.1).
//!
//! Reading arbitrary UDP as RDP-UDP "finds" flags in random bytes (clintcan/macrdp PR #67), so
//! the SYN test here is the full one: datagram size 1132..=1232, snSourceAck 0xFFFFFFFF, SYN
//! and not ACK, only defined flags, both MTUs in 1132..=1232, the optional structures the flags
//! announce, and every byte after them zero (the SYN is zero-padded to the MTU). A SYN+ACK is
//! tested the same way and then matched to its SYN by [`is_syn_ack_for`].
//!
//! Owns those byte rules. Must not keep state (matching a SYN+ACK to a SYN is the caller's, with
//! the two values), allocate, or decide on the data phase (TLS/DTLS is `tls`'s business).

use super::Cursor;

/// RDPUDP_FEC_HEADER uFlags bits (MS-RDPEUDP 2.2.2.1).
pub mod flags {
    /// RDPUDP_FLAG_SYN
    pub const SYN: u16 = 0x0001;
    /// RDPUDP_FLAG_FIN
    pub const FIN: u16 = 0x0002;
    /// RDPUDP_FLAG_ACK
    pub const ACK: u16 = 0x0004;
    /// RDPUDP_FLAG_DATA
    pub const DATA: u16 = 0x0008;
    /// RDPUDP_FLAG_FEC
    pub const FEC: u16 = 0x0010;
    /// RDPUDP_FLAG_CN
    pub const CN: u16 = 0x0020;
    /// RDPUDP_FLAG_CWR
    pub const CWR: u16 = 0x0040;
    /// RDPUDP_FLAG_SACK_OPTION
    pub const SACK_OPTION: u16 = 0x0080;
    /// RDPUDP_FLAG_ACK_OF_ACKS
    pub const ACK_OF_ACKS: u16 = 0x0100;
    /// RDPUDP_FLAG_SYNLOSSY: lossy (DTLS) mode, no retransmission.
    pub const SYNLOSSY: u16 = 0x0200;
    /// RDPUDP_FLAG_ACKDELAYED
    pub const ACKDELAYED: u16 = 0x0400;
    /// RDPUDP_FLAG_CORRELATION_ID: an RDPUDP_CORRELATION_ID_PAYLOAD follows the SYN data.
    pub const CORRELATION_ID: u16 = 0x0800;
    /// RDPUDP_FLAG_SYNEX: an RDPUDP_SYNDATAEX_PAYLOAD follows.
    pub const SYNEX: u16 = 0x1000;
    /// Every bit MS-RDPEUDP defines.
    pub const DEFINED: u16 = 0x1FFF;
}

/// Smallest MTU and SYN datagram size (MS-RDPEUDP 3.1.5.1.1).
pub const MIN_MTU: u16 = 1132;
/// Largest MTU and SYN datagram size.
pub const MAX_MTU: u16 = 1232;
/// snSourceAck of a SYN: -1.
const SYN_SOURCE_ACK: u32 = 0xFFFF_FFFF;

/// uUdpVer of RDPUDP_SYNDATAEX_PAYLOAD (MS-RDPEUDP 2.2.2.9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct UdpVersion(pub u16);

impl UdpVersion {
    /// RDPUDP_PROTOCOL_VERSION_1
    pub const V1: Self = Self(0x0001);
    /// RDPUDP_PROTOCOL_VERSION_2
    pub const V2: Self = Self(0x0002);
    /// RDPUDP_PROTOCOL_VERSION_3: the data phase is MS-RDPEUDP2.
    pub const V3: Self = Self(0x0101);

    /// `RDPUDP_PROTOCOL_VERSION_1/2/3` or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x0001 => "RDPUDP_PROTOCOL_VERSION_1",
            0x0002 => "RDPUDP_PROTOCOL_VERSION_2",
            0x0101 => "RDPUDP_PROTOCOL_VERSION_3",
            _ => "unknown",
        }
    }

    /// True when the data phase that follows is MS-RDPEUDP2 (MS-RDPEUDP2 1.3.1: a version
    /// above VERSION_2).
    pub fn is_rdpeudp2(self) -> bool {
        self == Self::V3
    }
}

/// Which handshake datagram this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynKind {
    /// The client's SYN (snSourceAck −1).
    Syn,
    /// The server's SYN+ACK, acknowledging the client's initial sequence number.
    SynAck {
        /// snSourceAck: the client's snInitialSequenceNumber.
        acked: u32,
    },
}

/// A SYN or SYN+ACK datagram (MS-RDPEUDP 3.1.5.1.1 and 3.1.5.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynDatagram {
    /// SYN or SYN+ACK.
    pub kind: SynKind,
    /// uReceiveWindowSize.
    pub receive_window: u16,
    /// uFlags ([`flags`]).
    pub flags: u16,
    /// snInitialSequenceNumber.
    pub initial_sequence: u32,
    /// uUpStreamMtu.
    pub up_mtu: u16,
    /// uDownStreamMtu.
    pub down_mtu: u16,
    /// uCorrelationId (MS-RDPEUDP 2.2.2.8): the RDP_NEG_CORRELATION_INFO ID of the TCP
    /// connection (MS-RDPBCGR 2.2.1.1.2).
    pub correlation_id: Option<[u8; 16]>,
    /// uUdpVer when RDPUDP_SYNDATAEX_PAYLOAD is present with VERSION_INFO_VALID; version 1 is
    /// used when either side omits it (MS-RDPEUDP 1.7).
    pub version: Option<UdpVersion>,
    /// cookieHash (SHA-256 of the securityCookie, MS-RDPEUDP 2.2.2.9), in a client SYN
    /// offering version 3 when it is not all zeros.
    pub cookie_hash: Option<[u8; 32]>,
}

impl SynDatagram {
    /// True when the client asked for lossy mode (DTLS data phase).
    pub fn is_lossy(&self) -> bool {
        self.flags & flags::SYNLOSSY != 0
    }
}

/// Parses a client SYN datagram with the full test described in the module docs.
pub fn parse_syn(payload: &[u8]) -> Option<SynDatagram> {
    parse_handshake(payload).filter(|d| d.kind == SynKind::Syn)
}

/// Parses a server SYN+ACK datagram (same tests, flags SYN|ACK, snSourceAck = the client's
/// initial sequence number).
pub fn parse_syn_ack(payload: &[u8]) -> Option<SynDatagram> {
    parse_handshake(payload).filter(|d| matches!(d.kind, SynKind::SynAck { .. }))
}

/// True when `syn_ack` answers `syn`: its snSourceAck is the SYN's snInitialSequenceNumber
/// (MS-RDPEUDP 3.1.5.1.3).
pub fn is_syn_ack_for(syn: &SynDatagram, syn_ack: &SynDatagram) -> bool {
    syn.kind == SynKind::Syn
        && syn_ack.kind
            == (SynKind::SynAck {
                acked: syn.initial_sequence,
            })
}

fn parse_handshake(payload: &[u8]) -> Option<SynDatagram> {
    let size = u16::try_from(payload.len()).ok()?;
    if !(MIN_MTU..=MAX_MTU).contains(&size) {
        return None;
    }
    let mut c = Cursor::new(payload);
    let source_ack = c.be32()?;
    let receive_window = c.be16()?;
    let flags = c.be16()?;
    if flags & !flags::DEFINED != 0 || flags & flags::SYN == 0 {
        return None;
    }
    let kind = match (source_ack, flags & flags::ACK != 0) {
        (SYN_SOURCE_ACK, false) => SynKind::Syn,
        (acked, true) if acked != SYN_SOURCE_ACK => SynKind::SynAck { acked },
        _ => return None,
    };
    // A SYN carries no data, FEC or acknowledgement structures.
    if flags & (flags::DATA | flags::FEC | flags::FIN | flags::SACK_OPTION | flags::ACK_OF_ACKS)
        != 0
    {
        return None;
    }
    let initial_sequence = c.be32()?;
    let up_mtu = c.be16()?;
    let down_mtu = c.be16()?;
    let mtu_range = MIN_MTU..=MAX_MTU;
    if !mtu_range.contains(&up_mtu) || !mtu_range.contains(&down_mtu) {
        return None;
    }
    let mut correlation_id = None;
    if flags & flags::CORRELATION_ID != 0 {
        correlation_id = Some(c.array::<16>()?);
        // uReserved: 16 bytes that MUST be zero (MS-RDPEUDP 2.2.2.8).
        if c.take(16)?.iter().any(|&b| b != 0) {
            return None;
        }
    }
    let mut version = None;
    let mut cookie_hash = None;
    if flags & flags::SYNEX != 0 {
        let syn_ex_flags = c.be16()?;
        let ver = UdpVersion(c.be16()?);
        if syn_ex_flags & 0x0001 != 0 {
            version = Some(ver);
        }
        if kind == SynKind::Syn && ver == UdpVersion::V3 {
            let hash = c.array::<32>()?;
            cookie_hash = hash.iter().any(|&b| b != 0).then_some(hash);
        }
    }
    // The rest is the zero padding up to the MTU.
    if c.rest().iter().any(|&b| b != 0) {
        return None;
    }
    Some(SynDatagram {
        kind,
        receive_window,
        flags,
        initial_sequence,
        up_mtu,
        down_mtu,
        correlation_id,
        version,
        cookie_hash,
    })
}

/// MS-RDPEUDP2 packet types (MS-RDPEUDP2 2.2.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct V2PacketType(pub u8);

impl V2PacketType {
    /// A data/acknowledgement packet.
    pub const DATA: Self = Self(0);
    /// A dummy packet (padding / probing).
    pub const DUMMY: Self = Self(8);

    /// "data", "dummy" or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "data",
            8 => "dummy",
            _ => "unknown",
        }
    }
}

/// The header of an MS-RDPEUDP2 packet after the byte swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V2Packet {
    /// PacketType from the prefix byte: 0 or 8.
    pub packet_type: V2PacketType,
    /// ShortPacketLength from the prefix byte.
    pub short_length: u8,
    /// The 12 header flag bits (ACK 0x001, DATA 0x004, ACKVEC 0x008, AOA 0x010, OVERHEADSIZE
    /// 0x040, DELAYACKINFO 0x100).
    pub flags: u16,
    /// LogWindowSize.
    pub log_window_size: u8,
}

/// Header flag bits MS-RDPEUDP2 2.2.1.1 defines.
const V2_DEFINED_FLAGS: u16 = 0x15D;
/// ACK and ACKVEC must not both be set.
const V2_ACK_AND_ACKVEC: u16 = 0x009;

/// Checks the structure of an MS-RDPEUDP2 packet (MS-RDPEUDP2 2.2.1.1): on the wire bytes 0
/// and 7 are swapped; after swapping back, byte 0 is the PacketPrefixByte (reserved bit 0
/// clear, PacketType 0 or 8, as the Microsoft test suite reads it: bit 0 reserved, bits 1–4
/// type, bits 5–7 short length) and bytes 1–2 the header (12 flag bits little-endian, then
/// LogWindowSize), with only defined flags and not both ACK and ACKVEC.
///
/// This is a weak test on its own (one datagram in a few dozen random ones passes): use it only
/// on a flow whose SYN and SYN+ACK negotiated [`UdpVersion::V3`].
pub fn parse_rdpeudp2(payload: &[u8]) -> Option<V2Packet> {
    let &[_, header0, header1, _, _, _, _, prefix] = payload.first_chunk::<8>()?;
    if prefix & 0x01 != 0 {
        return None;
    }
    let packet_type = V2PacketType((prefix >> 1) & 0x0F);
    if packet_type != V2PacketType::DATA && packet_type != V2PacketType::DUMMY {
        return None;
    }
    let header = u16::from_le_bytes([header0, header1]);
    let flags = header & 0x0FFF;
    if flags & !V2_DEFINED_FLAGS != 0 || flags & V2_ACK_AND_ACKVEC == V2_ACK_AND_ACKVEC {
        return None;
    }
    Some(V2Packet {
        packet_type,
        short_length: prefix >> 5,
        flags,
        log_window_size: (header >> 12) as u8,
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

    /// The captured datagrams are 1232 bytes; everything after the first 52 is zero padding
    /// (checked with tshark when the vectors were taken), so the vectors keep the head only.
    fn padded(head: &str) -> Vec<u8> {
        let mut v = hex(head);
        v.resize(1232, 0);
        v
    }

    /// zeek/rdp/rdpeudp-handshake-success.pcap frame 1 (61291 → udp/3389): client SYN.
    const SUCCESS_SYN: &str = concat!(
        "ffffffff 0040 1801", // snSourceAck -1, window 64, SYN|CORRELATION_ID|SYNEX
        "0b127f15 04d0 04d0", // ISN, up/down MTU 1232
        "7855d064fbaf43f0b6e8f8aadfad0000", // uCorrelationId
        "00000000000000000000000000000000", // uReserved
        "0001 0003",          // uSynExFlags VERSION_INFO_VALID, uUdpVer 0x0003
    );
    /// Same file, frame 2 (udp/3389 → 61291): SYN+ACK acknowledging 0x0b127f15, version 2.
    const SUCCESS_SYN_ACK: &str = concat!(
        "0b127f15 0040 1005", // snSourceAck = client ISN, SYN|ACK|SYNEX
        "0f94ea0b 04d0 04d0", // server ISN, MTUs
        "0001 0002",          // VERSION_INFO_VALID, RDPUDP_PROTOCOL_VERSION_2
    );
    /// zeek/rdp/rdpeudp-handshake-fail.pcap frame 1: the SYN that is retransmitted unanswered.
    const FAIL_SYN: &str = "ffffffff00401801ee4071dc04d004d0f8530360ca7f4241a67374e5201a00000000000000000000000000000000000000010002";
    /// ndpi/rdp2.pcap frame 1: client SYN offering version 3 (MS-RDPEUDP2), no cookie hash.
    const RDP2_SYN: &str = "ffffffff00401801bbff568704d004d0a69040c1df7948b78fa08c4d636300000000000000000000000000000000000000010101";
    /// ndpi/rdp2.pcap frame 2: SYN+ACK choosing version 3.
    const RDP2_SYN_ACK: &str = "bbff5687004010054d67796604d004d000010101";
    /// ndpi/rdp2.pcap frame 3 (first 16 of 145 bytes): an MS-RDPEUDP2 data packet; bytes 0
    /// and 7 swapped: prefix 0xe0 = type 0 (data), short length 7; header 0x114 flags
    /// (DATA|AOA|DELAYACKINFO), log window 0xc.
    const RDP2_DATA: &str = "0014c101f40164e06400010016030200";
    /// ndpi/rdp2.pcap frame 4 (first 16 of 1007 bytes): a dummy packet (prefix 0xf0, type 8).
    const RDP2_DUMMY: &str = "0014c064006500f00000000000000000";
    /// zeek/rdp/rdpeudp-handshake-success.pcap frame 3 (first 16 bytes): a v1 data datagram
    /// carrying TLS; not a SYN.
    const SUCCESS_DATA: &str = "0f94ea0b0400000c000000000b127f16";

    #[test]
    fn client_syn_with_correlation_id_and_version() {
        let syn = parse_syn(&padded(SUCCESS_SYN)).unwrap();
        assert_eq!(syn.kind, SynKind::Syn);
        assert_eq!(syn.initial_sequence, 0x0b12_7f15);
        assert_eq!((syn.up_mtu, syn.down_mtu), (1232, 1232));
        assert_eq!(
            syn.correlation_id,
            Some(hex("7855d064fbaf43f0b6e8f8aadfad0000").try_into().unwrap())
        );
        assert_eq!(syn.version, Some(UdpVersion(3)));
        assert_eq!(
            UdpVersion(3).name(),
            "unknown",
            "0x0003 is not a defined version"
        );
        assert!(!syn.is_lossy());
        assert_eq!(
            parse_syn_ack(&padded(SUCCESS_SYN)),
            None,
            "a SYN is not a SYN+ACK"
        );
    }

    #[test]
    fn server_syn_ack_matches_its_syn() {
        let syn = parse_syn(&padded(SUCCESS_SYN)).unwrap();
        let ack = parse_syn_ack(&padded(SUCCESS_SYN_ACK)).unwrap();
        assert_eq!(ack.kind, SynKind::SynAck { acked: 0x0b12_7f15 });
        assert_eq!(ack.version, Some(UdpVersion::V2));
        assert!(is_syn_ack_for(&syn, &ack));
        let other = parse_syn(&padded(FAIL_SYN)).unwrap();
        assert!(!is_syn_ack_for(&other, &ack), "another client's SYN");
    }

    #[test]
    fn rdpeudp2_is_negotiated_then_recognised() {
        let syn = parse_syn(&padded(RDP2_SYN)).unwrap();
        assert_eq!(syn.version, Some(UdpVersion::V3));
        assert_eq!(
            syn.cookie_hash, None,
            "the hash bytes are zero in this capture"
        );
        let ack = parse_syn_ack(&padded(RDP2_SYN_ACK)).unwrap();
        assert!(is_syn_ack_for(&syn, &ack) && ack.version.unwrap().is_rdpeudp2());
        let data = parse_rdpeudp2(&hex(RDP2_DATA)).unwrap();
        assert_eq!(data.packet_type, V2PacketType::DATA);
        assert_eq!(
            (data.short_length, data.flags, data.log_window_size),
            (7, 0x114, 0xc)
        );
        let dummy = parse_rdpeudp2(&hex(RDP2_DUMMY)).unwrap();
        assert_eq!(dummy.packet_type.name(), "dummy");
    }

    #[test]
    fn mutations_fail_the_full_syn_test() {
        let good = padded(SUCCESS_SYN);
        // One padding byte set: the SYN is zero-padded, so this is not a SYN.
        let mut pad = good.clone();
        pad[900] = 1;
        assert_eq!(parse_syn(&pad), None);
        // Upstream MTU 1232 → 1233 (0x04d1): out of range.
        let mut mtu = good.clone();
        mtu[13] = 0xd1;
        assert_eq!(parse_syn(&mtu), None);
        // One byte shorter than the smallest MTU.
        assert_eq!(parse_syn(&good[..1131]), None);
        // The same SYN cut to 1132 bytes is still a SYN (padding to a smaller MTU).
        assert!(parse_syn(&good[..1132]).is_some());
        // ACK added while snSourceAck stays -1: neither SYN nor SYN+ACK.
        let mut ack = good.clone();
        ack[7] |= 0x04;
        assert_eq!(parse_syn(&ack), None);
        assert_eq!(parse_syn_ack(&ack), None);
        // Undefined flag 0x2000.
        let mut undefined = good.clone();
        undefined[6] |= 0x20;
        assert_eq!(parse_syn(&undefined), None);
        // Correlation reserved byte set.
        let mut reserved = good.clone();
        reserved[40] = 1;
        assert_eq!(parse_syn(&reserved), None);
        // DATA on a SYN.
        let mut data = good;
        data[7] |= 0x08;
        assert_eq!(parse_syn(&data), None);
        // v2 prefix with the reserved bit set.
        let mut v2 = hex(RDP2_DATA);
        v2[7] |= 1;
        assert_eq!(parse_rdpeudp2(&v2), None);
    }

    #[test]
    fn data_datagrams_and_other_udp_are_not_syns() {
        assert_eq!(parse_syn(&hex(SUCCESS_DATA)), None);
        let mut big_data = hex(SUCCESS_DATA);
        big_data.resize(1200, 0);
        assert_eq!(
            parse_syn(&big_data),
            None,
            "snSourceAck is not -1, no SYN flag"
        );
        let dns = hex("5c6f0100000100000000000003777777076578616d706c6503636f6d0000010001");
        assert_eq!(parse_syn(&dns), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        for vector in [SUCCESS_SYN, SUCCESS_SYN_ACK, RDP2_SYN] {
            let bytes = padded(vector);
            for len in 0..bytes.len() {
                let syn = parse_syn(&bytes[..len]);
                let ack = parse_syn_ack(&bytes[..len]);
                if len < usize::from(MIN_MTU) {
                    assert!(syn.is_none() && ack.is_none());
                }
                let _ = parse_rdpeudp2(&bytes[..len]);
            }
        }
        for len in 0..8 {
            assert_eq!(parse_rdpeudp2(&hex(RDP2_DATA)[..len]), None);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1300)) {
            let _ = parse_syn(&bytes);
            let _ = parse_syn_ack(&bytes);
            let _ = parse_rdpeudp2(&bytes);
        }

        /// Random UDP of SYN size is not a SYN (the false-hit trap of macrdp PR #67).
        #[test]
        fn random_syn_sized_datagrams_are_not_syns(bytes in proptest::collection::vec(any::<u8>(), 1132..=1232)) {
            prop_assert!(parse_syn(&bytes).is_none());
            prop_assert!(parse_syn_ack(&bytes).is_none());
        }

        /// Even with a valid head, random bytes in the padding are rejected.
        #[test]
        fn random_padding_is_rejected(tail in proptest::collection::vec(any::<u8>(), 1100..1180)) {
            let mut bytes = hex(SUCCESS_SYN);
            bytes.extend_from_slice(&tail);
            prop_assume!(tail.iter().any(|&b| b != 0));
            prop_assert!(parse_syn(&bytes).is_none());
        }
    }
}
