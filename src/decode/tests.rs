//! Byte-vector tests for the decoder: frames built with etherparse's PacketBuilder, then cut and
//! mutated; every case names what was changed.

use super::*;
use crate::capture::PacketPos;
use crate::time::Timestamp;
use etherparse::PacketBuilder;

const MAC_A: [u8; 6] = [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03];
const MAC_B: [u8; 6] = [0x00, 0x15, 0x5d, 0x0a, 0x0b, 0x0c];

fn raw(link: LinkType, data: &[u8], orig_len: usize) -> RawPacket<'_> {
    RawPacket {
        ts: Timestamp::ZERO,
        link,
        data,
        orig_len: orig_len as u32,
        pos: PacketPos::default(),
    }
}

fn tcp_syn_frame(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 1, 10, 21], [10, 1, 2, 21], 128)
        .tcp(50000, 3389, 1000, 64240)
        .syn();
    let mut frame = Vec::new();
    builder.write(&mut frame, payload).unwrap();
    frame
}

#[test]
fn tcp_syn_decodes_ports_and_flags() {
    let frame = tcp_syn_frame(&[]);
    let decoded = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap();
    let Decoded::Ip(ip) = decoded else {
        panic!("not IP: {decoded:?}")
    };
    assert_eq!(ip.src.to_string(), "10.1.10.21");
    assert_eq!(ip.ip_len as usize, frame.len() - 14);
    let Transport::Tcp(tcp) = ip.transport else {
        panic!("not TCP")
    };
    assert_eq!((tcp.src_port, tcp.dst_port, tcp.seq), (50000, 3389, 1000));
    assert_eq!(tcp.flags & tcp_flags::SYN, tcp_flags::SYN);
    assert_eq!(ip.anomaly, None);
}

#[test]
fn snaplen_cut_keeps_headers_and_wire_payload_length() {
    // A 100-byte payload, captured with only the first 60 bytes of the frame.
    let frame = tcp_syn_frame(&[0xAB; 100]);
    let cut = &frame[..60];
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, cut, frame.len())).unwrap() else {
        panic!()
    };
    let Transport::Tcp(tcp) = ip.transport else {
        panic!("not TCP")
    };
    assert_eq!(tcp.payload_len, 100, "wire payload length from orig_len");
    assert_eq!(tcp.payload.len(), 60 - 14 - 20 - 20);
    assert_eq!(ip.anomaly, None, "a snaplen cut is not an anomaly");
}

#[test]
fn ip_length_beyond_frame_is_an_anomaly_when_not_cut() {
    // Mutation: IPv4 total length (offset 14+2) raised by 50 while the frame stays as it is.
    let mut frame = tcp_syn_frame(&[1, 2, 3]);
    let total = u16::from_be_bytes([frame[16], frame[17]]) + 50;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap() else {
        panic!()
    };
    assert_eq!(
        ip.anomaly,
        Some(DecodeError::new(Layer::Ip, LengthMismatch))
    );
    assert!(
        matches!(ip.transport, Transport::Tcp(_)),
        "the ports still count"
    );
}

#[test]
fn every_prefix_of_a_frame_decodes_or_names_a_layer() {
    let frame = tcp_syn_frame(b"\x03\x00\x00\x13");
    for len in 0..=frame.len() {
        // As a snaplen cut (orig_len = full) and as a damaged frame (orig_len = cut).
        for orig in [frame.len(), len] {
            match decode(&raw(LinkType::ETHERNET, &frame[..len], orig)) {
                Ok(_) => {}
                Err(e) => assert!(matches!(e.layer, Layer::Link | Layer::Ip), "{len}: {e}"),
            }
        }
    }
    // Cut inside the Ethernet header: link layer.
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &frame[..10], frame.len()))
            .unwrap_err()
            .layer,
        Layer::Link
    );
    // Cut inside the IPv4 header: IP layer.
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &frame[..20], frame.len()))
            .unwrap_err()
            .layer,
        Layer::Ip
    );
}

#[test]
fn truncated_tcp_header_reports_tcp_layer() {
    // Damaged, not snaplen-cut: the frame claims to be whole but the TCP header is 10 bytes.
    let frame = tcp_syn_frame(&[]);
    let cut = &frame[..14 + 20 + 10];
    let mut fixed = cut.to_vec();
    // Mutation: IPv4 total length set to 30 so the IP layer is consistent with the cut.
    fixed[16..18].copy_from_slice(&30u16.to_be_bytes());
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &fixed, fixed.len())).unwrap() else {
        panic!()
    };
    assert_eq!(ip.anomaly, Some(DecodeError::new(Layer::Tcp, TooShort)));
    assert_eq!(ip.transport, Transport::Other { protocol: 6 });
}

#[test]
fn udp_over_ipv6() {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .udp(53000, 53);
    let mut frame = Vec::new();
    builder.write(&mut frame, b"query").unwrap();
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap() else {
        panic!()
    };
    assert_eq!(ip.dst.to_string(), "2001:db8::2");
    assert_eq!(
        ip.transport,
        Transport::Udp {
            src_port: 53000,
            dst_port: 53,
            payload_len: 5,
            payload: b"query"
        }
    );
}

