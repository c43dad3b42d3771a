//! Payload checks: pure, bounded parsers over the first bytes of one direction of a flow, each
//! citing the specification it follows. The bytes may be cut short, or may not be the protocol at
//! all: every parser returns `None` (or an "unknown" variant) rather than panicking, and borrows
//! from the payload instead of allocating.
//!
//! Owns byte-level recognition, one file per protocol. Must not keep state between calls, read
//! files or clocks, allocate on the hot path (only [`escape`] builds an owned, bounded `String`,
//! for values that will be stored), or index bytes without a check (`indexing_slicing` is denied
//! here). Wiring the results into the classifier and flow records is `classify`'s job.
//!
//! Return types are meant to be stored: small `Copy` structs, slices borrowed from the payload,
//! wire numbers as newtypes with a `name()` that says `"unknown"` for values we do not know.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
// `clippy::arithmetic_side_effects` is not enabled: offsets here are bounded by slice lengths
// (at most a few KiB) and every length read from the wire goes through `checked_*`, `get` or
// `split_at_checked`; the proptests run the parsers in debug builds, where overflow panics.

pub mod ber;
pub mod dcerpc;
pub mod dns;
pub mod escape;
pub mod ftp;
pub mod http;
pub mod kerberos;
pub mod ldap;
pub mod netbios;
pub mod radius;
pub mod rdp;
pub mod rdpeudp;
pub mod smb;
pub mod tls;

pub use dcerpc::{dcerpc_ptype, probe_dcerpc, DceRpcHeader};

/// A fixed-capacity list of `Copy` values: how parsers return "all of them, bounded" without
/// allocating. Values past the capacity are counted in [`Bounded::dropped`], not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounded<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: u8,
    dropped: u16,
}

impl<T: Copy + Default, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
            dropped: 0,
        }
    }
}

impl<T: Copy + Default, const N: usize> Bounded<T, N> {
    /// The capacity.
    pub const CAPACITY: usize = N;

    /// Appends a value, or counts it as dropped when the list is full.
    pub fn push(&mut self, value: T) {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) if usize::from(self.len) < usize::from(u8::MAX) => {
                *slot = value;
                self.len += 1;
            }
            _ => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// The stored values, in wire order.
    pub fn as_slice(&self) -> &[T] {
        self.items.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Iterates over the stored values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// Number of stored values.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first stored value.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }

    /// Values seen on the wire but not stored because the list was full.
    pub fn dropped(&self) -> u16 {
        self.dropped
    }
}

impl<'a, T: Copy + Default, const N: usize> IntoIterator for &'a Bounded<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A forward-only reader over borrowed bytes: every read is checked and returns `None` past the
/// end, so parsers can use `?` and never index by hand.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The bytes not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(*head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    pub(crate) fn be16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn le16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn be32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn le32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A u16 in the byte order `little` names (DCE/RPC data representation).
    pub(crate) fn u16_in(&mut self, little: bool) -> Option<u16> {
        if little {
            self.le16()
        } else {
            self.be16()
        }
    }

    /// A u32 in the byte order `little` names.
    pub(crate) fn u32_in(&mut self, little: bool) -> Option<u32> {
        if little {
            self.le32()
        } else {
            self.be32()
        }
    }
}

/// Case-insensitive ASCII prefix test that never panics.
pub(crate) fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Position of the first CR LF in `bytes`. Searched for with `memchr`, many bytes at a time:
/// a payload that is not text is often scanned to its end.
pub(crate) fn find_crlf(bytes: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\r', bytes).find(|&at| bytes.get(at.wrapping_add(1)) == Some(&b'\n'))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
pub(crate) mod test_util {
    //! Helpers shared by the parser tests.

    /// Decodes a hex string (whitespace and `|` separators allowed) into bytes.
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| (c as char).to_digit(16).unwrap() as u8)
            .collect();
        assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }
    /// zeek/dce-rpc/mapi.pcap, frame 400 (tcp/135 → 1066): ept_map response, NDR (32-bit):
    /// NSPI f5cc5a18-4264-101a-8c59-08002b2f8426 at 192.168.0.2 tcp/4997.
    pub(crate) const MAPI_EPT_MAP: &str = concat!(
        "05 00 02 03 10000000 9800 0000 01000000", // response, frag 152, call 1
        "80000000 0000 00 00",                     // alloc_hint 128, ctx 0, cancel 0
        "0000000000000000000000000000000000000000", // entry_handle (20 bytes)
        "01000000",                                // num_towers 1
        "04000000 00000000 01000000",              // max_count 4, offset 0, actual_count 1
        "03000000",                                // referent of tower 1
        "4b000000 4b000000",                       // tower length 75 (twice)
        "0500",                                    // 5 floors
        "1300 0d 185accf564421a108c5908002b2f8426 3800 0200 0000", // floor 1: UUID NSPI v56, minor 0
        "1300 0d 045d888aeb1cc9119fe808002b104860 0200 0200 0000", // floor 2: NDR v2
        "0100 0b 0200 0000",     // floor 3: connection-oriented RPC
        "0100 07 0200 1385",     // floor 4: TCP port 0x1385 = 4997
        "0100 09 0400 c0a80002", // floor 5: IP 192.168.0.2
        "00",                    // pad
        "00000000",              // status 0
    );
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounded_keeps_capacity_and_counts_the_rest() {
        let mut list: Bounded<u16, 2> = Bounded::default();
        assert!(list.is_empty());
        for v in 1..=5 {
            list.push(v);
        }
        assert_eq!(list.as_slice(), &[1, 2]);
        assert_eq!(list.dropped(), 3);
        assert_eq!(list.first(), Some(&1));
    }

    #[test]
    fn cursor_reads_are_checked() {
        let mut c = Cursor::new(&[1, 2, 3]);
        assert_eq!(c.be16(), Some(0x0102));
        assert_eq!(c.be16(), None, "one byte left");
        assert_eq!(c.u8(), Some(3));
        assert!(c.is_empty());
        assert_eq!(c.take(1), None);
    }

    proptest! {
        #[test]
        fn find_crlf_finds_the_first_cr_lf(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a')], 0..40)
        ) {
            let first = bytes.windows(2).position(|pair| pair == b"\r\n");
            prop_assert_eq!(find_crlf(&bytes), first);
        }
    }
}
