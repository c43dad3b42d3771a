//! DCE/RPC connection-oriented PDUs (C706 chapter 12 and appendix L; MS-RPCE 2.2): the common
//! header, bind / alter_context (which interfaces a client asks for), bind_ack /
//! alter_context_resp (the secondary address and per-context results) and the endpoint mapper's
//! ept_map response (interface → TCP port and IPv4 address). Bind and bind_ack stay cleartext
//! even when call stubs are sealed, so the interface is visible on the dynamic port itself.
//!
//! Owns the byte layouts and the table of RDS-relevant interface UUIDs. Must not keep state (the
//! link between an ept_map answer and a later connection is the classifier's), allocate, or
//! trust any count from the wire beyond the bytes present.

use std::fmt;
use std::net::Ipv4Addr;

use super::{Bounded, Cursor};

/// The fixed part of a connection-oriented DCE/RPC PDU header (C706 section 12.6.3.1; MS-RPCE 2.2.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DceRpcHeader {
    /// PDU type: 0 request, 2 response, 3 fault, 11 bind, 12 bind_ack, 13 bind_nak, 14 alter_context…
    pub ptype: u8,
    /// Fragment length, in the byte order the data representation names.
    pub frag_length: u16,
}

/// DCE/RPC packet types this crate names (C706 section 12.6.4).
pub mod dcerpc_ptype {
    /// request
    pub const REQUEST: u8 = 0;
    /// response
    pub const RESPONSE: u8 = 2;
    /// fault
    pub const FAULT: u8 = 3;
    /// bind
    pub const BIND: u8 = 11;
    /// bind_ack
    pub const BIND_ACK: u8 = 12;
    /// bind_nak
    pub const BIND_NAK: u8 = 13;
    /// alter_context
    pub const ALTER_CONTEXT: u8 = 14;
    /// alter_context_resp
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    /// The highest PTYPE defined (rts, MS-RPCH 2.2.3.6.2).
    pub const MAX: u8 = 20;

    /// The C706 name of a PTYPE, or "unknown".
    pub fn name(ptype: u8) -> &'static str {
        match ptype {
            0 => "request",
            1 => "ping",
            2 => "response",
            3 => "fault",
            4 => "working",
            5 => "nocall",
            6 => "reject",
            7 => "ack",
            8 => "cl_cancel",
            9 => "fack",
            10 => "cancel_ack",
            11 => "bind",
            12 => "bind_ack",
            13 => "bind_nak",
            14 => "alter_context",
            15 => "alter_context_resp",
            16 => "auth3",
            17 => "shutdown",
            18 => "co_cancel",
            19 => "orphaned",
            20 => "rts",
            _ => "unknown",
        }
    }
}

/// Length of the connection-oriented common header (C706 12.6.3.1).
pub const DCERPC_CO_HEADER_LEN: u16 = 16;

/// Recognises a connection-oriented DCE/RPC PDU header: version 5, minor 0 or 1, a defined
/// PTYPE, an integer/character representation byte with only the defined bits set
/// (`drep[0] & 0xEE == 0`: 0x10 little-endian or 0x00 big-endian, ASCII), and a fragment
/// length no shorter than the header itself.
pub fn probe_dcerpc(payload: &[u8]) -> Option<DceRpcHeader> {
    let &[version, minor, ptype, _flags, drep0, _drep1, _drep2, _drep3, len0, len1] =
        payload.first_chunk::<10>()?;
    if version != 5 || minor > 1 || ptype > dcerpc_ptype::MAX || drep0 & 0xEE != 0 {
        return None;
    }
    let frag_length = if drep0 & 0x10 != 0 {
        u16::from_le_bytes([len0, len1])
    } else {
        u16::from_be_bytes([len0, len1])
    };
    (frag_length >= DCERPC_CO_HEADER_LEN).then_some(DceRpcHeader { ptype, frag_length })
}

/// A DCE UUID (C706 appendix A), stored in its canonical (string) byte order, so that
/// `Display` prints `e1af8308-5d1f-11c9-91a4-08002b14a0fa` whatever the wire encoding was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The UUID whose string form is the hex digits of `value`.
    pub const fn from_u128(value: u128) -> Self {
        Self(value.to_be_bytes())
    }

    /// Reads a UUID as DCE/RPC puts it on the wire: time_low, time_mid and
    /// time_hi_and_version in the data representation's byte order, the last 8 bytes as is
    /// (C706 appendix A; NDR 14.2.5).
    pub fn from_wire(bytes: [u8; 16], little_endian: bool) -> Self {
        let mut out = bytes;
        if little_endian {
            let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = bytes;
            let head = [a3, a2, a1, a0, b1, b0, c1, c0];
            for (dst, src) in out.iter_mut().zip(head.iter().chain(rest.iter())) {
                *dst = *src;
            }
        }
        Self(out)
    }

    /// The name rdsflows knows this interface by ([`KNOWN_INTERFACES`]), if any.
    pub fn interface_name(self) -> Option<&'static str> {
        known_interface(self).map(|k| k.name)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// An interface or transfer syntax: UUID and version (C706 12.6.3.1 `p_syntax_id_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SyntaxId {
    /// The interface UUID.
    pub uuid: Uuid,
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

