//! Payload bytes for RDP and its transports: the X.224 connection sequence (MS-RDPBCGR), RDP over
//! UDP (MS-RDPEUDP), and the TLS 1.3 / DTLS 1.0 records that carry RDP, RD Gateway and HTTPS.
//! Owns only byte layouts; must not decide who sends what or when (that is `builder` and
//! `scenarios`), and must not pretend to encrypt: everything after a handshake is opaque random
//! bytes in correctly framed records.

use std::net::Ipv4Addr;

use super::builder::Direction;
use super::rng::Rng;

/// MS-RDPBCGR 2.2.1.1.1: requestedProtocols bit PROTOCOL_SSL.
pub const PROTOCOL_SSL: u32 = 0x0000_0001;
/// MS-RDPBCGR 2.2.1.1.1: requestedProtocols bit PROTOCOL_HYBRID (CredSSP / NLA).
pub const PROTOCOL_HYBRID: u32 = 0x0000_0002;

/// T.123 section 8: TPKT header length (version, reserved, u16 BE length).
pub const TPKT_HEADER_LEN: usize = 4;
/// X.224 section 13.3: fixed part of a CR/CC TPDU after the LI byte (code, DST-REF, SRC-REF, class).
const X224_FIXED_LEN: usize = 6;

/// What the client puts between the X.224 header and the RDP_NEG_REQ (MS-RDPBCGR 2.2.1.1: a
/// `cookie` or a `routingToken`, never both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RdpToken {
    /// `Cookie: mstshash=<user>\r\n` (MS-RDPBCGR 2.2.1.1, field `cookie`).
    MstsHash(String),
    /// `tsv://MS Terminal Services Plugin.1.<collection>\r\n`: the RD Connection Broker
    /// `loadbalanceinfo`, sent as the `routingToken` on the first hop to the broker.
    BrokerCollection(String),
    /// `Cookie: msts=<ip>.<port>.0000\r\n`: the redirection token the client sends to the session
    /// host after the broker redirected it (MS-RDPBCGR 2.2.1.1, routingToken).
    Redirect(Ipv4Addr, u16),
    /// No cookie and no token.
    None,
}

impl RdpToken {
    /// The token's bytes, CR LF terminated as MS-RDPBCGR 2.2.1.1 requires.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::MstsHash(user) => format!("Cookie: mstshash={user}\r\n").into_bytes(),
            Self::BrokerCollection(c) => {
                format!("tsv://MS Terminal Services Plugin.1.{c}\r\n").into_bytes()
            }
            Self::Redirect(ip, port) => {
                let (a, p) = msts_encode(*ip, *port);
                format!("Cookie: msts={a}.{p}.0000\r\n").into_bytes()
            }
            Self::None => Vec::new(),
        }
    }
}

/// The `msts=` routing-token encoding: the IPv4 bytes read as a little-endian u32 and the port
/// with its two bytes swapped (Microsoft's example: 172.31.249.216:3389 → `3640205228.15629`).
pub fn msts_encode(ip: Ipv4Addr, port: u16) -> (u32, u16) {
    (u32::from_le_bytes(ip.octets()), port.swap_bytes())
}

/// MS-RDPBCGR 2.2.1.1: Client X.224 Connection Request PDU (TPKT, X.224 CR TPDU, optional
/// cookie or routing token, RDP_NEG_REQ 2.2.1.1.1, and RDP_NEG_CORRELATION_INFO 2.2.1.1.2 when
/// `correlation_id` is given).
pub fn x224_connection_request(
    token: &RdpToken,
    requested_protocols: u32,
    correlation_id: Option<[u8; 16]>,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(96);
    body.push(0xE0); // CR code 0xE, CDT 0 (X.224 13.3)
    body.extend_from_slice(&[0x00, 0x00]); // DST-REF
    body.extend_from_slice(&[0x00, 0x00]); // SRC-REF
    body.push(0x00); // class 0
    body.extend_from_slice(&token.to_bytes());
    // RDP_NEG_REQ (2.2.1.1.1): type, flags, length 8 LE, requestedProtocols LE.
    let flags: u8 = if correlation_id.is_some() { 0x08 } else { 0x00 };
    body.extend_from_slice(&[0x01, flags, 0x08, 0x00]);
    body.extend_from_slice(&requested_protocols.to_le_bytes());
    if let Some(id) = correlation_id {
        // RDP_NEG_CORRELATION_INFO (2.2.1.1.2): type 6, flags 0, length 36, id, 16 reserved zeros.
        body.extend_from_slice(&[0x06, 0x00, 0x24, 0x00]);
        body.extend_from_slice(&id);
        body.extend_from_slice(&[0u8; 16]);
    }
    tpkt(&body)
}

