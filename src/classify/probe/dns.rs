//! DNS messages (RFC 1035 section 4.1): the header (id, flags, opcode, rcode, counts) and the
//! first question (name, type, class), over UDP and over TCP (2-byte length first, RFC 1035
//! 4.2.2; RFC 7766). The same layout serves NBNS on udp/137 (RFC 1002 4.2; see
//! [`super::netbios`]), LLMNR and mDNS.
//!
//! Names are not copied: [`Name`] points into the message and yields its labels, following
//! compression pointers (RFC 1035 4.1.4) only backwards and at most [`MAX_POINTERS`] times, so
//! a pointer loop ends. Owns those rules; must not allocate (the caller supplies the buffer for
//! a dotted name) or keep state.

use super::Cursor;

/// DNS header length.
pub const HEADER_LEN: usize = 12;
/// Compression pointers followed at most while reading one name.
pub const MAX_POINTERS: usize = 16;
/// The longest name on the wire (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// RCODE (RFC 1035 4.1.1; RFC 6895 2.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rcode(pub u8);

impl Rcode {
    /// NOERROR
    pub const NOERROR: Self = Self(0);
    /// NXDOMAIN
    pub const NXDOMAIN: Self = Self(3);

    /// `NOERROR`, `FORMERR`, `SERVFAIL`, `NXDOMAIN`, `NOTIMP`, `REFUSED`… or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            _ => "unknown",
        }
    }
}

/// QTYPE / TYPE (RFC 1035 3.2.2 and later RFCs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QType(pub u16);

impl QType {
    /// A
    pub const A: Self = Self(1);
    /// SRV (RFC 2782): `_ldap._tcp.dc._msdcs.<domain>` and `_kerberos._tcp…` lookups.
    pub const SRV: Self = Self(33);
    /// NB (RFC 1002 4.2.1.3): NetBIOS general name service resource record.
    pub const NB: Self = Self(32);

    /// The mnemonic, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            32 => "NB",
            33 => "SRV",
            41 => "OPT",
            64 => "SVCB",
            65 => "HTTPS",
            255 => "ANY",
            _ => "unknown",
        }
    }
}

/// The fixed header (RFC 1035 4.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// ID.
    pub id: u16,
    /// The flags word (QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).
    pub flags: u16,
    /// QDCOUNT.
    pub question_count: u16,
    /// ANCOUNT.
    pub answer_count: u16,
    /// NSCOUNT.
    pub authority_count: u16,
    /// ARCOUNT.
    pub additional_count: u16,
}

impl Header {
    /// QR: true for a response.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// Opcode (0 query; NBNS uses 5 registration, 6 release, 7 WACK, 8 refresh).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0F) as u8
    }

    /// RCODE.
    pub fn rcode(&self) -> Rcode {
        Rcode((self.flags & 0x000F) as u8)
    }
}

/// A domain name inside a message: where it starts. Reading it never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    message: &'a [u8],
    offset: usize,
}

impl<'a> Name<'a> {
    /// The name that starts at `offset` in `message`.
    pub fn at(message: &'a [u8], offset: usize) -> Self {
        Self { message, offset }
    }

    /// The labels, first to last, following compression pointers.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            message: self.message,
            pos: self.offset,
            pointers: 0,
            total: 0,
            failed: false,
        }
    }

    /// Walks the whole name: the wire length at its start (up to and including the terminating
    /// zero or the first pointer), or `None` when the name is malformed (bad label type,
    /// forward pointer, too many pointers, longer than 255, cut short).
    pub fn wire_len(&self) -> Option<usize> {
        let mut labels = self.labels();
        for _ in labels.by_ref() {}
        if labels.failed {
            return None;
        }
        // Length at the start: walk again without following pointers.
        let mut c = Cursor::new(self.message.get(self.offset..)?);
        let mut len = 0usize;
        loop {
            let b = c.u8()?;
            match b {
                0 => return Some(len + 1),
                1..=63 => {
                    c.skip(usize::from(b))?;
                    len += 1 + usize::from(b);
                }
                _ => return Some(len + 2),
            }
        }
    }

    /// Writes the name in dotted form (`_ldap._tcp.contoso.com`, no trailing dot, `.` for the
    /// root) into `out`; returns the bytes written, or `None` when it does not fit or is
    /// malformed. Label bytes are copied as they are: escape them before display
    /// ([`super::escape`]).
    pub fn write_dotted(&self, out: &mut [u8]) -> Option<usize> {
        let mut len = 0usize;
        let mut labels = self.labels();
        for label in labels.by_ref() {
            if len > 0 {
                *out.get_mut(len)? = b'.';
                len += 1;
            }
            out.get_mut(len..len.checked_add(label.len())?)?
                .copy_from_slice(label);
            len += label.len();
        }
        if labels.failed {
            return None;
        }
        if len == 0 {
            *out.get_mut(0)? = b'.';
            len = 1;
        }
        Some(len)
    }
}

