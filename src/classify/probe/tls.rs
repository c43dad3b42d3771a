//! TLS and DTLS handshake starts: the ClientHello (legacy version, supported_versions, server
//! name) and the ServerHello (selected version) (RFC 8446 4.1.2, 4.1.3, 4.2.1; RFC 5246
//! 7.4.1.2; RFC 6066 section 3 server_name; DTLS: RFC 6347 4.1, 4.2.2 and RFC 9147).
//!
//! Owns the record, handshake and extension layouts. Works on the first record of a direction,
//! which may be cut short (a large ClientHello spans segments): fields are read as far as the
//! bytes go and [`ClientHello::complete`] says whether the whole message was seen. Must not
//! decrypt, keep state, allocate, or report a server name from anything but a ClientHello.

use super::Cursor;

/// TLS content type of handshake records (RFC 8446 5.1).
pub const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake type client_hello.
pub const CLIENT_HELLO: u8 = 1;
/// Handshake type server_hello.
pub const SERVER_HELLO: u8 = 2;
/// Extension server_name (RFC 6066 3).
const EXT_SERVER_NAME: u16 = 0;
/// Extension application_layer_protocol_negotiation (RFC 7301 3.1).
const EXT_ALPN: u16 = 16;
/// Extension supported_versions (RFC 8446 4.2.1).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// A protocol version as sent on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TlsVersion(pub u16);

impl TlsVersion {
    /// SSL 3.0
    pub const SSL3: Self = Self(0x0300);
    /// TLS 1.0
    pub const TLS1_0: Self = Self(0x0301);
    /// TLS 1.1
    pub const TLS1_1: Self = Self(0x0302);
    /// TLS 1.2
    pub const TLS1_2: Self = Self(0x0303);
    /// TLS 1.3
    pub const TLS1_3: Self = Self(0x0304);
    /// DTLS 1.0 (RFC 4347)
    pub const DTLS1_0: Self = Self(0xFEFF);
    /// DTLS 1.2 (RFC 6347)
    pub const DTLS1_2: Self = Self(0xFEFD);
    /// DTLS 1.3 (RFC 9147)
    pub const DTLS1_3: Self = Self(0xFEFC);

    /// "TLS 1.2", "DTLS 1.0"… or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x0300 => "SSL 3.0",
            0x0301 => "TLS 1.0",
            0x0302 => "TLS 1.1",
            0x0303 => "TLS 1.2",
            0x0304 => "TLS 1.3",
            0xFEFF => "DTLS 1.0",
            0xFEFD => "DTLS 1.2",
            0xFEFC => "DTLS 1.3",
            _ => "unknown",
        }
    }

    /// GREASE values (RFC 8701: 0x?A?A) that clients put in version lists.
    pub fn is_grease(self) -> bool {
        let [hi, lo] = self.0.to_be_bytes();
        hi == lo && hi & 0x0F == 0x0A
    }
}

/// The parts of a ClientHello rdsflows reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// True for DTLS.
    pub dtls: bool,
    /// The record layer version.
    pub record_version: TlsVersion,
    /// legacy_version (client_version before TLS 1.3).
    pub legacy_version: TlsVersion,
    /// The highest non-GREASE version of supported_versions, when the extension is present
    /// (TLS 1.3 clients put 0x0303 in legacy_version and the real offer here).
    pub highest_supported: Option<TlsVersion>,
    /// The host_name of the server_name extension (RFC 6066 3), borrowed, not validated.
    pub server_name: Option<&'a [u8]>,
    /// The first ALPN protocol offered (RFC 7301).
    pub alpn: Option<&'a [u8]>,
    /// True when the whole message was in the bytes (all extensions were seen).
    pub complete: bool,
}

impl ClientHello<'_> {
    /// The version the client offers at best: `highest_supported`, else `legacy_version`.
    pub fn offered_version(&self) -> TlsVersion {
        self.highest_supported.unwrap_or(self.legacy_version)
    }
}

/// The parts of a ServerHello rdsflows reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHello {
    /// True for DTLS.
    pub dtls: bool,
    /// legacy_version.
    pub legacy_version: TlsVersion,
    /// The version in use: supported_versions when present (TLS 1.3), else legacy_version.
    pub selected_version: TlsVersion,
    /// The chosen cipher suite.
    pub cipher_suite: u16,
}

