//! The decoded packets of one chunk on their way to the shard that tracks their flows: 56
//! bytes a packet for TCP and UDP with nothing unusual about them (an IPv6 packet's addresses
//! 32 more, in a list beside), the packet whole in another list beside for anything else.
//! Owns the packing and its exact inverse; must not decide anything about a packet (the
//! decoder and the flow table do) or read its payload bytes.
//!
//! Every packet is written by the thread that decoded it and read by the one that tracks it,
//! often on the other core: the bytes a packet takes are paid twice, through the caches both
//! ways. Carried whole, a packet took 128 bytes, and a trial that doubled that made two threads
//! 3.4 % slower (issue 6). A packet that does not fit takes its 56 bytes (for its place in the
//! order) and 128 beside: ICMP, fragments and damaged packets, a few in any capture.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::{IpPacket, TcpSegment, Transport};
use crate::time::Timestamp;

/// A decoded packet as the tracking shard needs it, its payload left in the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Whole {
    pub ts: Timestamp,
    /// The latest time in the chunk up to this frame (the capture clock, once the chunks
    /// before are accounted for).
    pub clock: Timestamp,
    /// The frame's number within its chunk, from 1.
    pub number: u64,
    /// The packet, with an empty payload.
    pub ip: IpPacket<'static>,
    /// Where its payload lies in the chunk's bytes: offset and length.
    pub payload: (u32, u32),
}

/// A packet handed back out of a [`PacketList`], its payload bytes in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unpacked<'a> {
    pub ts: Timestamp,
    pub clock: Timestamp,
    pub number: u64,
    pub ip: IpPacket<'a>,
}

/// What a [`Packed`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Tcp,
    Udp,
    /// Over IPv6: the addresses are in [`PacketList::v6`], at `src`.
    Tcp6,
    Udp6,
    /// The packet is whole in [`PacketList::spilled`], at `seq`.
    Spilled,
}

/// A packet in 56 bytes: its IPv4 addresses (or where its IPv6 ones are), its clock as the
/// distance from its own time.
///
/// In this order (`repr(C)`), no two fields that the decoder writes apart lie side by side:
/// two such fields copied side by side were read back in one load, which waits for both of
/// the decoder's stores to reach the cache (a store-forwarding stall; issue 6).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Packed {
    ts: Timestamp,
    /// Nanoseconds from `ts` to the capture clock.
    clock_ahead: u32,
    number: u32,
    payload: (u32, u32),
    src: u32,
    seq: u32,
    dst: u32,
    ack: u32,
    ip_len: u32,
    payload_len: u32,
    src_port: u16,
    window: u16,
    dst_port: u16,
    flags: u8,
    shape: Shape,
}

/// One chunk's packets for one shard, in frame order.
#[derive(Debug, Default)]
pub(super) struct PacketList {
    packed: Vec<Packed>,
    /// Source and destination of the packed IPv6 packets.
    v6: Vec<[Ipv6Addr; 2]>,
    spilled: Vec<Whole>,
}

impl PacketList {
    /// Adds a packet: `ip` with its payload at `payload` in the chunk's bytes.
    ///
    /// Reads `ip` field by field, as the decoder wrote it: copied out whole, it was read back
    /// in wider loads than the decoder's stores, which stalled (issue 6).
    #[inline]
    pub(super) fn push(
        &mut self,
        ts: Timestamp,
        clock: Timestamp,
        number: u64,
        ip: &IpPacket<'_>,
        payload: (u32, u32),
    ) {
        match Self::pack(ts, clock, number, ip, payload) {
            Some(packed) => self.packed.push(packed),
            None => self.push_other(ts, clock, number, ip, payload),
        }
    }

