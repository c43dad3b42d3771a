//! Classification: which RDS service a flow is and which signature rules it matches. The port
//! gives a first answer when the flow starts; payload checks (`probe`) confirm or supply it from
//! the first bytes of each direction. Owns the port index and the cross-flow evidence that
//! dynamic RPC needs (an endpoint-mapper exchange before the connection); must not read files or
//! print (signatures are loaded by `config`).

pub mod probe;
pub mod signature;
pub mod verdict;

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::flow::key::protocol;
use crate::flow::{Direction, FlowRecord, ServicePorts};
use crate::time::{Duration, Timestamp};
use signature::{Evidence, PortRange, Rule, SignatureSet, Transport};
use verdict::{evidence, ServiceId, Verdict};

/// Payload-carrying packets inspected per direction before the classifier stops looking.
pub const DEFAULT_INSPECT_PACKETS: u8 = 2;
/// How long an endpoint-mapper answer vouches for a later connection between the same hosts.
const EPM_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Bound on remembered endpoint-mapper exchanges (host pairs).
const MAX_EPM_PAIRS: usize = 65_536;

/// A service as the classifier knows it: a name, a transport, and the rules that name it.
#[derive(Clone, Debug)]
pub struct Service {
    /// The name from the signature rules (`rdp`, `rpc-epm`…).
    pub name: String,
    /// Its transport.
    pub transport: Transport,
    /// Indices into the signature set's rules.
    pub rules: Vec<usize>,
    /// True when the port alone must not classify (dynamic RPC ranges).
    pub needs_rpc_evidence: bool,
}

/// The classifier: built once from a signature set, then fed flows.
#[derive(Debug)]
pub struct Classifier {
    signatures: SignatureSet,
    services: Vec<Service>,
    /// Single-port services, indexed by port: `tcp_ports[3389]`.
    tcp_ports: Vec<Option<ServiceId>>,
    udp_ports: Vec<Option<ServiceId>>,
    /// Range services that need evidence, narrowest range first.
    tcp_ranges: Vec<(PortRange, ServiceId)>,
    epm_answers: HashMap<(IpAddr, IpAddr), Timestamp>,
    inspect_packets: u8,
}

impl Classifier {
    /// Builds the port index from a signature set. Rules with a `port_setting` and no ports are
    /// indexed once a deployment supplies the port.
    pub fn new(signatures: SignatureSet) -> Self {
        let mut services: Vec<Service> = Vec::new();
        let mut tcp_ports = vec![None; 65_536];
        let mut udp_ports = vec![None; 65_536];
        let mut tcp_ranges = Vec::new();
        for (index, rule) in signatures.rules.iter().enumerate() {
            let id = match services
                .iter()
                .position(|s| s.name == rule.service && s.transport == rule.transport)
            {
                Some(i) => i,
                None => {
                    services.push(Service {
                        name: rule.service.clone(),
                        transport: rule.transport,
                        rules: Vec::new(),
                        needs_rpc_evidence: false,
                    });
                    services.len() - 1
                }
            };
            let service_id = ServiceId(u16::try_from(id).unwrap_or(u16::MAX));
            if let Some(service) = services.get_mut(id) {
                service.rules.push(index);
                service.needs_rpc_evidence |= rule.needs_evidence == Some(Evidence::Rpc);
            }
            for range in &rule.ports {
                if rule.needs_evidence.is_some() || !range.is_single() {
                    if rule.transport == Transport::Tcp
                        && !tcp_ranges.iter().any(|(r, _)| r == range)
                    {
                        tcp_ranges.push((*range, service_id));
                    }
                    continue;
                }
                let slot = match rule.transport {
                    Transport::Tcp => tcp_ports.get_mut(usize::from(range.first)),
                    Transport::Udp => udp_ports.get_mut(usize::from(range.first)),
                };
                if let Some(slot) = slot {
                    slot.get_or_insert(service_id);
                }
            }
        }
        tcp_ranges.sort_by_key(|(r, _)| r.last - r.first);
        Self {
            signatures,
            services,
            tcp_ports,
            udp_ports,
            tcp_ranges,
            epm_answers: HashMap::new(),
            inspect_packets: DEFAULT_INSPECT_PACKETS,
        }
    }

    /// Sets how many payload packets per direction the checks see.
    pub fn with_inspect_packets(mut self, packets: u8) -> Self {
        self.inspect_packets = packets;
        self
    }

    /// The signature set in use.
    pub fn signatures(&self) -> &SignatureSet {
        &self.signatures
    }