/// A TLS or DTLS record header (RFC 8446 5.1; RFC 6347 4.1): what a passive check can still
/// say about an encrypted stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// ContentType: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data, 24
    /// heartbeat.
    pub content_type: u8,
    /// The record layer version.
    pub version: TlsVersion,
    /// The fragment length.
    pub length: u16,
    /// True for a DTLS record (13-byte header with epoch and sequence number).
    pub dtls: bool,
}

/// Recognises a TLS or DTLS record header at the start of `payload`: a content type 20..=24, a
/// version SSL 3.0..TLS 1.3 (TLS) or DTLS 1.0..1.3, and a length of 1..=2^14+2048 (RFC 8446
/// 5.1, 5.2). Only the header is read: the record itself may continue in later segments.
pub fn parse_record_header(payload: &[u8]) -> Option<RecordHeader> {
    let mut c = Cursor::new(payload);
    let content_type = c.u8()?;
    let version = TlsVersion(c.be16()?);
    if !(20..=24).contains(&content_type) {
        return None;
    }
    let dtls = match version.0 {
        0x0300..=0x0304 => false,
        0xFEFC..=0xFEFF => true,
        _ => return None,
    };
    if dtls {
        c.skip(8)?; // epoch u16, sequence_number u48
    }
    let length = c.be16()?;
    if length == 0 || usize::from(length) > (1 << 14) + 2048 {
        return None;
    }
    Some(RecordHeader {
        content_type,
        version,
        length,
        dtls,
    })
}

/// A handshake message header and its body (bounded by the record, the message length and
/// the bytes present); `complete` when the whole body is there.
struct Handshake<'a> {
    dtls: bool,
    record_version: TlsVersion,
    msg_type: u8,
    body: &'a [u8],
    complete: bool,
}

/// Reads the first record's header and the first handshake message header, TLS or DTLS.
fn handshake(payload: &[u8]) -> Option<Handshake<'_>> {
    let mut c = Cursor::new(payload);
    let content_type = c.u8()?;
    let record_version = TlsVersion(c.be16()?);
    if content_type != CONTENT_HANDSHAKE {
        return None;
    }
    let dtls = match record_version.0 {
        0x0300..=0x0304 => false,
        0xFEFC..=0xFEFF => true,
        _ => return None,
    };
    if dtls {
        c.skip(8)?; // epoch u16, sequence_number u48
    }
    let record_len = usize::from(c.be16()?);
    // RFC 8446 5.1: a record holds at most 2^14 bytes (+2048 for ciphertext in 1.2).
    if record_len == 0 || record_len > (1 << 14) + 2048 {
        return None;
    }
    let present = c.rest();
    let record = present.get(..record_len).unwrap_or(present);
    let mut h = Cursor::new(record);
    let msg_type = h.u8()?;
    let [a, b, d] = h.array::<3>()?;
    let msg_len = u32::from_be_bytes([0, a, b, d]) as usize;
    let mut fragment_len = msg_len;
    if dtls {
        let _message_seq = h.be16()?;
        let [o0, o1, o2] = h.array::<3>()?;
        let [f0, f1, f2] = h.array::<3>()?;
        // Only the first fragment has the fields we read.
        if u32::from_be_bytes([0, o0, o1, o2]) != 0 {
            return None;
        }
        fragment_len = u32::from_be_bytes([0, f0, f1, f2]) as usize;
        if fragment_len > msg_len {
            return None;
        }
    }
    let rest = h.rest();
    let complete = rest.len() >= fragment_len && fragment_len == msg_len;
    let body = rest.get(..fragment_len).unwrap_or(rest);
    Some(Handshake {
        dtls,
        record_version,
        msg_type,
        body,
        complete,
    })
}

/// Walks the extensions block; calls `f(type, data)` for each complete extension. Returns true
/// when the block was read to its end.
fn for_each_extension<'a>(c: &mut Cursor<'a>, mut f: impl FnMut(u16, &'a [u8])) -> bool {
    let Some(total) = c.be16() else {
        return false;
    };
    let block = c.rest();
    let (mut ext, whole) = match block.get(..usize::from(total)) {
        Some(b) => (Cursor::new(b), true),
        None => (Cursor::new(block), false),
    };
    while !ext.is_empty() {
        let (Some(ty), Some(len)) = (ext.be16(), ext.be16()) else {
            return false;
        };
        let Some(data) = ext.take(usize::from(len)) else {
            return false;
        };
        f(ty, data);
    }
    whole
}

