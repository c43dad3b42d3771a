//! Flow keys: one key for both directions of a conversation. Owns canonical ordering and the
//! `Side` of a packet relative to the key; must not know which side is client or server.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// IP protocol numbers rdsflows builds flows for (IANA protocol numbers).
pub mod protocol {
    /// ICMP (RFC 792).
    pub const ICMP: u8 = 1;
    /// TCP (RFC 9293).
    pub const TCP: u8 = 6;
    /// UDP (RFC 768).
    pub const UDP: u8 = 17;
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: u8 = 58;
}

/// A bidirectional five-tuple: the lower (address, port) pair is always `a`, so a packet and its
/// reply map to the same key (pcap-analyzer's `get_reverse`, done once at construction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    /// The lower endpoint's address.
    pub a_addr: IpAddr,
    /// The higher endpoint's address.
    pub b_addr: IpAddr,
    /// The lower endpoint's port (for ICMP: a type-derived value, see the flow table).
    pub a_port: u16,
    /// The higher endpoint's port.
    pub b_port: u16,
    /// IP protocol number.
    pub protocol: u8,
}

/// Which endpoint of a key sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The packet came from `a`.
    A,
    /// The packet came from `b`.
    B,
}

impl Side {
    /// The other side.
    pub fn flip(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }
}

impl FlowKey {
    /// The key of a packet from `(src, src_port)` to `(dst, dst_port)`, and the side it came from.
    ///
    /// Always inlined: called once per packet, and left to LTO it stayed a call whose result
    /// went through memory, a stalled load in the flow table's update (issue 6: together with
    /// the hash below, 2–3 % of a one-thread `analyze`).
    #[inline(always)]
    pub fn new(
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
        protocol: u8,
    ) -> (Self, Side) {
        // The same order as comparing `(IpAddr, u16)` tuples, without the enum compare for the
        // IPv4 pairs that nearly every packet carries.
        let src_first = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                (u64::from(s.to_bits()) << 16 | u64::from(src_port))
                    <= (u64::from(d.to_bits()) << 16 | u64::from(dst_port))
            }
            _ => (src, src_port) <= (dst, dst_port),
        };
        if src_first {
            let key = Self {
                a_addr: src,
                b_addr: dst,
                a_port: src_port,
                b_port: dst_port,
                protocol,
            };
            (key, Side::A)
        } else {
            let key = Self {
                a_addr: dst,
                b_addr: src,
                a_port: dst_port,
                b_port: src_port,
                protocol,
            };
            (key, Side::B)
        }
    }

    /// Address and port of one side.
    pub fn endpoint(&self, side: Side) -> (IpAddr, u16) {
        match side {
            Side::A => (self.a_addr, self.a_port),
            Side::B => (self.b_addr, self.b_port),
        }
    }
}

/// The key hashed as integers: one `u128` when both addresses are IPv4 (nearly every flow),
/// two `u128`s and a `u64` otherwise. The derived `Hash` makes about ten calls into the hasher
/// per key and hashes ~30 bytes, and a keyed hash pays per byte and per call (with SipHash it
/// was a fifth of `analyze`'s time on the benchmark capture, issue 6). Equal keys give equal
/// integers.
impl Hash for FlowKey {
    // Always inlined, as `FlowKey::new` is: once per packet.
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let tail = (u32::from(self.a_port) << 16) | u32::from(self.b_port);
        match (self.a_addr, self.b_addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => state.write_u128(
                (u128::from(a.to_bits()) << 96)
                    | (u128::from(b.to_bits()) << 64)
                    | (u128::from(tail) << 32)
                    | u128::from(self.protocol),
            ),
            (a, b) => {
                let wide = |addr: IpAddr| match addr {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
                    IpAddr::V6(v6) => v6.to_bits(),
                };
                // Integers, as for IPv4: 37 bytes gathered one by one into a slice went
                // through the hasher's long-input road, 60 ns a packet, a fifth of a one-thread
                // run over IPv6 (issue 6).
                state.write_u128(wide(a));
                state.write_u128(wide(b));
                state.write_u64((u64::from(tail) << 8) | u64::from(self.protocol));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::hash::BuildHasher;

    fn addr(bytes: [u8; 4]) -> IpAddr {
        IpAddr::from(bytes)
    }

    proptest! {
        #[test]
        fn key_is_the_same_both_ways(a in any::<[u8; 4]>(), b in any::<[u8; 4]>(), pa: u16, pb: u16, proto: u8) {
            let (k1, s1) = FlowKey::new(addr(a), pa, addr(b), pb, proto);
            let (k2, s2) = FlowKey::new(addr(b), pb, addr(a), pa, proto);
            prop_assert_eq!(k1, k2);
            if (a, pa) != (b, pb) {
                prop_assert_eq!(s1, s2.flip());
            }
            prop_assert_eq!(k1.endpoint(s1), (addr(a), pa));
            let hasher = std::collections::hash_map::RandomState::new();
            prop_assert_eq!(hasher.hash_one(k1), hasher.hash_one(k2));
        }

        /// Over IPv6 as over IPv4: one key both ways, one hash both ways, and a key that
        /// differs in any field (either address, either port, the protocol) hashes apart.
        #[test]
        fn ipv6_keys_hash_the_same_both_ways_and_apart_when_they_differ(
            a: u128, b: u128, pa: u16, pb: u16, proto: u8, field in 0usize..5,
        ) {
            let (a, b) = (IpAddr::V6(a.into()), IpAddr::V6(b.into()));
            let (k1, _) = FlowKey::new(a, pa, b, pb, proto);
            let (k2, _) = FlowKey::new(b, pb, a, pa, proto);
            let hasher = std::collections::hash_map::RandomState::new();
            prop_assert_eq!(hasher.hash_one(k1), hasher.hash_one(k2));
            let flip = |addr: IpAddr| match addr {
                IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() ^ 1).into()),
                v4 => v4,
            };
            let mut other = k1;
            match field {
                0 => other.a_addr = flip(k1.a_addr),
                1 => other.b_addr = flip(k1.b_addr),
                2 => other.a_port ^= 1,
                3 => other.b_port ^= 1,
                _ => other.protocol ^= 1,
            }
            prop_assume!(other != k1);
            prop_assert_ne!(hasher.hash_one(other), hasher.hash_one(k1));
        }

        #[test]
        fn lower_endpoint_is_a_as_tuples_order_it(a in any::<[u8; 4]>(), b in any::<[u8; 4]>(), pa: u16, pb: u16) {
            let (key, side) = FlowKey::new(addr(a), pa, addr(b), pb, 6);
            let a_first = (addr(a), pa) <= (addr(b), pb);
            prop_assert_eq!(side == Side::A, a_first);
            prop_assert!((key.a_addr, key.a_port) <= (key.b_addr, key.b_port));
        }
    }
}
