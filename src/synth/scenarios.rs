//! The scenarios: one morning of a small Remote Desktop Services deployment (contoso.example),
//! told as flows between fixed hosts, plus three variants (a misconfigured firewall, an incident,
//! an attack).
//! Owns the host plan, the timeline and which flows succeed or fail; must not frame packets
//! (that is `builder`) or lay out protocol bytes (`rdp`, `payload`). The host plan is documented
//! in samples/README.md and must stay in step with it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::builder::{Close, Direction, Exchange, Host, Synth, ROUTER_MAC};
use super::payload::{self as p, RpcInterface};
use super::rdp::{self, ClientHelloOptions, RdpToken};
use super::rng::Rng;
use crate::time::{Duration, Timestamp};

/// Scenario names, in the order `scenario_names` lists them.
pub(super) const NAMES: &[&str] = &[
    "rds-deployment",
    "rds-firewall-misconfigured",
    "rds-incident",
    "rds-attack",
];

/// 2026-11-02T08:00:00Z in Unix seconds: the start of every scenario's capture.
const T0_SECS: i64 = 1_793_606_400;
/// The AD domain / Kerberos realm.
const REALM: &str = "CONTOSO.EXAMPLE";
/// The RD Connection Broker collection the clients connect to.
const COLLECTION: &str = "Desktops";

/// Dynamic RPC ports (MS KB 929851: 49152–65535) the servers' endpoint mappers hand out.
const DC1_LSA_PORT: u16 = 49_667;
const RDSH1_RPC_PORT: u16 = 49_670;
const RDSH2_RPC_PORT: u16 = 49_671;
const RDLIC_RPC_PORT: u16 = 49_672;
/// One RPC call: opnum, request stub, response stub.
type RpcCall = (u16, Vec<u8>, Vec<u8>);

/// The non-standard RDP port of the incident scenario.
const ALT_RDP_PORT: u16 = 13_389;

/// Builds the named scenario into a fresh builder; `None` for an unknown name.
pub(super) fn build(name: &str) -> Option<Synth> {
    let opts = match name {
        "rds-deployment" => Options {
            seed: 0x5244_5331_0001,
            session_ms: 480_000,
            mean_gap_ms: 5_200,
            broker_5504_always_rejected: false,
            epm_blocked: false,
            incident: false,
            attack: false,
        },
        "rds-firewall-misconfigured" => Options {
            seed: 0x5244_5331_0002,
            session_ms: 120_000,
            mean_gap_ms: 6_000,
            broker_5504_always_rejected: true,
            epm_blocked: true,
            incident: false,
            attack: false,
        },
        "rds-incident" => Options {
            seed: 0x5244_5331_0003,
            session_ms: 120_000,
            mean_gap_ms: 6_000,
            broker_5504_always_rejected: false,
            epm_blocked: false,
            incident: true,
            attack: false,
        },
        "rds-attack" => Options {
            seed: 0x5244_5331_0004,
            session_ms: 120_000,
            mean_gap_ms: 6_000,
            broker_5504_always_rejected: false,
            epm_blocked: false,
            incident: false,
            attack: true,
        },
        _ => return None,
    };
    let mut story = Story {
        s: Synth::new(opts.seed),
        h: Hosts::new(),
        o: opts,
    };
    story.run();
    Some(story.s)
}

/// What differs between the scenarios.
#[derive(Clone, Copy, Debug)]
struct Options {
    seed: u64,
    /// Length of the interactive part of each remote desktop session.
    session_ms: i64,
    /// Mean idle time between user actions in a session.
    mean_gap_ms: i64,
    /// RD Web Access → broker TCP 5504 refused every time (otherwise once, then it works).
    broker_5504_always_rejected: bool,
    /// TCP 135 to dc1 and to rdlic silently dropped (otherwise only rdsh1 → rdlic is).
    epm_blocked: bool,
    /// Add the incident flows (direct RDP from the internet, RDP on 13389).
    incident: bool,
    /// Add the attack flows (a password spray, a scan of 10.1.2.0/24, a hop rdsh1 → rdsh2).
    attack: bool,
}

/// The host plan (documented in samples/README.md).
struct Hosts {
    router: Host,
    client21: Host,
    client22: Host,
    client22_v6: Host,
    admin: Host,
    ext1: Host,
    ext2: Host,
    rdgw: Host,
    rdweb: Host,
    rdcb: Host,
    rdsh1: Host,
    rdsh2: Host,
    rdlic: Host,
    dc1: Host,
    dc1_v6: Host,
    nps1: Host,
    pki: Host,
    syslog: Host,
    clearing_house: Host,
    web_http: Host,
    web_https: Host,
    attacker: Host,
}

