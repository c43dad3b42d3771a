//! Observed edges: flows folded per (client, server, transport, server port, service), the unit
//! the verdict compares with what the deployment expects. Owns the folding and its memory bound;
//! must not judge anything.

use std::net::IpAddr;

use hashbrown::HashMap;

use crate::classify::verdict::PayloadVerdict;
use crate::flow::{FlowRecord, Outcome};
use crate::time::Timestamp;

/// Bound on distinct observed edges; beyond it flows are counted but not attributed (a scan of
/// millions of host pairs must not exhaust memory).
pub const MAX_OBSERVED_EDGES: usize = 262_144;
/// Distinct (server, port, service) edges one client may open before the rest of its flows are
/// folded into one edge per (client, transport): a scanner touching millions of ports must not
/// crowd the deployment's own edges out of the table.
pub const MAX_EDGES_PER_CLIENT: u32 = 4096;

/// What one (client, server, transport, port, service) carried.
#[derive(Clone, Debug, PartialEq)]
pub struct ObservedEdge {
    /// The client (originator).
    pub client: IpAddr,
    /// The server (responder).
    pub server: IpAddr,
    /// IP protocol number.
    pub protocol: u8,
    /// The server port.
    pub server_port: u16,
    /// The classified service, if any.
    pub service: Option<String>,
    /// Flows.
    pub flows: u64,
    /// SYNs repeated within unanswered or rejected attempts.
    pub syn_retries: u64,
    /// Flows answered.
    pub answered: u64,
    /// Flows refused by RST.
    pub rejected: u64,
    /// Flows refused by an ICMP unreachable.
    pub icmp_rejected: u64,
    /// Where the ICMP errors came from (the first one seen).
    pub icmp_from: Option<IpAddr>,
    /// Flows with no answer.
    pub unanswered: u64,
    /// First packet.
    pub first_seen: Timestamp,
    /// Last packet.
    pub last_seen: Timestamp,
    /// Packets to the server, to the client.
    pub packets: [u64; 2],
    /// IP bytes to the server, to the client.
    pub bytes: [u64; 2],
    /// Flows whose service the payload found on a port the map does not list for it.
    pub found_by_payload: u64,
    /// Flows to a port an endpoint mapper had just handed out (C706 appendix L).
    pub epm_mapped: u64,
    /// Of those, flows that were rejected or unanswered.
    pub epm_mapped_failed: u64,
    /// The interface the endpoint mapper handed the port out for (the first one seen).
    pub epm_interface: Option<String>,
}

impl ObservedEdge {
    fn add(&mut self, flow: &FlowRecord) {
        self.flows += 1;
        self.syn_retries += u64::from(flow.syn_retries);
        match flow.outcome() {
            Outcome::Answered => self.answered += 1,
            Outcome::Rejected if flow.icmp_reject().is_some() && flow.to_client().packets == 0 => {
                self.icmp_rejected += 1;
                self.icmp_from = self.icmp_from.or(flow.icmp_reject().map(|r| r.from));
            }
            Outcome::Rejected => self.rejected += 1,
            Outcome::Unanswered => self.unanswered += 1,
        }
        self.first_seen = self.first_seen.min(flow.first_seen);
        self.last_seen = self.last_seen.max(flow.last_seen);
        self.packets[0] += flow.to_server().packets;
        self.packets[1] += flow.to_client().packets;
        self.bytes[0] += flow.to_server().ip_bytes;
        self.bytes[1] += flow.to_client().ip_bytes;
        // Found by payload where the map does not list it: on an unlisted port, or on a port
        // whose own service the payload contradicted (RDP answering on 443).
        let found = match flow.class.payload {
            Some(PayloadVerdict::PayloadOnly) => true,
            Some(PayloadVerdict::Contradicted) => flow.class.service.is_some(),
            _ => false,
        };
        if found {
            self.found_by_payload += 1;
        }
        let mapped = flow
            .details()
            .and_then(|d| d.dcerpc.as_ref())
            .and_then(|d| d.epm_mapped);
        if let Some(interface) = mapped {
            self.epm_mapped += 1;
            if flow.outcome() != Outcome::Answered {
                self.epm_mapped_failed += 1;
            }
            if self.epm_interface.is_none() {
                self.epm_interface = Some(
                    interface
                        .uuid
                        .interface_name()
                        .map_or_else(|| interface.uuid.to_string(), str::to_string),
                );
            }
        }
    }
}