/// MS-RDPBCGR 2.2.1.2: Server X.224 Connection Confirm PDU with an RDP_NEG_RSP (2.2.1.2.1);
/// flags 0x1F is what Windows Server 2019/2022 sends (extended client data, GFX, restricted admin,
/// redirected authentication).
pub fn x224_connection_confirm(selected_protocol: u32, src_ref: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(16);
    body.push(0xD0); // CC code 0xD (X.224 13.4)
    body.extend_from_slice(&[0x00, 0x00]); // DST-REF
    body.extend_from_slice(&src_ref.to_be_bytes()); // SRC-REF
    body.push(0x00); // class 0
    body.extend_from_slice(&[0x02, 0x1F, 0x08, 0x00]);
    body.extend_from_slice(&selected_protocol.to_le_bytes());
    tpkt(&body)
}

/// T.123 section 8 TPKT header + X.224 length indicator around a TPDU body (`body` starts with the
/// code byte). LI counts the bytes after itself: TPKT length − 5.
fn tpkt(body: &[u8]) -> Vec<u8> {
    debug_assert!(body.len() >= X224_FIXED_LEN);
    let total = TPKT_HEADER_LEN + 1 + body.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[0x03, 0x00]);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.push(body.len() as u8); // LI
    out.extend_from_slice(body);
    out
}

/// MS-RDPEUDP 2.2.2.1 RDPUDP_FEC_HEADER flag RDPUDP_FLAG_SYN.
pub const RDPUDP_FLAG_SYN: u16 = 0x0001;
/// MS-RDPEUDP 2.2.2.1 flag RDPUDP_FLAG_ACK.
pub const RDPUDP_FLAG_ACK: u16 = 0x0004;
/// MS-RDPEUDP 2.2.2.1 flag RDPUDP_FLAG_DATA.
pub const RDPUDP_FLAG_DATA: u16 = 0x0008;
/// MS-RDPEUDP 2.2.2.1 flag RDPUDP_FLAG_CORRELATION_ID.
pub const RDPUDP_FLAG_CORRELATION_ID: u16 = 0x0800;
/// MS-RDPEUDP 2.2.2.1 flag RDPUDP_FLAG_SYNEX.
pub const RDPUDP_FLAG_SYNEX: u16 = 0x1000;
/// MS-RDPEUDP 2.2.2.5: the largest MTU either side may announce; SYN datagrams are padded to it.
pub const RDPUDP_MTU: u16 = 1232;
/// MS-RDPEUDP 3.1.5.1.1: receive window (in datagrams) Windows clients announce.
const RDPUDP_RECEIVE_WINDOW: u16 = 64;

/// MS-RDPEUDP 3.1.5.1.1: client SYN datagram. FEC header (snSourceAck −1, SYN | CORRELATION_ID |
/// SYNEX), RDPUDP_SYNDATA_PAYLOAD (2.2.2.5) with both MTUs 1232, RDPUDP_CORRELATION_ID_PAYLOAD
/// (2.2.2.8), RDPUDP_SYNDATAEX_PAYLOAD (2.2.2.9) version 2 (0x0002, so no cookie hash), zero
/// padded to 1232 bytes.
pub fn rdpudp_syn(initial_seq: u32, correlation_id: [u8; 16]) -> Vec<u8> {
    let mut d = Vec::with_capacity(usize::from(RDPUDP_MTU));
    d.extend_from_slice(&u32::MAX.to_be_bytes());
    d.extend_from_slice(&RDPUDP_RECEIVE_WINDOW.to_be_bytes());
    d.extend_from_slice(
        &(RDPUDP_FLAG_SYN | RDPUDP_FLAG_CORRELATION_ID | RDPUDP_FLAG_SYNEX).to_be_bytes(),
    );
    d.extend_from_slice(&initial_seq.to_be_bytes());
    d.extend_from_slice(&RDPUDP_MTU.to_be_bytes()); // uUpStreamMtu
    d.extend_from_slice(&RDPUDP_MTU.to_be_bytes()); // uDownStreamMtu
    d.extend_from_slice(&correlation_id);
    d.extend_from_slice(&[0u8; 16]);
    d.extend_from_slice(&0x0001u16.to_be_bytes()); // RDPUDP_VERSION_INFO_VALID
    d.extend_from_slice(&0x0002u16.to_be_bytes()); // RDPUDP_PROTOCOL_VERSION_2
    d.resize(usize::from(RDPUDP_MTU), 0);
    d
}

