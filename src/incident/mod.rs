//! The incident view (issue 8): who connected over RDP to what, when, as whom, whether it
//! succeeded, and what looks like an attack. Ended RDP flows are kept as compact
//! [`Candidate`]s while the capture is read (bounded by [`MAX_CANDIDATES`]); once the verdict
//! has a deployment, [`build_beside`] joins them into [`Session`]s (TCP connection, RDP-UDP side
//! channel, broker hop, RD Gateway tunnel) and derives the [`Finding`]s.
//!
//! Owns the session join, the outcome read from a flow's shape and the finding rules with
//! their thresholds ([`Thresholds`]); must not read packets (it sees only what the flow record
//! and its payload details kept) or do I/O.

pub mod findings;
pub mod sessions;

use std::net::IpAddr;

use serde::Serialize;

use crate::capture::PacketPos;
use crate::classify::details::{RdpDetails, TcpLink};
use crate::classify::verdict::PayloadVerdict;
use crate::deployment::Deployment;
use crate::flow::state::EndpointState;
use crate::flow::{ConnState, FlowRecord, Outcome};
use crate::time::{Duration, Timestamp};
use crate::verdict::VerdictReport;

pub use findings::{Finding, FindingRule};
pub use sessions::{Session, SessionOutcome};

/// RDP flows kept for the session join; more are counted in [`Candidates::overflow`] and left
/// out. A candidate is a few hundred bytes, so the cap bounds this at some tens of MB.
pub const MAX_CANDIDATES: usize = 100_000;
/// HTTPS flows kept as possible gateway tunnels, counted apart so that web browsing never
/// crowds RDP out of the join; more are counted in [`Candidates::tunnels_overflow`].
pub const MAX_TUNNEL_CANDIDATES: usize = 100_000;

/// What kind of flow a candidate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateKind {
    /// RDP over TCP (by port or by payload).
    Rdp,
    /// RDP over UDP.
    RdpUdp,
    /// The RD Gateway's UDP transport (DTLS on 3391, MS-TSGU 2.1.3): RDP over UDP through the
    /// gateway.
    RdgUdp,
    /// HTTPS on 443: a possible RD Gateway tunnel, kept to link the gateway hop.
    Https,
}

/// How a TCP connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseKind {
    /// Either side sent a RST.
    Reset,
    /// Both sides sent a FIN (or one did and the flow ended).
    Fin,
    /// Still open when it ended (idle timeout, end of input), or not TCP.
    Open,
}

impl CloseKind {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Fin => "fin",
            Self::Open => "open",
        }
    }
}

/// The parts of one ended flow the incident view needs: addresses, times, counters, the RDP
/// negotiation, whether TLS completed, the side-channel link.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// What it is.
    pub kind: CandidateKind,
    /// The flow's uid (Zeek style).
    pub uid: String,
    /// Client address and port.
    pub client: (IpAddr, u16),
    /// Server address and port.
    pub server: (IpAddr, u16),
    /// First packet.
    pub first_seen: Timestamp,
    /// Last packet.
    pub last_seen: Timestamp,
    /// Where the first packet is (input index, frame number).
    pub first_pos: PacketPos,
    /// Packets to the server, to the client.
    pub packets: [u64; 2],
    /// IP bytes to the server, to the client.
    pub bytes: [u64; 2],
    /// Payload bytes to the server, to the client.
    pub payload_bytes: [u64; 2],
    /// Answered, rejected, unanswered.
    pub outcome: Outcome,
    /// Zeek conn_state.
    pub conn_state: ConnState,
    /// How it ended.
    pub close: CloseKind,
    /// The payload found RDP on a port the map does not list for it.
    pub payload_only: bool,
    /// The X.224 negotiation, when seen.
    pub rdp: Option<RdpDetails>,
    /// The server's TLS handshake reply (ServerHello) was seen.
    pub tls_server_hello: bool,
    /// For RDP-UDP: the TCP connection it belongs to.
    pub tcp_link: Option<TcpLink>,
    /// For RDP-UDP: the server answered the SYN (for the gateway's UDP: anything came back).
    pub udp_answered: bool,
}