/// NDR transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2 (C706 14).
pub const NDR: Uuid = Uuid::from_u128(0x8a885d04_1ceb_11c9_9fe8_08002b104860);
/// NDR64 transfer syntax 71710533-beba-4937-8319-b5dbef9ccc36 (MS-RPCE 2.2.5).
pub const NDR64: Uuid = Uuid::from_u128(0x71710533_beba_4937_8319_b5dbef9ccc36);
/// The endpoint mapper interface (C706 appendix O; MS-RPCE 2.2.1.2.1).
pub const EPM: Uuid = Uuid::from_u128(0xe1af8308_5d1f_11c9_91a4_08002b14a0fa);

/// One entry of the interface table: UUID, name and where it shows up in an RDS deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownInterface {
    /// The interface UUID.
    pub uuid: Uuid,
    /// Its name (Zeek `dce-rpc/consts.zeek`, Suricata `dcerpc_interfaces.json`, spec names).
    pub name: &'static str,
    /// Where it is used.
    pub role: &'static str,
}

const fn known(uuid: u128, name: &'static str, role: &'static str) -> KnownInterface {
    KnownInterface {
        uuid: Uuid::from_u128(uuid),
        name,
        role,
    }
}

/// RDS-relevant DCE/RPC interfaces (protocol-facts.md 2.4; MS-TSGU 1.9.1, MS-TSTS, MS-TSLS,
/// MS-LSAD, MS-SAMR, MS-NRPC, MS-DRSR, MS-SCMR, MS-DCOM).
pub const KNOWN_INTERFACES: &[KnownInterface] = &[
    known(
        0xe1af8308_5d1f_11c9_91a4_08002b14a0fa,
        "epmapper",
        "endpoint mapper, TCP 135",
    ),
    known(
        0x44e265dd_7daf_42cd_8560_3cdb6e7a2729,
        "TsProxyRpcInterface",
        "RD Gateway, RPC over HTTP / 3388 [MS-TSGU]",
    ),
    known(
        0x5ca4a760_ebb1_11cf_8611_00a0245420ed,
        "winstation_rpc",
        "RDSH session manager (LegacyApi) [MS-TSTS]",
    ),
    known(
        0x484809d6_4239_471b_b5bc_61df8c23ac48,
        "TermSrvSession",
        "RDSH [MS-TSTS]",
    ),
    known(
        0x11899a43_2b68_4a76_92e3_a3d6ad8c26ce,
        "TermServNotification",
        "RDSH [MS-TSTS]",
    ),
    known(
        0x88143fd0_c28d_4b2b_8fef_8d882f6a9390,
        "TermServEnumeration",
        "RDSH [MS-TSTS]",
    ),
    known(
        0xbde95fdf_eee0_45de_9e12_e5a61cd0d4fe,
        "RCMPublic",
        "RDSH TermService [MS-TSTS]",
    ),
    known(
        0x497d95a6_2d27_4bf5_9bbd_a6046957133c,
        "RCMListener",
        "RDSH [MS-TSTS]",
    ),
    known(
        0x53b46b02_c73b_4a3e_8dee_b16b80672fc0,
        "TSVIPPublic",
        "RDSH IP virtualization [MS-TSTS]",
    ),
    known(
        0x1257b580_ce2f_4109_82d6_a9459d0bf6bc,
        "SessEnvPublicRpc",
        "RDSH [MS-TSTS]",
    ),
    known(
        0x3d267954_eeb7_11d1_b94e_00c04fa3080d,
        "HydraLsPipe",
        "RD Licensing server [MS-TSLS]",
    ),
    known(
        0x2f59a331_bf7d_48cb_9ec5_7c090d76e8b8,
        "lcrpc",
        "RDSH licensing policy",
    ),
    known(
        0x57674cd0_5200_11ce_a897_08002b2e9c6d,
        "lls_license",
        "legacy licensing",
    ),
    known(
        0x342cfd40_3c6c_11ce_a893_08002b2e9c6d,
        "llsrpc",
        "legacy licensing",
    ),
    known(
        0x29770a8f_829b_4158_90a2_78cd488501f7,
        "SessEnvPrivateRpc",
        "broker/RDSH (community list, unverified)",
    ),
    known(
        0x12345778_1234_abcd_ef00_0123456789ab,
        "lsarpc",
        "domain controller [MS-LSAD]",
    ),
    known(
        0x12345778_1234_abcd_ef00_0123456789ac,
        "samr",
        "domain controller [MS-SAMR]",
    ),
    known(
        0x12345678_1234_abcd_ef00_01234567cffb,
        "netlogon",
        "domain controller [MS-NRPC]",
    ),
    known(
        0xe3514235_4b06_11d1_ab04_00c04fc2dcd2,
        "drsuapi",
        "domain controller [MS-DRSR]",
    ),
    known(
        0x367abb81_9844_35f1_ad32_98f038001003,
        "svcctl",
        "Server Manager [MS-SCMR]",
    ),
    known(
        0x99fcfec4_5260_101b_bbcb_00aa0021347a,
        "IObjectExporter",
        "DCOM [MS-DCOM]",
    ),
    known(
        0x000001a0_0000_0000_c000_000000000046,
        "IRemoteSCMActivator",
        "DCOM [MS-DCOM]",
    ),
    // MS-DCOM 1.9: the object-reference interfaces a DCOM client binds on the dynamic port the
    // activation returned (suricata-verify/dcerpc-ctxids: 00000143 on tcp/49724).
    known(
        0x00000131_0000_0000_c000_000000000046,
        "IRemUnknown",
        "DCOM [MS-DCOM]",
    ),
    known(
        0x00000143_0000_0000_c000_000000000046,
        "IRemUnknown2",
        "DCOM [MS-DCOM]",
    ),
];

