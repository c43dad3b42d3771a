//! Role inference: without a deployment file, guess each host's RDS role from what it answers
//! and whom it calls, with the evidence and a confidence for each guess. Owns the heuristics;
//! must not read files (the caller writes the result with `Deployment::to_toml`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hashbrown::hash_map::Entry;
use hashbrown::HashMap;

use super::is_private;
use super::observed::ObservedEdge;
use crate::classify::signature::Role;
use crate::deployment::{Cidr, Confidence, Deployment, Host, Inference, Network};
use crate::flow::key::protocol::{TCP, UDP};

/// A (protocol, port, peer) that a host answered, was asked on, or called; the peer by its
/// number in [`Behaviours::hosts`].
#[derive(Clone, Copy, Debug)]
struct Fact {
    protocol: u8,
    port: u16,
    peer: u32,
}

/// Facts grouped by host: host `n`'s are `facts[starts[n]..starts[n + 1]]`.
#[derive(Debug, Default)]
struct ByHost {
    starts: Vec<usize>,
    facts: Vec<Fact>,
}

impl ByHost {
    /// Groups `(host, fact)` pairs by host, keeping their order within a host (a counting
    /// sort: two passes, no comparisons).
    fn group(hosts: usize, pairs: &[(u32, Fact)]) -> Self {
        let mut starts = vec![0; hosts + 1];
        for (host, _) in pairs {
            if let Some(count) = starts.get_mut(*host as usize + 1) {
                *count += 1;
            }
        }
        for n in 1..starts.len() {
            let before = starts.get(n - 1).copied().unwrap_or_default();
            if let Some(start) = starts.get_mut(n) {
                *start += before;
            }
        }
        let mut next = starts.clone();
        let empty = Fact {
            protocol: 0,
            port: 0,
            peer: 0,
        };
        let mut facts = vec![empty; pairs.len()];
        for (host, fact) in pairs {
            let Some(at) = next.get_mut(*host as usize) else {
                continue;
            };
            if let Some(slot) = facts.get_mut(*at) {
                *slot = *fact;
            }
            *at += 1;
        }
        Self { starts, facts }
    }

