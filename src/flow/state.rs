//! TCP and UDP connection state in Zeek's vocabulary: per-endpoint states, the `history` string
//! and the `conn_state` code (zeek scripts/base/protocols/conn/main.zeek). Owns the state machine;
//! must not count bytes or know about services.

use serde::Serialize;

use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};

/// One endpoint's TCP state, as Zeek's TCP analyzer names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointState {
    /// Nothing sent yet.
    #[default]
    Inactive,
    /// Sent a SYN (no ACK).
    SynSent,
    /// Sent a SYN+ACK.
    SynAckSent,
    /// Seen sending without its handshake (capture started mid-connection).
    Partial,
    /// Handshake completed.
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

/// Zeek's `conn_state` codes (documented in `report::json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Connection established, not terminated.
    S1,
    /// Normal establishment and termination (UDP: both sides sent).
    SF,
    /// Connection attempt rejected (RST answering the SYN).
    REJ,
    /// Established, originator sent FIN, nothing from responder since.
    S2,
    /// Established, responder sent FIN, nothing from originator since.
    S3,
    /// Established, originator aborted (RST).
    RSTO,
    /// Established, responder aborted (RST).
    RSTR,
    /// Originator sent a SYN then a RST; no SYN+ACK from the responder.
    RSTOS0,
    /// Responder sent a SYN+ACK then a RST; no SYN from the (purported) originator.
    RSTRH,
    /// Originator sent a SYN then a FIN; no SYN+ACK (half open).
    SH,
    /// Responder sent a SYN+ACK then a FIN; no SYN from the originator (UDP: only the responder sent).
    SHR,
    /// No SYN seen, just midstream traffic.
    OTH,
}

impl ConnState {
    /// Every code, in report order.
    pub const ALL: [Self; 13] = [
        Self::S0,
        Self::S1,
        Self::SF,
        Self::REJ,
        Self::S2,
        Self::S3,
        Self::RSTO,
        Self::RSTR,
        Self::RSTOS0,
        Self::RSTRH,
        Self::SH,
        Self::SHR,
        Self::OTH,
    ];

    /// The code as Zeek writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S0 => "S0",
            Self::S1 => "S1",
            Self::SF => "SF",
            Self::REJ => "REJ",
            Self::S2 => "S2",
            Self::S3 => "S3",
            Self::RSTO => "RSTO",
            Self::RSTR => "RSTR",
            Self::RSTOS0 => "RSTOS0",
            Self::RSTRH => "RSTRH",
            Self::SH => "SH",
            Self::SHR => "SHR",
            Self::OTH => "OTH",
        }
    }
}

/// Zeek's history string: one letter per event kind and direction (upper case = originator),
/// in order of first occurrence; retransmissions (`t`) and zero windows (`w`) repeat at 1, 10
/// and 100 occurrences. Kept inline: no allocation per flow.
///
/// Stored as 5-bit letter codes (18 bytes, not 24 letters plus counters in 32): every flow
/// carries one, and issue 6 wants records small. [`Self::text`] spells it out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Letter `i` is code `(word >> 5 * i) & 31` of the little-endian 120-bit word; 0 = none.
    codes: [u8; 15],
    len: u8,
    /// Letters already recorded by [`Self::once`], one bit each (see `bit`).
    seen: u16,
}

/// The letters a history can hold, by code minus one: Zeek's history letters in both cases, the
/// flipped-direction mark, and `?` for any other letter (none is recorded today).
const HISTORY_LETTERS: &[u8; 28] = b"shadfrcgtwiqxSHADFRCGTWIQX^?";

impl History {
    const CAP: usize = 24;
    const BITS: usize = 5;

    /// The `seen` bit of a letter recorded once: 7 event kinds per direction, `^`, and one
    /// shared bit for anything else.
    fn bit(letter: u8) -> u16 {
        let index = match letter.to_ascii_lowercase() {
            b's' => 0,
            b'h' => 1,
            b'a' => 2,
            b'd' => 3,
            b'f' => 4,
            b'r' => 5,
            b'q' => 6,
            b'^' => return 1 << 14,
            _ => return 1 << 15,
        };
        if letter.is_ascii_uppercase() {
            1 << index
        } else {
            1 << (index + 7)
        }
    }

    /// Records `letter` the first time it happens.
    pub fn once(&mut self, letter: u8) {
        let bit = Self::bit(letter);
        if self.seen & bit == 0 {
            self.seen |= bit;
            self.push(letter);
        }
    }