/// The table entry for a UUID.
pub fn known_interface(uuid: Uuid) -> Option<&'static KnownInterface> {
    KNOWN_INTERFACES.iter().find(|k| k.uuid == uuid)
}

/// At most this many presentation contexts (bind) or results (bind_ack) are kept; more are
/// counted in [`Bounded::dropped`]. Windows sends 1–3.
pub const MAX_CONTEXTS: usize = 8;

/// One presentation context of a bind or alter_context (C706 12.6.3.1 `p_cont_elem_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PresentationContext {
    /// p_cont_id.
    pub id: u16,
    /// The interface asked for.
    pub abstract_syntax: SyntaxId,
    /// The first transfer syntax offered (NDR, NDR64, or a bind-time feature negotiation UUID).
    pub first_transfer: SyntaxId,
    /// How many transfer syntaxes the context offers.
    pub transfer_count: u8,
}

/// A bind or alter_context PDU (C706 12.6.4.3 / 12.6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The common header.
    pub header: DceRpcHeader,
    /// Association group (0: a new one).
    pub assoc_group: u32,
    /// n_context_elem as sent.
    pub context_count: u8,
    /// The contexts present in the bytes (bounded).
    pub contexts: Bounded<PresentationContext, MAX_CONTEXTS>,
}

impl Bind {
    /// The interface of the first context: what the connection is for.
    pub fn interface(&self) -> Option<SyntaxId> {
        self.contexts.first().map(|c| c.abstract_syntax)
    }
}

/// The header and the data representation, after checking the PDU type.
fn header_of(payload: &[u8], types: [u8; 2]) -> Option<(DceRpcHeader, bool, Cursor<'_>)> {
    let header = probe_dcerpc(payload)?;
    if !types.contains(&header.ptype) {
        return None;
    }
    let little = payload.get(4).is_some_and(|d| d & 0x10 != 0);
    // The PDU ends at frag_length; later PDUs in the same segment are not ours to read.
    let pdu = payload
        .get(..usize::from(header.frag_length))
        .unwrap_or(payload);
    let mut cursor = Cursor::new(pdu);
    cursor.skip(usize::from(DCERPC_CO_HEADER_LEN))?;
    Some((header, little, cursor))
}

fn syntax_id(c: &mut Cursor<'_>, little: bool) -> Option<SyntaxId> {
    let uuid = Uuid::from_wire(c.array()?, little);
    let major = c.u16_in(little)?;
    let minor = c.u16_in(little)?;
    Some(SyntaxId { uuid, major, minor })
}

/// Parses a bind or alter_context PDU: the presentation contexts, each with its interface UUID
/// and version (C706 12.6.4.3 and 12.6.3.1). Contexts cut off by the end of the bytes are left
/// out; `None` when the header is not DCE/RPC bind/alter_context or not even the context count
/// is present.
pub fn parse_bind(payload: &[u8]) -> Option<Bind> {
    let (header, little, mut c) =
        header_of(payload, [dcerpc_ptype::BIND, dcerpc_ptype::ALTER_CONTEXT])?;
    let _max_xmit = c.u16_in(little)?;
    let _max_recv = c.u16_in(little)?;
    let assoc_group = c.u32_in(little)?;
    let context_count = c.u8()?;
    c.skip(3)?;
    let mut contexts = Bounded::default();
    for _ in 0..context_count {
        let Some(ctx) = presentation_context(&mut c, little) else {
            break;
        };
        contexts.push(ctx);
    }
    Some(Bind {
        header,
        assoc_group,
        context_count,
        contexts,
    })
}

fn presentation_context(c: &mut Cursor<'_>, little: bool) -> Option<PresentationContext> {
    let id = c.u16_in(little)?;
    let transfer_count = c.u8()?;
    c.skip(1)?;
    let abstract_syntax = syntax_id(c, little)?;
    let mut first_transfer = SyntaxId::default();
    for i in 0..transfer_count {
        let t = syntax_id(c, little)?;
        if i == 0 {
            first_transfer = t;
        }
    }
    Some(PresentationContext {
        id,
        abstract_syntax,
        first_transfer,
        transfer_count,
    })
}

/// A presentation context result (C706 12.6.3.1 `p_cont_def_result_t`; MS-RPCE 2.2.2.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ContextResult(pub u16);

impl ContextResult {
    /// acceptance
    pub const ACCEPTANCE: Self = Self(0);
    /// user_rejection
    pub const USER_REJECTION: Self = Self(1);
    /// provider_rejection
    pub const PROVIDER_REJECTION: Self = Self(2);
    /// negotiate_ack (bind time feature negotiation, MS-RPCE 3.3.1.5.3)
    pub const NEGOTIATE_ACK: Self = Self(3);