    /// Adds a packet that is not TCP or UDP over IPv4 with nothing unusual: over IPv6, packed
    /// with its addresses beside; otherwise whole. Out of line, so that the IPv4 road stays
    /// as short as it was before IPv6 was packed (1–2 % of a two-thread run, in three batches).
    #[inline(never)]
    fn push_other(
        &mut self,
        ts: Timestamp,
        clock: Timestamp,
        number: u64,
        ip: &IpPacket<'_>,
        payload: (u32, u32),
    ) {
        if let (IpAddr::V6(src), IpAddr::V6(dst)) = (ip.src, ip.dst) {
            // Packed as if over IPv4 (the same checks on everything else), then pointed at
            // its addresses.
            let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
            let as_v4 = IpPacket {
                src: unspecified,
                dst: unspecified,
                ..*ip
            };
            let packed = Self::pack(ts, clock, number, &as_v4, payload);
            if let (Some(mut packed), Ok(at)) = (packed, u32::try_from(self.v6.len())) {
                packed.src = at;
                packed.shape = match packed.shape {
                    Shape::Tcp => Shape::Tcp6,
                    _ => Shape::Udp6,
                };
                self.v6.push([src, dst]);
                self.packed.push(packed);
                return;
            }
        }
        let spill = u32::try_from(self.spilled.len()).unwrap_or(u32::MAX);
        self.spilled.push(Whole {
            ts,
            clock,
            number,
            ip: ip.with_payload(&[]),
            payload,
        });
        self.packed.push(Packed {
            seq: spill,
            ..Packed::blank(ts, payload, Shape::Spilled)
        });
    }

    /// The packed form of TCP or UDP over IPv4 with nothing unusual.
    #[inline(always)]
    fn pack(
        ts: Timestamp,
        clock: Timestamp,
        number: u64,
        ip: &IpPacket<'_>,
        payload: (u32, u32),
    ) -> Option<Packed> {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (ip.src, ip.dst) else {
            return None;
        };
        if ip.fragment.is_some() || ip.anomaly.is_some() {
            return None;
        }
        let clock_ahead = u32::try_from(clock.as_nanos().checked_sub(ts.as_nanos())?).ok()?;
        let number = u32::try_from(number).ok()?;
        let mut packed = Packed {
            clock_ahead,
            number,
            src: u32::from(src),
            dst: u32::from(dst),
            ip_len: ip.ip_len,
            ..Packed::blank(ts, payload, Shape::Udp)
        };
        match ip.transport {
            Transport::Tcp(segment) => {
                packed.shape = Shape::Tcp;
                packed.src_port = segment.src_port;
                packed.dst_port = segment.dst_port;
                packed.seq = segment.seq;
                packed.ack = segment.ack;
                packed.flags = segment.flags;
                packed.window = segment.window;
                packed.payload_len = segment.payload_len;
            }
            Transport::Udp {
                src_port,
                dst_port,
                payload_len,
                ..
            } => {
                packed.src_port = src_port;
                packed.dst_port = dst_port;
                packed.payload_len = payload_len;
            }
            _ => return None,
        }
        Some(packed)
    }

    /// The packets in the order they were added, their payloads read from `chunk` (the bytes
    /// the payload offsets point into). A payload that does not lie in `chunk` comes back
    /// empty, the packet still counted.
    pub(super) fn iter<'a>(&'a self, chunk: &'a [u8]) -> impl Iterator<Item = Unpacked<'a>> + 'a {
        self.packed.iter().filter_map(move |packed| {
            let (at, len) = (packed.payload.0 as usize, packed.payload.1 as usize);
            let payload = chunk.get(at..at + len).unwrap_or_default();
            match packed.shape {
                Shape::Tcp | Shape::Udp => {
                    let src = IpAddr::V4(Ipv4Addr::from(packed.src));
                    let dst = IpAddr::V4(Ipv4Addr::from(packed.dst));
                    Some(packed.unpack(src, dst, payload))
                }
                _ => self.unpack_other(packed, payload),
            }
        })
    }

    /// A packet over IPv6, or one kept whole.
    #[inline(never)]
    fn unpack_other<'a>(&'a self, packed: &Packed, payload: &'a [u8]) -> Option<Unpacked<'a>> {
        if packed.shape == Shape::Spilled {
            let whole = self.spilled.get(packed.seq as usize)?;
            return Some(Unpacked {
                ts: whole.ts,
                clock: whole.clock,
                number: whole.number,
                ip: whole.ip.with_payload(payload),
            });
        }
        let [src, dst] = *self.v6.get(packed.src as usize)?;
        Some(packed.unpack(IpAddr::V6(src), IpAddr::V6(dst), payload))
    }

    /// Empties the list, keeping its memory for the next chunk.
    pub(super) fn clear(&mut self) {
        self.packed.clear();
        self.v6.clear();
        self.spilled.clear();
    }
}