/// Iterator over the labels of a [`Name`]. Stops at the root; stops early (and records the
/// failure) on a malformed name.
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    message: &'a [u8],
    pos: usize,
    pointers: usize,
    total: usize,
    failed: bool,
}

impl Labels<'_> {
    /// True when the walk stopped on a malformed name rather than at the root.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn fail<T>(&mut self) -> Option<T> {
        self.failed = true;
        self.pos = usize::MAX;
        None
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.pos == usize::MAX {
                return None;
            }
            let Some(&len) = self.message.get(self.pos) else {
                return self.fail();
            };
            match len {
                0 => {
                    self.pos = usize::MAX;
                    return None;
                }
                1..=63 => {
                    let start = self.pos + 1;
                    let end = start + usize::from(len);
                    self.total += 1 + usize::from(len);
                    let Some(label) = self.message.get(start..end) else {
                        return self.fail();
                    };
                    if self.total > MAX_NAME_LEN {
                        return self.fail();
                    }
                    self.pos = end;
                    return Some(label);
                }
                0xC0..=0xFF => {
                    let Some(&low) = self.message.get(self.pos + 1) else {
                        return self.fail();
                    };
                    let target = usize::from(u16::from_be_bytes([len & 0x3F, low]));
                    // Pointers go back to an earlier occurrence (RFC 1035 4.1.4): a forward or
                    // self pointer is malformed, and the count bounds any chain.
                    self.pointers += 1;
                    if target >= self.pos || self.pointers > MAX_POINTERS {
                        return self.fail();
                    }
                    self.pos = target;
                }
                _ => return self.fail(), // 0x40/0x80: extended or reserved label types
            }
        }
    }
}

/// One question (RFC 1035 4.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question<'a> {
    /// QNAME.
    pub name: Name<'a>,
    /// QTYPE.
    pub qtype: QType,
    /// QCLASS (the mDNS unicast-response bit 0x8000 kept).
    pub qclass: u16,
}

/// A DNS message: header and first question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    /// The header.
    pub header: Header,
    /// The first question, when QDCOUNT > 0.
    pub question: Option<Question<'a>>,
}

/// Counts above these are not DNS on a normal network; they reject random bytes early.
const MAX_QUESTIONS: u16 = 16;
const MAX_RECORDS: u16 = 4096;

/// Parses a DNS message as carried over UDP: the header, then the first question when QDCOUNT
/// is not zero. `None` when the header is cut, the counts are implausible, or the first
/// question's name is malformed or its class is not IN (1), CH (3), HS (4) or ANY (255).
pub fn parse_dns(payload: &[u8]) -> Option<DnsMessage<'_>> {
    let mut c = Cursor::new(payload);
    let header = Header {
        id: c.be16()?,
        flags: c.be16()?,
        question_count: c.be16()?,
        answer_count: c.be16()?,
        authority_count: c.be16()?,
        additional_count: c.be16()?,
    };
    if header.question_count > MAX_QUESTIONS
        || [
            header.answer_count,
            header.authority_count,
            header.additional_count,
        ]
        .iter()
        .any(|&n| n > MAX_RECORDS)
    {
        return None;
    }
    let question = if header.question_count == 0 {
        None
    } else {
        let name = Name::at(payload, HEADER_LEN);
        let len = name.wire_len()?;
        let mut q = Cursor::new(payload.get(HEADER_LEN + len..)?);
        let qtype = QType(q.be16()?);
        let qclass = q.be16()?;
        if !matches!(qclass & 0x7FFF, 1 | 3 | 4 | 255) {
            return None;
        }
        Some(Question {
            name,
            qtype,
            qclass,
        })
    };
    Some(DnsMessage { header, question })
}

