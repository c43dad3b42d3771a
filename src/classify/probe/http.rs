//! HTTP/1.x request and status lines and a few headers (RFC 9112 sections 3, 4 and 5), and
//! what an HTTP request is for in an RDS deployment: RD Gateway (MS-TSGU 2.2.3: `RDG_IN_DATA` /
//! `RDG_OUT_DATA`, the WebSocket upgrade on `/remoteDesktopGateway/`, `RDG-Connection-Id` /
//! `RDG-Correlation-Id`), RPC over HTTP (`RPC_IN_DATA` / `RPC_OUT_DATA` to
//! `/rpc/rpcproxy.dll`, MS-RPCH 2.1.2.1), WinRM (`POST /wsman`, MS-WSMV), a CRL fetch, and the
//! Kerberos KDC proxy (`POST /KdcProxy`, MS-KKDCP 2.2).
//!
//! On RD Gateway's port 443 all of this is inside TLS: these checks see it only in cleartext
//! HTTP, in decrypted captures, or on a TLS-terminating proxy. Owns the line and header
//! syntax; must not allocate (every value borrows the payload), decode bodies, or keep state.

use super::{find_crlf, starts_with_ignore_case};

/// The longest request or status line read (RFC 9112 3: servers commonly allow 8000 octets).
const MAX_LINE: usize = 8192;
/// Headers read at most.
const MAX_HEADERS: usize = 100;
/// The longest method accepted (RD Gateway's `RDG_OUT_DATA` has 12 characters).
const MAX_METHOD: usize = 32;

/// A request line and the headers rdsflows reports, borrowed from the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// Method token (`GET`, `RDG_OUT_DATA`…).
    pub method: &'a [u8],
    /// Request target as sent (path and query, or an absolute URI).
    pub target: &'a [u8],
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: &'a [u8],
    /// Host header.
    pub host: Option<&'a [u8]>,
    /// Upgrade header.
    pub upgrade: Option<&'a [u8]>,
    /// User-Agent header.
    pub user_agent: Option<&'a [u8]>,
    /// Content-Type header.
    pub content_type: Option<&'a [u8]>,
    /// RDG-Connection-Id (MS-TSGU 2.2.3.2): the GUID tying the IN and OUT channels.
    pub rdg_connection_id: Option<&'a [u8]>,
    /// RDG-Correlation-Id (MS-TSGU 2.2.3.2): equals the RDP correlation ID.
    pub rdg_correlation_id: Option<&'a [u8]>,
    /// RDG-User-Id (MS-TSGU 2.2.3.2): the user name, base64 of its UTF-16LE form (a user name:
    /// reports hide it under `--redact`).
    pub rdg_user_id: Option<&'a [u8]>,
    /// True when the empty line ending the header block was in the bytes.
    pub headers_complete: bool,
}

/// A status line and the headers rdsflows reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Response<'a> {
    /// `HTTP/1.1`…
    pub version: &'a [u8],
    /// Status code (100..=999).
    pub status: u16,
    /// Reason phrase (may be empty, as Microsoft-HTTPAPI sends it).
    pub reason: &'a [u8],
    /// Content-Type header.
    pub content_type: Option<&'a [u8]>,
    /// Upgrade header (`websocket` on a 101).
    pub upgrade: Option<&'a [u8]>,
    /// Server header.
    pub server: Option<&'a [u8]>,
    /// True when the empty line ending the header block was in the bytes.
    pub headers_complete: bool,
}

/// What a request is for, as far as the RDS role map cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// RD Gateway HTTP transport, dual IN/OUT channels (MS-TSGU 2.2.3.1).
    RdGatewayHttp,
    /// RD Gateway HTTP transport upgraded to WebSocket.
    RdGatewayWebSocket,
    /// RPC over HTTP (MS-RPCH), the legacy RD Gateway transport (TsProxy) among others.
    RpcOverHttp,
    /// WS-Management (WinRM / PowerShell remoting).
    WinRm,
    /// A certificate revocation list download.
    CrlFetch,
    /// Kerberos KDC proxy (MS-KKDCP), used by RD Gateway clients.
    KdcProxy,
    /// None of the above.
    Other,
}