#[test]
fn icmp_port_unreachable_quotes_the_udp_flow() {
    // The datagram that could not be delivered: 10.1.10.21:51000 -> 10.1.0.9:514.
    let quoted_builder = PacketBuilder::ipv4([10, 1, 10, 21], [10, 1, 0, 9], 128).udp(51000, 514);
    let mut quoted = Vec::new();
    quoted_builder.write(&mut quoted, b"<13>hello").unwrap();
    let builder = PacketBuilder::ethernet2(MAC_B, MAC_A)
        .ipv4([10, 1, 0, 9], [10, 1, 10, 21], 64)
        .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(
            etherparse::icmpv4::DestUnreachableHeader::Port,
        ));
    let mut frame = Vec::new();
    builder.write(&mut frame, &quoted[..28]).unwrap();
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap() else {
        panic!()
    };
    let Transport::Icmp(icmp) = ip.transport else {
        panic!("not ICMP")
    };
    assert!(icmp.is_unreachable());
    assert_eq!(icmp.code, 3);
    let q = icmp.quoted.unwrap();
    assert_eq!((q.protocol, q.src_port, q.dst_port), (17, 51000, 514));
    assert_eq!(q.dst.to_string(), "10.1.0.9");
}

#[test]
fn ipv4_fragments_are_marked() {
    // Mutation: set MF (more fragments) on a UDP packet: it becomes the first fragment.
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1000, 53);
    let mut frame = Vec::new();
    builder.write(&mut frame, &[0u8; 16]).unwrap();
    frame[14 + 6] |= 0x20;
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap() else {
        panic!()
    };
    assert_eq!(ip.fragment.map(|f| f.first), Some(true));
    assert!(matches!(ip.transport, Transport::Udp { dst_port: 53, .. }));
    // Mutation: fragment offset 1 (8 bytes): a later fragment, no transport header.
    frame[14 + 6] = 0x00;
    frame[14 + 7] = 0x01;
    let Decoded::Ip(ip) = decode(&raw(LinkType::ETHERNET, &frame, frame.len())).unwrap() else {
        panic!()
    };
    assert_eq!(ip.fragment.map(|f| f.first), Some(false));
    assert_eq!(
        ip.transport,
        Transport::Fragment {
            protocol: 17,
            payload_len: 24
        }
    );
}

#[test]
fn raw_and_null_links_reach_ip() {
    let frame = tcp_syn_frame(&[]);
    let ip_only = &frame[14..];
    assert!(matches!(
        decode(&raw(LinkType::RAW, ip_only, ip_only.len())),
        Ok(Decoded::Ip(_))
    ));
    let mut null = vec![2, 0, 0, 0];
    null.extend_from_slice(ip_only);
    assert!(matches!(
        decode(&raw(LinkType::NULL, &null, null.len())),
        Ok(Decoded::Ip(_))
    ));
}

#[test]
fn arp_is_non_ip() {
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x06]);
    frame.extend_from_slice(&[0u8; 28]);
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &frame, frame.len())),
        Ok(Decoded::NonIp(0x0806))
    );
}

#[test]
fn ipv6_extension_chain_cut_short_is_safe() {
    // Found by the pipeline fuzz target: IPv6 (raw link) claiming 100 payload bytes of a
    // hop-by-hop chain when only 46 follow. etherparse's extension iterator built an
    // out-of-bounds slice here; the decoder now walks the chain itself.
    let hex = "698b155d00640008021500150000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000350000000000000000150000";
    let frame: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    for len in 0..=frame.len() {
        let _ = decode(&raw(LinkType::RAW, &frame[..len], frame.len()));
    }
}

#[test]
fn ipv6_fragment_header_is_found_after_other_extensions() {
    // hop-by-hop (8 bytes) -> fragment (offset 0, M set, id 0x01020304) -> UDP
    let mut chain = vec![44, 0, 1, 4, 0, 0, 0, 0];
    chain.extend_from_slice(&[17, 0, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04]);
    let f = ipv6_fragment(IpNumber::IPV6_HEADER_HOP_BY_HOP, &chain).unwrap();
    assert_eq!((f.id, f.first), (0x0102_0304, true));
    // Mutation: offset 1 (8 bytes), M clear: the last fragment.
    chain[10..12].copy_from_slice(&(1u16 << 3).to_be_bytes());
    assert_eq!(
        ipv6_fragment(IpNumber::IPV6_HEADER_HOP_BY_HOP, &chain).map(|f| f.first),
        Some(false)
    );
    for len in 0..chain.len() {
        let _ = ipv6_fragment(IpNumber::IPV6_HEADER_HOP_BY_HOP, &chain[..len]);
    }
}

