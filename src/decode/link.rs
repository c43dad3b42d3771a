//! Link layers: from a frame of a given `LinkType` to the network-layer bytes and their EtherType.
//! Owns Ethernet (with 802.1Q/802.1ad tags and PPPoE sessions), Linux SLL/SLL2, BSD null/loop and
//! raw IP; must not look past the network-layer boundary.

use super::error::{DecodeError, DecodeErrorKind::*, Layer};
use crate::capture::LinkType;

/// EtherType values the decoder acts on (IEEE 802 numbers, iana.org ieee-802-numbers).
pub mod ether_type {
    /// Internet Protocol version 4.
    pub const IPV4: u16 = 0x0800;
    /// Internet Protocol version 6.
    pub const IPV6: u16 = 0x86DD;
    /// IEEE 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad provider bridging (QinQ outer tag).
    pub const QINQ: u16 = 0x88A8;
    /// Pre-standard QinQ outer tag used by some switches.
    pub const QINQ_OLD: u16 = 0x9100;
    /// PPPoE session stage (RFC 2516 section 4).
    pub const PPPOE_SESSION: u16 = 0x8864;
}

/// Ethernet II header length: two MAC addresses and the EtherType.
const ETHERNET_HEADER_LEN: usize = 14;
/// An 802.1Q tag: TCI (2) then the inner EtherType (2).
const VLAN_TAG_LEN: usize = 4;
/// PPPoE header (RFC 2516 section 4): ver/type, code, session id, length, then PPP protocol (2).
const PPPOE_HEADER_LEN: usize = 6;
/// Linux cooked capture v1 header; the protocol (EtherType) is its last 2 bytes.
const SLL_HEADER_LEN: usize = 16;
/// Linux cooked capture v2 header; the protocol (EtherType) is its first 2 bytes.
const SLL2_HEADER_LEN: usize = 20;
/// BSD loopback: a 4-byte address family.
const NULL_HEADER_LEN: usize = 4;
/// At most this many stacked VLAN tags are peeled (QinQ is 2; more is almost surely garbage).
const MAX_VLAN_TAGS: usize = 4;

/// The network layer a link layer carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network<'a> {
    /// IPv4 or IPv6 bytes (the version nibble decides).
    Ip(&'a [u8]),
    /// Something that is not IP (ARP, LLDP, 802.3 LLC…), by EtherType.
    Other(u16),
    /// A link type rdsflows does not decode.
    UnsupportedLink(LinkType),
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*pair.first()?, *pair.get(1)?]))
}

fn rest(bytes: &[u8], from: usize) -> &[u8] {
    bytes.get(from..).unwrap_or_default()
}

/// Strips the link layer of `frame`.
///
/// # Errors
/// A `DecodeError` naming the link, VLAN or PPPoE layer when the frame is too short for it.
pub(crate) fn strip(link: LinkType, frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    match link {
        LinkType::ETHERNET => {
            let ty = be_u16(frame, 12).ok_or(DecodeError::new(Layer::Link, TooShort))?;
            // IEEE 802.3: values up to 1500 are a length (LLC frames), not an EtherType.
            if ty < 0x0600 {
                return Ok(Network::Other(ty));
            }
            by_ether_type(ty, rest(frame, ETHERNET_HEADER_LEN))
        }
        LinkType::LINUX_SLL => {
            let ty = be_u16(frame, 14).ok_or(DecodeError::new(Layer::Link, TooShort))?;
            by_ether_type(ty, rest(frame, SLL_HEADER_LEN))
        }
        LinkType::LINUX_SLL2 => {
            if frame.len() < SLL2_HEADER_LEN {
                return Err(DecodeError::new(Layer::Link, TooShort));
            }
            let ty = be_u16(frame, 0).ok_or(DecodeError::new(Layer::Link, TooShort))?;
            by_ether_type(ty, rest(frame, SLL2_HEADER_LEN))
        }
        LinkType::NULL | LinkType::LOOP => {
            if frame.len() < NULL_HEADER_LEN {
                return Err(DecodeError::new(Layer::Link, TooShort));
            }
            // The family is in the writer's byte order (NULL) or network order (LOOP); AF_INET is
            // 2 everywhere, AF_INET6 is 10, 24, 28 or 30 depending on the OS. Rather than guess
            // the order, trust the IP version nibble, which both cases carry.
            Ok(Network::Ip(rest(frame, NULL_HEADER_LEN)))
        }
        LinkType::RAW
        | LinkType::RAW_BSD
        | LinkType::RAW_OPENBSD
        | LinkType::IPV4
        | LinkType::IPV6 => Ok(Network::Ip(frame)),
        other => Ok(Network::UnsupportedLink(other)),
    }
}