    /// Records `letter` when `count` reaches 1, 10 or 100 (Zeek's logarithmic repeats).
    pub fn counted(&mut self, letter: u8, count: u32) {
        if matches!(count, 1 | 10 | 100) {
            self.push(letter);
        }
    }

    fn word(&self) -> u128 {
        let mut bytes = [0u8; 16];
        for (byte, code) in bytes.iter_mut().zip(self.codes) {
            *byte = code;
        }
        u128::from_le_bytes(bytes)
    }

    fn push(&mut self, letter: u8) {
        let index = usize::from(self.len);
        if index >= Self::CAP {
            return;
        }
        let code = HISTORY_LETTERS
            .iter()
            .position(|l| *l == letter)
            .unwrap_or(HISTORY_LETTERS.len() - 1)
            + 1;
        let word = self.word() | (code as u128) << (Self::BITS * index);
        for (slot, byte) in self.codes.iter_mut().zip(word.to_le_bytes()) {
            *slot = byte;
        }
        self.len += 1;
    }

    /// The history spelled out.
    pub fn text(&self) -> HistoryText {
        let word = self.word();
        let mut text = HistoryText {
            letters: [0; Self::CAP],
            len: self.len,
        };
        for (i, slot) in text
            .letters
            .iter_mut()
            .take(usize::from(self.len))
            .enumerate()
        {
            let code = ((word >> (Self::BITS * i)) & 31) as usize;
            *slot = code
                .checked_sub(1)
                .and_then(|c| HISTORY_LETTERS.get(c))
                .copied()
                .unwrap_or(b'?');
        }
        text
    }
}

/// A [`History`] spelled out: Zeek's history letters, at most 24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryText {
    letters: [u8; History::CAP],
    len: u8,
}

impl HistoryText {
    /// The history as text.
    pub fn as_str(&self) -> &str {
        let letters = self
            .letters
            .get(..usize::from(self.len))
            .unwrap_or_default();
        std::str::from_utf8(letters).unwrap_or_default()
    }
}

impl AsRef<str> for HistoryText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for HistoryText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Moves an endpoint's state for a segment it sent, and its peer's where the handshake completes.
pub fn tcp_transition(sender: &mut EndpointState, peer: &mut EndpointState, flags: u8) {
    use EndpointState::*;
    if flags & RST != 0 {
        *sender = Reset;
        return;
    }
    if flags & SYN != 0 {
        if flags & ACK == 0 {
            if *sender == Inactive {
                *sender = SynSent;
            }
        } else if matches!(*sender, Inactive | SynSent) {
            *sender = SynAckSent;
        }
        return;
    }
    if flags & FIN != 0 {
        if *sender != Reset {
            *sender = Closed;
        }
        return;
    }
    // A plain ACK or data segment.
    match (*sender, *peer) {
        (SynSent, SynAckSent) | (Inactive, SynAckSent) => {
            *sender = Established;
            *peer = Established;
        }
        (Inactive, _) => *sender = Partial,
        _ => {}
    }
}

/// Zeek's `conn_state` for a TCP connection (conn/main.zeek, function `conn_state`).
///
/// `history` gives the history letters; only an originator's reset to a silent responder
/// reads them, so they are not spelled out for every flow (the summary asks each ended flow
/// its state several times).
pub fn tcp_conn_state<H: AsRef<str>>(
    orig: EndpointState,
    resp: EndpointState,
    orig_payload: u64,
    resp_payload: u64,
    history: impl FnOnce() -> H,
) -> ConnState {
    use EndpointState::*;
    let o_inactive = matches!(orig, Inactive | Partial);
    let r_inactive = matches!(resp, Inactive | Partial);
    if resp == Reset {
        if matches!(orig, SynSent | SynAckSent)
            || (orig == Reset && orig_payload == 0 && resp_payload == 0)
        {
            ConnState::REJ
        } else if o_inactive {
            ConnState::RSTRH
        } else {
            ConnState::RSTR
        }
    } else if orig == Reset {
        if r_inactive {
            // Zeek: /\^?S[^HAFGIQ]*R.*/ == history
            let history = history();
            let history = history.as_ref();
            let h = history.strip_prefix('^').unwrap_or(history);
            let syn_then_rst = h.starts_with('S')
                && h.find('R').is_some_and(|r| {
                    !h.get(1..r)
                        .unwrap_or_default()
                        .contains(['H', 'A', 'F', 'G', 'I', 'Q'])
                });
            if syn_then_rst {
                ConnState::RSTOS0
            } else {
                ConnState::OTH
            }
        } else {
            ConnState::RSTO
        }
    } else if resp == Closed && orig == Closed {
        ConnState::SF
    } else if orig == Closed {
        if r_inactive {
            ConnState::SH
        } else {
            ConnState::S2
        }
    } else if resp == Closed {
        if o_inactive {
            ConnState::SHR
        } else {
            ConnState::S3
        }
    } else if orig == SynSent && resp == Inactive {
        ConnState::S0
    } else if orig == Established && resp == Established {
        ConnState::S1
    } else {
        ConnState::OTH
    }
}