/// MS-RDPEUDP 3.1.5.1.3: server SYN+ACK datagram. snSourceAck = the client's initial sequence
/// number, SYN | ACK | SYNEX, the server's own initial sequence number, MTUs, SYNEX version 2,
/// zero padded to 1232 bytes.
pub fn rdpudp_syn_ack(client_initial_seq: u32, server_initial_seq: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(usize::from(RDPUDP_MTU));
    d.extend_from_slice(&client_initial_seq.to_be_bytes());
    d.extend_from_slice(&RDPUDP_RECEIVE_WINDOW.to_be_bytes());
    d.extend_from_slice(&(RDPUDP_FLAG_SYN | RDPUDP_FLAG_ACK | RDPUDP_FLAG_SYNEX).to_be_bytes());
    d.extend_from_slice(&server_initial_seq.to_be_bytes());
    d.extend_from_slice(&RDPUDP_MTU.to_be_bytes());
    d.extend_from_slice(&RDPUDP_MTU.to_be_bytes());
    d.extend_from_slice(&0x0001u16.to_be_bytes());
    d.extend_from_slice(&0x0002u16.to_be_bytes());
    d.resize(usize::from(RDPUDP_MTU), 0);
    d
}

/// MS-RDPEUDP 3.1.5.1.4 / 2.2.2.7: an ACK datagram: FEC header (ACK) and an
/// RDPUDP_ACK_VECTOR_HEADER acknowledging `received` datagrams.
pub fn rdpudp_ack(source_ack: u32, received: u8) -> Vec<u8> {
    let mut d = Vec::with_capacity(12);
    d.extend_from_slice(&source_ack.to_be_bytes());
    d.extend_from_slice(&RDPUDP_RECEIVE_WINDOW.to_be_bytes());
    d.extend_from_slice(&RDPUDP_FLAG_ACK.to_be_bytes());
    push_ack_vector(&mut d, received);
    d
}

/// MS-RDPEUDP 2.2.2.7: RDPUDP_ACK_VECTOR_HEADER with uAckVectorSize = 2: two AckVectorElements
/// in state DATAGRAM_RECEIVED (top two bits 0), the first a run over `received` datagrams (low six
/// bits), the second a run of one. Two elements end the header on a 4-byte boundary, so no
/// padding is needed (the spec pads to a DWORD; Wireshark's dissector does not skip padding, so
/// a padded header would misplace everything after it there).
fn push_ack_vector(d: &mut Vec<u8>, received: u8) {
    d.extend_from_slice(&2u16.to_be_bytes());
    d.push(received.clamp(1, 0x3F));
    d.push(0x01);
}

/// MS-RDPEUDP 3.1.5.3 / 2.2.2.4: a DATA | ACK datagram: FEC header, ACK vector (2.2.2.7),
/// RDPUDP_SOURCE_PAYLOAD_HEADER (snCoded, snSourceStart), then the payload (a TLS record in
/// reliable mode).
pub fn rdpudp_data(source_ack: u32, sequence: u32, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(24 + payload.len());
    d.extend_from_slice(&source_ack.to_be_bytes());
    d.extend_from_slice(&RDPUDP_RECEIVE_WINDOW.to_be_bytes());
    d.extend_from_slice(&(RDPUDP_FLAG_DATA | RDPUDP_FLAG_ACK).to_be_bytes());
    push_ack_vector(&mut d, 1);
    d.extend_from_slice(&sequence.to_be_bytes()); // snCoded
    d.extend_from_slice(&sequence.to_be_bytes()); // snSourceStart
    d.extend_from_slice(payload);
    d
}

/// RFC 8446 5.1: TLS record content type handshake.
const TLS_HANDSHAKE: u8 = 0x16;
/// RFC 8446 5.1: content type change_cipher_spec (the TLS 1.3 middlebox-compatibility record).
const TLS_CHANGE_CIPHER_SPEC: u8 = 0x14;
/// RFC 8446 5.1: content type application_data.
const TLS_APPLICATION_DATA: u8 = 0x17;
/// RFC 8446 5.1: the largest TLSPlaintext fragment; encrypted records may add 256 bytes.
pub const TLS_MAX_FRAGMENT: usize = 16_384;

