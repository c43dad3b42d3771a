//! Turns wire bytes (cookies, SNI, user names, DNS names) into a bounded `String` that is safe
//! to print on a terminal and to put in JSON: printable ASCII stays as it is (backslash doubled),
//! ASCII control bytes and bytes that are not UTF-8 become `\xNN`, and Unicode characters that
//! can reorder or hide text on a terminal (C1 controls, bidirectional overrides and isolates,
//! zero-width and line/paragraph separators, BOM) become `\u{XXXX}`. Other UTF-8 text stays
//! readable. Output longer than the cap ends with [`ELLIPSIS`].
//!
//! The one place in `probe` that allocates: it is meant for values that will be stored, once
//! per flow, not for the per-packet path. Must not panic or produce unbounded output.

/// The default cap, in characters of output (before the ellipsis).
pub const DEFAULT_MAX_CHARS: usize = 256;
/// Appended when the output was cut.
pub const ELLIPSIS: char = '…';

/// True for characters a terminal may act on or that hide or reorder text (Unicode general
/// category Cc and the Bidi_Control, zero-width and separator format characters).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Escapes `bytes` as the module docs describe, producing at most `max_chars` characters plus
/// the ellipsis. An escape sequence is never split by the cap.
pub fn escape_bytes(bytes: &[u8], max_chars: usize) -> String {
    // Most values (host names, cookies, HTTP targets, user agents) are printable ASCII without
    // a backslash and within the cap: one check and one copy, instead of a piece per character
    // (1.3 % of a one-thread run on the benchmark capture went to the general road).
    if bytes.len() <= max_chars && bytes.iter().all(|&b| is_kept_as_it_is(b)) {
        return bytes.iter().copied().map(char::from).collect();
    }
    escape_in_pieces(bytes, max_chars)
}

/// A byte that [`escape_bytes`] writes unchanged wherever it stands: printable ASCII, but not
/// the backslash (which is doubled).
fn is_kept_as_it_is(byte: u8) -> bool {
    matches!(byte, b' '..=b'~') && byte != b'\\'
}

/// [`escape_bytes`]' general road: any bytes, any cap.
fn escape_in_pieces(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max_chars).saturating_add(4));
    let mut used = 0usize;
    let mut piece = String::new();
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().chars().map(Piece::Char);
        let invalid = chunk.invalid().iter().map(|&b| Piece::Byte(b));
        for p in valid.chain(invalid) {
            piece.clear();
            match p {
                Piece::Char('\\') => piece.push_str("\\\\"),
                Piece::Char(c) if c.is_ascii() && !c.is_ascii_control() => piece.push(c),
                Piece::Char(c) if c.is_ascii() => piece.push_str(&format!("\\x{:02x}", c as u32)),
                Piece::Char(c) if is_unsafe(c) => {
                    piece.push_str(&format!("\\u{{{:04x}}}", c as u32));
                }
                Piece::Char(c) => piece.push(c),
                Piece::Byte(b) => piece.push_str(&format!("\\x{b:02x}")),
            }
            let len = piece.chars().count();
            if used.saturating_add(len) > max_chars {
                out.push(ELLIPSIS);
                return out;
            }
            used += len;
            out.push_str(&piece);
        }
    }
    out
}

/// [`escape_bytes`] with [`DEFAULT_MAX_CHARS`].
pub fn escape(bytes: &[u8]) -> String {
    escape_bytes(bytes, DEFAULT_MAX_CHARS)
}

enum Piece {
    Char(char),
    Byte(u8),
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
    fn real_values() {
        // awakecoding-wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng frame 4: mstshash=IT-HELP\A.
        assert_eq!(escape(b"IT-HELP\\A"), "IT-HELP\\\\A");
        // zeek/rdp/rdp-invalid-length.pcap frame 7: the fuzzed bytes after the cookie line.
        assert_eq!(
            escape(b"JOHN-PC  \r\n\x01\x00Packe\xb0\xb0"),
            "JOHN-PC  \\x0d\\x0a\\x01\\x00Packe\\xb0\\xb0"
        );
        // zeek/ldap/ldap_search_umlaut.pcap frame 4: a UTF-8 value stays readable.
        assert_eq!(escape(b"\xc3\x9c\xc3\xbc"), "Üü");
    }

    #[test]
    fn terminal_tricks_are_neutralised() {
        assert_eq!(escape(b"\x1b[31mred"), "\\x1b[31mred");
        // U+202E RIGHT-TO-LEFT OVERRIDE, U+0085 NEXT LINE (C1), U+200B ZERO WIDTH SPACE.
        assert_eq!(
            escape("a\u{202e}b\u{85}c\u{200b}".as_bytes()),
            "a\\u{202e}b\\u{0085}c\\u{200b}"
        );
        assert_eq!(
            escape(b"\"quoted\""),
            "\"quoted\"",
            "JSON quoting is serde's job"
        );
    }

    #[test]
    fn output_is_capped_with_an_ellipsis() {
        assert_eq!(escape_bytes(b"abcdef", 4), "abcd…");
        assert_eq!(escape_bytes(b"abcd", 4), "abcd");
        // An escape is not split: "ab" + "\x00" (4 chars) does not fit in 5.
        assert_eq!(escape_bytes(b"ab\x00", 5), "ab…");
        assert_eq!(escape_bytes(b"", 0), "");
        assert_eq!(escape(&[b'x'; 1000]).chars().count(), DEFAULT_MAX_CHARS + 1);
    }

    proptest! {
        #[test]
        fn output_is_bounded_and_free_of_controls(bytes in proptest::collection::vec(any::<u8>(), 0..600), max in 0usize..300) {
            let out = escape_bytes(&bytes, max);
            prop_assert!(out.chars().count() <= max + 1);
            prop_assert!(!out.chars().any(|c| c.is_control() || is_unsafe(c)));
        }

        #[test]
        fn the_short_road_agrees_with_the_general_one(
            bytes in prop_oneof![
                proptest::collection::vec(0x20u8..0x7f, 0..40),
                proptest::collection::vec(any::<u8>(), 0..300),
            ],
            max in 0usize..300,
        ) {
            prop_assert_eq!(escape_bytes(&bytes, max), escape_in_pieces(&bytes, max));
        }

        #[test]
        fn printable_ascii_without_backslash_is_unchanged(text in "[ -\\[\\]-~]{0,100}") {
            prop_assert_eq!(escape(text.as_bytes()), text);
        }
    }
}
