//! The RDP Connection Request / Confirm parsers against the public captures in
//! ../shared/captures/public: every capture in MANIFEST.tsv is read with the crate's own reader
//! and decoder, the first payload packets of each direction of every TCP flow go through
//! `parse_connection_request` / `parse_connection_confirm`, and the findings are checked
//! against what the manifest's `notes` column says (cookies present or absent, selected
//! protocol, RDP on non-standard ports, S7comm that is not RDP). Any CR/CC found in a capture
//! the manifest does not describe as RDP fails the test: that is a false positive.
//!
//! The MS-RDPEUDP SYN / SYN+ACK parsers get the same treatment over every UDP conversation:
//! the three RDP-UDP captures must show their handshakes (or, for the failed one, only
//! retransmitted SYNs), and no other UDP datagram in the set may pass the SYN test.
//!
//! Skips (and says so) when the folder is absent.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rdsflows::capture::file::open_inputs;
use rdsflows::capture::PacketSource;
use rdsflows::classify::probe::rdp::{
    parse_connection_confirm, parse_connection_request, FailureCode, NegotiationResult, Protocols,
    Token,
};
use rdsflows::classify::probe::rdpeudp::{
    is_syn_ack_for, parse_syn, parse_syn_ack, SynDatagram, UdpVersion,
};
use rdsflows::decode::{decode, Decoded, Transport};

/// Payload packets looked at per direction: SOCKS5 puts two exchanges before the CR.
const PACKETS_PER_DIRECTION: usize = 4;

/// ../shared/captures/public beside the checkout, or the folder `RDSFLOWS_PUBLIC_CAPTURES`
/// names (for a git worktree that does not sit beside `shared/`).
fn public_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSFLOWS_PUBLIC_CAPTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public"),
        PathBuf::from,
    );
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// One end of a TCP connection.
type End = (IpAddr, u16);

/// What the parsers found in one TCP connection.
#[derive(Debug, Default, Clone)]
struct Found {
    /// The port the CR was sent to (the server port).
    server_port: u16,
    /// The token of the CR (None: CR without token).
    token: Option<String>,
    requested: Option<Protocols>,
    /// The CC's outcome: Ok(selected) or Err(failure).
    confirm: Option<Result<Protocols, FailureCode>>,
}

/// The first payloads of each direction of one conversation (TCP or UDP).
struct Conversation {
    /// The end that sent the first packet.
    first: End,
    /// The other end.
    other: End,
    /// Payloads sent by `first`, at most `PACKETS_PER_DIRECTION`.
    from_first: Vec<Vec<u8>>,
    /// Payloads sent by `other`.
    from_other: Vec<Vec<u8>>,
}

/// Reads a capture and returns its TCP (`udp` false) or UDP conversations in order of their
/// first packet.
fn conversations(path: &Path, udp: bool) -> Vec<Conversation> {
    let (mut source, errors) = open_inputs(&[path.to_path_buf()]);
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    let mut index: BTreeMap<(End, End), usize> = BTreeMap::new();
    let mut out: Vec<Conversation> = Vec::new();
    while let Some(next) = source.next_packet() {
        let Ok(packet) = next else { continue };
        let Ok(Decoded::Ip(ip)) = decode(&packet) else {
            continue;
        };
        let (src_port, dst_port, payload) = match ip.transport {
            Transport::Tcp(tcp) if !udp => (tcp.src_port, tcp.dst_port, tcp.payload),
            Transport::Udp {
                src_port,
                dst_port,
                payload,
                ..
            } if udp => (src_port, dst_port, payload),
            _ => continue,
        };
        let from = (ip.src, src_port);
        let to = (ip.dst, dst_port);
        let key = if from < to { (from, to) } else { (to, from) };
        let i = *index.entry(key).or_insert_with(|| {
            out.push(Conversation {
                first: from,
                other: to,
                from_first: Vec::new(),
                from_other: Vec::new(),
            });
            out.len() - 1
        });
        let conv = &mut out[i];
        let list = if from == conv.first {
            &mut conv.from_first
        } else {
            &mut conv.from_other
        };
        if !payload.is_empty() && list.len() < PACKETS_PER_DIRECTION {
            list.push(payload.to_vec());
        }
    }
    out
}

fn token_text(token: Option<Token<'_>>) -> Option<String> {
    token.map(|t| match t {
        Token::Cookie(id) => format!("cookie:{}", String::from_utf8_lossy(id)),
        Token::Other(raw) => format!("other:{}", String::from_utf8_lossy(raw)),
        other => other.kind().to_string(),
    })
}