impl Candidate {
    /// The candidate of an ended flow, when it is RDP (TCP or UDP), the gateway's UDP
    /// transport, or HTTPS on 443.
    pub fn of(flow: &FlowRecord, service: Option<&str>) -> Option<Self> {
        let kind = match service {
            Some("rdp") if flow.is_tcp() => CandidateKind::Rdp,
            Some("rdp-udp") if !flow.is_tcp() => CandidateKind::RdpUdp,
            Some("rdg-udp") if !flow.is_tcp() => CandidateKind::RdgUdp,
            _ if flow.is_tcp() && flow.server().1 == 443 => CandidateKind::Https,
            _ => return None,
        };
        let details = flow.details();
        let [o, r] = flow.tcp_states;
        let close = if !flow.is_tcp() {
            CloseKind::Open
        } else if o == EndpointState::Reset || r == EndpointState::Reset {
            CloseKind::Reset
        } else if matches!(o, EndpointState::Closed) || matches!(r, EndpointState::Closed) {
            CloseKind::Fin
        } else {
            CloseKind::Open
        };
        let udp = details.and_then(|d| d.rdpeudp.as_deref());
        Some(Self {
            kind,
            uid: flow.uid(),
            client: flow.client(),
            server: flow.server(),
            first_seen: flow.first_seen,
            last_seen: flow.last_seen,
            first_pos: flow.first_pos(),
            packets: [flow.to_server().packets, flow.to_client().packets],
            bytes: [flow.to_server().ip_bytes, flow.to_client().ip_bytes],
            payload_bytes: [
                flow.to_server().payload_bytes,
                flow.to_client().payload_bytes,
            ],
            outcome: flow.outcome(),
            conn_state: flow.conn_state(),
            close,
            payload_only: flow.class.payload == Some(PayloadVerdict::PayloadOnly),
            rdp: details.and_then(|d| d.rdp.as_deref()).cloned(),
            tls_server_hello: details
                .and_then(|d| d.tls.as_deref())
                .is_some_and(|t| t.selected_version.is_some()),
            tcp_link: udp.and_then(|u| u.tcp),
            udp_answered: udp.is_some_and(|u| u.answered) || flow.to_client().packets > 0,
        })
    }

    /// Seconds from first to last packet.
    pub fn duration(&self) -> Duration {
        self.last_seen.since(self.first_seen)
    }
}

/// The candidates collected over a run, bounded by [`MAX_CANDIDATES`] RDP flows and
/// [`MAX_TUNNEL_CANDIDATES`] HTTPS flows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Candidates {
    /// The kept candidates, in the order their flows ended.
    pub list: Vec<Candidate>,
    /// RDP candidates left out because their share of the list was full.
    pub overflow: u64,
    /// HTTPS candidates kept.
    pub tunnels: usize,
    /// HTTPS candidates left out (their gateway hop cannot be linked).
    pub tunnels_overflow: u64,
}

impl Candidates {
    /// Keeps the flow when it is a candidate and there is room for its kind.
    pub fn add(&mut self, flow: &FlowRecord, service: Option<&str>) {
        let Some(candidate) = Candidate::of(flow, service) else {
            return;
        };
        if candidate.kind == CandidateKind::Https {
            if self.tunnels < MAX_TUNNEL_CANDIDATES {
                self.tunnels += 1;
                self.list.push(candidate);
            } else {
                self.tunnels_overflow += 1;
            }
        } else if self.list.len() - self.tunnels < MAX_CANDIDATES {
            self.list.push(candidate);
        } else {
            self.overflow += 1;
        }
    }
}

/// The thresholds of the outcome and the finding rules (each an option of `analyze` and
/// `sessions`; the defaults are documented there and in [`Default`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Password guessing: failed sessions from one source within `spray_window` (default 5).
    pub spray_min_failures: u32,
    /// Password spraying: distinct cookies (user names) from one source within
    /// `spray_window` (default 3).
    pub spray_min_cookies: u32,
    /// The window of both spray rules, in seconds (default 600).
    pub spray_window_secs: f64,
    /// RDP scanning: distinct hosts one source tried on RDP without a session (unanswered,
    /// refused or negotiation failed) within `scan_window` (default 10).
    pub scan_min_targets: u32,
    /// The scan window, in seconds (default 300).
    pub scan_window_secs: f64,
    /// How long after the broker connection the redirected connection may start, in seconds
    /// (default 30).
    pub broker_window_secs: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            spray_min_failures: 5,
            spray_min_cookies: 3,
            spray_window_secs: 600.0,
            scan_min_targets: 10,
            scan_window_secs: 300.0,
            broker_window_secs: 30.0,
        }
    }
}