    /// The C706 / MS-RPCE name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "acceptance",
            1 => "user_rejection",
            2 => "provider_rejection",
            3 => "negotiate_ack",
            _ => "unknown",
        }
    }
}

/// One result of a bind_ack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AckResult {
    /// The result.
    pub result: ContextResult,
    /// The reason (provider_reason_t) when rejected; the bind time feature bits for negotiate_ack.
    pub reason: u16,
    /// The transfer syntax accepted (all zeros when rejected).
    pub transfer: SyntaxId,
}

/// The most bytes of a secondary address kept: a port string such as `49667` or a pipe name
/// such as `\PIPE\lsass`.
pub const MAX_SEC_ADDR_LEN: usize = 64;

/// A bind_ack or alter_context_resp PDU (C706 12.6.4.4 / 12.6.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindAck<'a> {
    /// The common header.
    pub header: DceRpcHeader,
    /// The association group the server assigned.
    pub assoc_group: u32,
    /// The secondary address without its terminating NUL: the server's port as a decimal
    /// string (`"49667"`) on TCP, a pipe name over SMB; empty in alter_context_resp.
    pub secondary_address: &'a [u8],
    /// n_results as sent.
    pub result_count: u8,
    /// The results present in the bytes (bounded), in context order.
    pub results: Bounded<AckResult, MAX_CONTEXTS>,
}

impl BindAck<'_> {
    /// The secondary address read as a TCP port, when it is one.
    pub fn port(&self) -> Option<u16> {
        let text = std::str::from_utf8(self.secondary_address).ok()?;
        text.parse().ok()
    }
}

/// Parses a bind_ack or alter_context_resp PDU: secondary address and per-context results
/// (C706 12.6.4.4). `None` when the header is not one of those two or the fixed part is cut.
pub fn parse_bind_ack(payload: &[u8]) -> Option<BindAck<'_>> {
    let (header, little, mut c) = header_of(
        payload,
        [dcerpc_ptype::BIND_ACK, dcerpc_ptype::ALTER_CONTEXT_RESP],
    )?;
    let _max_xmit = c.u16_in(little)?;
    let _max_recv = c.u16_in(little)?;
    let assoc_group = c.u32_in(little)?;
    let sec_len = c.u16_in(little)?;
    let sec = c.take(usize::from(sec_len))?;
    let secondary_address = sec.strip_suffix(&[0]).unwrap_or(sec);
    let secondary_address = secondary_address
        .get(..MAX_SEC_ADDR_LEN)
        .unwrap_or(secondary_address);
    // pad to a 4-octet boundary from the start of the PDU: 16 + 8 + 2 + sec_len so far.
    let consumed = 26 + usize::from(sec_len);
    c.skip((4 - consumed % 4) % 4)?;
    let result_count = c.u8()?;
    c.skip(3)?;
    let mut results = Bounded::default();
    for _ in 0..result_count {
        let Some(result) = ack_result(&mut c, little) else {
            break;
        };
        results.push(result);
    }
    Some(BindAck {
        header,
        assoc_group,
        secondary_address,
        result_count,
        results,
    })
}

fn ack_result(c: &mut Cursor<'_>, little: bool) -> Option<AckResult> {
    Some(AckResult {
        result: ContextResult(c.u16_in(little)?),
        reason: c.u16_in(little)?,
        transfer: syntax_id(c, little)?,
    })
}

/// Transport of an endpoint-mapper tower (C706 appendix I protocol identifiers; MS-RPCE 2.2.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TowerProtocol(pub u8);

impl TowerProtocol {
    /// DOD TCP port (rhs: port, big-endian).
    pub const TCP: Self = Self(0x07);
    /// DOD UDP port.
    pub const UDP: Self = Self(0x08);
    /// DOD IP (rhs: IPv4 address, big-endian).
    pub const IP: Self = Self(0x09);
    /// Named pipe (SMB).
    pub const NAMED_PIPE: Self = Self(0x0F);
    /// Local named pipe / LRPC.
    pub const LRPC: Self = Self(0x10);
    /// NetBIOS.
    pub const NETBIOS: Self = Self(0x11);
    /// RPC over HTTP port (ncacn_http, MS-RPCE 2.2.1.1.8).
    pub const HTTP: Self = Self(0x1F);

    /// A short name, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0x07 => "tcp",
            0x08 => "udp",
            0x09 => "ip",
            0x0F => "named_pipe",
            0x10 => "lrpc",
            0x11 => "netbios",
            0x1F => "http",
            _ => "unknown",
        }
    }
}

/// One tower of an ept_map answer, reduced to what links it to a later connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EptMapEntry {
    /// Floor 1: the interface.
    pub interface: SyntaxId,
    /// Floor 4's protocol (TCP, UDP, HTTP…), when the tower has one.
    pub transport: TowerProtocol,
    /// Floor 4's port, for TCP, UDP and HTTP towers (big-endian on the wire).
    pub port: Option<u16>,
    /// Floor 5's IPv4 address (0.0.0.0 means "the host you asked").
    pub ipv4: Option<Ipv4Addr>,
}

/// At most this many towers of one ept_map answer are kept (Windows asks for 4 and returns 1–2).
pub const MAX_TOWERS: usize = 8;