impl Purpose {
    /// A short name: `rdg-http`, `rdg-websocket`, `rpc-over-http`, `winrm`, `crl`,
    /// `kdc-proxy`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RdGatewayHttp => "rdg-http",
            Self::RdGatewayWebSocket => "rdg-websocket",
            Self::RpcOverHttp => "rpc-over-http",
            Self::WinRm => "winrm",
            Self::CrlFetch => "crl",
            Self::KdcProxy => "kdc-proxy",
            Self::Other => "other",
        }
    }
}

impl Request<'_> {
    /// The path without its query string.
    pub fn path(&self) -> &[u8] {
        let end = self
            .target
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(self.target.len());
        self.target.get(..end).unwrap_or(self.target)
    }

    fn is_websocket(&self) -> bool {
        self.upgrade
            .is_some_and(|u| u.eq_ignore_ascii_case(b"websocket"))
    }

    /// Classifies the request (MS-TSGU 2.2.3, MS-RPCH 2.1.2.1, MS-WSMV, MS-KKDCP).
    pub fn purpose(&self) -> Purpose {
        let path = self.path();
        let rdg_method = matches!(self.method, b"RDG_IN_DATA" | b"RDG_OUT_DATA");
        let rdg_path = starts_with_ignore_case(path, b"/remoteDesktopGateway/");
        if (rdg_method || rdg_path) && self.is_websocket() {
            return Purpose::RdGatewayWebSocket;
        }
        if rdg_method || self.rdg_connection_id.is_some() || self.rdg_correlation_id.is_some() {
            return Purpose::RdGatewayHttp;
        }
        if matches!(self.method, b"RPC_IN_DATA" | b"RPC_OUT_DATA")
            || starts_with_ignore_case(path, b"/rpc/rpcproxy.dll")
        {
            return Purpose::RpcOverHttp;
        }
        if self.method == b"POST" && starts_with_ignore_case(path, b"/wsman") {
            return Purpose::WinRm;
        }
        if self.method == b"POST" && path.eq_ignore_ascii_case(b"/KdcProxy") {
            return Purpose::KdcProxy;
        }
        let crl_path = path
            .len()
            .checked_sub(4)
            .and_then(|i| path.get(i..))
            .is_some_and(|ext| ext.eq_ignore_ascii_case(b".crl"));
        if crl_path || self.content_type.is_some_and(is_crl_type) {
            return Purpose::CrlFetch;
        }
        Purpose::Other
    }
}

impl Response<'_> {
    /// True when the body is a CRL (`application/pkix-crl`, RFC 5280 4.2.1.13 / RFC 2585).
    pub fn is_crl(&self) -> bool {
        self.content_type.is_some_and(is_crl_type)
    }
}

fn is_crl_type(content_type: &[u8]) -> bool {
    starts_with_ignore_case(content_type, b"application/pkix-crl")
}

/// The first line (without CR LF) and the rest, when a CR LF ends it within `MAX_LINE`.
fn first_line(payload: &[u8]) -> Option<(&[u8], &[u8])> {
    let head = payload.get(..MAX_LINE).unwrap_or(payload);
    let end = find_crlf(head)?;
    Some((payload.get(..end)?, payload.get(end.checked_add(2)?..)?))
}