/// An SMB 2/3 session as Windows opens it (MS-SMB2 3.2.4.2): NEGOTIATE, a Kerberos SESSION_SETUP
/// for `cifs/<server_name>`, then `rounds` encrypted request/response pairs (MS-SMB2 2.2.41) with
/// responses up to `max_response` bytes. Shared by the scenarios and the benchmark generator, so
/// both draw from the seeded generator in the same order.
pub(super) fn smb2_session(
    rng: &mut Rng,
    server_name: &str,
    rounds: usize,
    max_response: usize,
) -> Vec<(Direction, Vec<u8>)> {
    let (cg, sg, cs, ss) = (rng.array16(), rng.array16(), rng.array32(), rng.array32());
    let session_id = 0x0000_1400_0000_0000 | u64::from(rng.next_u32() & 0xFFFF);
    // 2026-11-02T08:00:00Z as a FILETIME (100 ns since 1601).
    let filetime = (T0_SECS as u64 + 11_644_473_600) * 10_000_000;
    let blob = p::spnego_init_krb5(rng, REALM, &["cifs", server_name]);
    let accept = p::spnego_accept_krb5(rng);
    let mut ex = vec![
        (Direction::ToServer, p::smb2_negotiate_request(cg, cs)),
        (
            Direction::ToClient,
            p::smb2_negotiate_response(sg, ss, filetime),
        ),
        (Direction::ToServer, p::smb2_session_setup_request(1, &blob)),
        (
            Direction::ToClient,
            p::smb2_session_setup_response(1, session_id, &accept),
        ),
    ];
    for _ in 0..rounds {
        let (q, r) = (rng.range_usize(90, 260), rng.range_usize(80, max_response));
        ex.push((Direction::ToServer, p::smb3_encrypted(rng, session_id, q)));
        ex.push((Direction::ToClient, p::smb3_encrypted(rng, session_id, r)));
    }
    ex
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// Hyper-V's OUI (00:15:5d) for the server VMs, with the last two address bytes.
fn hyperv_mac(c: u8, d: u8) -> [u8; 6] {
    [0x00, 0x15, 0x5D, 0x0A, c, d]
}

/// An Intel OUI (3c:a9:f4) for the physical client PCs.
fn intel_mac(c: u8, d: u8) -> [u8; 6] {
    [0x3C, 0xA9, 0xF4, 0x10, c, d]
}

impl Hosts {
    fn new() -> Self {
        let server = |c, d| Host::local_windows(v4(10, 1, c, d), hyperv_mac(c, d));
        let pc = |d| Host::local_windows(v4(10, 1, 10, d), intel_mac(10, d));
        let client22 = pc(22);
        let dc1 = server(0, 5);
        Self {
            router: Host::local(v4(10, 1, 10, 1), ROUTER_MAC, 255),
            client21: pc(21),
            client22,
            client22_v6: Host {
                ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0x22)),
                ..client22
            },
            admin: pc(5),
            ext1: Host::remote(v4(203, 0, 113, 50), 116),
            ext2: Host::remote(v4(198, 51, 100, 23), 113),
            rdgw: server(1, 10),
            rdweb: server(1, 11),
            rdcb: server(2, 10),
            rdsh1: server(2, 21),
            rdsh2: server(2, 22),
            rdlic: server(2, 30),
            dc1,
            dc1_v6: Host {
                ip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x1, 0, 0, 0, 0, 0x5)),
                ..dc1
            },
            nps1: server(0, 6),
            pki: server(0, 8),
            syslog: Host::local(v4(10, 1, 0, 9), hyperv_mac(0, 9), 64),
            clearing_house: Host::remote(v4(52, 0, 14, 7), 111),
            web_http: Host::remote(v4(192, 0, 2, 80), 52),
            web_https: Host::remote(v4(192, 0, 2, 44), 54),
            attacker: Host::remote(v4(198, 51, 100, 77), 49),
        }
    }
}

/// A scenario being told: the builder, the hosts, the options.
struct Story {
    s: Synth,
    h: Hosts,
    o: Options,
}

/// Capture time `ms` milliseconds after the scenario start.
fn at(ms: i64) -> Timestamp {
    Timestamp::from_parts(T0_SECS, 0).plus(Duration::from_nanos(ms.saturating_mul(1_000_000)))
}