/// Parses a TLS or DTLS ClientHello (RFC 8446 4.1.2; RFC 6347 4.2.1 with its cookie field).
///
/// Needs the record header, the handshake header with type client_hello and legacy_version;
/// everything after that is read as far as the bytes go. `None` for any other record or
/// handshake type (a ServerHello, application data…), so no server name is ever taken from
/// something that is not a ClientHello.
pub fn parse_client_hello(payload: &[u8]) -> Option<ClientHello<'_>> {
    let hs = handshake(payload)?;
    if hs.msg_type != CLIENT_HELLO {
        return None;
    }
    let mut c = Cursor::new(hs.body);
    let legacy_version = TlsVersion(c.be16()?);
    let mut hello = ClientHello {
        dtls: hs.dtls,
        record_version: hs.record_version,
        legacy_version,
        highest_supported: None,
        server_name: None,
        alpn: None,
        complete: false,
    };
    let extensions_whole = (|| {
        c.skip(32)?; // random
        let session_len = c.u8()?;
        if session_len > 32 {
            return None;
        }
        c.skip(usize::from(session_len))?;
        if hs.dtls {
            let cookie_len = c.u8()?;
            c.skip(usize::from(cookie_len))?;
        }
        let suites_len = c.be16()?;
        c.skip(usize::from(suites_len))?;
        let compression_len = c.u8()?;
        c.skip(usize::from(compression_len))?;
        if c.is_empty() {
            return Some(true); // no extensions at all (RFC 5246 7.4.1.2)
        }
        Some(for_each_extension(&mut c, |ty, data| match ty {
            EXT_SERVER_NAME => hello.server_name = server_name(data),
            EXT_SUPPORTED_VERSIONS => hello.highest_supported = highest_version(data),
            EXT_ALPN => hello.alpn = first_alpn(data),
            _ => {}
        }))
    })();
    hello.complete = hs.complete && extensions_whole == Some(true);
    Some(hello)
}

/// The host_name entry of a server_name extension (RFC 6066 3: list length u16, then
/// name_type u8 (0 = host_name), length u16, name).
fn server_name(data: &[u8]) -> Option<&[u8]> {
    let mut c = Cursor::new(data);
    let list_len = c.be16()?;
    let mut list = Cursor::new(c.take(usize::from(list_len))?);
    while !list.is_empty() {
        let name_type = list.u8()?;
        let len = list.be16()?;
        let name = list.take(usize::from(len))?;
        if name_type == 0 && !name.is_empty() {
            return Some(name);
        }
    }
    None
}

/// The highest non-GREASE version in a ClientHello supported_versions list (u8 length, u16s).
fn highest_version(data: &[u8]) -> Option<TlsVersion> {
    let mut c = Cursor::new(data);
    let len = c.u8()?;
    let list = c.take(usize::from(len))?;
    list.chunks_exact(2)
        .filter_map(|v| <[u8; 2]>::try_from(v).ok())
        .map(|v| TlsVersion(u16::from_be_bytes(v)))
        .filter(|v| !v.is_grease())
        // DTLS versions count down (0xFEFD is newer than 0xFEFF): compare by "newness".
        .max_by_key(|v| if v.0 >= 0xFE00 { 0xFFFF - v.0 } else { v.0 })
}

/// The first protocol name of an ALPN extension (u16 list length, then u8-prefixed names).
fn first_alpn(data: &[u8]) -> Option<&[u8]> {
    let mut c = Cursor::new(data);
    let _list_len = c.be16()?;
    let len = c.u8()?;
    c.take(usize::from(len)).filter(|p| !p.is_empty())
}

