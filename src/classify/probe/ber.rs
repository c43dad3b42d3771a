//! A minimal, bounded BER reader (ITU-T X.690 8.1) for the Kerberos and LDAP parsers: one
//! tag-length-value at a time, definite lengths only (LDAP and Kerberos use DER-like definite
//! lengths; RFC 4511 5.1, RFC 4120 5.1), lengths of at most 4 octets, tag numbers of at most
//! 4 octets. There is no generic recursion: callers walk a fixed path, at most
//! [`MAX_DEPTH`] levels, so hostile nesting costs nothing.
//!
//! Owns TLV framing. Must not allocate, decode strings, or recurse.

/// The deepest a caller may walk with [`Tlv::path`].
pub const MAX_DEPTH: usize = 8;

/// Tag class (X.690 8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Universal (SEQUENCE, INTEGER, OCTET STRING…).
    Universal,
    /// Application (Kerberos message types, LDAP protocol operations).
    Application,
    /// Context-specific (`[n]` fields).
    Context,
    /// Private.
    Private,
}

/// One tag-length-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag class.
    pub class: Class,
    /// Constructed (true) or primitive.
    pub constructed: bool,
    /// Tag number.
    pub tag: u32,
    /// The value octets present (all of them when `complete`).
    pub value: &'a [u8],
    /// False when the bytes ended before the value did (lax reads only).
    pub complete: bool,
}

/// Universal tag numbers used here.
pub mod universal {
    /// BOOLEAN
    pub const BOOLEAN: u32 = 1;
    /// INTEGER
    pub const INTEGER: u32 = 2;
    /// OCTET STRING
    pub const OCTET_STRING: u32 = 4;
    /// ENUMERATED
    pub const ENUMERATED: u32 = 10;
    /// SEQUENCE / SEQUENCE OF
    pub const SEQUENCE: u32 = 16;
    /// GeneralString (Kerberos strings)
    pub const GENERAL_STRING: u32 = 27;
}