/// Parses a DNS message over TCP: a 2-byte length, then the message (RFC 1035 4.2.2). Names
/// inside point into the message, not the framed payload.
pub fn parse_dns_tcp(payload: &[u8]) -> Option<DnsMessage<'_>> {
    let mut c = Cursor::new(payload);
    let len = c.be16()?;
    if usize::from(len) < HEADER_LEN {
        return None;
    }
    let rest = c.rest();
    parse_dns(rest.get(..usize::from(len)).unwrap_or(rest))
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

    /// ms-prot-od-netcaps/MS-ADOD_Example1_3_…pcapng frame 1 (→ udp/53): the DC locator's SRV
    /// query.
    const SRV_QUERY: &str = concat!(
        "de1f 0100 0001 0000 0000 0000", // id, RD, 1 question
        "05 5f6c646170 04 5f746370 02 6463 06 5f6d73646373 07 636f6e746f736f 03 636f6d 00",
        "0021 0001", // SRV, IN
    );
    /// Same file, frame 2: the answer, with compression pointers (c00c, c044).
    const SRV_RESPONSE: &str = concat!(
        "de1f 8580 0001 0001 0000 0001", // response, AA, RD, RA, NOERROR, 1 answer, 1 additional
        "055f6c646170045f746370026463065f6d7364637307636f6e746f736f03636f6d0000210001",
        "c00c 0021 0001 00000258 0019 0000 0064 0185 05535554303107636f6e746f736f03636f6d00", // SRV 0 100 389 SUT01.contoso.com
        "c044 0001 0001 00000e10 0004 c0a80001", // A 192.168.0.1 (name: pointer to SUT01…)
    );
    /// tcpdump/dns_tcp.pcap frame 4 (→ tcp/53): a query over TCP with an EDNS OPT record.
    const TCP_QUERY: &str = "0038431901200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a00088f06be7d691442f0";

    fn dotted(name: Name<'_>) -> String {
        let mut buf = [0u8; MAX_NAME_LEN];
        let n = name.write_dotted(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn srv_query_and_answer() {
        let bytes = hex(SRV_QUERY);
        let q = parse_dns(&bytes).unwrap();
        assert!(!q.header.is_response());
        let question = q.question.unwrap();
        assert_eq!(question.qtype, QType::SRV);
        assert_eq!(dotted(question.name), "_ldap._tcp.dc._msdcs.contoso.com");
        let bytes = hex(SRV_RESPONSE);
        let r = parse_dns(&bytes).unwrap();
        assert!(r.header.is_response());
        assert_eq!(r.header.rcode(), Rcode::NOERROR);
        assert_eq!(r.header.answer_count, 1);
        // The SRV target at offset 68 and the A record's name at 87, a pointer (c044) to it.
        let target = Name::at(&bytes, 68);
        assert_eq!(dotted(target), "SUT01.contoso.com");
        let additional = Name::at(&bytes, 87);
        assert_eq!(dotted(additional), "SUT01.contoso.com");
        assert_eq!(additional.wire_len(), Some(2));
    }

    #[test]
    fn tcp_framing() {
        let bytes = hex(TCP_QUERY);
        let q = parse_dns_tcp(&bytes).unwrap();
        assert_eq!(dotted(q.question.unwrap().name), "www.tcpdump.org");
        assert_eq!(q.header.additional_count, 1);
        assert_eq!(QType(1).name(), "A");
    }

    #[test]
    fn pointer_loops_and_bad_labels_are_malformed() {
        let mut bytes = hex(SRV_RESPONSE);
        // The answer's name pointer c00c → c032 (offset 50, itself): a loop, malformed.
        bytes[51] = 0x32;
        let looped = Name::at(&bytes, 50);
        assert_eq!(looped.wire_len(), None);
        assert_eq!(looped.write_dotted(&mut [0; 255]), None);
        // Label length 0x05 of the query name → 0x45: reserved label type.
        let mut q = hex(SRV_QUERY);
        q[12] = 0x45;
        assert_eq!(parse_dns(&q), None);
        // QCLASS IN → 0x0200.
        let mut class = hex(SRV_QUERY);
        let n = class.len();
        class[n - 2] = 2;
        assert_eq!(parse_dns(&class), None);
        // A name that does not fit the caller's buffer.
        let bytes = hex(SRV_QUERY);
        let name = parse_dns(&bytes).unwrap().question.unwrap().name;
        assert_eq!(name.write_dotted(&mut [0; 10]), None);
        // TLS is not DNS (the implausible counts reject it).
        assert_eq!(parse_dns(&hex("16030101c4010001c00303a021a50627")), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        for vector in [SRV_QUERY, SRV_RESPONSE] {
            let bytes = hex(vector);
            let question_end = hex(SRV_QUERY).len();
            for len in 0..bytes.len() {
                let m = parse_dns(&bytes[..len]);
                assert_eq!(m.is_some(), len >= question_end, "len {len}");
            }
        }
        let tcp = hex(TCP_QUERY);
        for len in 0..tcp.len() {
            let _ = parse_dns_tcp(&tcp[..len]);
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300), offset in 0usize..300) {
            if let Some(m) = parse_dns(&bytes) {
                if let Some(q) = m.question {
                    let _ = q.name.write_dotted(&mut [0; MAX_NAME_LEN]);
                }
            }
            let _ = parse_dns_tcp(&bytes);
            let name = Name::at(&bytes, offset);
            let _ = name.wire_len();
            prop_assert!(name.labels().count() <= MAX_NAME_LEN);
        }
    }
}