/// Follows EtherTypes through VLAN tags and PPPoE to the network layer.
fn by_ether_type(mut ty: u16, mut payload: &[u8]) -> Result<Network<'_>, DecodeError> {
    for _ in 0..=MAX_VLAN_TAGS {
        match ty {
            ether_type::IPV4 | ether_type::IPV6 => return Ok(Network::Ip(payload)),
            ether_type::VLAN | ether_type::QINQ | ether_type::QINQ_OLD => {
                ty = be_u16(payload, 2).ok_or(DecodeError::new(Layer::Vlan, TooShort))?;
                payload = rest(payload, VLAN_TAG_LEN);
            }
            ether_type::PPPOE_SESSION => {
                // RFC 1661 / RFC 5072 PPP protocol numbers: 0x0021 IPv4, 0x0057 IPv6.
                let ppp = be_u16(payload, PPPOE_HEADER_LEN)
                    .ok_or(DecodeError::new(Layer::Pppoe, TooShort))?;
                let inner = rest(payload, PPPOE_HEADER_LEN + 2);
                return match ppp {
                    0x0021 | 0x0057 => Ok(Network::Ip(inner)),
                    _ => Ok(Network::Other(ty)),
                };
            }
            other => return Ok(Network::Other(other)),
        }
    }
    Err(DecodeError::new(Layer::Vlan, Malformed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPV4_STUB: [u8; 1] = [0x45];

    fn ethernet(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&ty.to_be_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn ethernet_ipv4_reaches_ip() {
        let frame = ethernet(ether_type::IPV4, &IPV4_STUB);
        assert_eq!(
            strip(LinkType::ETHERNET, &frame),
            Ok(Network::Ip(&IPV4_STUB[..]))
        );
    }

    #[test]
    fn qinq_tags_are_peeled() {
        // outer 802.1ad tag (vid 100) -> inner 802.1Q tag (vid 200) -> IPv4
        let mut payload = vec![0x00, 0x64, 0x81, 0x00, 0x00, 0xC8, 0x08, 0x00];
        payload.extend_from_slice(&IPV4_STUB);
        let frame = ethernet(ether_type::QINQ, &payload);
        assert_eq!(
            strip(LinkType::ETHERNET, &frame),
            Ok(Network::Ip(&IPV4_STUB[..]))
        );
    }

    #[test]
    fn pppoe_session_ipv4() {
        // ver/type 0x11, code 0, session 0x0001, length, PPP protocol 0x0021 (IPv4)
        let mut payload = vec![0x11, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x21];
        payload.extend_from_slice(&IPV4_STUB);
        let frame = ethernet(ether_type::PPPOE_SESSION, &payload);
        assert_eq!(
            strip(LinkType::ETHERNET, &frame),
            Ok(Network::Ip(&IPV4_STUB[..]))
        );
    }

    #[test]
    fn llc_length_field_is_not_ip() {
        let frame = ethernet(0x0026, &[0xAA, 0xAA, 0x03]);
        assert_eq!(
            strip(LinkType::ETHERNET, &frame),
            Ok(Network::Other(0x0026))
        );
    }

    #[test]
    fn endless_vlan_tags_are_malformed() {
        let mut payload = Vec::new();
        for _ in 0..8 {
            payload.extend_from_slice(&[0x00, 0x01, 0x81, 0x00]);
        }
        let frame = ethernet(ether_type::VLAN, &payload);
        assert_eq!(
            strip(LinkType::ETHERNET, &frame),
            Err(DecodeError::new(Layer::Vlan, Malformed))
        );
    }

    #[test]
    fn every_prefix_of_a_tagged_frame_is_safe() {
        let mut payload = vec![0x00, 0x64, 0x08, 0x00];
        payload.extend_from_slice(&IPV4_STUB);
        let frame = ethernet(ether_type::VLAN, &payload);
        for len in 0..frame.len() {
            let cut = &frame[..len];
            for link in [
                LinkType::ETHERNET,
                LinkType::LINUX_SLL,
                LinkType::LINUX_SLL2,
                LinkType::NULL,
            ] {
                let _ = strip(link, cut);
            }
        }
        assert_eq!(
            strip(LinkType::ETHERNET, &frame[..13]),
            Err(DecodeError::new(Layer::Link, TooShort))
        );
        assert_eq!(
            strip(LinkType::ETHERNET, &frame[..15]),
            Err(DecodeError::new(Layer::Vlan, TooShort))
        );
    }

    #[test]
    fn sll2_protocol_is_first() {
        let mut frame = vec![0x86, 0xDD];
        frame.extend_from_slice(&[0u8; 18]);
        frame.push(0x60);
        assert_eq!(
            strip(LinkType::LINUX_SLL2, &frame),
            Ok(Network::Ip(&[0x60][..]))
        );
    }

    #[test]
    fn unknown_link_type_is_reported_not_fatal() {
        assert_eq!(
            strip(LinkType(147), &[1, 2, 3]),
            Ok(Network::UnsupportedLink(LinkType(147)))
        );
    }
}