/// Options for a ClientHello: which extensions a given client sends.
#[derive(Clone, Debug, Default)]
pub struct ClientHelloOptions<'a> {
    /// RFC 6066 3: server_name, when the client names the server.
    pub sni: Option<&'a str>,
    /// RFC 7301: ALPN protocol names, e.g. `["h2", "http/1.1"]` for a browser.
    pub alpn: &'a [&'a str],
}

/// RFC 8446 4.1.2: a TLS 1.3 ClientHello in a TLS 1.0-versioned record (as every client sends the
/// first record), with the extensions a Windows SChannel client sends: server_name (RFC 6066),
/// supported_groups, ec_point_formats, signature_algorithms, ALPN, extended_master_secret
/// (RFC 7627), session_ticket, supported_versions (1.3, 1.2), psk_key_exchange_modes, key_share
/// (x25519), renegotiation_info (RFC 5746).
pub fn tls_client_hello(rng: &mut Rng, opts: &ClientHelloOptions<'_>) -> Vec<u8> {
    let mut exts = Vec::with_capacity(256);
    if let Some(name) = opts.sni {
        let name = name.as_bytes();
        let mut list = Vec::with_capacity(name.len() + 3);
        list.push(0x00); // host_name
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
        push_ext(&mut exts, 0x0000, &vec16(&list));
    }
    push_ext(
        &mut exts,
        0x000A,
        &vec16(&[0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]),
    ); // x25519, P-256, P-384
    push_ext(&mut exts, 0x000B, &[0x01, 0x00]); // uncompressed points
    push_ext(
        &mut exts,
        0x000D,
        &vec16(&[
            0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x02, 0x01, 0x04, 0x03,
            0x05, 0x03, 0x02, 0x03, 0x02, 0x02, 0x06, 0x01, 0x06, 0x03,
        ]),
    );
    if !opts.alpn.is_empty() {
        let mut list = Vec::new();
        for p in opts.alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        push_ext(&mut exts, 0x0010, &vec16(&list));
    }
    push_ext(&mut exts, 0x0017, &[]); // extended_master_secret
    push_ext(&mut exts, 0x0023, &[]); // session_ticket
    push_ext(&mut exts, 0x002B, &[0x04, 0x03, 0x04, 0x03, 0x03]); // TLS 1.3, TLS 1.2
    push_ext(&mut exts, 0x002D, &[0x01, 0x01]); // psk_dhe_ke
    let mut share = vec![0x00, 0x1D, 0x00, 0x20];
    share.extend_from_slice(&rng.array32());
    push_ext(&mut exts, 0x0033, &vec16(&share));
    push_ext(&mut exts, 0xFF01, &[0x00]); // renegotiation_info, empty

    let mut hello = Vec::with_capacity(512);
    hello.extend_from_slice(&[0x03, 0x03]); // legacy_version TLS 1.2
    hello.extend_from_slice(&rng.array32()); // random
    hello.push(32); // legacy_session_id (middlebox compatibility mode)
    hello.extend_from_slice(&rng.array32());
    let suites: [u16; 9] = [
        0x1302, 0x1301, 0xC02C, 0xC02B, 0xC030, 0xC02F, 0xC024, 0xC023, 0x009D,
    ];
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[0x01, 0x00]); // compression: null
    hello.extend_from_slice(&vec16(&exts));
    tls_record(TLS_HANDSHAKE, [0x03, 0x01], &handshake(0x01, &hello))
}

/// RFC 8446 4.1.3: the server's first flight: ServerHello (TLS_AES_256_GCM_SHA384, supported_versions
/// 1.3, x25519 key_share) echoing the client's session id, the compatibility change_cipher_spec
/// record (RFC 8446 D.4), and one application_data record standing in for the encrypted
/// EncryptedExtensions, Certificate, CertificateVerify and Finished (`encrypted_len` bytes).
pub fn tls_server_flight(rng: &mut Rng, client_hello: &[u8], encrypted_len: usize) -> Vec<u8> {
    let session_id = client_hello_session_id(client_hello).unwrap_or_default();
    let mut exts = Vec::with_capacity(48);
    push_ext(&mut exts, 0x002B, &[0x03, 0x04]);
    let mut share = vec![0x00, 0x1D, 0x00, 0x20];
    share.extend_from_slice(&rng.array32());
    push_ext(&mut exts, 0x0033, &share);
    let mut hello = Vec::with_capacity(128);
    hello.extend_from_slice(&[0x03, 0x03]);
    hello.extend_from_slice(&rng.array32());
    hello.push(session_id.len() as u8);
    hello.extend_from_slice(&session_id);
    hello.extend_from_slice(&0x1302u16.to_be_bytes());
    hello.push(0x00);
    hello.extend_from_slice(&vec16(&exts));
    let mut out = tls_record(TLS_HANDSHAKE, [0x03, 0x03], &handshake(0x02, &hello));
    out.extend_from_slice(&tls_change_cipher_spec());
    out.extend_from_slice(&tls_application_data(rng, encrypted_len));
    out
}