type EdgeKey = (IpAddr, IpAddr, u8, u16, Option<u16>);

/// Folds ended flows into observed edges.
///
/// The edges live in a vector in the order they were first seen, and the map holds only
/// their places in it: a new edge of the benchmark capture's 16,000 used to move every
/// 200-byte edge each time the map grew, and the sort at the end moved them again (together
/// 6 % of a one-thread `analyze`, issue 6).
#[derive(Debug, Default)]
pub struct ObservedEdges {
    edges: Vec<ObservedEdge>,
    places: HashMap<EdgeKey, u32>,
    per_client: HashMap<IpAddr, u32>,
    /// Flows that could not be attributed because the bound was reached.
    pub overflow: u64,
}

/// The server address an over-busy client's folded edge carries (the unspecified address: it
/// belongs to no deployment host, so the fold can never satisfy an expected edge).
fn fold_address(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => IpAddr::from([0u8; 4]),
        IpAddr::V6(_) => IpAddr::from([0u8; 16]),
    }
}

impl ObservedEdges {
    /// The edge of `key`, if it has been seen.
    fn get_mut(&mut self, key: &EdgeKey) -> Option<&mut ObservedEdge> {
        let place = *self.places.get(key)?;
        self.edges.get_mut(usize::try_from(place).ok()?)
    }

    /// Adds an ended flow; `service` is its classified service name.
    pub fn add(&mut self, flow: &FlowRecord, service: Option<(u16, &str)>) {
        let (client, _) = flow.client();
        let (mut server, port) = flow.server();
        let mut port = flow.icmp_type.map_or(port, u16::from);
        let mut service = service;
        let mut key = (
            client,
            server,
            flow.key.protocol,
            port,
            service.map(|(id, _)| id),
        );
        if let Some(edge) = self.get_mut(&key) {
            edge.add(flow);
            return;
        }
        let opened = self.per_client.entry(client).or_default();
        if *opened >= MAX_EDGES_PER_CLIENT {
            server = fold_address(client);
            port = 0;
            service = None;
            key = (client, server, flow.key.protocol, port, None);
            if let Some(edge) = self.get_mut(&key) {
                edge.add(flow);
                return;
            }
        } else {
            *opened += 1;
        }
        if self.edges.len() >= MAX_OBSERVED_EDGES {
            self.overflow += 1;
            return;
        }
        // Under the bound every place fits a u32.
        let Ok(place) = u32::try_from(self.edges.len()) else {
            self.overflow += 1;
            return;
        };
        let mut edge = ObservedEdge {
            client,
            server,
            protocol: flow.key.protocol,
            server_port: port,
            service: service.map(|(_, name)| name.to_owned()),
            flows: 0,
            syn_retries: 0,
            answered: 0,
            rejected: 0,
            icmp_rejected: 0,
            icmp_from: None,
            unanswered: 0,
            first_seen: flow.first_seen,
            last_seen: flow.last_seen,
            packets: [0; 2],
            bytes: [0; 2],
            found_by_payload: 0,
            epm_mapped: 0,
            epm_mapped_failed: 0,
            epm_interface: None,
        };
        edge.add(flow);
        self.edges.push(edge);
        self.places.insert(key, place);
    }