/// Where a session or finding starts in the input: the file as the user named it and the
/// frame number (1-based, as Wireshark counts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PacketRef {
    /// The input path.
    pub file: String,
    /// The frame number.
    pub number: u64,
}

impl PacketRef {
    /// The reference of a packet position, naming the file from the list of inputs.
    pub fn of(pos: PacketPos, inputs: &[String]) -> Self {
        Self {
            file: usize::try_from(pos.file)
                .ok()
                .and_then(|i| inputs.get(i))
                .cloned()
                .unwrap_or_default(),
            number: pos.number,
        }
    }
}

/// Which sessions `rdsflows sessions` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Client, server or gateway address.
    pub host: Option<IpAddr>,
    /// Cookie (user name), case-insensitive; under `--redact` the plain name matches its hash.
    pub user: Option<String>,
    /// Sessions still going at or after this time.
    pub from: Option<Timestamp>,
    /// Sessions started at or before this time.
    pub until: Option<Timestamp>,
}

impl SessionFilter {
    /// True when the session passes every filter given.
    pub fn matches(&self, s: &Session) -> bool {
        let host = self
            .host
            .is_none_or(|ip| s.client_ip == ip || s.server_ip == ip || s.tcp_client == ip);
        let user = self.user.as_deref().is_none_or(|want| {
            s.user.as_deref().is_some_and(|have| {
                have.eq_ignore_ascii_case(want)
                    || have == crate::classify::details::redacted_user(want.as_bytes())
            })
        });
        let from = self.from.is_none_or(|t| s.end >= t.as_secs_f64());
        let until = self.until.is_none_or(|t| s.start <= t.as_secs_f64());
        host && user && from && until
    }
}

/// Sessions and findings of one run, as the summary JSON carries them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IncidentReport {
    /// RDP sessions, by start time.
    pub sessions: Vec<Session>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// RDP flows left out of the join because [`MAX_CANDIDATES`] was reached.
    pub flows_not_joined: u64,
    /// HTTPS flows not kept as possible gateway tunnels ([`MAX_TUNNEL_CANDIDATES`] reached).
    pub tunnels_not_joined: u64,
}