fn ip4(h: &Host) -> Ipv4Addr {
    match h.ip {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

impl Story {
    fn rng(&mut self) -> &mut Rng {
        self.s.rng()
    }

    fn run(&mut self) {
        let h = &self.h;
        for host in [h.rdgw, h.rdweb, h.rdcb, h.rdsh1, h.rdsh2, h.rdlic, h.dc1] {
            self.s.reserve_port(&host, 135);
        }
        let (dc1, rdsh1, rdsh2, rdlic) = (h.dc1, h.rdsh1, h.rdsh2, h.rdlic);
        self.s.reserve_port(&dc1, DC1_LSA_PORT);
        self.s.reserve_port(&rdsh1, RDSH1_RPC_PORT);
        self.s.reserve_port(&rdsh2, RDSH2_RPC_PORT);
        self.s.reserve_port(&rdlic, RDLIC_RPC_PORT);
        self.s.reserve_port(&rdsh2, ALT_RDP_PORT);

        self.link_layer_noise();
        self.session_host_startup();
        self.licensing();
        self.broker_to_session_hosts();
        let end_ms = 60_000 + self.o.session_ms + 60_000;
        self.internal_client_21();
        self.internal_client_22();
        self.external_via_gateway(true, 60_000);
        self.external_via_gateway(false, 150_000.min(60_000 + self.o.session_ms / 2));
        self.admin_winrm(end_ms);
        self.background_noise(end_ms);
        if self.o.incident {
            self.incident();
        }
        if self.o.attack {
            self.attack();
        }
    }

    // ------------------------------------------------------------------ building blocks

    /// DNS A lookup by `client` against dc1, answered with `answer`.
    fn dns(&mut self, client: Host, name: &str, answer: IpAddr, t: Timestamp) -> Timestamp {
        let dc1 = self.h.dc1;
        let port = self.s.ephemeral_port(&client);
        let id = self.rng().next_u32() as u16;
        let q = p::dns_query(id, name, p::DNS_TYPE_A);
        let r = p::dns_response(id, name, p::DNS_TYPE_A, &[answer], 1200);
        self.s.udp_exchange(&client, &dc1, port, 53, t, q, Some(r))
    }

    /// One Kerberos exchange over TCP 88 (its own connection, as Windows does).
    fn kerberos(
        &mut self,
        client: Host,
        principal: &str,
        sname: &[&str],
        t: Timestamp,
    ) -> Timestamp {
        let dc1 = self.h.dc1;
        let port = self.s.ephemeral_port(&client);
        let (req, rep) = if sname.first() == Some(&"krbtgt") {
            (
                p::krb_as_req(self.rng(), REALM, principal),
                p::krb_as_rep(self.rng(), REALM, principal),
            )
        } else {
            (
                p::krb_tgs_req(self.rng(), REALM, sname),
                p::krb_tgs_rep(self.rng(), REALM, principal, sname),
            )
        };
        let ex = vec![
            (Direction::ToServer, p::kerberos_tcp(&req)),
            (Direction::ToClient, p::kerberos_tcp(&rep)),
        ];
        self.s
            .tcp_session(&client, &dc1, port, 88, t, &ex, Close::Fin)
    }

    /// LDAP on 389: rootDSE search, SASL GSS-SPNEGO bind, a search for `account`.
    fn ldap(&mut self, client: Host, account: &str, t: Timestamp) -> Timestamp {
        let dc1 = self.h.dc1;
        let port = self.s.ephemeral_port(&client);
        let spnego = p::spnego_init_krb5(self.rng(), REALM, &["ldap", "dc1.contoso.example"]);
        let root = [
            p::ldap_search_entry(
                1,
                "",
                &[
                    ("defaultNamingContext", &["DC=contoso,DC=example"]),
                    ("dnsHostName", &["dc1.contoso.example"]),
                    (
                        "supportedSASLMechanisms",
                        &["GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"],
                    ),
                ],
            ),
            p::ldap_search_done(1),
        ]
        .concat();
        let user_dn = format!("CN={account},OU=Staff,DC=contoso,DC=example");
        let found = [
            p::ldap_search_entry(
                3,
                &user_dn,
                &[
                    ("sAMAccountName", &[account]),
                    (
                        "memberOf",
                        &[
                            "CN=RDS Users,OU=Groups,DC=contoso,DC=example",
                            "CN=Domain Users,CN=Users,DC=contoso,DC=example",
                        ],
                    ),
                ],
            ),
            p::ldap_search_done(3),
        ]
        .concat();
        let ex = vec![
            (
                Direction::ToServer,
                p::ldap_search_request(
                    1,
                    "",
                    0,
                    p::ldap_filter_present("objectClass"),
                    &[
                        "defaultNamingContext",
                        "dnsHostName",
                        "supportedSASLMechanisms",
                    ],
                ),
            ),
            (Direction::ToClient, root),
            (
                Direction::ToServer,
                p::ldap_bind_request_sasl(2, "GSS-SPNEGO", &spnego),
            ),
            (Direction::ToClient, p::ldap_bind_response(2)),
            (
                Direction::ToServer,
                p::ldap_search_request(
                    3,
                    "DC=contoso,DC=example",
                    2,
                    p::ldap_filter_and(&[
                        p::ldap_filter_equal("objectClass", "user"),
                        p::ldap_filter_equal("sAMAccountName", account),
                    ]),
                    &["sAMAccountName", "memberOf"],
                ),
            ),
            (Direction::ToClient, found),
        ];
        self.s
            .tcp_session(&client, &dc1, port, 389, t, &ex, Close::Fin)
    }

    /// Opaque TLS application data of `lo..=hi` bytes from one side.
    fn app(&mut self, dir: Direction, lo: usize, hi: usize) -> (Direction, Vec<u8>) {
        let n = self.rng().range_usize(lo, hi);
        (dir, rdp::tls_application_data(self.rng(), n))
    }

    /// A short TLS conversation: handshake and `rounds` request/response pairs.
    #[expect(
        clippy::too_many_arguments,
        reason = "endpoint pair + TLS parameters + shape"
    )]
    fn tls_session(
        &mut self,
        client: Host,
        server: Host,
        port: u16,
        sni: Option<&str>,
        alpn: &[&str],
        rounds: &[(usize, usize)],
        t: Timestamp,
        close: Close,
    ) -> Timestamp {
        let cport = self.s.ephemeral_port(&client);
        let mut ex = rdp::tls_handshake(self.rng(), sni, alpn);
        for &(req, resp) in rounds {
            let req = rdp::tls_application_data(self.rng(), req);
            let resp = rdp::tls_application_data(self.rng(), resp);
            ex.push((Direction::ToServer, req));
            ex.push((Direction::ToClient, resp));
        }
        self.s
            .tcp_session(&client, &server, cport, port, t, &ex, close)
    }

    /// The endpoint mapper on 135 and then the dynamic port it returned, both starting with a
    /// bind. With `blocked`, only unanswered SYNs to 135.
    #[expect(
        clippy::too_many_arguments,
        reason = "endpoint pair + interface + port + calls"
    )]
    fn rpc(
        &mut self,
        client: Host,
        server: Host,
        iface: RpcInterface,
        dyn_port: u16,
        blocked: bool,
        calls: Vec<RpcCall>,
        t: Timestamp,
    ) -> Timestamp {
        let cport = self.s.ephemeral_port(&client);
        if blocked {
            return self.s.tcp_unanswered(&client, &server, cport, 135, t, 2);
        }
        let assoc = self.rng().range(0x0001_0000, 0x000F_FFFF) as u32;
        let epm = vec![
            (Direction::ToServer, p::rpc_bind(2, &RpcInterface::EPM)),
            (Direction::ToClient, p::rpc_bind_ack(2, assoc, "135")),
            (Direction::ToServer, p::epm_map_request(2, &iface)),
            (
                Direction::ToClient,
                p::epm_map_response(2, &iface, dyn_port, ip4(&server)),
            ),
        ];
        let done = self
            .s
            .tcp_session(&client, &server, cport, 135, t, &epm, Close::Fin);
        let cport = self.s.ephemeral_port(&client);
        let assoc = assoc.wrapping_add(0x11);
        let mut ex = vec![
            (Direction::ToServer, p::rpc_bind(2, &iface)),
            (
                Direction::ToClient,
                p::rpc_bind_ack(2, assoc, &dyn_port.to_string()),
            ),
        ];
        for (call, (opnum, q, r)) in calls.into_iter().enumerate() {
            let call_id = 3 + call as u32;
            ex.push((Direction::ToServer, p::rpc_request(call_id, opnum, &q)));
            ex.push((Direction::ToClient, p::rpc_response(call_id, &r)));
        }
        let start = done.plus(Duration::from_nanos(2_000_000));
        self.s
            .tcp_session(&client, &server, cport, dyn_port, start, &ex, Close::Fin)
    }

    /// `n` calls with opaque stubs, for interfaces whose stubs nobody decodes (TermServ
    /// licensing, TermSrvSession): the bind on the dynamic port is what names the service.
    fn opaque_calls(&mut self, n: usize) -> Vec<RpcCall> {
        (0..n)
            .map(|_| {
                let rng = self.s.rng();
                let opnum = rng.range(0, 12) as u16;
                let (q, r) = (rng.range_usize(24, 180), rng.range_usize(24, 420));
                (opnum, rng.bytes(q), rng.bytes(r))
            })
            .collect()
    }

    /// MS-LSAD 3.1.4.9.4 LsarClose (opnum 0) on a policy handle: request = the 20-byte context
    /// handle; response = the zeroed handle and STATUS_SUCCESS.
    fn lsar_close(&mut self) -> Vec<RpcCall> {
        let mut handle = vec![0u8; 4];
        handle.extend_from_slice(&self.rng().array16());
        let mut resp = vec![0u8; 20];
        resp.extend_from_slice(&0u32.to_le_bytes());
        vec![(0, handle, resp)]
    }

    /// The RDP connection sequence up to the interactive phase: X.224 CR/CC, TLS 1.3 handshake,
    /// CredSSP over TLS (opaque: negoTokens, pubKeyAuth, authInfo), then the early capability
    /// exchange.
    fn rdp_setup(&mut self, token: RdpToken, correlation: Option<[u8; 16]>) -> Vec<Exchange> {
        let cr = rdp::x224_connection_request(
            &token,
            rdp::PROTOCOL_SSL | rdp::PROTOCOL_HYBRID,
            correlation,
        );
        let src_ref = self.rng().next_u32() as u16;
        let cc = rdp::x224_connection_confirm(rdp::PROTOCOL_HYBRID, src_ref);
        let mut ex: Vec<(Direction, Vec<u8>)> =
            vec![(Direction::ToServer, cr), (Direction::ToClient, cc)];
        ex.extend(rdp::tls_handshake(self.rng(), None, &[]));
        for (c, s) in [
            (1_650, 2_100),
            (180, 120),
            (620, 640),
            (230, 90),
            (2_200, 2_600),
            (400, 1_200),
        ] {
            ex.push(self.app(Direction::ToServer, c / 2, c));
            ex.push(self.app(Direction::ToClient, s / 2, s));
        }
        let mut timed = Vec::with_capacity(ex.len());
        for (dir, data) in ex {
            let gap = self.rng().range(300, 9_000) as i64;
            timed.push(Exchange::new(dir, gap, data));
        }
        timed
    }

    /// The interactive phase of a remote desktop session: bursts of small client input records
    /// (keyboard, mouse) each answered by one or two screen updates, separated by think time.
    fn interactive(&mut self, duration_ms: i64) -> Vec<Exchange> {
        let mean = self.o.mean_gap_ms;
        let rng = self.s.rng();
        let mut out = Vec::new();
        let mut elapsed = 0i64;
        while elapsed < duration_ms {
            let idle = if rng.chance(7) {
                rng.range(9_000, 24_000) as i64
            } else {
                rng.range((mean / 3) as u64, (mean * 5 / 3) as u64) as i64
            };
            elapsed += idle;
            let inputs = rng.range(1, 3);
            for j in 0..inputs {
                let gap_ms = if j == 0 {
                    idle
                } else {
                    rng.range(90, 260) as i64
                };
                elapsed += if j == 0 { 0 } else { gap_ms };
                let n = rng.range_usize(26, 90);
                out.push(Exchange::new(
                    Direction::ToServer,
                    gap_ms * 1_000,
                    rdp::tls_application_data(rng, n),
                ));
                let updates = rng.range(1, 2);
                for k in 0..updates {
                    let size = match rng.range(0, 99) {
                        0..=69 => rng.range_usize(60, 330),
                        70..=96 => rng.range_usize(330, 1_150),
                        _ => rng.range_usize(1_150, 3_800),
                    };
                    let gap_us = if k == 0 {
                        rng.range(3_000, 28_000)
                    } else {
                        rng.range(1_000, 12_000)
                    } as i64;
                    out.push(Exchange::new(
                        Direction::ToClient,
                        gap_us,
                        rdp::tls_application_data(rng, size),
                    ));
                }
            }
        }
        out
    }

    /// The same timing with fresh bytes `delta` shorter or longer: the other leg of a relayed
    /// session (RD Gateway strips its own HTTP/WebSocket framing and re-encrypts).
    fn mirror(&mut self, script: &[Exchange], delta: isize) -> Vec<Exchange> {
        script
            .iter()
            .map(|e| {
                let n = (e.data.len() as isize - 5 + delta).max(24) as usize;
                Exchange {
                    dir: e.dir,
                    gap: e.gap,
                    data: rdp::tls_application_data(self.s.rng(), n),
                }
            })
            .collect()
    }

    /// RDP over UDP (MS-RDPEUDP): SYN, SYN+ACK, ACK, then TLS over the reliable channel and a
    /// few DATA datagrams.
    fn rdpudp(
        &mut self,
        client: Host,
        server: Host,
        correlation: [u8; 16],
        data: usize,
        t: Timestamp,
    ) -> Timestamp {
        let cport = self.s.ephemeral_port(&client);
        let c_isn = self.rng().next_u32();
        let s_isn = self.rng().next_u32();
        let mut d = vec![
            Exchange::new(Direction::ToServer, 0, rdp::rdpudp_syn(c_isn, correlation)),
            Exchange::new(Direction::ToClient, 700, rdp::rdpudp_syn_ack(c_isn, s_isn)),
            Exchange::new(Direction::ToServer, 300, rdp::rdpudp_ack(s_isn, 1)),
        ];
        let ch = rdp::tls_client_hello(self.rng(), &ClientHelloOptions::default());
        let sf = rdp::tls_server_flight(self.rng(), &ch, 1_000);
        let mut seq = [c_isn, s_isn];
        let mut push = |dir: Direction, payload: Vec<u8>, gap_us: i64, d: &mut Vec<Exchange>| {
            let (me, peer) = match dir {
                Direction::ToServer => (0, 1),
                Direction::ToClient => (1, 0),
            };
            seq[me] = seq[me].wrapping_add(1);
            d.push(Exchange::new(
                dir,
                gap_us,
                rdp::rdpudp_data(seq[peer], seq[me], &payload),
            ));
        };
        push(Direction::ToServer, ch, 2_000, &mut d);
        push(Direction::ToClient, sf, 900, &mut d);
        let fin = rdp::tls_client_finished(self.rng());
        push(Direction::ToServer, fin, 600, &mut d);
        for i in 0..data {
            let (dir, lo, hi, gap) = if i % 3 == 0 {
                (
                    Direction::ToServer,
                    30,
                    120,
                    self.rng().range(200_000, 3_000_000),
                )
            } else {
                (
                    Direction::ToClient,
                    200,
                    1_100,
                    self.rng().range(2_000, 40_000),
                )
            };
            let n = self.rng().range_usize(lo, hi);
            let rec = rdp::tls_application_data(self.rng(), n);
            push(dir, rec, gap as i64, &mut d);
        }
        self.s.udp_flow(&client, &server, cport, 3389, t, &d)
    }

    fn correlation_id(&mut self) -> [u8; 16] {
        // MS-RDPBCGR 2.2.1.1.2: first byte not 0x00 or 0xF4, no 0x0D anywhere.
        let mut id = self.rng().array16();
        for b in id.iter_mut() {
            if *b == 0x0D {
                *b = 0x2D;
            }
        }
        if id[0] == 0x00 || id[0] == 0xF4 {
            id[0] = 0x42;
        }
        id
    }

    // ------------------------------------------------------------------ the morning

    fn link_layer_noise(&mut self) {
        let h = &self.h;
        let pairs = [
            (h.client21, h.router, 40),
            (h.rdsh1, h.rdlic, 2_950),
            (h.client22, h.router, 59_500),
            (h.admin, h.router, 189_000),
            (h.rdgw, h.nps1, 62_000),
        ];
        for (a, b, ms) in pairs {
            self.s.arp(&a, &b, at(ms));
        }
    }

    fn session_host_startup(&mut self) {
        let (rdsh1, rdsh2, dc1) = (self.h.rdsh1, self.h.rdsh2, self.h.dc1);
        for (host, name, base) in [(rdsh1, "RDSH1$", 500), (rdsh2, "RDSH2$", 1_600)] {
            self.kerberos(host, name, &["krbtgt", REALM], at(base));
            self.kerberos(host, name, &["ldap", "dc1.contoso.example"], at(base + 200));
            self.ldap(host, name, at(base + 400));
            self.tls_session(
                host,
                dc1,
                636,
                Some("dc1.contoso.example"),
                &[],
                &[(180, 900), (240, 1_400)],
                at(base + 800),
                Close::Fin,
            );
        }
    }

    fn licensing(&mut self) {
        let h = &self.h;
        let (rdsh1, rdsh2, rdlic, ch) = (h.rdsh1, h.rdsh2, h.rdlic, h.clearing_house);
        let rdlic_ip = rdlic.ip;
        // rdsh1: its SYNs to the licence server's endpoint mapper are dropped.
        self.dns(rdsh1, "rdlic.contoso.example", rdlic_ip, at(3_000));
        self.rpc(
            rdsh1,
            rdlic,
            RpcInterface::TERMSERV_LICENSING,
            RDLIC_RPC_PORT,
            true,
            Vec::new(),
            at(3_100),
        );
        self.nbns(rdsh1, rdlic, at(6_500));
        // rdsh2 reaches it (unless the firewall blocks 135 to rdlic for everyone).
        self.dns(rdsh2, "rdlic.contoso.example", rdlic_ip, at(7_000));
        let blocked = self.o.epm_blocked;
        let calls = self.opaque_calls(2);
        self.rpc(
            rdsh2,
            rdlic,
            RpcInterface::TERMSERV_LICENSING,
            RDLIC_RPC_PORT,
            blocked,
            calls,
            at(7_100),
        );
        self.nbns(rdsh2, rdlic, at(9_000));
        // The licence server talks to the Microsoft Clearing House.
        self.dns(rdlic, "activation.sls.microsoft.com", ch.ip, at(12_000));
        self.tls_session(
            rdlic,
            ch,
            443,
            Some("activation.sls.microsoft.com"),
            &[],
            &[(1_400, 600), (2_900, 1_800)],
            at(12_100),
            Close::Fin,
        );
    }

    /// NetBIOS name query for RDLIC<20> from 137 to 137 (Windows' NBNS uses port 137 both ways).
    fn nbns(&mut self, client: Host, rdlic: Host, t: Timestamp) -> Timestamp {
        let id = self.rng().next_u32() as u16 & 0x7FFF;
        let q = p::nbns_query(id, "RDLIC", 0x20);
        let r = p::nbns_response(id, "RDLIC", 0x20, ip4(&rdlic));
        self.s
            .udp_exchange(&client, &rdlic, 137, 137, t, q, Some(r))
    }

    fn smb(&mut self, client: Host, server: Host, t: Timestamp) -> Timestamp {
        let cport = self.s.ephemeral_port(&client);
        let rng = self.s.rng();
        let sname = match server.ip {
            IpAddr::V4(a) if a.octets()[3] == 21 => "rdsh1.contoso.example",
            _ => "rdsh2.contoso.example",
        };
        let ex = smb2_session(rng, sname, 4, 900);
        self.s
            .tcp_session(&client, &server, cport, 445, t, &ex, Close::Fin)
    }

    fn broker_to_session_hosts(&mut self) {
        let (rdcb, rdsh1, rdsh2) = (self.h.rdcb, self.h.rdsh1, self.h.rdsh2);
        self.smb(rdcb, rdsh1, at(20_000));
        let calls = self.opaque_calls(2);
        self.rpc(
            rdcb,
            rdsh1,
            RpcInterface::TERMSRV_SESSION,
            RDSH1_RPC_PORT,
            false,
            calls,
            at(21_000),
        );
        self.smb(rdcb, rdsh2, at(23_000));
        let calls = self.opaque_calls(2);
        self.rpc(
            rdcb,
            rdsh2,
            RpcInterface::TERMSRV_SESSION,
            RDSH2_RPC_PORT,
            false,
            calls,
            at(24_000),
        );
    }

    /// A user on an internal PC: RD Web Access, RD Web → broker on 5504, then RDP via the broker
    /// to a session host.
    #[expect(clippy::too_many_arguments, reason = "the whole story of one user")]
    fn internal_user(
        &mut self,
        client: Host,
        user: &str,
        rdsh: Host,
        rdsh_name: &str,
        start_ms: i64,
        reject_5504: bool,
        udp: bool,
        close: Close,
    ) {
        let (rdweb, rdcb) = (self.h.rdweb, self.h.rdcb);
        let t = self.dns(client, "rdweb.contoso.example", rdweb.ip, at(start_ms));
        let web = self.tls_session(
            client,
            rdweb,
            443,
            Some("rdweb.contoso.example"),
            &["h2", "http/1.1"],
            &[(620, 5_800), (540, 2_900), (700, 2_600)],
            t.plus(Duration::from_nanos(1_000_000)),
            Close::Fin,
        );
        // RD Web Access asks the broker for the user's published resources (centralized
        // publishing) on TCP 5504.
        let ask = at(start_ms + 400);
        let port = self.s.ephemeral_port(&rdweb);
        if reject_5504 {
            self.s.tcp_rejected(&rdweb, &rdcb, port, 5504, ask);
        } else {
            self.tls_session(
                rdweb,
                rdcb,
                5504,
                Some("rdcb.contoso.example"),
                &[],
                &[(820, 1_900), (400, 3_400)],
                ask,
                Close::Fin,
            );
        }

        // RDP to the broker with the collection's load-balancing token, redirected.
        let t = self.dns(
            client,
            "rdcb.contoso.example",
            rdcb.ip,
            web.plus(Duration::from_secs(3)),
        );
        let t = self.kerberos(client, user, &["TERMSRV", "rdcb.contoso.example"], t);
        let cport = self.s.ephemeral_port(&client);
        let mut ex = self.rdp_setup(RdpToken::BrokerCollection(COLLECTION.into()), None);
        // The broker's Server Redirection PDU (MS-RDPBCGR 2.2.13.1), inside TLS.
        let redirect = self.app(Direction::ToClient, 900, 1_300);
        ex.push(Exchange::new(redirect.0, 40_000, redirect.1));
        let t = self
            .s
            .tcp_session_timed(&client, &rdcb, cport, 3389, t, &ex, Close::Fin);

        // RDP to the session host the broker chose, presenting the msts= redirect token.
        let t = self.kerberos(
            client,
            user,
            &["TERMSRV", rdsh_name],
            t.plus(Duration::from_nanos(5_000_000)),
        );
        let correlation = self.correlation_id();
        let cport = self.s.ephemeral_port(&client);
        let token = RdpToken::Redirect(ip4(&rdsh), 3389);
        let mut ex = self.rdp_setup(token, Some(correlation));
        let duration = self.o.session_ms - (start_ms - 30_000).max(0) / 2;
        ex.extend(self.interactive(duration));
        let session_start = t.plus(Duration::from_nanos(3_000_000));
        self.s
            .tcp_session_timed(&client, &rdsh, cport, 3389, session_start, &ex, close);
        if udp {
            let u = session_start.plus(Duration::from_nanos(1_600_000_000));
            self.rdpudp(client, rdsh, correlation, 24, u);
        }
    }

    fn internal_client_21(&mut self) {
        let (c, rdsh1) = (self.h.client21, self.h.rdsh1);
        self.internal_user(
            c,
            "alice",
            rdsh1,
            "rdsh1.contoso.example",
            30_000,
            true,
            true,
            Close::Fin,
        );
    }

    fn internal_client_22(&mut self) {
        let (c, rdsh2) = (self.h.client22, self.h.rdsh2);
        let start = 30_000 + self.o.session_ms / 7;
        let reject = self.o.broker_5504_always_rejected;
        self.internal_user(
            c,
            "bob",
            rdsh2,
            "rdsh2.contoso.example",
            start,
            reject,
            false,
            Close::Open,
        );
    }

    /// An external user through RD Gateway: HTTPS to the gateway (UDP 3391 tried and never
    /// answered), the gateway's own authentication traffic, and its RDP leg to the session host.
    fn external_via_gateway(&mut self, first: bool, start_ms: i64) {
        let h = &self.h;
        let (ext, rdsh, rdsh_name, user) = if first {
            (h.ext1, h.rdsh1, "rdsh1.contoso.example", "carol")
        } else {
            (h.ext2, h.rdsh2, "rdsh2.contoso.example", "dave")
        };
        let (rdgw, dc1, nps1, pki) = (h.rdgw, h.dc1, h.nps1, h.pki);
        let close = if first { Close::Fin } else { Close::Open };
        let duration = if first {
            self.o.session_ms
        } else {
            self.o.session_ms - (start_ms - 60_000)
        };

        // Client leg: TLS to rdgw, RDG_OUT_DATA WebSocket upgrade and tunnel setup (MS-TSGU
        // 2.2.3, 2.2.5.3: handshake, tunnel create/auth, channel create), CredSSP and RDP inside.
        let cport = self.s.ephemeral_port(&ext);
        let mut setup = rdp::tls_handshake(self.rng(), Some("rdgw.contoso.example"), &[]);
        for (c, s) in [
            (740, 310),
            (120, 90),
            (260, 140),
            (330, 180),
            (1_700, 2_000),
            (640, 700),
        ] {
            setup.push(self.app(Direction::ToServer, c * 3 / 4, c));
            setup.push(self.app(Direction::ToClient, s * 3 / 4, s));
        }
        let mut client_leg: Vec<Exchange> = Vec::new();
        for (dir, data) in setup {
            let gap = self.rng().range(2_000, 60_000) as i64;
            client_leg.push(Exchange::new(dir, gap, data));
        }
        let script = self.interactive(duration);
        let leg_start = at(start_ms);
        client_leg.extend(script.iter().cloned());
        let client_end =
            self.s
                .tcp_session_timed(&ext, &rdgw, cport, 443, leg_start, &client_leg, close);

        // RD Gateway UDP transport (MS-TSGU 2.1.3): DTLS on 3391, dropped at the edge.
        let uport = self.s.ephemeral_port(&ext);
        let random = self.rng().array32();
        let hellos = (0..4)
            .map(|seq| rdp::dtls_client_hello(random, seq))
            .collect();
        self.s
            .udp_unanswered_each(&ext, &rdgw, uport, 3391, at(start_ms + 7_500), hellos);

        // The gateway authenticates and authorizes the user.
        let mut t = at(start_ms + 900);
        t = self.kerberos(rdgw, user, &["HTTP", "rdgw.contoso.example"], t);
        t = self.ldap(rdgw, user, t.plus(Duration::from_nanos(2_000_000)));
        let blocked = self.o.epm_blocked;
        let rpc_t = t.plus(Duration::from_nanos(3_000_000));
        let calls = self.lsar_close();
        self.rpc(
            rdgw,
            dc1,
            RpcInterface::LSARPC,
            DC1_LSA_PORT,
            blocked,
            calls,
            rpc_t,
        );
        // NPS: connection authorization policy via RADIUS.
        let id = self.rng().next_u32() as u8;
        let session_id = format!(
            "{{{:08X}-2D1F-4A3B-9C5E-{:012X}}}",
            self.rng().next_u32(),
            self.rng().next_u64() >> 16
        );
        let radius_user = format!("CONTOSO\\{user}");
        let rs = p::RadiusSession {
            user: &radius_user,
            nas: ip4(&rdgw),
            nas_id: "RDGW",
            calling: ext.ip,
            session_id: &session_id,
        };
        let rport = self.s.ephemeral_port(&rdgw);
        let req = p::radius_access_request(self.s.rng(), id, &rs);
        let acc = p::radius_access_accept(self.s.rng(), id);
        let r_t = t.plus(Duration::from_nanos(60_000_000));
        let r_done = self
            .s
            .udp_exchange(&rdgw, &nps1, rport, 1812, r_t, req, Some(acc));
        if first {
            // Certificate revocation check of the client's smart-card certificate: CRL over HTTP.
            let pki_ip = pki.ip;
            let c = self.dns(rdgw, "pki.contoso.example", pki_ip, r_done);
            let port = self.s.ephemeral_port(&rdgw);
            let ex = vec![
                (
                    Direction::ToServer,
                    p::http_crl_request("pki.contoso.example", "/pki/contoso-ca.crl"),
                ),
                (
                    Direction::ToClient,
                    p::http_crl_response(self.rng(), "contoso-CA"),
                ),
            ];
            self.s
                .tcp_session(&rdgw, &pki, port, 80, c, &ex, Close::Fin);
        }

        // The gateway's RDP leg to the session host carries the client's own X.224 CR.
        let t = self.dns(rdgw, rdsh_name, rdsh.ip, at(start_ms + 1_600));
        let correlation = self.correlation_id();
        let gport = self.s.ephemeral_port(&rdgw);
        let mut leg = self.rdp_setup(RdpToken::MstsHash(user.into()), Some(correlation));
        let mirrored = self.mirror(&script, -40);
        leg.extend(mirrored);
        self.s
            .tcp_session_timed(&rdgw, &rdsh, gport, 3389, t, &leg, close);
        self.rdpudp(rdgw, rdsh, correlation, 12, t.plus(Duration::from_secs(2)));

        // RADIUS accounting (RFC 2866): Start now, Stop when the session ends.
        let aport = self.s.ephemeral_port(&rdgw);
        let id2 = id.wrapping_add(1);
        let start_req = p::radius_accounting_request(self.s.rng(), id2, &rs, None);
        let start_resp = p::radius_accounting_response(self.s.rng(), id2);
        let acct_t = at(start_ms + 2_500);
        self.s.udp_exchange(
            &rdgw,
            &nps1,
            aport,
            1813,
            acct_t,
            start_req,
            Some(start_resp),
        );
        if close == Close::Fin {
            let end = client_end.plus(Duration::from_nanos(350_000_000));
            let aport = self.s.ephemeral_port(&rdgw);
            let id3 = id.wrapping_add(2);
            let secs = (client_end.since(leg_start).as_nanos() / 1_000_000_000) as u32;
            let stop_req = p::radius_accounting_request(self.s.rng(), id3, &rs, Some(secs));
            let stop_resp = p::radius_accounting_response(self.s.rng(), id3);
            self.s
                .udp_exchange(&rdgw, &nps1, aport, 1813, end, stop_req, Some(stop_resp));
        }
    }

    /// The administrator's PowerShell remoting to three RDS servers (WinRM on 5985).
    fn admin_winrm(&mut self, end_ms: i64) {
        let h = &self.h;
        let (admin, targets) = (
            h.admin,
            [
                (h.rdcb, "rdcb.contoso.example"),
                (h.rdsh1, "rdsh1.contoso.example"),
                (h.rdgw, "rdgw.contoso.example"),
            ],
        );
        let base = (end_ms / 3).max(40_000);
        for (i, (server, name)) in targets.into_iter().enumerate() {
            let t = at(base + 15_000 * i as i64);
            let t = self.dns(admin, name, server.ip, t);
            let t = self.kerberos(admin, "admin", &["HTTP", name], t);
            let port = self.s.ephemeral_port(&admin);
            let mut ex = vec![
                (
                    Direction::ToServer,
                    p::winrm_auth_request(self.rng(), name, REALM),
                ),
                (Direction::ToClient, p::winrm_response(self.rng(), 0)),
            ];
            for _ in 0..3 {
                let (q, r) = (
                    self.rng().range_usize(900, 2_400),
                    self.rng().range_usize(700, 4_800),
                );
                ex.push((
                    Direction::ToServer,
                    p::winrm_sealed_request(self.rng(), name, q),
                ));
                ex.push((Direction::ToClient, p::winrm_response(self.rng(), r)));
            }
            self.s
                .tcp_session(&admin, &server, port, 5985, t, &ex, Close::Fin);
        }
    }

    /// Traffic that is not RDS: web browsing, NTP, ping, IPv6 DNS, a syslog datagram to a host
    /// with no syslog listener.
    fn background_noise(&mut self, end_ms: i64) {
        let h = &self.h;
        let (c21, c22, c22_v6, admin, dc1) =
            (h.client21, h.client22, h.client22_v6, h.admin, h.dc1);
        let (web_http, web_https, dc1_v6, syslog, rdsh1) =
            (h.web_http, h.web_https, h.dc1_v6, h.syslog, h.rdsh1);
        let rdgw = h.rdgw;
        // NTP: Windows w32time uses source port 123.
        for (host, ms) in [
            (c21, 200),
            (c22, 15_000),
            (admin, 15_400),
            (rdgw, end_ms - 30_000),
        ] {
            let now = at(ms).as_nanos();
            let req = p::ntp_request(now);
            let resp = p::ntp_response(&req, now + 400_000, now + 420_000);
            self.s
                .udp_exchange(&host, &dc1, 123, 123, at(ms), req, Some(resp));
        }
        // Browsing.
        let t = self.dns(c21, "www.example.net", web_http.ip, at(end_ms / 5));
        let port = self.s.ephemeral_port(&c21);
        let ex = vec![
            (Direction::ToServer, p::http_get("www.example.net", "/")),
            (Direction::ToClient, p::http_ok_html(1_256)),
            (
                Direction::ToServer,
                p::http_get("www.example.net", "/favicon.ico"),
            ),
            (Direction::ToClient, p::http_ok_html(420)),
        ];
        self.s
            .tcp_session(&c21, &web_http, port, 80, t, &ex, Close::Fin);
        let t = self.dns(c22, "www.example.org", web_https.ip, at(end_ms * 2 / 5));
        self.tls_session(
            c22,
            web_https,
            443,
            Some("www.example.org"),
            &["h2", "http/1.1"],
            &[(480, 3_900), (390, 1_200)],
            t,
            Close::Fin,
        );
        // Ping.
        self.s
            .icmp_echo(&admin, &rdsh1, at(190_000.min(end_ms / 2)), 4);
        // IPv6 DNS (AAAA for rdweb; the zone has none, so the answer has no record).
        let port = self.s.ephemeral_port(&c22_v6);
        let id = self.rng().next_u32() as u16;
        let q = p::dns_query(id, "rdweb.contoso.example", p::DNS_TYPE_AAAA);
        let r = p::dns_response(id, "rdweb.contoso.example", p::DNS_TYPE_AAAA, &[], 1200);
        self.s
            .udp_exchange(&c22_v6, &dc1_v6, port, 53, at(end_ms / 2), q, Some(r));
        // Syslog to a host with nothing on 514: ICMP port unreachable.
        let port = self.s.ephemeral_port(&c21);
        let msg = p::syslog_message(
            134,
            "Nov  2 08:05:30",
            "WS21",
            "AgentSvc[4120]: heartbeat ok",
        );
        self.s
            .icmp_port_unreachable(&c21, &syslog, port, 514, at(end_ms * 11 / 20), msg);
    }

    /// The incident: RDP from the internet straight to rdsh1 (bypassing the gateway), and RDP on
    /// a non-standard port (13389) to rdsh2.
    fn incident(&mut self) {
        let h = &self.h;
        let (ext2, rdsh1, attacker, rdsh2) = (h.ext2, h.rdsh1, h.attacker, h.rdsh2);
        let cport = self.s.ephemeral_port(&ext2);
        let mut ex = self.rdp_setup(RdpToken::MstsHash("dave".into()), None);
        ex.extend(self.interactive(40_000));
        self.s.tcp_session_timed(
            &ext2,
            &rdsh1,
            cport,
            3389,
            at(75_000),
            &ex,
            Close::RstByClient,
        );

        let cport = self.s.ephemeral_port(&attacker);
        let mut ex = self.rdp_setup(RdpToken::MstsHash("administr".into()), None);
        ex.truncate(9); // CR, CC, TLS handshake, two CredSSP rounds: then NLA fails
        self.s.tcp_session_timed(
            &attacker,
            &rdsh2,
            cport,
            ALT_RDP_PORT,
            at(95_000),
            &ex,
            Close::RstByServer,
        );
    }

    /// The attack: a password spray from the internet straight to rdsh1 (six user names, each
    /// a short NLA exchange refused by CredSSP), then, from rdsh1, an RDP scan of 10.1.2.40–59
    /// (mostly unanswered, every fourth refused) and a successful hop to rdsh2.
    fn attack(&mut self) {
        let h = &self.h;
        let (attacker, rdsh1, rdsh2) = (h.attacker, h.rdsh1, h.rdsh2);
        for (k, user) in [
            "administr",
            "admin",
            "backup",
            "scanner",
            "helpdesk",
            "svc_sql",
        ]
        .into_iter()
        .enumerate()
        {
            let cport = self.s.ephemeral_port(&attacker);
            let mut ex = self.rdp_setup(RdpToken::MstsHash(user.into()), None);
            ex.truncate(9); // CR, CC, TLS handshake, two CredSSP rounds: then NLA fails
            self.s.tcp_session_timed(
                &attacker,
                &rdsh1,
                cport,
                3389,
                at(70_000 + 4_000 * k as i64),
                &ex,
                Close::RstByServer,
            );
        }
        for (k, d) in (40u8..60).enumerate() {
            let target = Host::local_windows(v4(10, 1, 2, d), hyperv_mac(2, d));
            let cport = self.s.ephemeral_port(&rdsh1);
            let t = at(110_000 + 150 * k as i64);
            if k % 4 == 3 {
                self.s.tcp_rejected(&rdsh1, &target, cport, 3389, t);
            } else {
                self.s.tcp_unanswered(&rdsh1, &target, cport, 3389, t, 1);
            }
        }
        let cport = self.s.ephemeral_port(&rdsh1);
        let mut ex = self.rdp_setup(RdpToken::MstsHash("svc_sql".into()), None);
        ex.extend(self.interactive(45_000));
        self.s.tcp_session_timed(
            &rdsh1,
            &rdsh2,
            cport,
            3389,
            at(125_000),
            &ex,
            Close::RstByClient,
        );
    }
}