    /// The edges, in a stable order (first seen, then addresses and ports).
    ///
    /// Sorts each edge's first-seen time with its place, then moves the edges into that order
    /// in place. Only edges first seen at the same instant are compared by their other fields,
    /// read through their places. Sorting places by fields read through them cost a cache miss
    /// per comparison into 3 MB of edges, moving the edges into a new vector faulted in 3 MB
    /// of fresh pages (together 5 ms for the benchmark capture's 16,000 edges), and sorting
    /// every field copied out (80 bytes an edge) took 2 ms (issue 6).
    pub fn into_sorted(self) -> Vec<ObservedEdge> {
        let mut edges = self.edges;
        let mut order: Vec<(Timestamp, u32)> = edges
            .iter()
            .zip(0u32..)
            .map(|(e, place)| (e.first_seen, place))
            .collect();
        let edge = |place: u32| edges.get(place as usize);
        // Equal keys (one client, server and port under two services, first seen at the same
        // instant) go by service name, then by place: two services of one name keep the order
        // they were first seen in, not the hash map's, which its seed decided.
        order.sort_unstable_by(|(a, pa), (b, pb)| {
            a.cmp(b)
                .then_with(|| {
                    let (ea, eb) = (edge(*pa), edge(*pb));
                    ea.map(SortKey::of).cmp(&eb.map(SortKey::of)).then_with(|| {
                        let service_a = ea.and_then(|e| e.service.as_deref());
                        service_a.cmp(&eb.and_then(|e| e.service.as_deref()))
                    })
                })
                .then(pa.cmp(pb))
        });
        // Follow each place to where its edge now lies, as std's `sort_by_cached_key` does:
        // the edge for position i was at `order[i]`, unless an earlier swap moved it, and then
        // that position's entry says where to. (`sort_by_cached_key` itself was tried: its key
        // cannot borrow the service names, and ranking them first made this sort 4.0 ms
        // against 2.8 on the benchmark capture.)
        for i in 0..order.len() {
            let Some(mut from) = order.get(i).map(|(_, place)| *place as usize) else {
                break;
            };
            while from < i {
                from = order.get(from).map_or(i, |(_, place)| *place as usize);
            }
            if let Some((_, place)) = order.get_mut(i) {
                *place = from as u32;
            }
            edges.swap(i, from);
        }
        edges
    }
}

/// An edge's sort fields as plain integers, in [`ObservedEdges::into_sorted`]'s order: first
/// seen, client, server, protocol, port; built only for edges first seen at the same instant.
/// An address is (family, bits), which orders as `IpAddr` does (every IPv4 address before
/// every IPv6 one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    first_seen: Timestamp,
    client: (bool, u128),
    server: (bool, u128),
    protocol: u8,
    port: u16,
}

impl SortKey {
    fn of(edge: &ObservedEdge) -> Self {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (true, u128::from(v6)),
        };
        Self {
            first_seen: edge.first_seen,
            client: bits(edge.client),
            server: bits(edge.server),
            protocol: edge.protocol,
            port: edge.server_port,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::tests::seen;
    use proptest::prelude::*;

    proptest! {
        /// The compact keys order edges exactly as the fields themselves do, `IpAddr`'s order
        /// included, and equal edges keep the order they were first seen in.
        #[test]
        fn sorted_as_by_the_fields_themselves(
            picks in proptest::collection::vec((0usize..6, 0usize..6, 0i64..4, 0usize..3, 0usize..4), 0..40),
        ) {
            let addresses: Vec<IpAddr> = ["10.0.0.2", "10.0.0.10", "9.255.255.255", "::1", "fd00::2", "::a00:2"]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect();
            let ports = [53, 443, 3389];
            let services = [None, Some("rdp"), Some("https"), Some("rdp")];
            let edges: Vec<ObservedEdge> = picks
                .iter()
                .zip(0u64..)
                .map(|(&(c, s, at, port, service), n)| {
                    let (client, server) = (addresses[c].to_string(), addresses[s].to_string());
                    let mut e = seen(&client, &server, 6, ports[port], services[service], 1, 0);
                    e.first_seen = Timestamp::from_nanos(at);
                    e.flows = n; // tells equal edges apart
                    e
                })
                .collect();
            let mut expected = edges.clone();
            expected.sort_by(|a, b| {
                (a.first_seen, a.client, a.server, a.protocol, a.server_port, &a.service)
                    .cmp(&(b.first_seen, b.client, b.server, b.protocol, b.server_port, &b.service))
            });
            let folded = ObservedEdges { edges, ..ObservedEdges::default() };
            prop_assert_eq!(folded.into_sorted(), expected);
        }
    }
}
