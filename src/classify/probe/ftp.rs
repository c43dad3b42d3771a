//! FTP control connections (RFC 959 sections 4.1 and 4.2): server replies (the 220 banner
//! first) and client commands (USER, RETR, PASV…), and the 227 passive-mode address (RFC 959
//! 4.1.2 PASV). RD Gateway and RDS hosts may fetch CRLs over FTP (tcp/21).
//!
//! Owns the line syntax. Must not allocate, keep state, or report a password.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::find_crlf;

/// A server reply line (RFC 959 4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The three-digit code.
    pub code: u16,
    /// True for `NNN-`: the first line of a multi-line reply.
    pub multiline: bool,
    /// The text after the code and separator, without CR LF.
    pub text: &'a [u8],
}

/// The commands rdsflows names (RFC 959 4.1; RFC 2428 EPSV/EPRT; RFC 4217 AUTH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// USER
    User,
    /// PASS (the argument is never reported)
    Pass,
    /// RETR
    Retr,
    /// STOR
    Stor,
    /// PASV
    Pasv,
    /// EPSV
    Epsv,
    /// PORT
    Port,
    /// EPRT
    Eprt,
    /// AUTH (AUTH TLS: the rest is encrypted)
    Auth,
    /// QUIT
    Quit,
    /// Any other well-formed command verb.
    Other,
}

/// A client command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// The verb as sent (3 or 4 letters).
    pub verb_text: &'a [u8],
    /// The verb.
    pub verb: Verb,
    /// The argument after one space; empty for PASS, whose argument is a password.
    pub argument: &'a [u8],
}

/// The first line, without CR LF; the line must be complete and at most 512 bytes.
fn line(payload: &[u8]) -> Option<&[u8]> {
    let head = payload.get(..514).unwrap_or(payload);
    payload.get(..find_crlf(head)?)
}

/// Parses a server reply line: three digits, the first 1–5, then a space, a hyphen
/// (multi-line), or the end of the line.
pub fn parse_reply(payload: &[u8]) -> Option<Reply<'_>> {
    let l = line(payload)?;
    let (code, rest) = l.split_first_chunk::<3>()?;
    if !(b'1'..=b'5').contains(&code[0]) || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = code
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    let (multiline, text) = match rest.split_first() {
        None => (false, rest),
        Some((b' ', text)) => (false, text),
        Some((b'-', text)) => (true, text),
        _ => return None,
    };
    Some(Reply {
        code: value,
        multiline,
        text,
    })
}

/// Parses a client command line: a 3- or 4-letter verb (any case), then nothing or a space
/// and an argument of printable bytes.
pub fn parse_command(payload: &[u8]) -> Option<Command<'_>> {
    let l = line(payload)?;
    let (verb_text, argument) = match l.iter().position(|&b| b == b' ') {
        Some(i) => (l.get(..i)?, l.get(i + 1..)?),
        None => (l, &[][..]),
    };
    if !(3..=4).contains(&verb_text.len()) || !verb_text.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    if argument.iter().any(|b| b.is_ascii_control()) {
        return None;
    }
    let verb = [
        (&b"USER"[..], Verb::User),
        (b"PASS", Verb::Pass),
        (b"RETR", Verb::Retr),
        (b"STOR", Verb::Stor),
        (b"PASV", Verb::Pasv),
        (b"EPSV", Verb::Epsv),
        (b"PORT", Verb::Port),
        (b"EPRT", Verb::Eprt),
        (b"AUTH", Verb::Auth),
        (b"QUIT", Verb::Quit),
    ]
    .into_iter()
    .find(|(name, _)| verb_text.eq_ignore_ascii_case(name))
    .map_or(Verb::Other, |(_, v)| v);
    let argument = if verb == Verb::Pass {
        &[][..]
    } else {
        argument
    };
    Some(Command {
        verb_text,
        verb,
        argument,
    })
}

