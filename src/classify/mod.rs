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

    /// Classifies `port` as the named service too (a deployment's custom RDP port, its fixed WMI
    /// port). Returns false when no rule names that service on that transport.
    pub fn add_port(&mut self, service: &str, transport: Transport, port: u16) -> bool {
        let Some(index) = self
            .services
            .iter()
            .position(|s| s.name == service && s.transport == transport)
        else {
            return false;
        };
        let id = ServiceId(u16::try_from(index).unwrap_or(u16::MAX));
        let slot = match transport {
            Transport::Tcp => self.tcp_ports.get_mut(usize::from(port)),
            Transport::Udp => self.udp_ports.get_mut(usize::from(port)),
        };
        if let Some(slot) = slot {
            *slot = Some(id);
        }
        true
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;
    use crate::flow::FlowKey;

    const CLIENT: [u8; 4] = [10, 1, 2, 21];
    const SERVER: [u8; 4] = [10, 1, 2, 30];

    /// A TCP flow client -> server:port; `from_syn`: the SYN was seen (the server side is known).
    fn flow(port: u16, from_syn: bool, at_secs: i64) -> FlowRecord {
        let (key, side) = FlowKey::new(
            IpAddr::from(CLIENT),
            50_123,
            IpAddr::from(SERVER),
            port,
            protocol::TCP,
        );
        let mut record = FlowRecord::new(
            key,
            side,
            false,
            Timestamp::from_parts(at_secs, 0),
            PacketPos::default(),
        );
        if from_syn {
            record.client_isn = Some(1);
        }
        record
    }

    fn classifier() -> Classifier {
        Classifier::new(SignatureSet::builtin())
    }

    fn name(c: &Classifier, f: &FlowRecord) -> Option<String> {
        c.service_name(f).map(str::to_string)
    }

    /// An ept_map response header (DCE/RPC PTYPE 2) as the endpoint mapper sends it.
    const EPM_RESPONSE: [u8; 16] = [5, 0, 2, 3, 0x10, 0, 0, 0, 0x8c, 0, 0, 0, 2, 0, 0, 0];
    /// A bind header (PTYPE 11).
    const BIND: [u8; 16] = [5, 0, 11, 3, 0x10, 0, 0, 0, 0x74, 0, 0, 0, 2, 0, 0, 0];

    #[test]
    fn well_known_port_classifies_as_likely() {
        let mut c = classifier();
        let mut f = flow(3389, true, 0);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f).as_deref(), Some("rdp"));
        assert_eq!(f.class.verdict, Verdict::Likely);
        assert!(
            c.rules_for(&f).count() >= 3,
            "every RDP rule that lists 3389"
        );
    }

    #[test]
    fn dynamic_port_alone_is_not_rpc() {
        let mut c = classifier();
        let mut f = flow(49_700, true, 0);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f), None);
        assert_eq!(f.class.verdict, Verdict::NotRds);
    }

    #[test]
    fn dynamic_port_after_an_epm_answer_is_rpc() {
        let mut c = classifier();
        let mut epm = flow(135, true, 0);
        c.on_new_flow(&mut epm);
        c.on_payload(&mut epm, Direction::ToClient, &EPM_RESPONSE);
        let mut f = flow(49_700, true, 1);
        c.on_new_flow(&mut f);
        assert_eq!(name(&c, &f).as_deref(), Some("rpc-dynamic"));
        assert_eq!(f.class.verdict, Verdict::Likely);
        // The same port without the SYN (midstream: who is the server?) stays unclassified.
        let mut midstream = flow(49_701, false, 1);
        c.on_new_flow(&mut midstream);
        assert_eq!(name(&c, &midstream), None);
        // An answer long ago does not vouch for a connection now.
        let mut late = flow(49_702, true, 3600);
        c.on_new_flow(&mut late);
        assert_eq!(name(&c, &late), None);
    }

    #[test]
    fn dcerpc_bind_on_a_dynamic_port_is_rpc_with_certainty() {
        let mut c = classifier();
        let mut f = flow(49_800, true, 0);
        c.on_new_flow(&mut f);
        c.on_payload(&mut f, Direction::ToServer, &BIND);
        assert_eq!(name(&c, &f).as_deref(), Some("rpc-dynamic"));
        assert_eq!(f.class.verdict, Verdict::Certain);
        // In the legacy range (before Windows Server 2008) the same bind names the legacy service.
        let mut old = flow(1032, true, 0);
        c.on_new_flow(&mut old);
        c.on_payload(&mut old, Direction::ToServer, &BIND);
        assert_eq!(name(&c, &old).as_deref(), Some("rpc-dynamic-legacy"));
    }

    #[test]
    fn payload_checks_stop_after_the_bound() {
        let mut c = classifier().with_inspect_packets(1);
        let mut f = flow(49_900, true, 0);
        c.on_new_flow(&mut f);
        c.on_payload(&mut f, Direction::ToServer, b"not rpc at all");
        c.on_payload(&mut f, Direction::ToServer, &BIND);
        assert_eq!(
            name(&c, &f),
            None,
            "the second packet is past the inspection bound"
        );
    }

    #[test]
    fn service_ports_cover_the_single_port_rules() {
        let ports = classifier().service_ports();
        assert!(ports.contains(protocol::TCP, 3389));
        assert!(ports.contains(protocol::UDP, 3391));
        assert!(ports.contains(protocol::TCP, 5504));
        assert!(!ports.contains(protocol::TCP, 49_700));
    }
}