/// Joins the candidates into sessions and runs the finding rules, beside the verdict that the
/// rules need. `deployment` gives the deployment (read from a file, or inferred from the
/// traffic) that gives the roles; `inputs` are the input paths (for the packet references);
/// the verdict gives the unexpected flows that two rules reuse.
///
/// With `threads` above 1, `verdict` runs on a thread started before the deployment is even
/// made, while this one makes it and then joins the sessions (which need the deployment, not
/// the verdict); the finding rules, which need both, run last. With one thread, one after the
/// other. After a run on several threads, what follows the last packet is left to one core: on
/// the benchmark capture 12–13 ms of a 245 ms two-thread `analyze`, inference about 3 ms, the
/// verdict 5 and the join 5 (issue 6). A thread started when the deployment was ready began
/// 0.1–4 ms late on this VM, its idle core asleep; started before inference, it is running by
/// the time the deployment is.
pub fn build_beside(
    candidates: &Candidates,
    deployment: impl FnOnce() -> Deployment,
    thresholds: &Thresholds,
    inputs: &[String],
    threads: usize,
    verdict: impl FnOnce(&Deployment) -> VerdictReport + Send,
) -> (VerdictReport, IncidentReport) {
    let join =
        |deployment: &Deployment| sessions::join(&candidates.list, deployment, thresholds, inputs);
    let made = std::sync::OnceLock::new();
    let (verdict, sessions, deployment) = if threads > 1 {
        std::thread::scope(|scope| {
            let (ready, settled) = std::sync::mpsc::sync_channel(1);
            let made = &made;
            let judging = scope.spawn(move || {
                wait_spinning(&settled);
                // Not made only when making it panicked on the other thread; the scope then
                // re-raises that panic, and this thread's answer is never read.
                match made.get() {
                    Some(deployment) => Ok(verdict(deployment)),
                    None => Err(verdict),
                }
            });
            let deployment = made.get_or_init(deployment);
            let _ = ready.send(());
            let sessions = join(deployment);
            let verdict = match judging.join() {
                Ok(Ok(verdict)) => verdict,
                Ok(Err(verdict)) => verdict(deployment),
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (verdict, sessions, deployment)
        })
    } else {
        let deployment = made.get_or_init(deployment);
        (verdict(deployment), join(deployment), deployment)
    };
    let findings = findings::find(
        &candidates.list,
        &sessions,
        deployment,
        &verdict,
        thresholds,
        inputs,
    );
    let report = IncidentReport {
        sessions,
        findings,
        flows_not_joined: candidates.overflow,
        tunnels_not_joined: candidates.tunnels_overflow,
    };
    (verdict, report)
}

/// How long [`wait_spinning`] polls before it sleeps: more than inference takes on the
/// benchmark capture (3.4 ms), on a core that would otherwise sit idle.
const POLL_BEFORE_SLEEP: std::time::Duration = std::time::Duration::from_millis(20);

/// Polls between two yields of the core in [`wait_spinning`]: some microseconds.
const POLLS_PER_YIELD: u32 = 64;

/// Waits for the one message on `settled`, or for its sender to go, polling before it sleeps:
/// a thread that slept on the idle core was woken up to 4 ms late ([`build_beside`]). It yields
/// the core every few polls: the scheduler sometimes put this thread on the core of the very
/// thread it waits for, and a plain spin then held that thread off for a time slice (4 ms).
fn wait_spinning(settled: &std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::TryRecvError;
    let start = std::time::Instant::now();
    while start.elapsed() < POLL_BEFORE_SLEEP {
        for _ in 0..POLLS_PER_YIELD {
            match settled.try_recv() {
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                Ok(()) | Err(TryRecvError::Disconnected) => return,
            }
        }
        std::thread::yield_now();
    }
    let _ = settled.recv();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowKey;

    /// The verdict's thread starts before the deployment is made: a panic while making it
    /// must reach the caller, not leave that thread waiting for a deployment forever.
    #[test]
    fn a_panic_making_the_deployment_reaches_the_caller() {
        let outcome = std::panic::catch_unwind(|| {
            build_beside(
                &Candidates::default(),
                || panic!("no deployment"),
                &Thresholds::default(),
                &[],
                2,
                |_| panic!("the verdict must not run without a deployment"),
            )
        });
        let panic = outcome.expect_err("the panic is the caller's");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"no deployment"));
    }

    /// The verdict made on its own thread is the one made on this thread.
    #[test]
    fn two_threads_build_what_one_builds() {
        let signatures = crate::classify::signature::SignatureSet::builtin();
        let text = include_str!("../../samples/rds-deployment.toml");
        let build = |threads| {
            build_beside(
                &Candidates::default(),
                || Deployment::from_toml(text, "samples/rds-deployment.toml").unwrap(),
                &Thresholds::default(),
                &[],
                threads,
                |deployment| crate::verdict::evaluate(deployment, &signatures, &[], 0),
            )
        };
        let (one, two) = (build(1), build(2));
        assert!(!one.0.edges.is_empty());
        assert_eq!(one, two);
    }

    #[test]
    fn web_browsing_does_not_crowd_rdp_out_of_the_join() {
        let mut c = Candidates::default();
        let flow = |port: u16, n: u16| {
            let client: IpAddr = "10.0.0.1".parse().unwrap();
            let server: IpAddr = "10.0.0.2".parse().unwrap();
            let (key, side) =
                FlowKey::new(client, n, server, port, crate::flow::key::protocol::TCP);
            FlowRecord::new(
                key,
                side,
                false,
                Timestamp::from_nanos(0),
                PacketPos { file: 0, number: 1 },
            )
        };
        let https = flow(443, 40_000);
        for _ in 0..MAX_TUNNEL_CANDIDATES + 5 {
            c.add(&https, None);
        }
        assert_eq!(c.tunnels_overflow, 5);
        c.add(&flow(3389, 40_001), Some("rdp"));
        assert_eq!(c.overflow, 0);
        assert_eq!(c.list.last().map(|x| x.kind), Some(CandidateKind::Rdp));
        // Not a candidate at all: DNS.
        c.add(&flow(53, 40_002), Some("dns"));
        assert_eq!(c.list.len(), MAX_TUNNEL_CANDIDATES + 1);
    }
}