/// The address of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` reply (RFC 959 4.1.2):
/// the data connection the client will open next.
pub fn pasv_address(reply: &Reply<'_>) -> Option<SocketAddrV4> {
    if reply.code != 227 {
        return None;
    }
    let start = reply.text.iter().position(u8::is_ascii_digit)?;
    let mut numbers = [0u8; 6];
    let mut parts = reply.text.get(start..)?.split(|&b| b == b',');
    for slot in &mut numbers {
        let part = parts.next()?;
        let digits: &[u8] = part
            .get(..part.iter().take_while(|b| b.is_ascii_digit()).count())
            .unwrap_or_default();
        *slot = std::str::from_utf8(digits).ok()?.parse().ok()?;
    }
    let [a, b, c, d, p1, p2] = numbers;
    Some(SocketAddrV4::new(
        Ipv4Addr::new(a, b, c, d),
        u16::from_be_bytes([p1, p2]),
    ))
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

    /// zeek/ftp/ipv4.pcap frame 4 (tcp/21 →): the server banner.
    const BANNER: &[u8] = b"220 ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.\r\n";
    /// Same file, frame 6: USER.
    const USER: &[u8] = b"USER anonymous\r\n";
    /// Same file, frame 9: PASS (the argument is a password and is dropped).
    const PASS: &[u8] = b"PASS test\r\n";
    /// Same file, frame 19: PASV, and frame 20, the answer.
    const PASV: &[u8] = b"PASV\r\n";
    const PASV_REPLY: &[u8] = b"227 Entering Passive Mode (199,233,217,249,221,90)\r\n";
    /// Same file, frame 44: RETR.
    const RETR: &[u8] = b"RETR robots.txt\r\n";
    /// Same file, frame 10: the first line of a multi-line 230.
    const MULTILINE: &[u8] = b"230-\r\n";
    /// ndpi/ftp_failed.pcap frame 8: a login refused.
    const REFUSED: &[u8] = b"530 This FTP server is anonymous only.\r\n";

    #[test]
    fn banner_and_replies() {
        let r = parse_reply(BANNER).unwrap();
        assert_eq!(r.code, 220);
        assert_eq!(
            r.text,
            b"ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready."
        );
        let m = parse_reply(MULTILINE).unwrap();
        assert!(m.multiline && m.code == 230 && m.text.is_empty());
        assert_eq!(parse_reply(REFUSED).unwrap().code, 530);
    }

    #[test]
    fn commands() {
        let u = parse_command(USER).unwrap();
        assert_eq!((u.verb, u.argument), (Verb::User, &b"anonymous"[..]));
        let p = parse_command(PASS).unwrap();
        assert_eq!((p.verb, p.argument), (Verb::Pass, &b""[..]));
        assert_eq!(parse_command(RETR).unwrap().argument, b"robots.txt");
        assert_eq!(parse_command(PASV).unwrap().verb, Verb::Pasv);
        assert_eq!(parse_command(b"syst\r\n").unwrap().verb, Verb::Other);
    }

    #[test]
    fn passive_address() {
        let r = parse_reply(PASV_REPLY).unwrap();
        assert_eq!(
            pasv_address(&r),
            Some("199.233.217.249:56666".parse().unwrap())
        );
        assert_eq!(pasv_address(&parse_reply(BANNER).unwrap()), None);
    }

    #[test]
    fn mutations_and_non_ftp() {
        assert_eq!(parse_reply(b"620 nope\r\n"), None, "first digit above 5");
        assert_eq!(parse_reply(b"220x\r\n"), None, "no separator");
        assert_eq!(parse_command(b"US3R x\r\n"), None, "digit in the verb");
        assert_eq!(
            parse_command(b"GET / HTTP/1.1\r\n").unwrap().verb,
            Verb::Other
        );
        assert_eq!(parse_command(b"\x03\x00\x00\x13\r\n"), None, "TPKT");
        assert_eq!(parse_reply(b"HTTP/1.1 200 OK\r\n"), None);
        let bad = parse_reply(b"227 Entering Passive Mode (1,2,3,4,5)\r\n").unwrap();
        assert_eq!(pasv_address(&bad), None, "five numbers");
        let big = parse_reply(b"227 Entering Passive Mode (1,2,3,400,5,6)\r\n").unwrap();
        assert_eq!(pasv_address(&big), None, "400 is not an octet");
    }

    #[test]
    fn every_prefix_is_safe() {
        for vector in [BANNER, USER, PASV_REPLY, RETR] {
            for len in 0..vector.len() {
                assert_eq!(parse_reply(&vector[..len]), None);
                assert_eq!(parse_command(&vector[..len]), None);
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some(r) = parse_reply(&bytes) {
                let _ = pasv_address(&r);
            }
            let _ = parse_command(&bytes);
        }
    }
}