/// RFC 8446 4.4.4 with D.4: the client's second flight: change_cipher_spec, then its encrypted
/// Finished (69 bytes: 4-byte header + 48-byte SHA-384 verify_data + content type + 16-byte tag).
pub fn tls_client_finished(rng: &mut Rng) -> Vec<u8> {
    let mut out = tls_change_cipher_spec();
    out.extend_from_slice(&tls_application_data(rng, 69));
    out
}

/// RFC 8446 D.4: the one-byte change_cipher_spec record.
fn tls_change_cipher_spec() -> Vec<u8> {
    tls_record(TLS_CHANGE_CIPHER_SPEC, [0x03, 0x03], &[0x01])
}

/// RFC 8446 5.2: application_data records holding `len` opaque (random) bytes in total, split into
/// records of at most 16 KiB + 256.
pub fn tls_application_data(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 5 * (len / TLS_MAX_FRAGMENT + 1));
    let mut left = len.max(1);
    while left > 0 {
        let n = left.min(TLS_MAX_FRAGMENT);
        out.extend_from_slice(&tls_record(
            TLS_APPLICATION_DATA,
            [0x03, 0x03],
            &rng.bytes(n),
        ));
        left -= n;
    }
    out
}

/// RFC 8446 5.1: TLSPlaintext / TLSCiphertext record header (type, legacy version, u16 length).
fn tls_record(content_type: u8, version: [u8; 2], fragment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + fragment.len());
    out.push(content_type);
    out.extend_from_slice(&version);
    out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    out.extend_from_slice(fragment);
    out
}

/// RFC 8446 4: handshake message header (type, u24 length).
fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(msg_type);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// RFC 8446 4.2: one extension (type, u16 length, data).
fn push_ext(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A u16-length-prefixed vector (RFC 8446 3.4).
fn vec16(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + data.len());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// The legacy_session_id of a ClientHello we built (record 5 + handshake 4 + version 2 + random 32).
fn client_hello_session_id(record: &[u8]) -> Option<Vec<u8>> {
    let len = usize::from(*record.get(43)?);
    record.get(44..44 + len).map(<[u8]>::to_vec)
}

/// RFC 4347 4.1 / 4.2.2 (DTLS 1.0, the version MS-TSGU 2.1.3 makes normative for the RD Gateway
/// UDP transport): a ClientHello in epoch 0 with record sequence number `record_seq` (each
/// retransmission takes the next number, RFC 4347 4.1), message_seq 0, an empty cookie, and
/// ECDHE-RSA/ECDSA AES-GCM/CBC suites.
pub fn dtls_client_hello(random: [u8; 32], record_seq: u64) -> Vec<u8> {
    let mut exts = Vec::new();
    push_ext(
        &mut exts,
        0x000A,
        &vec16(&[0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]),
    );
    push_ext(&mut exts, 0x000B, &[0x01, 0x00]);
    push_ext(&mut exts, 0x0017, &[]);
    push_ext(&mut exts, 0xFF01, &[0x00]);
    let mut hello = Vec::with_capacity(160);
    hello.extend_from_slice(&[0xFE, 0xFF]); // client_version DTLS 1.0
    hello.extend_from_slice(&random);
    hello.push(0); // session_id
    hello.push(0); // cookie
    let suites: [u16; 6] = [0xC00A, 0xC014, 0xC009, 0xC013, 0x0035, 0x002F];
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[0x01, 0x00]);
    hello.extend_from_slice(&vec16(&exts));
    // DTLS handshake header (RFC 4347 4.2.2): type, length u24, message_seq u16,
    // fragment_offset u24, fragment_length u24.
    let len = (hello.len() as u32).to_be_bytes();
    let mut hs = Vec::with_capacity(12 + hello.len());
    hs.push(0x01);
    hs.extend_from_slice(&len[1..]);
    hs.extend_from_slice(&[0x00, 0x00]);
    hs.extend_from_slice(&[0x00, 0x00, 0x00]);
    hs.extend_from_slice(&len[1..]);
    hs.extend_from_slice(&hello);
    // DTLS record header: type, version, epoch u16, sequence_number u48, length u16.
    let mut out = Vec::with_capacity(13 + hs.len());
    out.push(TLS_HANDSHAKE);
    out.extend_from_slice(&[0xFE, 0xFF]);
    out.extend_from_slice(&[0x00, 0x00]);
    out.extend_from_slice(&record_seq.to_be_bytes()[2..]);
    out.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    out.extend_from_slice(&hs);
    out
}