/// Runs the CR parser on each direction and the CC parser on the opposite one.
fn analyse(path: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    for Conversation {
        first,
        other,
        from_first,
        from_other,
    } in conversations(path, false)
    {
        for (client_payloads, server_payloads, server) in [
            (&from_first, &from_other, other),
            (&from_other, &from_first, first),
        ] {
            let Some(cr) = client_payloads
                .iter()
                .find_map(|p| parse_connection_request(p))
            else {
                continue;
            };
            let confirm = server_payloads
                .iter()
                .find_map(|p| parse_connection_confirm(p))
                .map(|cc| match cc.negotiation {
                    Some(NegotiationResult::Failure(code)) => Err(code),
                    _ => Ok(cc.selected_protocol().unwrap_or_default()),
                });
            found.push(Found {
                server_port: server.1,
                token: token_text(cr.token),
                requested: cr.negotiation.map(|n| n.requested),
                confirm,
            });
        }
        // A confirm with no request in the flow is also a finding (false-positive check).
        let stray_cc = from_first
            .iter()
            .chain(&from_other)
            .any(|p| parse_connection_confirm(p).is_some());
        if stray_cc
            && !found
                .iter()
                .any(|f| f.server_port == other.1 || f.server_port == first.1)
        {
            found.push(Found {
                server_port: 0,
                ..Found::default()
            });
        }
    }
    found
}

fn selected(f: &Found) -> Option<Protocols> {
    f.confirm.and_then(Result::ok)
}

/// True for a selected protocol that runs over TLS (SSL, HYBRID, HYBRID_EX, RDSTLS, RDSAAD).
fn is_tls_based(p: Option<Protocols>) -> bool {
    p.is_some_and(|p| p != Protocols::RDP)
}

type Check = fn(&[Found]) -> Result<(), String>;