impl Packed {
    /// A packet of `shape` with its time and payload place, every other field zero.
    #[inline(always)]
    fn blank(ts: Timestamp, payload: (u32, u32), shape: Shape) -> Self {
        Self {
            ts,
            clock_ahead: 0,
            number: 0,
            payload,
            src: 0,
            seq: 0,
            dst: 0,
            ack: 0,
            ip_len: 0,
            payload_len: 0,
            src_port: 0,
            window: 0,
            dst_port: 0,
            flags: 0,
            shape,
        }
    }

    /// The packet, TCP or UDP, between `src` and `dst`, its payload `payload`.
    #[inline(always)]
    fn unpack<'a>(&self, src: IpAddr, dst: IpAddr, payload: &'a [u8]) -> Unpacked<'a> {
        let (src_port, dst_port) = (self.src_port, self.dst_port);
        let transport = match self.shape {
            Shape::Tcp | Shape::Tcp6 => Transport::Tcp(TcpSegment {
                src_port,
                dst_port,
                seq: self.seq,
                ack: self.ack,
                flags: self.flags,
                window: self.window,
                payload_len: self.payload_len,
                payload,
            }),
            _ => Transport::Udp {
                src_port,
                dst_port,
                payload_len: self.payload_len,
                payload,
            },
        };
        Unpacked {
            ts: self.ts,
            clock: Timestamp::from_nanos(
                self.ts
                    .as_nanos()
                    .saturating_add(i64::from(self.clock_ahead)),
            ),
            number: u64::from(self.number),
            ip: IpPacket {
                src,
                dst,
                ip_len: self.ip_len,
                fragment: None,
                transport,
                anomaly: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DecodeError, DecodeErrorKind, Fragment, IcmpMessage, Layer, QuotedTuple};
    use proptest::prelude::*;

    #[test]
    fn a_packed_packet_takes_56_bytes() {
        assert_eq!(std::mem::size_of::<Packed>(), 56);
    }

    fn v4() -> impl Strategy<Value = IpAddr> {
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
    }

    fn v6() -> impl Strategy<Value = IpAddr> {
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
    }

    fn address() -> impl Strategy<Value = IpAddr> {
        prop_oneof![v4(), v6()]
    }

    /// Source and destination: mostly of one family, as IP has them, sometimes not.
    fn addresses() -> impl Strategy<Value = (IpAddr, IpAddr)> {
        prop_oneof![
            3 => (v4(), v4()),
            2 => (v6(), v6()),
            1 => (address(), address()),
        ]
    }

    fn transport() -> impl Strategy<Value = Transport<'static>> {
        let ports = (any::<u16>(), any::<u16>());
        prop_oneof![
            4 => (ports, any::<u32>(), any::<u32>(), any::<u8>(), any::<u16>(), any::<u32>())
                .prop_map(|((src_port, dst_port), seq, ack, flags, window, payload_len)| {
                    Transport::Tcp(TcpSegment {
                        src_port,
                        dst_port,
                        seq,
                        ack,
                        flags,
                        window,
                        payload_len,
                        payload: &[],
                    })
                }),
            2 => (ports, any::<u32>()).prop_map(|((src_port, dst_port), payload_len)| {
                Transport::Udp {
                    src_port,
                    dst_port,
                    payload_len,
                    payload: &[],
                }
            }),
            1 => (any::<u8>(), any::<u8>(), address(), address()).prop_map(|(icmp_type, code, src, dst)| {
                Transport::Icmp(IcmpMessage {
                    icmp_type,
                    code,
                    v6: false,
                    echo_id: None,
                    quoted: Some(QuotedTuple {
                        src,
                        dst,
                        protocol: 6,
                        src_port: 1,
                        dst_port: 3389,
                    }),
                })
            }),
            1 => (any::<u8>(), any::<u32>())
                .prop_map(|(protocol, payload_len)| Transport::Fragment { protocol, payload_len }),
            1 => any::<u8>().prop_map(|protocol| Transport::Other { protocol }),
        ]
    }

    fn packet() -> impl Strategy<Value = IpPacket<'static>> {
        let fragment = prop_oneof![
            4 => Just(None),
            1 => (any::<u32>(), any::<bool>()).prop_map(|(id, first)| Some(Fragment { id, first })),
        ];
        let anomaly = prop_oneof![
            4 => Just(None),
            1 => Just(Some(DecodeError::new(Layer::Tcp, DecodeErrorKind::TooShort))),
        ];
        (addresses(), any::<u32>(), fragment, transport(), anomaly).prop_map(
            |((src, dst), ip_len, fragment, transport, anomaly)| IpPacket {
                src,
                dst,
                ip_len,
                fragment,
                transport,
                anomaly,
            },
        )
    }

    proptest! {
        /// Every packet comes back out exactly as it went in, its payload from the chunk, in
        /// the order the packets went in: packed or spilled, whatever its fields.
        #[test]
        fn packets_come_back_as_they_went_in(
            packets in proptest::collection::vec(
                (packet(), any::<i64>(), prop_oneof![3 => 0u64..1000, 1 => any::<u64>()],
                 any::<u64>(), 0u32..80, 0u32..40),
                0..40,
            ),
        ) {
            let chunk: Vec<u8> = (0..=255).collect();
            let mut list = PacketList::default();
            let mut expected = Vec::new();
            for &(ip, ts, ahead, number, at, len) in &packets {
                let ts = Timestamp::from_nanos(ts);
                let clock = Timestamp::from_nanos(ts.as_nanos().saturating_add_unsigned(ahead));
                let payload = &chunk[at as usize..(at + len) as usize];
                list.push(ts, clock, number, &ip, (at, len));
                expected.push(Unpacked { ts, clock, number, ip: ip.with_payload(payload) });
            }
            let unpacked: Vec<Unpacked<'_>> = list.iter(&chunk).collect();
            prop_assert_eq!(unpacked, expected);
            list.clear();
            prop_assert_eq!(list.iter(&chunk).count(), 0);
        }
    }

    /// Plain TCP over IPv4 and IPv6 is packed, not spilled (IPv6 with its addresses beside); a
    /// fragment is spilled.
    #[test]
    fn only_what_does_not_fit_is_spilled() {
        let tcp = IpPacket {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            ip_len: 40,
            fragment: None,
            transport: Transport::Tcp(TcpSegment {
                src_port: 50000,
                dst_port: 3389,
                seq: 1,
                ack: 0,
                flags: 2,
                window: 8192,
                payload_len: 0,
                payload: &[],
            }),
            anomaly: None,
        };
        let v6 = IpPacket {
            src: "fd00::1".parse().unwrap(),
            dst: "fd00::2".parse().unwrap(),
            ..tcp
        };
        let fragment = IpPacket {
            fragment: Some(Fragment { id: 7, first: true }),
            ..tcp
        };
        let mut list = PacketList::default();
        let ts = Timestamp::from_nanos(5);
        list.push(ts, ts, 1, &tcp, (0, 0));
        list.push(ts, ts, 2, &v6, (0, 0));
        assert!(list.spilled.is_empty());
        assert_eq!(list.v6.len(), 1);
        list.push(ts, ts, 3, &fragment, (0, 0));
        assert_eq!(list.spilled.len(), 1);
        let ips: Vec<IpPacket<'_>> = list.iter(&[]).map(|p| p.ip).collect();
        assert_eq!(ips, [tcp, v6, fragment]);
    }
}