    /// Every service, indexed by `ServiceId`.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// A service by id.
    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(usize::from(id.0))
    }

    /// The server ports the map lists, so the flow table can orient midstream flows.
    pub fn service_ports(&self) -> ServicePorts {
        let mut ports = ServicePorts::default();
        for rule in &self.signatures.rules {
            let proto = match rule.transport {
                Transport::Tcp => protocol::TCP,
                Transport::Udp => protocol::UDP,
            };
            for range in rule.ports.iter().filter(|r| r.is_single()) {
                ports.insert(proto, range.first);
            }
        }
        ports
    }

    /// The rules a classified flow matches (index into the signature set, rule): its service's
    /// rules whose ports hold the server port.
    pub fn rules_for<'s>(
        &'s self,
        flow: &FlowRecord,
    ) -> impl Iterator<Item = (usize, &'s Rule)> + 's {
        let server_port = flow.server().1;
        flow.class
            .service
            .and_then(|id| self.service(id))
            .map(|s| s.rules.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| Some((i, self.signatures.rules.get(i)?)))
            .filter(move |(_, rule)| rule.ports.iter().any(|r| r.contains(server_port)))
    }

    /// First look at a new flow: the server port.
    pub fn on_new_flow(&mut self, flow: &mut FlowRecord) {
        let (client, _) = flow.client();
        let (server, port) = flow.server();
        let by_port = match flow.key.protocol {
            protocol::TCP => self.tcp_ports.get(usize::from(port)).copied().flatten(),
            protocol::UDP => self.udp_ports.get(usize::from(port)).copied().flatten(),
            _ => None,
        };
        if let Some(id) = by_port {
            flow.class.service = Some(id);
            flow.class.verdict = Verdict::Likely;
            return;
        }
        // Dynamic RPC: the range is also every Windows client's ephemeral range, so the port
        // only counts when the SYN proved which side is the server, and even then only with an
        // endpoint-mapper answer between the same hosts just before (MS-RPCE 2.1.1.1; KB 929851).
        if flow.key.protocol == protocol::TCP && flow.client_isn.is_some() && !flow.flipped {
            if let Some(id) = self.range_service(port) {
                flow.class.evidence |= evidence::SERVER_FROM_SYN;
                let epm_recent = self.epm_answers.get(&(client, server)).is_some_and(|at| {
                    flow.first_seen.since(*at) <= EPM_WINDOW && *at <= flow.first_seen
                });
                if epm_recent {
                    flow.class.evidence |= evidence::EPM_BEFORE;
                    flow.class.service = Some(id);
                    flow.class.verdict = Verdict::Likely;
                }
            }
        }
    }

    /// Payload seen in one direction: runs the checks on the first few payload packets.
    pub fn on_payload(&mut self, flow: &mut FlowRecord, dir: Direction, payload: &[u8]) {
        let Some(seen) = flow.class.inspected.get_mut(dir.index()) else {
            return;
        };
        if payload.is_empty() || *seen >= self.inspect_packets {
            return;
        }
        *seen += 1;
        let Some(header) = probe::probe_dcerpc(payload) else {
            return;
        };
        flow.class.evidence |= evidence::DCERPC_PAYLOAD;
        let (server, port) = flow.server();
        match flow.class.service.and_then(|id| self.service(id)) {
            // The endpoint mapper answered: later connections between these hosts to a dynamic
            // port are RPC (C706 appendix L: ept_map returns the port in its tower).
            Some(service) if service.name == "rpc-epm" => {
                flow.class.verdict = Verdict::Certain;
                if dir == Direction::ToClient && header.ptype == probe::dcerpc_ptype::RESPONSE {
                    self.remember_epm_answer(flow.client().0, server, flow.last_seen);
                }
            }
            Some(service) if service.needs_rpc_evidence => flow.class.verdict = Verdict::Certain,
            Some(_) => {}
            None if dir == Direction::ToServer && header.ptype == probe::dcerpc_ptype::BIND => {
                if let Some(id) = self.range_service(port) {
                    flow.class.service = Some(id);
                    flow.class.verdict = Verdict::Certain;
                }
            }
            None => {}
        }
    }

    fn range_service(&self, port: u16) -> Option<ServiceId> {
        self.tcp_ranges
            .iter()
            .find(|(r, _)| r.contains(port))
            .map(|(_, id)| *id)
    }

    fn remember_epm_answer(&mut self, client: IpAddr, server: IpAddr, at: Timestamp) {
        if self.epm_answers.len() >= MAX_EPM_PAIRS {
            self.epm_answers
                .retain(|_, seen| at.since(*seen) <= EPM_WINDOW);
            if self.epm_answers.len() >= MAX_EPM_PAIRS {
                self.epm_answers.clear();
            }
        }
        self.epm_answers.insert((client, server), at);
    }

    /// The service name of a flow, or `None` when unclassified.
    pub fn service_name(&self, flow: &FlowRecord) -> Option<&str> {
        flow.class
            .service
            .and_then(|id| self.service(id))
            .map(|s| s.name.as_str())
    }
}