/// A short road's answer, when it gives one, is the general decoder's, for a packet cut by
/// the snapshot length or not.
fn agrees_with_the_general_road(
    short: Option<IpPacket<'_>>,
    bytes: &[u8],
    wire_len: usize,
) -> Result<(), proptest::test_runner::TestCaseError> {
    if let Some(short) = short {
        for truncated in [false, true] {
            proptest::prop_assert_eq!(Ok(short), decode_any_ip(bytes, wire_len, truncated));
        }
    }
    Ok(())
}

mod plain_ipv4_road {
    use super::*;
    use proptest::prelude::*;

    /// An IPv4 packet with chosen header fields (checksum left as is: neither road checks it)
    /// and random bytes after the fixed 20, then extra bytes as link padding.
    fn ipv4(ihl: u8, total_len: u16, flags_offset: u16, protocol: u8, rest: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x40 | (ihl & 0x0f), 0];
        bytes.extend_from_slice(&total_len.to_be_bytes());
        bytes.extend_from_slice(&[0x12, 0x34]);
        bytes.extend_from_slice(&flags_offset.to_be_bytes());
        bytes.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        bytes.extend_from_slice(rest);
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whenever the short road answers, it answers what the general one does.
        #[test]
        fn gives_what_the_general_decoder_gives(
            ihl in 4u8..8,
            total_len in 0u16..140,
            flags_offset in prop_oneof![Just(0u16), Just(0x4000), Just(0x2000), any::<u16>()],
            protocol in prop_oneof![Just(6u8), Just(17), Just(1), any::<u8>()],
            rest in proptest::collection::vec(any::<u8>(), 0..120),
            extra_wire in 0usize..64,
        ) {
            let bytes = ipv4(ihl, total_len, flags_offset, protocol, &rest);
            let wire_len = bytes.len() + extra_wire;
            agrees_with_the_general_road(plain_ipv4(&bytes, wire_len), &bytes, wire_len)?;
        }
    }

    #[test]
    fn takes_plain_tcp_and_udp_and_leaves_the_rest() {
        let frame = tcp_syn_frame(b"hello");
        // Ethernet II: the IP packet starts at byte 14.
        let ip = &frame[14..];
        assert!(plain_ipv4(ip, ip.len()).is_some());
        let mut fragment = ip.to_vec();
        fragment[6] = 0x20; // more fragments
        assert!(plain_ipv4(&fragment, fragment.len()).is_none());
        let mut cut = ip.to_vec();
        cut.truncate(ip.len() - 1); // total length beyond the bytes
        assert!(plain_ipv4(&cut, ip.len()).is_none());
    }
}

mod plain_ipv6_road {
    use super::*;
    use proptest::prelude::*;

    /// An IPv6 packet with a chosen payload length and next header, random bytes after the
    /// fixed 40 (a transport header or not), then extra bytes as link padding.
    fn ipv6(payload_len: u16, next_header: u8, rest: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x60, 0, 0, 0];
        bytes.extend_from_slice(&payload_len.to_be_bytes());
        bytes.extend_from_slice(&[next_header, 64]);
        bytes.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
        bytes.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        bytes.extend_from_slice(rest);
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whenever the short road answers, it answers what the general one does.
        #[test]
        fn gives_what_the_general_decoder_gives(
            payload_len in prop_oneof![Just(0u16), 1u16..140, any::<u16>()],
            // TCP, UDP, hop-by-hop, a fragment header, ICMPv6, anything.
            next_header in prop_oneof![Just(6u8), Just(17), Just(0), Just(44), Just(58), any::<u8>()],
            rest in proptest::collection::vec(any::<u8>(), 0..120),
            extra_wire in 0usize..64,
        ) {
            let bytes = ipv6(payload_len, next_header, &rest);
            let wire_len = bytes.len() + extra_wire;
            agrees_with_the_general_road(plain_ipv6(&bytes, wire_len), &bytes, wire_len)?;
        }
    }

    #[test]
    fn takes_plain_tcp_and_udp_and_leaves_the_rest() {
        // A SYN with a 20-byte TCP header: ports 50000 -> 3389, data offset 5, flags SYN.
        let mut tcp = vec![
            0xc3, 0x50, 0x0d, 0x3d, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0,
        ];
        tcp.extend_from_slice(&[0, 0, 0, 0]);
        let plain = ipv6(20, 6, &tcp);
        let packet = plain_ipv6(&plain, plain.len()).expect("plain TCP over IPv6");
        assert_eq!(packet.src, "fd00::a00:1".parse::<IpAddr>().unwrap());
        assert!(matches!(packet.transport, Transport::Tcp(s) if s.dst_port == 3389));
        // Behind a hop-by-hop header, cut short, or a jumbogram: the general road's.
        assert!(plain_ipv6(&ipv6(20, 0, &tcp), plain.len()).is_none());
        assert!(plain_ipv6(&ipv6(21, 6, &tcp), plain.len() + 1).is_none());
        assert!(plain_ipv6(&ipv6(0, 6, &tcp), plain.len()).is_none());
    }
}