/// A TLS 1.3 handshake as the exchanges of one connection: ClientHello, the server's flight
/// (2,600 to 3,900 bytes of encrypted handshake), the client's Finished. The scenarios and the
/// benchmark generator share it, so the same draws give the same bytes in both.
pub fn tls_handshake(rng: &mut Rng, sni: Option<&str>, alpn: &[&str]) -> Vec<(Direction, Vec<u8>)> {
    let ch = tls_client_hello(rng, &ClientHelloOptions { sni, alpn });
    let enc = rng.range_usize(2_600, 3_900);
    let sf = tls_server_flight(rng, &ch, enc);
    let fin = tls_client_finished(rng);
    vec![
        (Direction::ToServer, ch),
        (Direction::ToClient, sf),
        (Direction::ToServer, fin),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msts_matches_microsoft_example() {
        // Microsoft Remote Desktop Web Connection docs: 172.31.249.216:3389 = 3640205228.15629.
        let (a, p) = msts_encode(Ipv4Addr::new(172, 31, 249, 216), 3389);
        assert_eq!((a, p), (3_640_205_228, 15629));
    }

    #[test]
    fn connection_request_matches_suricata_vector() {
        // Suricata rdp.rs unit test: cookie only, no RDP_NEG_REQ. Ours always adds the 8-byte
        // NEG_REQ, so compare the head and the lengths.
        let cr = x224_connection_request(&RdpToken::MstsHash("user123".into()), 0x03, None);
        assert_eq!(
            &cr[..11],
            &[0x03, 0x00, 0x00, 0x2D, 0x28, 0xE0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&cr[11..37], b"Cookie: mstshash=user123\r\n");
        assert_eq!(&cr[37..], &[0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn connection_confirm_is_19_bytes_with_neg_rsp() {
        let cc = x224_connection_confirm(PROTOCOL_HYBRID, 0x1234);
        assert_eq!(
            cc,
            [
                0x03, 0x00, 0x00, 0x13, 0x0E, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x1F, 0x08,
                0x00, 0x02, 0x00, 0x00, 0x00
            ]
        );
    }

    #[test]
    fn rdpudp_syn_is_padded_and_flagged() {
        let syn = rdpudp_syn(0x1122_3344, [7; 16]);
        assert_eq!(syn.len(), 1232);
        assert_eq!(&syn[..4], &[0xFF; 4]);
        assert_eq!(u16::from_be_bytes([syn[6], syn[7]]), 0x1801);
        assert_eq!(&syn[8..12], &[0x11, 0x22, 0x33, 0x44]);
        assert_eq!(&syn[12..16], &[0x04, 0xD0, 0x04, 0xD0]);
        assert!(syn[52..].iter().all(|&b| b == 0));
        let ack = rdpudp_syn_ack(0x1122_3344, 9);
        assert_eq!(&ack[..4], &[0x11, 0x22, 0x33, 0x44]);
        assert_eq!(ack.len(), 1232);
    }

    #[test]
    fn client_hello_carries_sni_and_lengths_agree() {
        let mut rng = Rng::new(1);
        let ch = tls_client_hello(
            &mut rng,
            &ClientHelloOptions {
                sni: Some("rdgw.contoso.example"),
                alpn: &[],
            },
        );
        assert_eq!(ch[0], 0x16);
        let rec_len = usize::from(u16::from_be_bytes([ch[3], ch[4]]));
        assert_eq!(rec_len + 5, ch.len());
        let hs_len = u32::from_be_bytes([0, ch[6], ch[7], ch[8]]) as usize;
        assert_eq!(hs_len + 4, rec_len);
        assert!(ch
            .windows("rdgw.contoso.example".len())
            .any(|w| w == b"rdgw.contoso.example"));
        let sf = tls_server_flight(&mut rng, &ch, 100);
        assert_eq!(
            &sf[44..76],
            &ch[44..76],
            "ServerHello echoes the session id"
        );
    }
}
