//! Per-packet decode errors: which layer failed and how. Owns the closed `Layer` vocabulary;
//! must not carry packet bytes (errors are counted by value, millions of times).

use std::fmt;

/// The layer at which a frame stopped making sense. A closed vocabulary: reports count by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// The link-layer header (Ethernet, SLL, SLL2, null/loopback).
    Link,
    /// An 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// A PPPoE session header or its PPP protocol field.
    Pppoe,
    /// The IPv4 or IPv6 header (version nibble, header length).
    Ip,
    /// An IPv6 extension header.
    Ipv6Ext,
    /// The TCP header.
    Tcp,
    /// The UDP header.
    Udp,
    /// The ICMP or ICMPv6 header, or the packet an ICMP error quotes.
    Icmp,
}

impl Layer {
    /// Every layer, in report order.
    pub const ALL: [Self; 8] = [
        Self::Link,
        Self::Vlan,
        Self::Pppoe,
        Self::Ip,
        Self::Ipv6Ext,
        Self::Tcp,
        Self::Udp,
        Self::Icmp,
    ];

    /// Lower-case name for reports and JSON keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Vlan => "vlan",
            Self::Pppoe => "pppoe",
            Self::Ip => "ip",
            Self::Ipv6Ext => "ipv6_ext",
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
        }
    }
}

/// What went wrong at that layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// The frame ends before the header does.
    TooShort,
    /// A header field holds a value the header cannot have (bad version, header length…).
    Malformed,
    /// The header says more bytes follow than the frame holds, and the capture did not cut it.
    LengthMismatch,
}

impl DecodeErrorKind {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::Malformed => "malformed",
            Self::LengthMismatch => "length_mismatch",
        }
    }
}

/// A frame that could not be decoded (or only partly): counted by layer, never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    /// Where decoding stopped.
    pub layer: Layer,
    /// Why.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) const fn new(layer: Layer, kind: DecodeErrorKind) -> Self {
        Self { layer, kind }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.layer.as_str(), self.kind.as_str())
    }
}

impl std::error::Error for DecodeError {}
