//! The benchmark capture (`rdsflows generate bench`): a Remote Desktop Services mix (RDP with
//! real X.224 CR/CC and TLS, RD Gateway HTTPS, RDPEUDP, Kerberos, LDAP, DNS, the endpoint mapper
//! and the dynamic RPC port it hands out, SMB, RADIUS) with about a third background traffic
//! (web, NTP, syslog, scans), some connections rejected and some unanswered, of a requested size.
//!
//! Owns the mix and the streaming loop. Conversations are built with [`Synth`] in time-disjoint
//! chunks of `--concurrent` flows (every packet of a chunk comes after every packet of the chunk
//! before, and a quiet gap longer than every default idle timeout separates them), so a flow
//! table with default timeouts holds about `--concurrent` flows at its peak, no more. A chunk's
//! flows start in consecutive slices of its start window; after each slice the frames earlier
//! than the next slice are written and dropped, so memory stays that of the conversations in
//! progress, a few thousand, whatever `--packets` and `--concurrent` say (a million concurrent
//! flows included). Must not read the clock or the OS's randomness: the seed decides every byte.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use super::builder::{Close, Direction, Exchange, Host, Synth};
use super::payload::{self as p, RpcInterface};
use super::rdp::{self, ClientHelloOptions, RdpToken};
use super::{Rng, SNAPLEN};
use crate::capture::writer::PcapWriter;
use crate::capture::LinkType;
use crate::time::{Duration, Timestamp};