/// Zeek's `conn_state` for UDP: who sent anything.
pub fn udp_conn_state(orig_sent: bool, resp_sent: bool) -> ConnState {
    match (orig_sent, resp_sent) {
        (true, true) => ConnState::SF,
        (true, false) => ConnState::S0,
        (false, true) => ConnState::SHR,
        (false, false) => ConnState::OTH,
    }
}

#[cfg(test)]
mod tests {
    use super::EndpointState::*;
    use super::*;
    use crate::decode::tcp_flags::PSH;

    fn run(segments: &[(bool, u8)]) -> (EndpointState, EndpointState) {
        let (mut orig, mut resp) = (Inactive, Inactive);
        for &(from_orig, flags) in segments {
            if from_orig {
                tcp_transition(&mut orig, &mut resp, flags);
            } else {
                tcp_transition(&mut resp, &mut orig, flags);
            }
        }
        (orig, resp)
    }

    #[test]
    fn full_handshake_and_close_is_sf() {
        let (o, r) = run(&[
            (true, SYN),
            (false, SYN | ACK),
            (true, ACK),
            (true, PSH | ACK),
            (true, FIN | ACK),
            (false, FIN | ACK),
            (true, ACK),
        ]);
        assert_eq!(tcp_conn_state(o, r, 10, 0, || "ShADadFf"), ConnState::SF);
    }

    #[test]
    fn syn_answered_by_rst_is_rej() {
        let (o, r) = run(&[(true, SYN), (false, RST | ACK)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "Sr"), ConnState::REJ);
    }

    #[test]
    fn lone_syns_are_s0() {
        let (o, r) = run(&[(true, SYN), (true, SYN), (true, SYN)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "S"), ConnState::S0);
    }

    #[test]
    fn syn_then_own_rst_is_rstos0() {
        let (o, r) = run(&[(true, SYN), (true, RST)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "SR"), ConnState::RSTOS0);
    }

    #[test]
    fn established_then_responder_reset_is_rstr() {
        let (o, r) = run(&[(true, SYN), (false, SYN | ACK), (true, ACK), (false, RST)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "ShAr"), ConnState::RSTR);
    }

    #[test]
    fn established_open_is_s1_and_midstream_is_oth() {
        let (o, r) = run(&[(true, SYN), (false, SYN | ACK), (true, ACK)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "ShA"), ConnState::S1);
        let (o, r) = run(&[(true, ACK), (false, ACK)]);
        assert_eq!(tcp_conn_state(o, r, 0, 0, || "Aa"), ConnState::OTH);
    }

    #[test]
    fn history_records_first_occurrence_and_log_counts() {
        let mut h = History::default();
        h.once(b'S');
        h.once(b'S');
        h.once(b'h');
        h.once(b'A');
        for n in 1..=12 {
            h.counted(b'T', n);
        }
        assert_eq!(h.text().as_str(), "ShATT");
    }

    #[test]
    fn history_holds_every_letter_and_stops_at_its_capacity() {
        let mut h = History::default();
        h.once(b'^');
        let letters = b"ShADFRQHsadfrq";
        for letter in letters {
            h.once(*letter);
        }
        for n in 1..=100 {
            for letter in [b'T', b't', b'W', b'w'] {
                h.counted(letter, n);
            }
        }
        // 15 once-letters, then the counted ones until 24.
        assert_eq!(h.text().as_str(), "^ShADFRQHsadfrqTtWwTtWwT");
        assert_eq!(size_of::<History>(), 18);
    }

    #[test]
    fn udp_states() {
        assert_eq!(udp_conn_state(true, true), ConnState::SF);
        assert_eq!(udp_conn_state(true, false), ConnState::S0);
    }
}