fn ensure(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// The manifest notes, as checks on what the parsers found.
fn expectations() -> BTreeMap<&'static str, (&'static str, Check)> {
    BTreeMap::from([
        (
            "zeek/rdp/rdp-proprietary-encryption.pcap",
            (
                "RDP Standard Security (proprietary RC4 encryption)",
                (|f: &[Found]| {
                    ensure(
                        f.len() == 2
                            && f.iter()
                                .all(|x| x.token.as_deref() == Some("cookie:FTBCO\\A70")),
                        "two CRs with cookie FTBCO\\A70",
                    )?;
                    ensure(
                        f[0].confirm == Some(Err(FailureCode::SSL_NOT_ALLOWED_BY_SERVER)),
                        "first attempt refused: SSL not allowed",
                    )?;
                    ensure(
                        selected(&f[1]) == Some(Protocols::RDP),
                        "second attempt: standard RDP security",
                    )
                }) as Check,
            ),
        ),
        (
            "zeek/rdp/rdp-to-ssl.pcap",
            ("negotiation then TLS upgrade", |f| {
                ensure(
                    !f.is_empty()
                        && f.iter()
                            .all(|x| x.token.as_deref() == Some("cookie:AWAKECODI")),
                    "cookie AWAKECODI",
                )?;
                ensure(
                    f.iter().all(|x| is_tls_based(selected(x))),
                    "a TLS-based protocol selected",
                )
            }),
        ),
        (
            "zeek/rdp/rdp-x509.pcap",
            ("Standard Security with X.509 chain", |f| {
                ensure(
                    !f.is_empty() && f.iter().all(|x| selected(x) == Some(Protocols::RDP)),
                    "PROTOCOL_RDP selected",
                )
            }),
        ),
        (
            "zeek/rdp/rdp-unknown-keyboard.pcap",
            ("client core data, standard security", |f| {
                ensure(
                    f.len() == 1 && f[0].token.as_deref() == Some("cookie:JOHN-PC  "),
                    "cookie JOHN-PC",
                )?;
                ensure(
                    selected(&f[0]) == Some(Protocols::RDP),
                    "PROTOCOL_RDP selected",
                )
            }),
        ),
        (
            "zeek/rdp/rdp-no-cookie-mstshash.pcap",
            ("CR without mstshash cookie", |f| {
                ensure(
                    f.len() == 1 && f[0].token.is_none() && f[0].requested.is_some(),
                    "CR with NEG_REQ and no token",
                )?;
                ensure(is_tls_based(selected(&f[0])), "TLS-based protocol selected")
            }),
        ),
        (
            "zeek/rdp/rdp-invalid-length.pcap",
            ("malformed: invalid length", |f| {
                ensure(
                    f.is_empty(),
                    "neither the fuzzed CR nor the CC with a 0 NEG_RSP length parses",
                )
            }),
        ),
        (
            "zeek/modbus/modbus-and-non-modbus-p502.pcap",
            ("scanner RDP CR on tcp/502", |f| {
                ensure(
                    f.len() == 1
                        && f[0].server_port == 502
                        && f[0].token.as_deref() == Some("cookie:admin"),
                    "one CR to tcp/502 with cookie admin",
                )?;
                ensure(f[0].confirm.is_none(), "the honeypot's reply is not a CC")
            }),
        ),
        (
            "suricata-verify/rdp-protocol/RDP-003.pcap",
            ("RDP with MCS/GCC, standard security", |f| {
                ensure(
                    f.len() == 1
                        && f[0].token.as_deref() == Some("cookie:A70067")
                        && f[0].requested.is_none(),
                    "cookie, no NEG_REQ",
                )?;
                ensure(
                    selected(&f[0]) == Some(Protocols::RDP),
                    "bare CC: standard RDP security",
                )
            }),
        ),
        (
            "ndpi/rdp.pcap",
            ("X.224 negotiation", |f| {
                ensure(f.len() == 1 && f[0].token.is_none(), "no cookie")?;
                ensure(is_tls_based(selected(&f[0])), "TLS-based protocol selected")
            }),
        ),
        (
            "ndpi/rdp3.pcap",
            ("RDP with MCS/GCC client data", |f| {
                ensure(
                    f.len() == 1 && f[0].token.as_deref() == Some("cookie:Administr"),
                    "cookie Administr",
                )?;
                ensure(selected(&f[0]) == Some(Protocols::RDP), "standard security")
            }),
        ),
        (
            "ndpi/rdp_over_tls.pcap",
            ("negotiation to TLS", |f| {
                ensure(
                    f.len() == 1 && f[0].token.as_deref() == Some("cookie:WDeployAd"),
                    "cookie WDeployAd",
                )?;
                ensure(is_tls_based(selected(&f[0])), "TLS-based protocol selected")
            }),
        ),
        (
            "ndpi/s7comm.pcap",
            ("S7 is not RDP", |f| {
                ensure(f.is_empty(), "no RDP CR/CC in S7comm")
            }),
        ),
        (
            "arkime/socks5-rdp.pcap",
            ("RDP inside SOCKS5 on tcp/42356", |f| {
                ensure(
                    f.len() == 1
                        && f[0].server_port == 42356
                        && f[0].token.as_deref() == Some("cookie:XXX"),
                    "CR after the SOCKS5 handshake, cookie XXX",
                )?;
                ensure(
                    selected(&f[0]) == Some(Protocols::RDP),
                    "CC selects standard security",
                )
            }),
        ),
        (
            "malcolm-test-artifacts/esteemedaudit-failed-XPSP2.pcap",
            ("RDP sessions to XP SP2", |f| {
                ensure(
                    f.len() >= 4
                        && f.iter()
                            .all(|x| x.token.as_deref() == Some("other:") && x.server_port == 3389),
                    "CRs with an empty token line",
                )?;
                ensure(
                    f.iter().any(|x| selected(x) == Some(Protocols::RDP)),
                    "XP answers with a bare CC",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-kerberos-auth1.pcapng",
            ("NLA (CredSSP) Kerberos", |f| {
                ensure(
                    f.len() == 1 && selected(&f[0]) == Some(Protocols::HYBRID_EX),
                    "HYBRID_EX selected",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-smartcard-auth1.pcapng",
            ("NLA smartcard", |f| {
                ensure(
                    f.len() == 1 && selected(&f[0]) == Some(Protocols::HYBRID_EX),
                    "HYBRID_EX selected",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-nla-ntlm-rejected1.pcapng",
            ("NLA with NTLM rejected", |f| {
                ensure(
                    !f.is_empty()
                        && f.iter()
                            .all(|x| x.token.as_deref() == Some("cookie:IT-HELP\\A")),
                    "cookie IT-HELP\\A",
                )?;
                ensure(f.len() == 2, "two short connections")?;
                ensure(
                    selected(&f[0]) == Some(Protocols::HYBRID_EX),
                    "first: HYBRID_EX selected, NTLM then fails inside CredSSP",
                )?;
                ensure(
                    f[1].requested == Some(Protocols::SSL)
                        && f[1].confirm == Some(Err(FailureCode::HYBRID_REQUIRED_BY_SERVER)),
                    "retry with TLS only: the server requires NLA",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-rejected1.pcapng",
            ("rejected at X.224 negotiation", |f| {
                ensure(
                    f.len() == 1 && f[0].requested == Some(Protocols::SSL),
                    "client asks for TLS only",
                )?;
                ensure(
                    f[0].confirm == Some(Err(FailureCode::HYBRID_REQUIRED_BY_SERVER)),
                    "server requires NLA",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-tls-accepted1.pcapng",
            ("standard RDP security accepted", |f| {
                ensure(f.len() == 2, "two connections")?;
                ensure(
                    f[0].confirm == Some(Err(FailureCode::SSL_NOT_ALLOWED_BY_SERVER)),
                    "TLS refused first",
                )?;
                ensure(
                    selected(&f[1]) == Some(Protocols::RDP),
                    "then standard security",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-no-nla-accepted1.pcapng",
            ("TLS without NLA (PROTOCOL_SSL)", |f| {
                ensure(
                    f.len() == 1 && selected(&f[0]) == Some(Protocols::SSL),
                    "PROTOCOL_SSL selected",
                )
            }),
        ),
        (
            "awakecoding-wireshark-rdp/rdp-restricted-admin-rejected1.pcapng",
            ("NLA + Restricted Admin", |f| {
                ensure(
                    f.len() == 1 && f[0].requested == Some(Protocols(0x0a)),
                    "HYBRID|HYBRID_EX requested",
                )?;
                ensure(
                    selected(&f[0]) == Some(Protocols::HYBRID_EX),
                    "HYBRID_EX selected",
                )
            }),
        ),
    ])
}

#[test]
fn rdp_connection_request_and_confirm_match_the_manifest() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let expectations = expectations();
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, protocols, notes) = (cols[0], cols[8], cols[9]);
        let found = analyse(&dir.join(file));
        match expectations.get(file) {
            Some((what, check)) => {
                checked.push(file);
                if let Err(e) = check(&found) {
                    failures.push(format!(
                        "{file} ({what}; notes: {notes}): expected {e}, found {found:?}"
                    ));
                }
            }
            None => {
                // Wireshark names TPKT/COTP for RDP over TCP ("rdp" alone also matches "rdpudp").
                let rdp_listed = protocols.contains("tpkt") || protocols.contains("cotp");
                if !found.is_empty() || rdp_listed {
                    failures.push(format!(
                        "{file}: not in the expectations (protocols {protocols}) but found {found:?}"
                    ));
                }
            }
        }
    }
    let missing: Vec<_> = expectations
        .keys()
        .filter(|k| !checked.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "expected files missing from MANIFEST.tsv: {missing:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The RDP-UDP handshake of one UDP conversation: SYNs from the client, SYN+ACKs matched to them.
#[derive(Debug)]
struct UdpHandshake {
    server_port: u16,
    syns: usize,
    syn_version: Option<UdpVersion>,
    matched_syn_ack: Option<SynDatagram>,
}

fn udp_handshakes(path: &Path) -> Vec<UdpHandshake> {
    let mut found = Vec::new();
    for conv in conversations(path, true) {
        let syns: Vec<SynDatagram> = conv
            .from_first
            .iter()
            .filter_map(|p| parse_syn(p))
            .collect();
        let stray = conv.from_other.iter().any(|p| parse_syn(p).is_some())
            || conv.from_first.iter().any(|p| parse_syn_ack(p).is_some());
        let Some(syn) = syns.first() else {
            if stray {
                found.push(UdpHandshake {
                    server_port: 0,
                    syns: 0,
                    syn_version: None,
                    matched_syn_ack: None,
                });
            }
            continue;
        };
        let matched_syn_ack = conv
            .from_other
            .iter()
            .filter_map(|p| parse_syn_ack(p))
            .find(|ack| is_syn_ack_for(syn, ack));
        found.push(UdpHandshake {
            server_port: conv.other.1,
            syns: syns.len(),
            syn_version: syn.version,
            matched_syn_ack,
        });
    }
    found
}

#[test]
fn rdpeudp_handshakes_match_the_manifest_and_nothing_else_is_a_syn() {
    let Some(dir) = public_dir() else {
        println!("skipped: ../shared/captures/public not found");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let file = line.split('\t').next().unwrap();
        let found = udp_handshakes(&dir.join(file));
        let ok = match file {
            // "SYN without completed handshake (failure)": the SYN, retransmitted, unanswered.
            "zeek/rdp/rdpeudp-handshake-fail.pcap" => {
                found.len() == 1 && found[0].syns == 3 && found[0].matched_syn_ack.is_none()
            }
            // "SYN/SYN+ACK/ACK success": version 2 chosen.
            "zeek/rdp/rdpeudp-handshake-success.pcap" => {
                found.len() == 1
                    && found[0].server_port == 3389
                    && found[0].matched_syn_ack.and_then(|a| a.version) == Some(UdpVersion::V2)
            }
            // "RDP over UDP/3389 (MS-RDPEUDP)", x3 conversations: one handshake (version 3,
            // MS-RDPEUDP2); the other two conversations start midstream.
            "ndpi/rdp2.pcap" => {
                found.len() == 1
                    && found[0].syn_version == Some(UdpVersion::V3)
                    && found[0].matched_syn_ack.and_then(|a| a.version) == Some(UdpVersion::V3)
            }
            _ => found.is_empty(),
        };
        if !ok {
            failures.push(format!("{file}: {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