fn header(input: &[u8]) -> Option<(Class, bool, u32, usize, &[u8])> {
    let (&first, mut rest) = input.split_first()?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut tag = u32::from(first & 0x1F);
    if tag == 0x1F {
        // High tag number form: base-128, at most 4 octets.
        tag = 0;
        for i in 0..=4 {
            if i == 4 {
                return None;
            }
            let (&b, r) = rest.split_first()?;
            rest = r;
            tag = (tag << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let (&len0, r) = rest.split_first()?;
    rest = r;
    let len = match len0 {
        0..=0x7F => usize::from(len0),
        0x80 => return None, // indefinite length: not used by LDAP or Kerberos
        0x81..=0x84 => {
            let n = usize::from(len0 & 0x7F);
            let (bytes, r) = rest.split_at_checked(n)?;
            rest = r;
            bytes.iter().try_fold(0usize, |acc, &b| {
                acc.checked_mul(256)?.checked_add(usize::from(b))
            })?
        }
        _ => return None,
    };
    Some((class, constructed, tag, len, rest))
}

/// Reads one TLV whose value is entirely present; returns it and the bytes after it.
pub fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (class, constructed, tag, len, rest) = header(input)?;
    let (value, after) = rest.split_at_checked(len)?;
    Some((
        Tlv {
            class,
            constructed,
            tag,
            value,
            complete: true,
        },
        after,
    ))
}

/// Reads one TLV, accepting a value cut short by the end of the bytes (`complete` false, and
/// nothing after it). For the outer layers of a message that spans segments.
pub fn read_tlv_lax(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (class, constructed, tag, len, rest) = header(input)?;
    match rest.split_at_checked(len) {
        Some((value, after)) => Some((
            Tlv {
                class,
                constructed,
                tag,
                value,
                complete: true,
            },
            after,
        )),
        None => Some((
            Tlv {
                class,
                constructed,
                tag,
                value: rest,
                complete: false,
            },
            &[],
        )),
    }
}

impl<'a> Tlv<'a> {
    /// True for this class and tag number.
    pub fn is(&self, class: Class, tag: u32) -> bool {
        self.class == class && self.tag == tag
    }

    /// The TLVs inside a constructed value, read laxly: a last child cut short is returned
    /// with `complete` false and ends the iteration, as does any malformed child.
    pub fn children(&self) -> Children<'a> {
        Children {
            rest: if self.constructed { self.value } else { &[] },
        }
    }

    /// The first child with this class and tag.
    pub fn child(&self, class: Class, tag: u32) -> Option<Self> {
        self.children().find(|c| c.is(class, tag))
    }

    /// Follows a path of (class, tag) steps, at most [`MAX_DEPTH`] long.
    pub fn path(&self, steps: &[(Class, u32)]) -> Option<Self> {
        if steps.len() > MAX_DEPTH {
            return None;
        }
        steps
            .iter()
            .try_fold(*self, |node, &(class, tag)| node.child(class, tag))
    }

    /// The value as a two's-complement INTEGER or ENUMERATED of 1..=8 octets.
    pub fn integer(&self) -> Option<i64> {
        if self.constructed || self.value.is_empty() || self.value.len() > 8 || !self.complete {
            return None;
        }
        let negative = self.value.first().is_some_and(|b| b & 0x80 != 0);
        let start: i64 = if negative { -1 } else { 0 };
        Some(
            self.value
                .iter()
                .fold(start, |acc, &b| (acc << 8) | i64::from(b)),
        )
    }

    /// The only child of an explicit context tag `[n]`, e.g. the INTEGER inside `[1] INTEGER`.
    pub fn inner(&self) -> Option<Self> {
        self.children().next()
    }
}

/// Iterator over the children of a constructed TLV.
#[derive(Clone, Debug)]
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Tlv<'a>;

    fn next(&mut self) -> Option<Tlv<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        match read_tlv_lax(self.rest) {
            Some((tlv, rest)) => {
                self.rest = rest;
                Some(tlv)
            }
            None => {
                self.rest = &[];
                None
            }
        }
    }
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
    fn reads_short_long_and_high_tag_forms() {
        // SEQUENCE { INTEGER 5 } with a short length.
        let (seq, rest) = read_tlv(&[0x30, 0x03, 0x02, 0x01, 0x05, 0xAA]).unwrap();
        assert!(seq.is(Class::Universal, universal::SEQUENCE) && seq.constructed);
        assert_eq!(rest, &[0xAA]);
        assert_eq!(seq.child(Class::Universal, 2).unwrap().integer(), Some(5));
        // Long form length 0x81 0x80 (128 bytes).
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend_from_slice(&[0; 128]);
        assert_eq!(read_tlv(&long).unwrap().0.value.len(), 128);
        // High tag number [APPLICATION 30] as Kerberos KRB-ERROR uses (0x7e is low form).
        let (t, _) = read_tlv(&[0x7F, 0x1E, 0x00]).unwrap();
        assert!(t.is(Class::Application, 30));
        // Negative integer.
        let (n, _) = read_tlv(&[0x02, 0x02, 0xFF, 0x38]).unwrap();
        assert_eq!(n.integer(), Some(-200));
    }

    #[test]
    fn rejects_indefinite_and_oversized_lengths() {
        assert_eq!(read_tlv(&[0x30, 0x80, 0x00, 0x00]), None, "indefinite");
        assert_eq!(
            read_tlv(&[0x04, 0x85, 1, 0, 0, 0, 0]),
            None,
            "5-octet length"
        );
        assert_eq!(
            read_tlv(&[0x1F, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]),
            None,
            "5-octet tag"
        );
        assert_eq!(read_tlv(&[0x04, 0x05, 1, 2]), None, "value cut short");
        let (lax, rest) = read_tlv_lax(&[0x04, 0x05, 1, 2]).unwrap();
        assert!(!lax.complete && lax.value == [1, 2] && rest.is_empty());
    }

    #[test]
    fn path_is_depth_bounded() {
        let nested = [0x30, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x07];
        let (top, _) = read_tlv(&nested).unwrap();
        let leaf = top
            .path(&[(Class::Context, 1), (Class::Universal, 2)])
            .unwrap();
        assert_eq!(leaf.integer(), Some(7));
        assert_eq!(top.path(&[(Class::Context, 1); MAX_DEPTH + 1]), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        let bytes = [0x30, 0x08, 0xA1, 0x06, 0x1B, 0x04, b'T', b'E', b'S', b'T'];
        for len in 0..bytes.len() {
            let strict = read_tlv(&bytes[..len]);
            assert!(strict.is_none());
            let lax = read_tlv_lax(&bytes[..len]);
            assert_eq!(lax.is_some(), len >= 2);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Some((t, _)) = read_tlv_lax(&bytes) {
                for c in t.children() {
                    let _ = c.integer();
                    let _ = c.children().count();
                }
                let _ = t.path(&[(Class::Context, 0), (Class::Universal, 16), (Class::Context, 1)]);
            }
            let _ = read_tlv(&bytes);
        }
    }
}