/// An ept_map response (C706 appendix O `ept_map`; MS-RPCE 2.2.1.2.1), NDR or NDR64 encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EptMapResponse {
    /// The common header.
    pub header: DceRpcHeader,
    /// num_towers as sent.
    pub tower_count: u32,
    /// The towers that parsed (bounded).
    pub entries: Bounded<EptMapEntry, MAX_TOWERS>,
    /// The status word, when the bytes reach it (0: success; 0x16c9a0d6 ept_s_not_registered).
    pub status: Option<u32>,
    /// True when the stub was NDR64 encoded.
    pub ndr64: bool,
}

/// Length of the response header: common header + alloc_hint, p_cont_id, cancel_count, reserved
/// (C706 12.6.4.10).
const RESPONSE_HEADER_LEN: usize = 24;
/// Bytes of the ept_map context handle at the start of the response stub.
const CONTEXT_HANDLE_LEN: usize = 20;

/// Parses a DCE/RPC response PDU as an ept_map answer and lists its towers (C706 appendix L:
/// floor 1 interface UUID, floor 4 TCP/UDP/HTTP port big-endian, floor 5 IPv4 big-endian).
///
/// A response does not say which operation it answers (the opnum is in the request), so the
/// stub is checked against the ept_map layout, first as NDR, then as NDR64 (what Windows uses
/// when the bind negotiated it); `None` when neither fits or no tower parses. Towers cut off by
/// the end of the bytes are left out.
pub fn parse_ept_map_response(payload: &[u8]) -> Option<EptMapResponse> {
    let header = probe_dcerpc(payload)?;
    if header.ptype != dcerpc_ptype::RESPONSE || payload.get(4).is_none_or(|d| d & 0x10 == 0) {
        // Windows and Samba send little-endian; the tower octets are little-endian anyway.
        return None;
    }
    let pdu = payload
        .get(..usize::from(header.frag_length))
        .unwrap_or(payload);
    let stub = pdu.get(RESPONSE_HEADER_LEN..)?;
    let (ndr64, (tower_count, entries, status)) = [false, true]
        .into_iter()
        .find_map(|ndr64| ept_map_stub(stub, ndr64).map(|r| (ndr64, r)))?;
    Some(EptMapResponse {
        header,
        tower_count,
        entries,
        status,
        ndr64,
    })
}

/// A stub reader that keeps NDR alignment relative to the start of the stub.
struct NdrReader<'a> {
    stub: &'a [u8],
    pos: usize,
    ndr64: bool,
}