/// Parses a TLS or DTLS ServerHello (RFC 8446 4.1.3): legacy_version, cipher suite, and the
/// selected version from supported_versions when present. `None` for anything else, and for
/// a ServerHello cut before its cipher suite.
pub fn parse_server_hello(payload: &[u8]) -> Option<ServerHello> {
    let hs = handshake(payload)?;
    if hs.msg_type != SERVER_HELLO {
        return None;
    }
    let mut c = Cursor::new(hs.body);
    let legacy_version = TlsVersion(c.be16()?);
    c.skip(32)?;
    let session_len = c.u8()?;
    if session_len > 32 {
        return None;
    }
    c.skip(usize::from(session_len))?;
    let cipher_suite = c.be16()?;
    let _compression = c.u8()?;
    let mut selected_version = legacy_version;
    if !c.is_empty() {
        for_each_extension(&mut c, |ty, data| {
            if ty == EXT_SUPPORTED_VERSIONS {
                if let Some(v) = Cursor::new(data).be16() {
                    selected_version = TlsVersion(v);
                }
            }
        });
    }
    Some(ServerHello {
        dtls: hs.dtls,
        legacy_version,
        selected_version,
        cipher_suite,
    })
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

    /// zeek/tls/openjdk-25.0.2-zeek.org.pcap frame 4 (55058 → 443): a TLS 1.3 ClientHello
    /// from OpenJDK 25, 457 bytes.
    const OPENJDK_CLIENT_HELLO: &str = concat!(
        "16 0303 01c4",                 // handshake record, TLS 1.2 record version, 452 bytes
        "01 0001c0",                    // client_hello, 448 bytes
        "0303",                         // legacy_version TLS 1.2
        "a021a50627aaf47999a11177afaf134b1567779546868cdb06d4f4e71b53a6e7", // random
        "20 a14023aebdc70f8d832511dd646b823f52c5afb346835af730d498318dcdc5ad", // session id
        "003e 130213011303c02cc02bcca9c030cca8c02f009fccaa00a3009e00a2c024c028c023c027006b006a00670040c00ac014c009c013003900380033003200ff", // 31 suites
        "01 00",                        // compression: null
        "0139",                         // extensions, 313 bytes
        "0000 000d 000b 00 0008 7a65656b2e6f7267", // server_name: host_name "zeek.org"
        "0005 0005 0100000000",         // status_request
        "000a 0016 0014001d001700180019001e0100010101020103010400", // supported_groups
        "0b 0002 0100",                 // (cont.) ec_point_formats
        "0010 000e 000c 02 6832 08 687474702f312e31", // ALPN: "h2", "http/1.1"
        "0011 0009 0007020004000000 00", // status_request_v2
        "0017 0000",                    // extended_master_secret
        "0023 0000",                    // session_ticket
        "000d 0026 0024 040305030603080708080804080508060809080a080b0401050106010402030303010302", // signature_algorithms
        "002b 0005 04 0304 0303",       // supported_versions: TLS 1.3, TLS 1.2
        "002d 0002 0101",               // psk_key_exchange_modes
        "0032 002c 002a040305030603080708080804080508060809080a080b0401050106010402030303010302020302010202", // signature_algorithms_cert
        "0033 006b 0069 001d 0020 270663b763d4bc48328b250b6adc6903e1f50b5c38a1b8f7773112439287101800170041043b4fdbdeddcbc7f434455e6f5d3e5ab2c917a7852fb4f652554df46d17f1160e9b0af7153269f74fa7588e876d923edac3fee9b8db107fcb6d4d8fa29dfafd58", // key_share x25519, secp256r1
    );

    /// Same file, frame 6 (443 → 55058), first record: the TLS 1.3 ServerHello.
    const OPENJDK_SERVER_HELLO: &str = concat!(
        "16 0303 007a",   // handshake record, 122 bytes
        "02 000076 0303", // server_hello, legacy_version TLS 1.2
        "391e35cc472a7a67098c6f6831d8a876203b0a93d3464c0da9b3d7deac02d15d", // random
        "20 a14023aebdc70f8d832511dd646b823f52c5afb346835af730d498318dcdc5ad", // session id echo
        "1302 00",        // TLS_AES_256_GCM_SHA384, null compression
        "002e 002b 0002 0304", // extensions: supported_versions = TLS 1.3
        "0033 0024 001d 0020 cc30adaf1198c54a66db3d3fea75f8289e8133ef6ac6188b13f9e901897d4878", // key_share
    );

    /// awakecoding-wireshark-rdp/rdp-restricted-admin-rejected1.pcapng frame 7: the RDP
    /// client's ClientHello after the X.224 exchange (SNI = the RDP server's name).
    const RDP_CLIENT_HELLO: &str = "160301011c010001180303331598d9f5de909599bbb9284262815d43e9f450edc58420769fbca4be9d36c920ac0f91797a2cd24682369ca210a2c4767a34f0197131834bf4d123ff6e77823a002813021301c02cc02bc030c02fc024c023c028c027c00ac009c014c013009d009c003d003c0035002f010000a700000022002000001d49542d48454c502d544553542e61642e69742d68656c702e6e696e6a61000500050100000000002b0009080304030303020301000d001a001808040805080604010501020104030503020302020601060300230000000a00080006001d00170018003300260024001d0020b93c0a837d698d17ed780350df9071843334f9aef5c5be24c93fcc87b9387d790031000000170000ff01000100002d00020101";

    /// A DTLS 1.0 ClientHello built per RFC 6347 4.1/4.2.2 (no public capture holds one):
    /// record header with epoch and sequence number, handshake header with message_seq,
    /// fragment_offset and fragment_length, and the empty cookie field.
    fn dtls_client_hello(sni: &[u8]) -> Vec<u8> {
        let mut ext = vec![0x00, 0x00];
        let entry_len = (sni.len() + 3) as u16;
        ext.extend_from_slice(&(entry_len + 2).to_be_bytes());
        ext.extend_from_slice(&entry_len.to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(sni);
        let mut body = vec![0xfe, 0xfd]; // client_version DTLS 1.2
        body.extend_from_slice(&[0x5a; 32]); // random
        body.push(0); // session id
        body.push(0); // cookie (first ClientHello, before HelloVerifyRequest)
        body.extend_from_slice(&[0x00, 0x02, 0xc0, 0x2b, 0x01, 0x00]); // one suite, null compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let len = body.len() as u32;
        let mut hs = vec![CLIENT_HELLO];
        hs.extend_from_slice(&len.to_be_bytes()[1..]);
        hs.extend_from_slice(&[0, 0]); // message_seq
        hs.extend_from_slice(&[0, 0, 0]); // fragment_offset
        hs.extend_from_slice(&len.to_be_bytes()[1..]); // fragment_length
        hs.extend_from_slice(&body);
        let mut record = vec![CONTENT_HANDSHAKE, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
        record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        record.extend_from_slice(&hs);
        record
    }

    #[test]
    fn tls13_client_hello_gives_sni_versions_and_alpn() {
        let bytes = hex(OPENJDK_CLIENT_HELLO);
        assert_eq!(bytes.len(), 457);
        let hello = parse_client_hello(&bytes).unwrap();
        assert!(!hello.dtls && hello.complete);
        assert_eq!(hello.server_name, Some(&b"zeek.org"[..]));
        assert_eq!(hello.legacy_version, TlsVersion::TLS1_2);
        assert_eq!(hello.highest_supported, Some(TlsVersion::TLS1_3));
        assert_eq!(hello.offered_version().name(), "TLS 1.3");
        assert_eq!(hello.alpn, Some(&b"h2"[..]));
    }

    #[test]
    fn server_hello_gives_the_selected_version() {
        let sh = parse_server_hello(&hex(OPENJDK_SERVER_HELLO)).unwrap();
        assert_eq!(sh.legacy_version, TlsVersion::TLS1_2);
        assert_eq!(sh.selected_version, TlsVersion::TLS1_3);
        assert_eq!(sh.cipher_suite, 0x1302);
        assert_eq!(
            parse_client_hello(&hex(OPENJDK_SERVER_HELLO)),
            None,
            "a ServerHello gives no SNI"
        );
        assert_eq!(parse_server_hello(&hex(OPENJDK_CLIENT_HELLO)), None);
    }

    #[test]
    fn rdp_client_hello_names_the_server() {
        let bytes = hex(RDP_CLIENT_HELLO);
        let hello = parse_client_hello(&bytes).unwrap();
        assert_eq!(
            hello.server_name,
            Some(&b"IT-HELP-TEST.ad.it-help.ninja"[..])
        );
        assert_eq!(hello.record_version, TlsVersion::TLS1_0);
        assert_eq!(hello.highest_supported, Some(TlsVersion::TLS1_3));
        assert!(hello.complete);
    }

    #[test]
    fn dtls_client_hello_gives_sni() {
        let bytes = dtls_client_hello(b"gw.example.test");
        let hello = parse_client_hello(&bytes).unwrap();
        assert!(hello.dtls && hello.complete);
        assert_eq!(hello.legacy_version, TlsVersion::DTLS1_2);
        assert_eq!(hello.record_version.name(), "DTLS 1.0");
        assert_eq!(hello.server_name, Some(&b"gw.example.test"[..]));
        // Mutation: fragment_offset 0 → 5 (a later fragment): not readable as a ClientHello.
        let mut later = bytes.clone();
        later[13 + 8] = 5;
        assert_eq!(parse_client_hello(&later), None);
    }

    /// zeek/tls/openjdk-25.0.2-zeek.org.pcap frame 6 (443 → 55058), TCP payload bytes 127..:
    /// the ChangeCipherSpec record, then the first encrypted record (application_data, 50 bytes).
    const OPENJDK_CCS_AND_APPDATA: &str = concat!(
        "14 0303 0001 01",                                   // CCS, TLS 1.2, length 1
        "17 0303 0032 a64b4629404a2b22f3f04345e3bfd7853dea", // application_data, length 50
    );

    #[test]
    fn record_headers_of_an_encrypted_stream_are_recognised() {
        let bytes = hex(OPENJDK_CCS_AND_APPDATA);
        let ccs = parse_record_header(&bytes).unwrap();
        assert_eq!((ccs.content_type, ccs.length, ccs.dtls), (20, 1, false));
        let app = parse_record_header(&bytes[6..]).unwrap();
        assert_eq!(
            (app.content_type, app.version, app.length),
            (23, TlsVersion::TLS1_2, 50)
        );
        // The ClientHello's record header too.
        assert_eq!(
            parse_record_header(&hex(OPENJDK_CLIENT_HELLO)).map(|h| h.content_type),
            Some(CONTENT_HANDSHAKE)
        );
        // DTLS: the 13-byte header of the DTLS ClientHello.
        let dtls = parse_record_header(&dtls_client_hello(b"gw.example.test")).unwrap();
        assert!(dtls.dtls && dtls.version == TlsVersion::DTLS1_0);
        // Truncations: every prefix shorter than the header gives None.
        for n in 0..5 {
            assert_eq!(parse_record_header(&bytes[6..6 + n]), None, "{n} bytes");
        }
        // Mutations of the application_data header: content type 25 (undefined), version
        // 0x0305, length 0.
        for (at, value) in [(0, 25u8), (2, 0x05), (4, 0)] {
            let mut m = bytes[6..].to_vec();
            m[at] = value;
            assert_eq!(parse_record_header(&m), None, "mutated byte {at}");
        }
        // An HTTP request is not a record.
        assert_eq!(parse_record_header(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn records_that_are_not_client_hellos_give_nothing() {
        // Application data record (content type 23).
        let mut app = hex(OPENJDK_CLIENT_HELLO);
        app[0] = 23;
        assert_eq!(parse_client_hello(&app), None);
        // Handshake type certificate (11).
        let mut cert = hex(OPENJDK_CLIENT_HELLO);
        cert[5] = 11;
        assert_eq!(parse_client_hello(&cert), None);
        // Record version 0x0305: not a TLS version.
        let mut version = hex(OPENJDK_CLIENT_HELLO);
        version[2] = 5;
        assert_eq!(parse_client_hello(&version), None);
        assert_eq!(parse_client_hello(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(
            parse_client_hello(&hex("0300002f2ae00000000000")),
            None,
            "TPKT"
        );
    }

    #[test]
    fn cut_client_hello_keeps_what_it_has() {
        let bytes = hex(OPENJDK_CLIENT_HELLO);
        // The SNI extension ends at byte 5+4+2+32+33+64+2+2+17 = 161.
        let cut = parse_client_hello(&bytes[..170]).unwrap();
        assert!(!cut.complete);
        assert_eq!(cut.server_name, Some(&b"zeek.org"[..]));
        assert_eq!(
            cut.highest_supported, None,
            "supported_versions is past the cut"
        );
        let before_sni = parse_client_hello(&bytes[..150]).unwrap();
        assert_eq!(before_sni.server_name, None);
        // Mutation: SNI name length 8 → 200: runs past its extension, no name.
        let mut long = bytes.clone();
        long[152] = 200; // name length low byte (the name starts at 153)
        assert_eq!(parse_client_hello(&long).unwrap().server_name, None);
    }

    #[test]
    fn every_prefix_is_safe() {
        for bytes in [
            hex(OPENJDK_CLIENT_HELLO),
            hex(OPENJDK_SERVER_HELLO),
            hex(RDP_CLIENT_HELLO),
            dtls_client_hello(b"x.test"),
        ] {
            let dtls = bytes[1] == 0xfe;
            let minimum = if dtls { 13 + 12 + 2 } else { 5 + 4 + 2 };
            for len in 0..bytes.len() {
                let hello = parse_client_hello(&bytes[..len]);
                let _ = parse_server_hello(&bytes[..len]);
                if len < minimum {
                    assert_eq!(hello, None, "len {len}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_client_hello(&bytes);
            let _ = parse_server_hello(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_hellos(index in 0usize..457, value in any::<u8>()) {
            let mut bytes = hex(OPENJDK_CLIENT_HELLO);
            bytes[index] = value;
            let _ = parse_client_hello(&bytes);
            let mut dtls = dtls_client_hello(b"a.example");
            let i = index % dtls.len();
            dtls[i] = value;
            let _ = parse_client_hello(&dtls);
        }
    }
}