    fn of(&self, host: u32) -> &[Fact] {
        let host = host as usize;
        match (self.starts.get(host), self.starts.get(host + 1)) {
            (Some(&start), Some(&end)) => self.facts.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// What every address did, from the observed edges, each fact once: a host's distinct clients
/// on a port are the facts of that port in its group.
///
/// Flat lists grouped by host number, not a map of per-host maps of sets: inference over the
/// benchmark capture's 16,000 edges spent 7 ms building, and then freeing, tens of thousands of
/// small sets that were only ever counted and searched (issue 6).
#[derive(Debug)]
struct Behaviours {
    /// Every client and server, numbered in the order first seen.
    hosts: Vec<IpAddr>,
    /// The hosts' numbers in address order.
    by_address: Vec<u32>,
    /// host = server, peer = a client whose flows it answered.
    answered: ByHost,
    /// host = server, peer = a client that tried it (answered or not).
    asked: ByHost,
    /// host = client, peer = a server it called.
    called: ByHost,
    /// By host: payload bytes it served on tcp/3389 (long sessions mark a session host).
    rdp_bytes: Vec<u64>,
}

impl Behaviours {
    fn new(observed: &[ObservedEdge]) -> Self {
        // Sized from the edge count up front (the benchmark capture's 16,000 edges name 4,450
        // addresses): growing the maps and lists step by step took 0.4 of the 2 ms this
        // function spent on it (issue 6).
        let mut numbers: HashMap<IpAddr, u32> = HashMap::with_capacity(observed.len() / 4);
        let mut hosts: Vec<IpAddr> = Vec::new();
        let mut rdp_bytes: Vec<u64> = Vec::new();
        let mut number = |ip: IpAddr, rdp_bytes: &mut Vec<u64>| {
            *numbers.entry(ip).or_insert_with(|| {
                hosts.push(ip);
                rdp_bytes.push(0);
                u32::try_from(hosts.len() - 1).unwrap_or(u32::MAX)
            })
        };
        // Two edges of one pair and port differ only in their service: their facts count once.
        // The value says whether the pair's answer is recorded yet.
        let mut pairs: HashMap<(u32, u32, u8, u16), bool> = HashMap::with_capacity(observed.len());
        let (mut answered, mut asked, mut called) = (
            Vec::with_capacity(observed.len()),
            Vec::with_capacity(observed.len()),
            Vec::with_capacity(observed.len()),
        );
        for edge in observed {
            let client = number(edge.client, &mut rdp_bytes);
            let server = number(edge.server, &mut rdp_bytes);
            let (protocol, port) = (edge.protocol, edge.server_port);
            let from_client = Fact {
                protocol,
                port,
                peer: client,
            };
            let was_answered = edge.answered > 0;
            match pairs.entry((client, server, protocol, port)) {
                Entry::Vacant(new) => {
                    new.insert(was_answered);
                    asked.push((server, from_client));
                    called.push((
                        client,
                        Fact {
                            protocol,
                            port,
                            peer: server,
                        },
                    ));
                    if was_answered {
                        answered.push((server, from_client));
                    }
                }
                Entry::Occupied(mut seen) => {
                    if was_answered && !*seen.get() {
                        seen.insert(true);
                        answered.push((server, from_client));
                    }
                }
            }
            if was_answered && (protocol, port) == (TCP, 3389) {
                if let Some(bytes) = rdp_bytes.get_mut(server as usize) {
                    *bytes += edge.bytes[1];
                }
            }
        }
        let n = hosts.len();
        let mut by_address: Vec<(IpAddr, u32)> = hosts.iter().copied().zip(0u32..).collect();
        by_address.sort_unstable();
        Self {
            by_address: by_address.into_iter().map(|(_, host)| host).collect(),
            hosts,
            answered: ByHost::group(n, &answered),
            asked: ByHost::group(n, &asked),
            called: ByHost::group(n, &called),
            rdp_bytes,
        }
    }

    /// Each host with what it did, in address order (the roles, and their evidence, come out
    /// the same every run).
    fn each(&self) -> impl Iterator<Item = (IpAddr, Behaviour<'_>)> {
        self.by_address.iter().filter_map(|&host| {
            let ip = self.hosts.get(host as usize).copied()?;
            let behaviour = Behaviour {
                hosts: &self.hosts,
                answered: self.answered.of(host),
                asked: self.asked.of(host),
                called: self.called.of(host),
                rdp_bytes: self
                    .rdp_bytes
                    .get(host as usize)
                    .copied()
                    .unwrap_or_default(),
            };
            Some((ip, behaviour))
        })
    }
}

/// What one address did: its groups of the [`Behaviours`] lists.
#[derive(Clone, Copy, Debug)]
struct Behaviour<'a> {
    hosts: &'a [IpAddr],
    answered: &'a [Fact],
    asked: &'a [Fact],
    called: &'a [Fact],
    rdp_bytes: u64,
}

impl<'a> Behaviour<'a> {
    fn answers(&self, proto: u8, port: u16) -> usize {
        self.on(self.answered, proto, port).count()
    }
    fn asked_on(&self, proto: u8, port: u16) -> usize {
        self.on(self.asked, proto, port).count()
    }
    /// The servers it called on a port; `None` when it called none.
    fn calls(&self, proto: u8, port: u16) -> Option<impl Iterator<Item = IpAddr> + 'a> {
        let mut servers = self.on(self.called, proto, port).peekable();
        servers.peek()?;
        Some(servers)
    }
    /// The peers of one port among `facts` (one of this host's groups).
    fn on(&self, facts: &'a [Fact], proto: u8, port: u16) -> impl Iterator<Item = IpAddr> + 'a {
        let hosts = self.hosts;
        facts
            .iter()
            .filter(move |f| (f.protocol, f.port) == (proto, port))
            .filter_map(move |f| hosts.get(f.peer as usize).copied())
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

type Roles = BTreeMap<IpAddr, Vec<Inference>>;

fn give(roles: &mut Roles, ip: IpAddr, role: Role, confidence: Confidence, evidence: Vec<String>) {
    if !evidence.is_empty() {
        roles.entry(ip).or_default().push(Inference {
            role,
            confidence,
            evidence,
        });
    }
}

/// Infers a deployment from observed edges.
pub fn infer(observed: &[ObservedEdge], origin: &str) -> Deployment {
    let behaviours = Behaviours::new(observed);

    let mut roles: Roles = BTreeMap::new();
    // Servers first: what a host answers is the strongest sign of its role.
    for (ip, b) in behaviours.each() {
        if !is_private(ip) {
            continue; // internet hosts are not part of the deployment
        }
        // RD Gateway: UDP 3391 is its own port (MS-TSGU 2.1.3); HTTPS from the internet and RDP
        // onward to session hosts add weight.
        let mut gateway = Vec::new();
        if b.asked_on(UDP, 3391) > 0 {
            gateway.push(format!(
                "asked on udp/3391 (RD Gateway UDP transport) by {}",
                plural(b.asked_on(UDP, 3391), "client")
            ));
        }
        let external_https = b
            .on(b.answered, TCP, 443)
            .filter(|ip| !is_private(*ip))
            .count();
        if external_https > 0 {
            gateway.push(format!(
                "answers tcp/443 for {}",
                plural(external_https, "internet client")
            ));
        }
        if let Some(targets) = b.calls(TCP, 3389) {
            if !gateway.is_empty() {
                gateway.push(format!("opens RDP to {}", plural(targets.count(), "host")));
            }
        }
        let gateway_confidence = match gateway.len() {
            0 => None,
            1 if b.asked_on(UDP, 3391) == 0 => Some(Confidence::Low),
            1 => Some(Confidence::Medium),
            _ => Some(Confidence::High),
        };
        if let Some(c) = gateway_confidence {
            give(&mut roles, ip, Role::RdGateway, c, gateway);
        }
        // Connection Broker: TCP 5504 (RD Web Access publishing) is the broker's alone.
        if b.asked_on(TCP, 5504) > 0 {
            let mut evidence = vec![format!(
                "asked on tcp/5504 by {}",
                plural(b.asked_on(TCP, 5504), "host")
            )];
            if b.answers(TCP, 3389) > 0 {
                evidence.push(format!(
                    "answers RDP for {} (redirection)",
                    plural(b.answers(TCP, 3389), "client")
                ));
            }
            let c = if evidence.len() > 1 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            give(&mut roles, ip, Role::RdBroker, c, evidence);
        } else if b.answers(TCP, 3389) + b.answers(UDP, 3389) > 0 && gateway_confidence.is_none() {
            // Session host: answers RDP and is neither broker nor gateway.
            let mut evidence = vec![format!(
                "answers tcp/3389 for {}",
                plural(b.answers(TCP, 3389), "client")
            )];
            if b.answers(UDP, 3389) > 0 {
                evidence.push("answers RDP over UDP (udp/3389)".into());
            }
            if b.rdp_bytes > 100_000 {
                evidence.push(format!("served {} kB of RDP", b.rdp_bytes / 1000));
            }
            let c = if evidence.len() > 1 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            give(&mut roles, ip, Role::RdSessionHost, c, evidence);
        }
        // RD Web Access: it calls the broker on 5504 and serves HTTPS.
        if let Some(brokers) = b.calls(TCP, 5504) {
            let mut evidence = vec![format!(
                "calls {} on tcp/5504",
                plural(brokers.count(), "broker")
            )];
            if b.answers(TCP, 443) > 0 {
                evidence.push(format!(
                    "answers tcp/443 for {}",
                    plural(b.answers(TCP, 443), "client")
                ));
            }
            let c = if evidence.len() > 1 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            give(&mut roles, ip, Role::RdWeb, c, evidence);
        }
        // Domain controller: Kerberos and LDAP.
        let dc: Vec<String> = [
            (TCP, 88, "Kerberos"),
            (UDP, 88, "Kerberos"),
            (TCP, 389, "LDAP"),
            (TCP, 636, "LDAPS"),
        ]
        .iter()
        .filter(|(p, port, _)| b.answers(*p, *port) > 0)
        .map(|(p, port, name)| {
            format!(
                "answers {name} ({}/{port})",
                if *p == TCP { "tcp" } else { "udp" }
            )
        })
        .collect();
        if !dc.is_empty() {
            let c = if dc.len() > 1 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            give(&mut roles, ip, Role::DomainController, c, dc);
        }
        let dns = b.answers(UDP, 53) + b.answers(TCP, 53);
        if dns > 0 {
            let c = if dns > 1 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            give(
                &mut roles,
                ip,
                Role::Dns,
                c,
                vec![format!("answers DNS for {}", plural(dns, "client"))],
            );
        }
        let radius = b.answers(UDP, 1812) + b.answers(UDP, 1813);
        if radius > 0 {
            give(
                &mut roles,
                ip,
                Role::Nps,
                Confidence::High,
                vec![format!(
                    "answers RADIUS (udp/1812-1813) for {}",
                    plural(radius, "client")
                )],
            );
        }
    }

    // Second pass: roles that depend on who calls (licence server, CRL, admin, clients).
    let has = |roles: &Roles, ip: &IpAddr, role: Role| {
        roles
            .get(ip)
            .is_some_and(|v| v.iter().any(|i| i.role == role))
    };
    let session_hosts: BTreeSet<IpAddr> = roles
        .iter()
        .filter(|(_, v)| v.iter().any(|i| i.role == Role::RdSessionHost))
        .map(|(ip, _)| *ip)
        .collect();
    let gateways: BTreeSet<IpAddr> = roles
        .iter()
        .filter(|(_, v)| v.iter().any(|i| i.role == Role::RdGateway))
        .map(|(ip, _)| *ip)
        .collect();
    let mut later: Vec<(IpAddr, Role, Confidence, Vec<String>)> = Vec::new();
    for (ip, b) in behaviours.each() {
        if !is_private(ip) {
            continue;
        }
        let from_session_hosts = |proto: u8, port: u16| {
            b.on(b.asked, proto, port)
                .filter(|c| session_hosts.contains(c))
                .count()
        };
        // Licence server: session hosts ask its endpoint mapper (or its NetBIOS name), and it is
        // not a domain controller (which session hosts also ask on 135).
        let rpc = from_session_hosts(TCP, 135);
        let nbns = from_session_hosts(UDP, 137);
        if (rpc > 0 || nbns > 0)
            && !has(&roles, &ip, Role::DomainController)
            && !has(&roles, &ip, Role::RdBroker)
        {
            let mut evidence = Vec::new();
            if rpc > 0 {
                evidence.push(format!(
                    "asked on tcp/135 (RPC) by {}",
                    plural(rpc, "session host")
                ));
            }
            if nbns > 0 {
                evidence.push(format!(
                    "asked for its NetBIOS name by {}",
                    plural(nbns, "session host")
                ));
            }
            let internet_443 = b.on(b.called, TCP, 443).any(|t| !is_private(t));
            if internet_443 {
                evidence.push("calls the internet on tcp/443 (Microsoft Clearing House?)".into());
            }
            let c = if evidence.len() > 1 {
                Confidence::Medium
            } else {
                Confidence::Low
            };
            later.push((ip, Role::RdLicenseServer, c, evidence));
        }
        // CRL distribution point: the gateway fetches over HTTP from it.
        let crl = b
            .on(b.answered, TCP, 80)
            .filter(|c| gateways.contains(c))
            .count();
        if crl > 0 {
            later.push((
                ip,
                Role::Crl,
                Confidence::Low,
                vec!["answers HTTP (tcp/80) for the gateway (CRL download?)".into()],
            ));
        }
        // Administrator: WinRM to RDS hosts.
        if let Some(targets) = b.calls(TCP, 5985) {
            let rds = targets.filter(|t| roles.contains_key(t)).count();
            if rds > 0 {
                later.push((
                    ip,
                    Role::Admin,
                    Confidence::Medium,
                    vec![format!(
                        "runs WinRM (tcp/5985) against {}",
                        plural(rds, "RDS host")
                    )],
                ));
            }
        }
    }
    for (ip, role, confidence, evidence) in later {
        give(&mut roles, ip, role, confidence, evidence);
    }

    // Client networks: internal addresses with no role that open RDP or reach the gateway/web.
    let mut client_nets: BTreeSet<Cidr> = BTreeSet::new();
    for (ip, b) in behaviours.each() {
        if !is_private(ip) || roles.contains_key(&ip) {
            continue;
        }
        let rds_client = [(TCP, 3389), (UDP, 3389), (TCP, 443), (UDP, 3391)]
            .iter()
            .any(|&(proto, port)| b.on(b.called, proto, port).any(|s| roles.contains_key(&s)));
        if rds_client {
            client_nets.insert(enclosing_network(ip));
        }
    }

    let mut deployment = Deployment::empty(origin);
    deployment.inferred = true;
    for (ip, inferences) in roles {
        let name = format!("host-{}", ip.to_string().replace([':', '.'], "-"));
        deployment.hosts.push(Host {
            name,
            addresses: vec![ip],
            roles: inferences.iter().map(|i| i.role).collect(),
            inferred: inferences,
        });
    }
    for cidr in client_nets {
        deployment.networks.push(Network {
            name: format!("clients-{}", cidr.to_string().replace(['/', ':', '.'], "-")),
            cidr,
            role: Role::Client,
        });
    }
    let has_role = |role: Role| deployment.hosts.iter().any(|h| h.roles.contains(&role));
    let udp_seen = observed
        .iter()
        .any(|e| e.protocol == UDP && matches!(e.server_port, 3389 | 3391));
    let direct = observed.iter().any(|e| {
        e.protocol == TCP && e.server_port == 3389 && deployment.network_of(e.client).is_some()
    });
    let options = &mut deployment.options;
    options.rd_web_access = has_role(Role::RdWeb);
    options.rd_gateway = has_role(Role::RdGateway);
    options.direct_connections = direct || !options.rd_gateway;
    options.nps = has_role(Role::Nps);
    options.crl_http = has_role(Role::Crl);
    options.udp_transport = udp_seen;
    deployment
}

/// The /24 (IPv4) or /64 (IPv6) holding an address: the usual size of a client subnet.
fn enclosing_network(ip: IpAddr) -> Cidr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Cidr {
                addr: IpAddr::from([a, b, c, 0]),
                prefix: 24,
            }
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (!0u128 << 64);
            Cidr {
                addr: IpAddr::from(bits.to_be_bytes()),
                prefix: 64,
            }
        }
    }
}