impl<'a> NdrReader<'a> {
    fn align(&mut self, to: usize) -> Option<()> {
        let rem = self.pos % to;
        if rem != 0 {
            self.pos = self.pos.checked_add(to - rem)?;
        }
        (self.pos <= self.stub.len()).then_some(())
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.stub.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        self.align(4)?;
        let b = self.bytes(4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// A conformance count, pointer or size: u32 in NDR, u64 in NDR64.
    fn count(&mut self) -> Option<u64> {
        if self.ndr64 {
            self.align(8)?;
            let b = self.bytes(8)?;
            Some(u64::from_le_bytes(b.try_into().ok()?))
        } else {
            self.u32().map(u64::from)
        }
    }
}

type StubResult = (u32, Bounded<EptMapEntry, MAX_TOWERS>, Option<u32>);

fn ept_map_stub(stub: &[u8], ndr64: bool) -> Option<StubResult> {
    let mut r = NdrReader {
        stub,
        pos: 0,
        ndr64,
    };
    r.bytes(CONTEXT_HANDLE_LEN)?;
    let tower_count = r.u32()?;
    let max_count = r.count()?;
    let offset = r.count()?;
    let actual = r.count()?;
    // ept_map's towers are `length_is(*num_towers)`: the actual count repeats num_towers.
    if offset != 0 || actual > max_count || actual != u64::from(tower_count) {
        return None;
    }
    // One referent per tower pointer (0 = null), then the pointed-to towers in order.
    let mut present = 0u64;
    for _ in 0..actual.min(64) {
        if r.count()? != 0 {
            present += 1;
        }
    }
    let mut entries = Bounded::default();
    for _ in 0..present {
        let Some(entry) = ndr_tower(&mut r) else {
            break;
        };
        if let Some(entry) = entry {
            entries.push(entry);
        }
    }
    if entries.is_empty() && present > 0 {
        return None;
    }
    let status = r.u32();
    Some((tower_count, entries, status))
}

/// One `twr_t`: conformance, tower_length (equal), octets. `Some(None)` for a tower that is
/// well-framed but not a TCP/UDP/HTTP tower we can read.
fn ndr_tower(r: &mut NdrReader<'_>) -> Option<Option<EptMapEntry>> {
    let conformance = r.count()?;
    let length = r.u32()?;
    if u64::from(length) != conformance {
        return None;
    }
    let octets = r.bytes(usize::try_from(length).ok()?)?;
    Some(parse_tower(octets))
}

/// Parses tower octets (C706 appendix L): floor_count u16 LE, then floors of
/// `lhs_len u16 LE, lhs, rhs_len u16 LE, rhs`. Floor 1 must be a UUID floor (0x0D).
pub fn parse_tower(octets: &[u8]) -> Option<EptMapEntry> {
    let mut c = Cursor::new(octets);
    let floors = c.le16()?;
    if !(3..=8).contains(&floors) {
        return None;
    }
    let mut entry = EptMapEntry::default();
    for index in 0..floors {
        let lhs_len = c.le16()?;
        let lhs = c.take(usize::from(lhs_len))?;
        let rhs_len = c.le16()?;
        let rhs = c.take(usize::from(rhs_len))?;
        let (&protocol, lhs_data) = lhs.split_first()?;
        match (index, protocol) {
            (0, 0x0D) => {
                let mut l = Cursor::new(lhs_data);
                let uuid = Uuid::from_wire(l.array()?, true);
                let major = l.le16()?;
                let minor = Cursor::new(rhs).le16().unwrap_or(0);
                entry.interface = SyntaxId { uuid, major, minor };
            }
            (0, _) => return None,
            (_, 0x07 | 0x08 | 0x1F) => {
                entry.transport = TowerProtocol(protocol);
                entry.port = Cursor::new(rhs).be16();
            }
            (_, 0x09) => {
                entry.ipv4 = Cursor::new(rhs).array::<4>().map(Ipv4Addr::from);
            }
            (_, 0x0F..=0x11) => entry.transport = TowerProtocol(protocol),
            _ => {}
        }
    }
    Some(entry)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::super::test_util::{hex, MAPI_EPT_MAP};
    use super::*;
    use proptest::prelude::*;

    /// A bind PDU header as Windows sends it to the endpoint mapper (little-endian drep,
    /// frag_length 0x0074 = 116): 05 00 0b 03 10 00 00 00 74 00 00 00 02 00 00 00.
    const BIND_HEADER: [u8; 16] = [
        0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00, 0x74, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00,
    ];

    /// ms-prot-od-netcaps/MS-ADOD_Example1_3_…JoiningADomainByCreatingAnAccountViaLDAP.pcapng,
    /// frame 140 (Windows 10 → DC tcp/135): bind to the endpoint mapper with three contexts.
    const ADOD_BIND: &str = concat!(
        "05 00 0b 03 10000000 a000 0000 02000000", // v5.0, bind, first|last, drep LE, frag 160, auth 0, call 2
        "d016 d016 00000000 03 000000",            // max_xmit/recv 5840, assoc_group 0, 3 contexts
        "0000 01 00",                              // ctx 0, 1 transfer syntax
        "0883afe11f5dc91191a408002b14a0fa 0300 0000", // EPM e1af8308-… v3.0
        "045d888aeb1cc9119fe808002b104860 02000000", // NDR v2
        "0100 01 00",                              // ctx 1
        "0883afe11f5dc91191a408002b14a0fa 0300 0000", // EPM v3.0
        "33057171babe37498319b5dbef9ccc36 01000000", // NDR64 v1
        "0200 01 00",                              // ctx 2
        "0883afe11f5dc91191a408002b14a0fa 0300 0000", // EPM v3.0
        "2c1cb76c12984045 0300000000000000 01000000", // bind time feature negotiation 6cb71c2c-9812-4540-…
    );

    /// Same file, frame 141: the DC's bind_ack.
    const ADOD_BIND_ACK: &str = concat!(
        "05 00 0c 03 10000000 6c00 0000 02000000", // bind_ack, frag 108, call 2
        "d016 d016 07490000",                      // max_xmit/recv, assoc_group 0x4907
        "0400 31333500",                           // sec_addr: 4 bytes "135\0"
        "0000",                                    // pad to 4
        "03 00 0000",                              // 3 results
        "0200 0200 00000000000000000000000000000000 00000000", // provider_rejection, reason 2 (transfer syntaxes not supported)
        "0000 0000 33057171babe37498319b5dbef9ccc36 01000000", // acceptance, NDR64 v1
        "0300 0300 00000000000000000000000000000000 00000000", // negotiate_ack, features 0x3
    );

    /// MS-ADOD_Example1_3 frame 143 (tcp/135 → 54355): ept_map response in NDR64, two towers
    /// for drsuapi at 192.168.0.1 tcp/49668 and tcp/49664.
    const ADOD_EPT_MAP: &str = concat!(
        "05 00 02 03 10000000 0c01 0000 02000000", // response, frag 268, call 2
        "f4000000 0100 00 00",                     // alloc_hint 244, ctx 1 (NDR64)
        "0000000000000000000000000000000000000000", // entry_handle
        "02000000",                                // num_towers 2
        "0400000000000000 0000000000000000 0200000000000000", // max 4, offset 0, actual 2 (u64)
        "0300000000000000 0400000000000000",       // referents
        "4b00000000000000 4b000000",               // tower 1: conformance (u64), length 75
        "0500",
        "1300 0d 354251e3064bd111ab0400c04fc2dcd2 0400 0200 0000", // drsuapi v4.0
        "1300 0d 045d888aeb1cc9119fe808002b104860 0200 0200 0000", // NDR v2
        "0100 0b 0200 0000",
        "0100 07 0200 c204",         // TCP 49668
        "0100 09 0400 c0a80001",     // 192.168.0.1
        "00",                        // pad to 8
        "4b00000000000000 4b000000", // tower 2
        "0500",
        "1300 0d 354251e3064bd111ab0400c04fc2dcd2 0400 0200 0000",
        "1300 0d 045d888aeb1cc9119fe808002b104860 0200 0200 0000",
        "0100 0b 0200 0000",
        "0100 07 0200 c200", // TCP 49664
        "0100 09 0400 c0a80001",
        "00",       // pad to 4
        "00000000", // status 0
    );

    /// zeek/modbus/modbus-and-non-modbus-p502.pcap frame 29: an internet scanner's EPM bind
    /// sent to tcp/502 (a non-standard port).
    const SCANNER_BIND: &str = "05000b03100000004800000001000000b810b8100000000001000000000001000883afe11f5dc91191a408002b14a0fa03000000045d888aeb1cc9119fe808002b10486002000000";

    /// suricata-verify/dcerpc-ctxids/input.pcap frame 11 (→ tcp/135): alter-free bind to
    /// IRemoteSCMActivator 000001a0-… with an NTLMSSP auth trailer.
    const CTXIDS_BIND: &str = "05000b07100000007800280003000000d016d016680d00000100000001000100a001000000000000c00000000000004600000000045d888aeb1cc9119fe808002b104860020000000a050000000000004e544c4d5353500001000000978208e2000000000000000000000000000000000a00614a0000000f";

    #[test]
    fn bind_header_is_recognised() {
        assert_eq!(
            probe_dcerpc(&BIND_HEADER),
            Some(DceRpcHeader {
                ptype: dcerpc_ptype::BIND,
                frag_length: 116
            })
        );
    }

    #[test]
    fn mutations_are_rejected() {
        let mut wrong_version = BIND_HEADER;
        wrong_version[0] = 4; // connectionless version: not a CO PDU
        assert_eq!(probe_dcerpc(&wrong_version), None);
        let mut bad_drep = BIND_HEADER;
        bad_drep[4] = 0x20; // integer representation 2: undefined (only 0 big, 1 little endian)
        assert_eq!(probe_dcerpc(&bad_drep), None);
        let mut short_frag = BIND_HEADER;
        short_frag[8] = 0x08; // frag_length 8 < header length
        assert_eq!(probe_dcerpc(&short_frag), None);
        assert_eq!(
            probe_dcerpc(b"\x03\x00\x00\x13\x0e\xe0"),
            None,
            "TPKT is not DCE/RPC"
        );
    }

    #[test]
    fn every_prefix_is_safe() {
        for len in 0..BIND_HEADER.len() {
            let result = probe_dcerpc(&BIND_HEADER[..len]);
            assert_eq!(result.is_some(), len >= 10);
        }
    }

    #[test]
    fn uuid_reads_the_drep_order_and_prints_canonically() {
        let wire = hex("0883afe11f5dc91191a408002b14a0fa");
        let uuid = Uuid::from_wire(wire.try_into().unwrap(), true);
        assert_eq!(uuid, EPM);
        assert_eq!(uuid.to_string(), "e1af8308-5d1f-11c9-91a4-08002b14a0fa");
        assert_eq!(uuid.interface_name(), Some("epmapper"));
        let big = Uuid::from_wire(EPM.0, false);
        assert_eq!(big, EPM, "big-endian drep keeps the string order");
    }

    #[test]
    fn windows_epm_bind_lists_three_contexts() {
        let bind = parse_bind(&hex(ADOD_BIND)).unwrap();
        assert_eq!(bind.header.frag_length, 160);
        assert_eq!(bind.context_count, 3);
        let ctx: Vec<_> = bind.contexts.iter().collect();
        assert_eq!(ctx.len(), 3);
        assert_eq!(bind.interface().unwrap().uuid, EPM);
        assert_eq!(
            (ctx[0].abstract_syntax.major, ctx[0].abstract_syntax.minor),
            (3, 0)
        );
        assert_eq!(ctx[0].first_transfer.uuid, NDR);
        assert_eq!(ctx[1].first_transfer.uuid, NDR64);
        assert_eq!(ctx[2].id, 2);
        assert_eq!(
            ctx[2].first_transfer.uuid.to_string(),
            "6cb71c2c-9812-4540-0300-000000000000",
            "bind time feature negotiation, features 0x3"
        );
    }

    #[test]
    fn scanner_and_dcom_binds_name_their_interfaces() {
        let scanner = parse_bind(&hex(SCANNER_BIND)).unwrap();
        assert_eq!(
            scanner.interface().unwrap().uuid.interface_name(),
            Some("epmapper")
        );
        let dcom = parse_bind(&hex(CTXIDS_BIND)).unwrap();
        assert_eq!(
            dcom.interface().unwrap().uuid.interface_name(),
            Some("IRemoteSCMActivator")
        );
        assert_eq!(dcom.contexts.len(), 1);
    }

    #[test]
    fn bind_ack_gives_port_string_and_results() {
        let bytes = hex(ADOD_BIND_ACK);
        let ack = parse_bind_ack(&bytes).unwrap();
        assert_eq!(ack.secondary_address, b"135");
        assert_eq!(ack.port(), Some(135));
        assert_eq!(ack.assoc_group, 0x4907);
        let results: Vec<_> = ack.results.iter().map(|r| r.result).collect();
        assert_eq!(
            results,
            [
                ContextResult::PROVIDER_REJECTION,
                ContextResult::ACCEPTANCE,
                ContextResult::NEGOTIATE_ACK
            ]
        );
        assert_eq!(ack.results.as_slice()[1].transfer.uuid, NDR64);
        assert_eq!(ContextResult(9).name(), "unknown");
        assert_eq!(
            parse_bind_ack(&hex(ADOD_BIND)),
            None,
            "a bind is not a bind_ack"
        );
        assert_eq!(parse_bind(&hex(ADOD_BIND_ACK)), None);
    }

    #[test]
    fn ept_map_ndr_tower_gives_port_and_address() {
        let map = parse_ept_map_response(&hex(MAPI_EPT_MAP)).unwrap();
        assert!(!map.ndr64);
        assert_eq!(map.tower_count, 1);
        assert_eq!(map.status, Some(0));
        let e = map.entries.first().unwrap();
        assert_eq!(
            e.interface.uuid.to_string(),
            "f5cc5a18-4264-101a-8c59-08002b2f8426"
        );
        assert_eq!(e.interface.major, 56);
        assert_eq!(e.transport, TowerProtocol::TCP);
        assert_eq!(e.port, Some(4997));
        assert_eq!(e.ipv4, Some(Ipv4Addr::new(192, 168, 0, 2)));
    }

    #[test]
    fn ept_map_ndr64_towers_give_both_ports() {
        let map = parse_ept_map_response(&hex(ADOD_EPT_MAP)).unwrap();
        assert!(map.ndr64);
        let ports: Vec<_> = map.entries.iter().map(|e| e.port).collect();
        assert_eq!(ports, [Some(49668), Some(49664)]);
        assert!(map
            .entries
            .iter()
            .all(|e| e.interface.uuid.interface_name() == Some("drsuapi")
                && e.ipv4 == Some(Ipv4Addr::new(192, 168, 0, 1))));
        assert_eq!(map.status, Some(0));
    }

    #[test]
    fn ept_map_mutations() {
        let good = hex(MAPI_EPT_MAP);
        // Second tower length (offset 24+20+4+12+4+4 = 68) changed 75 → 74: the two lengths
        // disagree, so neither NDR nor NDR64 fits.
        let mut lengths = good.clone();
        lengths[68] = 0x4a;
        assert_eq!(parse_ept_map_response(&lengths), None);
        // Floor 1 protocol 0x0d → 0x0b (offset 24+20+4+12+4+8+2+2 = 76): not a UUID floor.
        let mut floor = good.clone();
        floor[76] = 0x0b;
        assert_eq!(parse_ept_map_response(&floor), None);
        // PTYPE response → request: not an answer.
        let mut request = good.clone();
        request[2] = dcerpc_ptype::REQUEST;
        assert_eq!(parse_ept_map_response(&request), None);
        // The request (frame 399) is not a response.
        let req = hex("05000003100000009c0000000100000084000000000003000100000000000000000000000000000000000000020000004b0000004b000000050013000d185accf564421a108c5908002b2f842638000200000013000d045d888aeb1cc9119fe808002b10486002000200000001000b020000000100070200008701000904000000000000000000000000000000000000000000000000000004000000");
        assert_eq!(parse_ept_map_response(&req), None);
    }

    #[test]
    fn truncation_never_panics_and_short_prefixes_are_none() {
        for vector in [
            ADOD_BIND,
            ADOD_BIND_ACK,
            MAPI_EPT_MAP,
            ADOD_EPT_MAP,
            CTXIDS_BIND,
        ] {
            let bytes = hex(vector);
            for len in 0..bytes.len() {
                let cut = &bytes[..len];
                let bind = parse_bind(cut);
                let ack = parse_bind_ack(cut);
                let map = parse_ept_map_response(cut);
                if len < 28 {
                    assert!(
                        bind.is_none() && ack.is_none() && map.is_none(),
                        "len {len}"
                    );
                }
            }
        }
        // A cut bind keeps the contexts that are complete.
        let bind = hex(ADOD_BIND);
        let two = parse_bind(&bind[..28 + 2 * 44 + 10]).unwrap();
        assert_eq!(two.contexts.len(), 2);
        // A cut ept_map answer keeps the complete tower.
        let map = hex(ADOD_EPT_MAP);
        let one = parse_ept_map_response(&map[..map.len() - 90]).unwrap();
        assert_eq!(one.entries.len(), 1);
        assert_eq!(one.status, None);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = probe_dcerpc(&bytes);
            let _ = parse_bind(&bytes);
            let _ = parse_bind_ack(&bytes);
            let _ = parse_ept_map_response(&bytes);
            let _ = parse_tower(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_real_pdus(index in 0usize..300, value in any::<u8>(), which in 0usize..4) {
            let mut bytes = hex([ADOD_BIND, ADOD_BIND_ACK, MAPI_EPT_MAP, ADOD_EPT_MAP][which]);
            let i = index % bytes.len();
            bytes[i] = value;
            let _ = parse_bind(&bytes);
            let _ = parse_bind_ack(&bytes);
            let _ = parse_ept_map_response(&bytes);
        }
    }
}