fn is_version(v: &[u8]) -> bool {
    matches!(v, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}

fn is_method(m: &[u8]) -> bool {
    (1..=MAX_METHOD).contains(&m.len())
        && m.iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Splits `a b c` on single spaces into exactly three parts (the third may hold spaces when
/// `rest_may_have_spaces`).
fn three_parts(line: &[u8], rest_may_have_spaces: bool) -> Option<(&[u8], &[u8], &[u8])> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (a, b) = (parts.next()?, parts.next()?);
    let c = parts.next().unwrap_or_default();
    if !rest_may_have_spaces && c.contains(&b' ') {
        return None;
    }
    Some((a, b, c))
}

/// Calls `f(name, value)` for each complete header line; returns true when the empty line
/// ending the block was reached.
fn headers<'a>(mut rest: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) -> bool {
    for _ in 0..MAX_HEADERS {
        let Some(end) = find_crlf(rest) else {
            return false;
        };
        let (Some(line), Some(next)) = (rest.get(..end), rest.get(end.saturating_add(2)..)) else {
            return false;
        };
        if line.is_empty() {
            return true;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = line.get(..colon).unwrap_or_default();
            let value = line.get(colon.saturating_add(1)..).unwrap_or_default();
            f(name, value.trim_ascii());
        }
        rest = next;
    }
    false
}

/// Parses an HTTP/1.x request line and headers (RFC 9112 3 and 5). The request line must be
/// complete (`METHOD SP target SP HTTP/x.y CR LF`, method of uppercase letters, digits, `_`
/// or `-`); headers are read as far as the bytes go.
pub fn parse_request(payload: &[u8]) -> Option<Request<'_>> {
    // Every inspected TCP payload that starts with a letter comes here. Most are not HTTP, and
    // are turned away by their first bytes, before the search for a line end through up to
    // 8 KB of them.
    if !starts_with_method(payload) {
        return None;
    }
    parse_request_line(payload)
}

/// True when `payload` starts with a method and its space (RFC 9112 3): what every request
/// that [`parse_request_line`] accepts starts with.
fn starts_with_method(payload: &[u8]) -> bool {
    // The method and the space after it.
    let head = payload.get(..=MAX_METHOD).unwrap_or(payload);
    head.iter()
        .position(|&b| b == b' ')
        .and_then(|space| head.get(..space))
        .is_some_and(is_method)
}

/// [`parse_request`] without its first check.
fn parse_request_line(payload: &[u8]) -> Option<Request<'_>> {
    let (line, rest) = first_line(payload)?;
    let (method, target, version) = three_parts(line, false)?;
    if !is_method(method) || target.is_empty() || !is_version(version) {
        return None;
    }
    if target.iter().any(|b| b.is_ascii_control()) {
        return None;
    }
    let mut req = Request {
        method,
        target,
        version,
        ..Request::default()
    };
    req.headers_complete = headers(rest, |name, value| {
        let slot = if name.eq_ignore_ascii_case(b"Host") {
            &mut req.host
        } else if name.eq_ignore_ascii_case(b"Upgrade") {
            &mut req.upgrade
        } else if name.eq_ignore_ascii_case(b"User-Agent") {
            &mut req.user_agent
        } else if name.eq_ignore_ascii_case(b"Content-Type") {
            &mut req.content_type
        } else if name.eq_ignore_ascii_case(b"RDG-Connection-Id") {
            &mut req.rdg_connection_id
        } else if name.eq_ignore_ascii_case(b"RDG-Correlation-Id") {
            &mut req.rdg_correlation_id
        } else if name.eq_ignore_ascii_case(b"RDG-User-Id") {
            &mut req.rdg_user_id
        } else {
            return;
        };
        slot.get_or_insert(value);
    });
    Some(req)
}