/// 2026-11-02T08:00:00Z, the same capture start as the scenarios.
const T0_SECS: i64 = 1_793_606_400;
/// The Kerberos realm of the benchmark deployment.
const REALM: &str = "CONTOSO.EXAMPLE";
/// Flows per chunk: the number alive at once in a flow table with default timeouts.
pub const DEFAULT_CONCURRENT: u64 = 256;
/// Flows started per slice of a chunk's start window; the frames are written after each slice.
const SLICE_FLOWS: u64 = 4_096;
/// The longest start window of a chunk. Shorter than the 30 s a closed TCP flow lingers in a
/// table with default timeouts, so every flow of a chunk is in the table at the chunk's end.
const MAX_WINDOW_NS: i64 = 20_000_000_000;
/// Quiet time between chunks: longer than the longest default idle timeout (TCP, 15 minutes,
/// which the connections this mix leaves open run into), so the flows of one chunk have all
/// expired before the next begins and `--concurrent` is the peak number of flows.
const CHUNK_GAP_NS: i64 = 16 * 60 * 1_000_000_000;
/// Beyond this many concurrent flows, hosts draw client ports from 1024–65535 instead of
/// Windows' default dynamic range 49152–65535 (16,384 ports, RFC 6335 6): at a million
/// concurrent flows the broker alone holds about 60,000 endpoint-mapper connections open, and
/// Microsoft's advice for such servers is to widen the range (KB 929851, `netsh int ipv4 set
/// dynamicport`). The deployment itself stays the same ten servers, so captures of different
/// concurrency differ in nothing else.
const WIDE_PORTS_ABOVE: u64 = 131_072;
/// The most concurrent flows the mix supports: beyond it the broker's 64,512 client ports run
/// out.
pub const MAX_CONCURRENT: u64 = 1 << 20;
/// The dynamic RPC port the session hosts' endpoint mappers hand out (MS KB 929851 range).
const RPC_DYN_PORT: u16 = 49_670;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchSpec {
    /// Frames wanted (the result is within a few percent).
    pub packets: u64,
    /// Flows wanted (5-tuples; the result is within a few percent).
    pub flows: u64,
    /// Flows of one chunk: the most alive at once in a table with default timeouts.
    pub concurrent: u64,
    /// The seed: same seed and sizes, same bytes.
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BenchWritten {
    /// Frames.
    pub packets: u64,
    /// Flows the builder created (5-tuples).
    pub flows: u64,
    /// Bytes on the wire (frame lengths).
    pub wire_bytes: u64,
}

/// The servers of the benchmark deployment (contoso.example, as in the scenarios).
struct Servers {
    dc: [Host; 2],
    rdgw: Host,
    rdcb: Host,
    rdsh: [Host; 8],
    nps: Host,
    files: Host,
    web: [Host; 4],
    ntp_ext: Host,
    syslog: Host,
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn server(d: u8) -> Host {
    Host::local_windows(v4(10, 1, 0, d), [0x00, 0x15, 0x5D, 0x0A, 0x00, d])
}

impl Servers {
    fn new() -> Self {
        Self {
            dc: [server(5), server(6)],
            rdgw: server(10),
            rdcb: server(12),
            rdsh: [21, 22, 23, 24, 25, 26, 27, 28].map(server),
            nps: server(15),
            files: server(30),
            web: [
                Host::remote(v4(93, 184, 215, 14), 52),
                Host::remote(v4(151, 101, 1, 69), 55),
                Host::remote(v4(140, 82, 121, 4), 50),
                Host::remote(v4(13, 107, 42, 14), 113),
            ],
            ntp_ext: Host::remote(v4(162, 159, 200, 1), 57),
            syslog: Host::local(v4(10, 1, 0, 40), [0x00, 0x15, 0x5D, 0x0A, 0x00, 40], 64),
        }
    }
}

/// What one flow of the mix is. Weights are per mille of the flows started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    RdpDirect,
    RdpBroker,
    Gateway,
    RdpUdp,
    Kerberos,
    Ldap,
    Dns,
    Epm,
    Smb,
    Radius,
    RdpRejected,
    RpcUnanswered,
    WebHttps,
    WebHttp,
    Ntp,
    Syslog,
    ScanRejected,
    ScanUnanswered,
}

/// (kind, weight in the flows started, whether it takes the bulk of the packets).
const MIX: &[(Kind, u64, bool)] = &[
    (Kind::RdpDirect, 90, true),
    (Kind::RdpBroker, 40, false),
    (Kind::Gateway, 80, true),
    (Kind::RdpUdp, 50, true),
    (Kind::Kerberos, 80, false),
    (Kind::Ldap, 50, false),
    (Kind::Dns, 120, false),
    (Kind::Epm, 30, false),
    (Kind::Smb, 40, false),
    (Kind::Radius, 30, false),
    (Kind::RdpRejected, 25, false),
    (Kind::RpcUnanswered, 25, false),
    // Background: about a third.
    (Kind::WebHttps, 140, true),
    (Kind::WebHttp, 50, false),
    (Kind::Ntp, 60, false),
    (Kind::Syslog, 40, false),
    (Kind::ScanRejected, 25, false),
    (Kind::ScanUnanswered, 25, false),
];

fn pick(rng: &mut Rng) -> (Kind, bool) {
    let total: u64 = MIX.iter().map(|m| m.1).sum();
    let mut x = rng.range(0, total - 1);
    for &(kind, weight, bulk) in MIX {
        if x < weight {
            return (kind, bulk);
        }
        x -= weight;
    }
    (Kind::Dns, false)
}

/// One chunk's builder and the shared plan.
struct Gen {
    s: Synth,
    servers: Servers,
    /// The lowest client port hosts use.
    lowest_port: u16,
}

impl Gen {
    fn rng(&mut self) -> &mut Rng {
        self.s.rng()
    }

    /// A free client port on `host`, from the range the concurrency calls for.
    fn port(&mut self, host: &Host) -> u16 {
        self.s.ephemeral_port_in(host, self.lowest_port, u16::MAX)
    }

    /// An internal client PC: 10.2.0.0/20 (about 4,000 of them).
    fn internal_client(&mut self) -> Host {
        let n = self.rng().range(1, 4_000) as u16;
        let (c, d) = ((n / 250) as u8, (n % 250) as u8 + 1);
        Host::local_windows(v4(10, 2, c, d), [0x3C, 0xA9, 0xF4, 0x20, c, d])
    }

    /// A client on the internet (documentation ranges, RFC 5737).
    fn external_client(&mut self) -> Host {
        let n = self.rng().range(1, 500) as u16;
        let ttl = self.rng().range(40, 118) as u8;
        let ip = if n < 250 {
            v4(198, 51, 100, n as u8)
        } else {
            v4(203, 0, 113, (n - 249) as u8)
        };
        Host::remote(ip, ttl)
    }

    /// `rounds` of small client input answered by screen updates (TLS application data).
    fn rounds(&mut self, ex: &mut Vec<(Direction, Vec<u8>)>, rounds: u64) {
        for _ in 0..rounds {
            let q = self.rng().range_usize(40, 260);
            let r = self.rng().range_usize(120, 1_300);
            let q = rdp::tls_application_data(self.rng(), q);
            let r = rdp::tls_application_data(self.rng(), r);
            ex.push((Direction::ToServer, q));
            ex.push((Direction::ToClient, r));
        }
    }

    fn close(&mut self) -> Close {
        match self.rng().range(0, 9) {
            0..=5 => Close::Fin,
            6..=8 => Close::RstByClient,
            _ => Close::Open,
        }
    }

    /// Adds one flow (two for the endpoint mapper) of `kind` starting at `t`; `rounds` sizes the
    /// bulk kinds.
    fn flow(&mut self, kind: Kind, rounds: u64, t: Timestamp) {
        let sv = &self.servers;
        let (rdgw, rdcb, nps, files, syslog, ntp) =
            (sv.rdgw, sv.rdcb, sv.nps, sv.files, sv.syslog, sv.ntp_ext);
        let pick_rdsh = self.rng().range_usize(0, 7);
        let rdsh = self.servers.rdsh[pick_rdsh];
        let dc = self.servers.dc[self.rng().range_usize(0, 1)];
        let web = self.servers.web[self.rng().range_usize(0, 3)];
        match kind {
            Kind::RdpDirect | Kind::RdpBroker => {
                let client = self.internal_client();
                let (server, token) = if kind == Kind::RdpBroker {
                    (rdcb, RdpToken::BrokerCollection("Desktops".into()))
                } else {
                    let user = format!("user{}", self.rng().range(1, 3_000));
                    (rdsh, RdpToken::MstsHash(user))
                };
                let cr = rdp::x224_connection_request(
                    &token,
                    rdp::PROTOCOL_SSL | rdp::PROTOCOL_HYBRID,
                    None,
                );
                let src_ref = self.rng().next_u32() as u16;
                let cc = rdp::x224_connection_confirm(rdp::PROTOCOL_HYBRID, src_ref);
                let mut ex = vec![(Direction::ToServer, cr), (Direction::ToClient, cc)];
                ex.extend(rdp::tls_handshake(self.rng(), None, &[]));
                let rounds = if kind == Kind::RdpBroker { 3 } else { rounds };
                self.rounds(&mut ex, rounds);
                let cport = self.port(&client);
                let close = self.close();
                self.s
                    .tcp_session(&client, &server, cport, 3389, t, &ex, close);
            }
            Kind::Gateway => {
                let client = self.external_client();
                let mut ex =
                    rdp::tls_handshake(self.rng(), Some("rdgw.contoso.example"), &["http/1.1"]);
                self.rounds(&mut ex, rounds);
                let cport = self.port(&client);
                let close = self.close();
                self.s
                    .tcp_session(&client, &rdgw, cport, 443, t, &ex, close);
            }
            Kind::RdpUdp => {
                let client = self.internal_client();
                self.rdpudp(client, rdsh, rounds, t);
            }
            Kind::Kerberos => {
                let client = self.internal_client();
                let user = format!("user{}", self.rng().range(1, 3_000));
                let (req, rep) = if self.rng().chance(40) {
                    (
                        p::krb_as_req(self.rng(), REALM, &user),
                        p::krb_as_rep(self.rng(), REALM, &user),
                    )
                } else {
                    let sname = ["TERMSRV", "rdsh1.contoso.example"];
                    (
                        p::krb_tgs_req(self.rng(), REALM, &sname),
                        p::krb_tgs_rep(self.rng(), REALM, &user, &sname),
                    )
                };
                let ex = vec![
                    (Direction::ToServer, p::kerberos_tcp(&req)),
                    (Direction::ToClient, p::kerberos_tcp(&rep)),
                ];
                let cport = self.port(&client);
                self.s
                    .tcp_session(&client, &dc, cport, 88, t, &ex, Close::Fin);
            }
            Kind::Ldap => {
                let client = rdsh;
                let cred = p::spnego_init_krb5(self.rng(), REALM, &["ldap", "dc1.contoso.example"]);
                let account = format!("user{}", self.rng().range(1, 3_000));
                let ex = vec![
                    (
                        Direction::ToServer,
                        p::ldap_bind_request_sasl(1, "GSS-SPNEGO", &cred),
                    ),
                    (Direction::ToClient, p::ldap_bind_response(1)),
                    (
                        Direction::ToServer,
                        p::ldap_search_request(
                            2,
                            "DC=contoso,DC=example",
                            2,
                            p::ldap_filter_equal("sAMAccountName", &account),
                            &["memberOf"],
                        ),
                    ),
                    (
                        Direction::ToClient,
                        [
                            p::ldap_search_entry(
                                2,
                                &format!("CN={account},OU=Staff,DC=contoso,DC=example"),
                                &[(
                                    "memberOf",
                                    &["CN=RDS Users,OU=Groups,DC=contoso,DC=example"],
                                )],
                            ),
                            p::ldap_search_done(2),
                        ]
                        .concat(),
                    ),
                ];
                let cport = self.port(&client);
                self.s
                    .tcp_session(&client, &dc, cport, 389, t, &ex, Close::Fin);
            }
            Kind::Dns => {
                let client = self.internal_client();
                let id = self.rng().next_u32() as u16;
                let name = "rdgw.contoso.example";
                let q = p::dns_query(id, name, p::DNS_TYPE_A);
                let r = p::dns_response(id, name, p::DNS_TYPE_A, &[rdgw.ip], 1200);
                let cport = self.port(&client);
                self.s.udp_exchange(&client, &dc, cport, 53, t, q, Some(r));
            }
            Kind::Epm => {
                // The broker asks a session host's endpoint mapper, then binds the port it got.
                let iface = RpcInterface::TERMSRV_SESSION;
                let server = rdsh;
                let assoc = self.rng().range(0x0001_0000, 0x000F_FFFF) as u32;
                let IpAddr::V4(server_v4) = server.ip else {
                    return;
                };
                let epm = vec![
                    (Direction::ToServer, p::rpc_bind(2, &RpcInterface::EPM)),
                    (Direction::ToClient, p::rpc_bind_ack(2, assoc, "135")),
                    (Direction::ToServer, p::epm_map_request(2, &iface)),
                    (
                        Direction::ToClient,
                        p::epm_map_response(2, &iface, RPC_DYN_PORT, server_v4),
                    ),
                ];
                let cport = self.port(&rdcb);
                let done = self
                    .s
                    .tcp_session(&rdcb, &server, cport, 135, t, &epm, Close::Fin);
                let mut ex = vec![
                    (Direction::ToServer, p::rpc_bind(2, &iface)),
                    (
                        Direction::ToClient,
                        p::rpc_bind_ack(2, assoc + 0x11, &RPC_DYN_PORT.to_string()),
                    ),
                ];
                for call in 0..3u32 {
                    let q = self.rng().bytes(64);
                    let r = self.rng().bytes(180);
                    ex.push((Direction::ToServer, p::rpc_request(3 + call, 0, &q)));
                    ex.push((Direction::ToClient, p::rpc_response(3 + call, &r)));
                }
                let cport = self.port(&rdcb);
                let start = done.plus(Duration::from_nanos(2_000_000));
                self.s
                    .tcp_session(&rdcb, &server, cport, RPC_DYN_PORT, start, &ex, Close::Fin);
            }
            Kind::Smb => {
                let client = rdsh;
                let rng = self.s.rng();
                let ex = super::scenarios::smb2_session(rng, "fs1.contoso.example", 6, 1_400);
                let cport = self.port(&client);
                self.s
                    .tcp_session(&client, &files, cport, 445, t, &ex, Close::Fin);
            }
            Kind::Radius => {
                let calling = self.external_client().ip;
                let id = self.rng().next_u32() as u8;
                let user = format!("CONTOSO\\user{}", self.rng().range(1, 3_000));
                let session = p::RadiusSession {
                    user: &user,
                    nas: Ipv4Addr::new(10, 1, 0, 10),
                    nas_id: "rdgw",
                    calling,
                    session_id: "5A3F0001",
                };
                let q = p::radius_access_request(self.rng(), id, &session);
                let r = p::radius_access_accept(self.rng(), id);
                let cport = self.port(&rdgw);
                self.s.udp_exchange(&rdgw, &nps, cport, 1812, t, q, Some(r));
            }
            Kind::RdpRejected => {
                // RDP to the broker on a session host port nobody listens on: RST.
                let client = self.internal_client();
                let cport = self.port(&client);
                self.s.tcp_rejected(&client, &rdcb, cport, 3389, t);
            }
            Kind::RpcUnanswered => {
                let client = rdsh;
                let cport = self.port(&client);
                self.s.tcp_unanswered(&client, &dc, cport, 135, t, 2);
            }
            Kind::WebHttps => {
                let client = self.internal_client();
                let mut ex =
                    rdp::tls_handshake(self.rng(), Some("www.example.org"), &["h2", "http/1.1"]);
                self.rounds(&mut ex, rounds);
                let cport = self.port(&client);
                self.s
                    .tcp_session(&client, &web, cport, 443, t, &ex, Close::Fin);
            }
            Kind::WebHttp => {
                let client = self.internal_client();
                let len = self.rng().range_usize(300, 2_800);
                let ex = vec![
                    (Direction::ToServer, p::http_get("www.example.net", "/")),
                    (Direction::ToClient, p::http_ok_html(len)),
                ];
                let cport = self.port(&client);
                self.s
                    .tcp_session(&client, &web, cport, 80, t, &ex, Close::Fin);
            }
            Kind::Ntp => {
                let client = self.internal_client();
                let now = t.as_nanos();
                let req = p::ntp_request(now);
                let resp = p::ntp_response(&req, now + 400_000, now + 420_000);
                let cport = self.port(&client);
                self.s
                    .udp_exchange(&client, &ntp, cport, 123, t, req, Some(resp));
            }
            Kind::Syslog => {
                let client = rdsh;
                let msg = p::syslog_message(134, "Nov  2 08:05:30", "RDSH", "TermService: ok");
                let cport = self.port(&client);
                self.s
                    .udp_exchange(&client, &syslog, cport, 514, t, msg, None);
            }
            Kind::ScanRejected | Kind::ScanUnanswered => {
                let client = self.external_client();
                let port = [22, 23, 445, 1433, 5900, 8080][self.rng().range_usize(0, 5)];
                let cport = self.rng().range(1_024, 65_000) as u16;
                if kind == Kind::ScanRejected {
                    self.s.tcp_rejected(&client, &rdgw, cport, port, t);
                } else {
                    self.s.tcp_unanswered(&client, &rdgw, cport, port, t, 1);
                }
            }
        }
    }

    /// MS-RDPEUDP: SYN (with the correlation ID), SYN+ACK, ACK, a TLS handshake in data
    /// packets, then `rounds` input/update pairs.
    fn rdpudp(&mut self, client: Host, server: Host, rounds: u64, t: Timestamp) {
        let mut correlation = self.rng().array16();
        // MS-RDPBCGR 2.2.1.1.2: first byte not 0x00 or 0xF4, no 0x0D anywhere.
        correlation[0] = 0x42;
        for b in &mut correlation {
            if *b == 0x0D {
                *b = 0x0E;
            }
        }
        let c_isn = self.rng().next_u32();
        let s_isn = self.rng().next_u32();
        let mut d = vec![
            Exchange::new(Direction::ToServer, 0, rdp::rdpudp_syn(c_isn, correlation)),
            Exchange::new(Direction::ToClient, 700, rdp::rdpudp_syn_ack(c_isn, s_isn)),
            Exchange::new(Direction::ToServer, 300, rdp::rdpudp_ack(s_isn, 1)),
        ];
        let ch = rdp::tls_client_hello(self.rng(), &ClientHelloOptions::default());
        let sf = rdp::tls_server_flight(self.rng(), &ch, 1_000);
        let fin = rdp::tls_client_finished(self.rng());
        let mut seq = [c_isn, s_isn];
        let mut records = vec![
            (Direction::ToServer, ch),
            (Direction::ToClient, sf),
            (Direction::ToServer, fin),
        ];
        for _ in 0..rounds {
            let q = self.rng().range_usize(30, 120);
            let r = self.rng().range_usize(200, 1_100);
            let q = rdp::tls_application_data(self.rng(), q);
            let r = rdp::tls_application_data(self.rng(), r);
            records.push((Direction::ToServer, q));
            records.push((Direction::ToClient, r));
        }
        for (dir, payload) in records {
            let (me, peer) = match dir {
                Direction::ToServer => (0, 1),
                Direction::ToClient => (1, 0),
            };
            seq[me] = seq[me].wrapping_add(1);
            let gap = self.rng().range(200, 3_000) as i64;
            d.push(Exchange::new(
                dir,
                gap,
                rdp::rdpudp_data(seq[peer], seq[me], &payload),
            ));
        }
        let cport = self.port(&client);
        self.s.udp_flow(&client, &server, cport, 3389, t, &d);
    }
}

/// Writes the benchmark capture described by `spec` to `out` as a classic pcap, streamed chunk by
/// chunk. Returns what was written.
///
/// # Errors
/// Any error from `out`.
pub fn write_bench<W: io::Write>(spec: BenchSpec, out: W) -> io::Result<BenchWritten> {
    let mut writer = PcapWriter::new(
        io::BufWriter::with_capacity(1 << 20, out),
        LinkType::ETHERNET,
        SNAPLEN,
    )?;
    let flows = spec.flows.max(1);
    let concurrent = spec.concurrent.min(MAX_CONCURRENT).clamp(1, flows);
    let per_flow = spec.packets as f64 / flows as f64;
    // Share of flows that are bulk, to spread the packet budget over them.
    let total_weight: u64 = MIX.iter().map(|m| m.1).sum();
    let bulk_weight: u64 = MIX.iter().filter(|m| m.2).map(|m| m.1).sum();
    let bulk_share = bulk_weight as f64 / total_weight as f64;
    let mut master = Rng::new(spec.seed);
    let lowest_port = if concurrent > WIDE_PORTS_ABOVE {
        1_024
    } else {
        49_152
    };
    let mut written = BenchWritten::default();
    let mut start = Timestamp::from_nanos(T0_SECS * 1_000_000_000);
    let mut started = 0u64;
    while started < flows {
        let chunk_flows = concurrent.min(flows - started);
        let mut gen = Gen {
            s: Synth::new(master.next_u64()),
            servers: Servers::new(),
            lowest_port,
        };
        // Flows of a chunk start over 2 ms per 16 flows, so they overlap, and within
        // MAX_WINDOW_NS, so they are all alive together; slice by slice, each flow at a random
        // time in its slice.
        let window_ns = ((chunk_flows as i64 / 16 + 1) * 2_000_000).min(MAX_WINDOW_NS);
        let slices = chunk_flows.div_ceil(SLICE_FLOWS) as i64;
        let slice_ns = window_ns / slices;
        let mut last = start;
        // Flows started in this chunk (the endpoint mapper starts two at once).
        let (mut in_chunk, mut slice) = (0u64, 0i64);
        while in_chunk < chunk_flows {
            if (in_chunk / SLICE_FLOWS) as i64 > slice {
                slice += 1;
                // Every flow still to come starts at or after this slice: what is earlier is
                // final.
                let before = start.plus(Duration::from_nanos(slice * slice_ns));
                last = write_frames(&mut writer, &mut written, gen.s.take_frames(Some(before)))?
                    .max(last);
            }
            let (kind, bulk) = pick(gen.rng());
            // The packets still owed against the target, spread over the bulk flows to come.
            let target = (started as f64 + 1.0) * per_flow;
            let have = (written.packets + gen.s.packet_count() as u64) as f64;
            let owed = (target - have).max(0.0) + per_flow * (1.0 - bulk_share);
            let rounds = if bulk {
                ((owed / bulk_share.max(0.01)) / 3.2).clamp(1.0, 4_000.0) as u64
            } else {
                0
            };
            let offset = slice * slice_ns + gen.rng().range(0, slice_ns as u64) as i64;
            gen.flow(kind, rounds, start.plus(Duration::from_nanos(offset)));
            let n = if kind == Kind::Epm { 2 } else { 1 };
            in_chunk += n;
            started += n;
        }
        written.flows += gen.s.flow_count() as u64;
        last = write_frames(&mut writer, &mut written, gen.s.take_frames(None))?.max(last);
        start = last.plus(Duration::from_nanos(CHUNK_GAP_NS));
    }
    writer.finish()?.into_inner().map_err(|e| e.into_error())?;
    Ok(written)
}

/// Writes `frames` and counts them; returns the time of the last (`Timestamp::ZERO` if none).
fn write_frames<W: io::Write>(
    writer: &mut PcapWriter<W>,
    written: &mut BenchWritten,
    frames: Vec<super::Frame>,
) -> io::Result<Timestamp> {
    let mut last = Timestamp::ZERO;
    for f in &frames {
        let len = u32::try_from(f.data.len()).unwrap_or(u32::MAX);
        writer.write_packet(f.ts, &f.data, len)?;
        written.packets += 1;
        written.wire_bytes += u64::from(len);
        last = last.max(f.ts);
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(packets: u64, flows: u64, seed: u64) -> BenchSpec {
        BenchSpec {
            packets,
            flows,
            concurrent: DEFAULT_CONCURRENT,
            seed,
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        write_bench(spec(20_000, 300, 7), &mut a).unwrap();
        write_bench(spec(20_000, 300, 7), &mut b).unwrap();
        write_bench(spec(20_000, 300, 8), &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn concurrent_flows_are_alive_together_and_no_more() {
        use crate::capture::pcap::PcapReader;
        use crate::capture::PacketSource;
        use crate::decode::{decode, Decoded};
        use crate::flow::{FlowTable, FlowTableConfig, ServicePorts};

        // Two chunks of 5,000 flows, each started in two slices (SLICE_FLOWS is 4,096).
        let spec = BenchSpec {
            packets: 60_000,
            flows: 10_000,
            concurrent: 5_000,
            seed: 3,
        };
        let mut pcap = Vec::new();
        let written = write_bench(spec, &mut pcap).unwrap();
        let mut again = Vec::new();
        write_bench(spec, &mut again).unwrap();
        assert!(pcap == again, "same seed, same bytes");

        let mut reader = PcapReader::new(pcap.as_slice(), "bench.pcap").unwrap();
        let mut table = FlowTable::new(FlowTableConfig::default(), ServicePorts::default());
        let (mut frames, mut last) = (0u64, Timestamp::ZERO);
        while let Some(next) = reader.next_packet() {
            let raw = next.unwrap();
            assert!(raw.ts >= last, "frames in time order");
            last = raw.ts;
            frames += 1;
            if let Ok(Decoded::Ip(ip)) = decode(&raw) {
                table.update(raw.ts, raw.pos, &ip);
            }
            table.drain_ended().for_each(drop);
        }
        assert_eq!(frames, written.packets);
        let stats = table.stats();
        assert_eq!(stats.created, written.flows, "no two flows share a 5-tuple");
        // Every flow of a chunk is in the table at its end; none of the chunk before is left.
        let peak = stats.peak_flows;
        assert!((4_950..=5_001).contains(&peak), "peak {peak} flows");
    }

    #[test]
    fn sizes_close_to_what_was_asked() {
        let written = write_bench(spec(60_000, 800, 1), io::sink()).unwrap();
        let near = |got: u64, want: u64| got.abs_diff(want) * 100 <= want * 8;
        assert!(near(written.packets, 60_000), "{written:?}");
        assert!(near(written.flows, 800), "{written:?}");
        let mean = written.wire_bytes as f64 / written.packets as f64;
        assert!((380.0..560.0).contains(&mean), "mean frame {mean}");
    }
}