/// Parses an HTTP/1.x status line and headers (RFC 9112 4): `HTTP/x.y SP 3DIGIT SP reason`;
/// Microsoft-HTTPAPI sends an empty reason (`HTTP/1.1 200 `), which is accepted.
pub fn parse_response(payload: &[u8]) -> Option<Response<'_>> {
    // What `is_version` demands of the first part, checked before the line end is searched for.
    if !payload.starts_with(b"HTTP/") {
        return None;
    }
    let (line, rest) = first_line(payload)?;
    let (version, code, reason) = three_parts(line, true)?;
    if !is_version(version) {
        return None;
    }
    let status = match code {
        [a, b, c]
            if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() && *a != b'0' =>
        {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return None,
    };
    let mut resp = Response {
        version,
        status,
        reason,
        ..Response::default()
    };
    resp.headers_complete = headers(rest, |name, value| {
        let slot = if name.eq_ignore_ascii_case(b"Content-Type") {
            &mut resp.content_type
        } else if name.eq_ignore_ascii_case(b"Upgrade") {
            &mut resp.upgrade
        } else if name.eq_ignore_ascii_case(b"Server") {
            &mut resp.server
        } else {
            return;
        };
        slot.get_or_insert(value);
    });
    Some(resp)
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

    /// awakecoding-wireshark-rdp/rdp-rdg-same-creds-kerberos-password-success1.pcapng frame 39,
    /// decrypted with the TLS secrets embedded in the file (first 339 of 3152 bytes, up to the
    /// RDG-User-Id header): the RD Gateway WebSocket transport request.
    const RDG_WEBSOCKET: &[u8] = b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n\
        Cache-Control: no-cache\r\n\
        Connection: Upgrade\r\n\
        Pragma: no-cache\r\n\
        Upgrade: websocket\r\n\
        Accept: */*\r\n\
        User-Agent: MS-RDGateway/1.0\r\n\
        RDG-Connection-Id: {EBB921D3-86CD-401F-8154-47360E45BF2F}\r\n\
        RDG-Correlation-Id: {198BC706-491F-4C19-BAC0-3B06F5E20000}\r\n";

    /// Same file, frame 41, decrypted: the gateway's 101 answer.
    const RDG_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Server: Microsoft-HTTPAPI/2.0\r\n\
        Sec-WebSocket-Accept: 6WehmTwma1qpt5OOdh+KSmVd1Vc=\r\n\
        Connection: Upgrade\r\n\
        Date: Fri, 10 May 2024 19:51:40 GMT\r\n\
        \r\n";

    /// ms-prot-od-netcaps/MS-WMOD_Example2_…Hagala.cap frame 22 (49760 → 5985): the WinRM
    /// request headers (the SOAP body follows in later segments).
    const WINRM_POST: &[u8] = b"POST /wsman HTTP/1.1\r\n\
        Connection: Keep-Alive\r\n\
        Content-Type: application/soap+xml;charset=UTF-16\r\n\
        User-Agent: Microsoft WinRM Client\r\n\
        Content-Length: 2880\r\n\
        Host: sut01:5985\r\n\
        \r\n";

    /// Same file, frame 21 (first line): Microsoft-HTTPAPI's status line with an empty reason.
    const HTTPAPI_200: &[u8] = b"HTTP/1.1 200 \r\n\
        WWW-Authenticate: Kerberos YIGXBgkqhkiG9xIBAgICAG+BhzCBhKADAgEFoQMCAQ+ieDB2oAMCARKi\r\n";

    /// malcolm-test-artifacts/9596cf60-….pcap frame 111 (→ tcp/80): a CRL download.
    const CRL_GET: &[u8] = b"GET /pki/crl/products/MicRooCerAut2011_2011_03_22.crl HTTP/1.1\r\n\
        Connection: Keep-Alive\r\n\
        Accept: */*\r\n\
        If-Modified-Since: Thu, 23 Nov 2023 03:09:50 GMT\r\n\
        User-Agent: Microsoft-CryptoAPI/10.0\r\n\
        Host: crl.microsoft.com\r\n\
        \r\n";

    /// The dual-channel RD Gateway transport (MS-TSGU 2.2.3.1; no public capture has it in
    /// cleartext): an IN channel request as FreeRDP's rdg.c sends it.
    const RDG_IN: &[u8] = b"RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\n\
        Host: gw.example.test\r\n\
        User-Agent: MS-RDGateway/1.0\r\n\
        RDG-Connection-Id: {EBB921D3-86CD-401F-8154-47360E45BF2F}\r\n\
        Content-Length: 1073741824\r\n\r\n";

    /// RPC over HTTP (MS-RPCH 2.1.2.1.1; protocol-facts.md 2.3), built from the documented form.
    const RPC_IN: &[u8] = b"RPC_IN_DATA /rpc/rpcproxy.dll?localhost:3388 HTTP/1.1\r\n\
        Accept: application/rpc\r\n\
        User-Agent: MSRPC\r\n\
        Host: gw.example.test\r\n\r\n";

    /// MS-KKDCP over HTTP/1.1. In the awakecoding RDG captures the KDC proxy request rides
    /// HTTP/2 (frame 22: `:method POST`, `:path /KdcProxy`, `user-agent kerberos/1.0`), which
    /// this parser does not read; this is the same request in HTTP/1.1 form.
    const KDC_PROXY: &[u8] = b"POST /KdcProxy HTTP/1.1\r\n\
        Cache-Control: no-cache\r\n\
        User-Agent: kerberos/1.0\r\n\
        Content-Length: 275\r\n\r\n";

    #[test]
    fn rdg_websocket_request_is_recognised() {
        let req = parse_request(RDG_WEBSOCKET).unwrap();
        assert_eq!(req.method, b"RDG_OUT_DATA");
        assert_eq!(req.target, b"/remoteDesktopGateway/");
        assert_eq!(req.version, b"HTTP/1.1");
        assert_eq!(req.upgrade, Some(&b"websocket"[..]));
        assert_eq!(req.user_agent, Some(&b"MS-RDGateway/1.0"[..]));
        assert_eq!(
            req.rdg_correlation_id,
            Some(&b"{198BC706-491F-4C19-BAC0-3B06F5E20000}"[..])
        );
        assert!(req.rdg_connection_id.is_some());
        assert!(
            !req.headers_complete,
            "the vector stops before the end of the headers"
        );
        assert_eq!(req.purpose(), Purpose::RdGatewayWebSocket);
        let resp = parse_response(RDG_101).unwrap();
        assert_eq!(
            (resp.status, resp.reason),
            (101, &b"Switching Protocols"[..])
        );
        assert_eq!(resp.upgrade, Some(&b"websocket"[..]));
        assert_eq!(resp.server, Some(&b"Microsoft-HTTPAPI/2.0"[..]));
        assert!(resp.headers_complete);
    }

    #[test]
    fn rdg_paths_and_headers() {
        assert_eq!(
            parse_request(RDG_IN).unwrap().purpose(),
            Purpose::RdGatewayHttp
        );
        let get = b"GET /remoteDesktopGateway/?CorId={1}&ConId={2} HTTP/1.1\r\nUpgrade: WebSocket\r\n\r\n";
        let req = parse_request(get).unwrap();
        assert_eq!(req.path(), b"/remoteDesktopGateway/");
        assert_eq!(req.purpose(), Purpose::RdGatewayWebSocket);
        // Mutation: without the Upgrade header, a plain GET to the gateway path is not enough.
        let plain = b"GET /remoteDesktopGateway/ HTTP/1.1\r\nHost: gw\r\n\r\n";
        assert_eq!(parse_request(plain).unwrap().purpose(), Purpose::Other);
        assert_eq!(
            parse_request(RPC_IN).unwrap().purpose(),
            Purpose::RpcOverHttp
        );
        assert_eq!(Purpose::RpcOverHttp.name(), "rpc-over-http");
    }

    #[test]
    fn rdg_user_id_is_read_raw() {
        // The public capture's RDG-User-Id is a lab user's name and was left out of the vector
        // above; this one carries "alice" as MS-TSGU 2.2.3.2 encodes it (base64 of UTF-16LE).
        let mut req = RDG_WEBSOCKET.to_vec();
        req.extend_from_slice(b"RDG-User-Id: YQBsAGkAYwBlAA==\r\n\r\n");
        let parsed = parse_request(&req).unwrap();
        assert_eq!(parsed.rdg_user_id, Some(&b"YQBsAGkAYwBlAA=="[..]));
        assert!(parsed.headers_complete);
        assert_eq!(parse_request(RDG_WEBSOCKET).unwrap().rdg_user_id, None);
    }

    #[test]
    fn winrm_crl_and_kdc_proxy() {
        let winrm = parse_request(WINRM_POST).unwrap();
        assert_eq!(winrm.purpose(), Purpose::WinRm);
        assert_eq!(winrm.host, Some(&b"sut01:5985"[..]));
        assert_eq!(
            winrm.content_type,
            Some(&b"application/soap+xml;charset=UTF-16"[..])
        );
        let crl = parse_request(CRL_GET).unwrap();
        assert_eq!(crl.purpose(), Purpose::CrlFetch);
        assert_eq!(crl.host, Some(&b"crl.microsoft.com"[..]));
        assert_eq!(
            parse_request(KDC_PROXY).unwrap().purpose(),
            Purpose::KdcProxy
        );
        let crl_resp =
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n")
                .unwrap();
        assert!(crl_resp.is_crl());
    }

    #[test]
    fn empty_reason_phrase_is_accepted() {
        let resp = parse_response(HTTPAPI_200).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.reason, b"");
        assert!(
            parse_request(HTTPAPI_200).is_none(),
            "a status line is not a request"
        );
    }

    #[test]
    fn mutations_and_non_http() {
        // Lower-case method: not a method token we accept.
        let mut lower = WINRM_POST.to_vec();
        lower[0] = b'p';
        assert_eq!(parse_request(&lower), None);
        // "HTTP/1.1" → "HTTP/11.": malformed version.
        let mut version = WINRM_POST.to_vec();
        version[18] = b'1';
        version[19] = b'.';
        assert_eq!(parse_request(&version), None);
        // Status "20x".
        assert_eq!(parse_response(b"HTTP/1.1 20x OK\r\n"), None);
        // TPKT and TLS are not HTTP.
        assert_eq!(
            parse_request(
                b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00"
            ),
            None
        );
        assert_eq!(
            parse_request(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"),
            None
        );
        // A request line without CR LF is not accepted (it may be cut anywhere).
        assert_eq!(parse_request(b"GET / HTTP/1.1"), None);
    }

    #[test]
    fn every_prefix_is_safe() {
        for vector in [RDG_WEBSOCKET, RDG_101, WINRM_POST, CRL_GET, HTTPAPI_200] {
            let line_end = find_crlf(vector).unwrap() + 2;
            for len in 0..vector.len() {
                let req = parse_request(&vector[..len]);
                let resp = parse_response(&vector[..len]);
                if len < line_end {
                    assert!(req.is_none() && resp.is_none(), "len {len}");
                }
            }
        }
    }

    #[test]
    fn methods_of_up_to_32_characters_are_read() {
        let request =
            |method_len: usize| [&b"A".repeat(method_len)[..], b" / HTTP/1.1\r\n\r\n"].concat();
        assert!(parse_request(&request(MAX_METHOD)).is_some());
        assert!(parse_request(&request(MAX_METHOD + 1)).is_none());
        assert!(parse_request(&request(0)).is_none());
    }

    proptest! {
        #[test]
        fn the_method_check_turns_away_no_request(
            method in "[A-Z0-9_-]{0,34}|GET|RDG_OUT_DATA",
            gap in "[ \r\n]{0,2}",
            rest in proptest::collection::vec(
                prop_oneof![4 => 0x20u8..0x7f, 1 => Just(b'\r'), 1 => Just(b'\n')],
                0..80,
            ),
        ) {
            let payload = [method.as_bytes(), gap.as_bytes(), b"/ HTTP/1.1\r\n", &rest].concat();
            prop_assert_eq!(parse_request(&payload), parse_request_line(&payload));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_request(&bytes).map(|r| r.purpose());
            let _ = parse_response(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_requests(index in 0usize..300, value in any::<u8>()) {
            let mut bytes = RDG_WEBSOCKET.to_vec();
            let i = index % bytes.len();
            bytes[i] = value;
            let _ = parse_request(&bytes).map(|r| r.purpose());
        }
    }
}
