//! The deployment as a graph for the diagrams (`--report`'s SVG and `--dot`): hosts and networks
//! as nodes in role groups placed on tiers, and the verdict's edges folded into lines, one per
//! (from, to, status). Owns that folding and the label texts; must not place anything (that is
//! `layout`) nor write any output syntax (escaping belongs to the writers).

use std::collections::BTreeMap;

use crate::classify::signature::Role;
use crate::verdict::{EdgeStatus, EdgeVerdict, Severity, UnexpectedFlow, VerdictReport};

/// `Party::External.label(…)`: the verdict's name for public addresses no table lists.
pub const EXTERNAL_LABEL: &str = "external (internet)";
/// `Party::Internal.label(…)`: the verdict's name for private addresses no table lists.
pub const INTERNAL_LABEL: &str = "other internal addresses";
/// Groups with more hosts than this draw their working and not-seen lines to the group box
/// (problems stay per host), so 30 session hosts do not make 30 parallel lines per peer.
pub const AGGREGATE_ABOVE: usize = 4;
/// Beyond this many not-seen lines between hosts, not-seen edges are drawn between role groups
/// instead (a 50-host farm would otherwise draw a hundred dotted lines).
pub const MAX_QUIET_LINES: usize = 16;
/// Tooltip lines kept per line.
const MAX_DETAILS: usize = 40;
/// Longest label line before a service and its port are split over two lines.
pub const LABEL_WRAP: usize = 18;

/// Tiers, left to right: clients, the internet-facing roles, the broker, the desktops, and the
/// infrastructure they all lean on.
pub const TIER_NAMES: [&str; 5] = [
    "clients",
    "gateway and web",
    "broker",
    "session and virtualization hosts",
    "licensing and infrastructure",
];

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A host of the deployment file (or inferred).
    Host,
    /// A client or admin network.
    Network,
    /// Private addresses no table lists.
    Internal,
    /// Public addresses as clients (the internet coming in).
    External,
    /// Public addresses as servers (e.g. the Microsoft Clearing House).
    InternetOut,
    /// A party the deployment report does not name (kept rather than dropped).
    Other,
}

/// A box in the diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The verdict's label for this party (`rdgw (10.1.1.10)`): what edges refer to.
    pub key: String,
    /// The name shown in bold.
    pub name: String,
    /// Addresses or network, shown below the name.
    pub detail: String,
    /// What it stands for.
    pub kind: NodeKind,
    /// Index into [`Graph::groups`].
    pub group: usize,
}

/// Hosts sharing one set of roles, drawn as one box around their nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The roles, in the map's order.
    pub roles: Vec<Role>,
    /// `RD Session Host`, `Domain controller + DNS`.
    pub title: String,
    /// Index into [`TIER_NAMES`].
    pub tier: usize,
    /// Drawn at the end of its column (administrators, off the users' path).
    pub side: bool,
    /// Indices into [`Graph::nodes`], in deployment order.
    pub nodes: Vec<usize>,
}

/// The status a line shows; the order is drawing priority (problems first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineClass {
    /// Refused (TCP reset or ICMP unreachable), never answered.
    Rejected,
    /// Attempts without any answer.
    Unanswered,
    /// Traffic the roles do not call for.
    Unexpected,
    /// Answered.
    Working,
    /// Expected but not in the capture.
    NotSeen,
}

impl LineClass {
    /// Every class, in drawing priority.
    pub const ALL: [Self; 5] = [
        Self::Rejected,
        Self::Unanswered,
        Self::Unexpected,
        Self::Working,
        Self::NotSeen,
    ];

    /// CSS class and machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Unanswered => "unanswered",
            Self::Unexpected => "unexpected",
            Self::Working => "working",
            Self::NotSeen => "not_seen",
        }
    }

    /// The word a reader without colour sees.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rejected => "✕ REJECTED",
            Self::Unanswered => "UNANSWERED",
            Self::Unexpected => "! UNEXPECTED",
            Self::Working => "✓ working",
            Self::NotSeen => "not seen",
        }
    }

    /// The class of an expected edge's status.
    pub fn of(status: EdgeStatus) -> Self {
        match status {
            EdgeStatus::Working => Self::Working,
            EdgeStatus::Rejected => Self::Rejected,
            EdgeStatus::Unanswered => Self::Unanswered,
            EdgeStatus::NotSeen => Self::NotSeen,
        }
    }
}

/// One service on a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineItem {
    /// Service name.
    pub service: String,
    /// `tcp` or `udp`.
    pub transport: String,
    /// Port or range.
    pub ports: String,
    /// Edges folded into this item (more than one when a line joins a group).
    pub edges: usize,
    /// Flows behind them.
    pub flows: u64,
    /// Highest severity, for unexpected traffic.
    pub severity: Option<Severity>,
}

/// Where a line ends: a host box, or a whole group box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// A node, by index.
    Node(usize),
    /// A group, by index.
    Group(usize),
}

/// One arrow of the diagram: every edge of one status between two ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Who opens the flows.
    pub from: End,
    /// Who answers.
    pub to: End,
    /// Status shown.
    pub class: LineClass,
    /// Services, sorted.
    pub items: Vec<LineItem>,
    /// Not-seen services between the same two ends, folded into this line's label ("+2 not
    /// seen") so that quiet edges do not add lines beside ones that carry traffic.
    pub not_seen: Vec<LineItem>,
    /// One sentence per edge, for tooltips (bounded).
    pub details: Vec<String>,
}

/// Nodes, groups and lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Boxes.
    pub nodes: Vec<Node>,
    /// Role groups.
    pub groups: Vec<Group>,
    /// Arrows, in drawing priority then by ends.
    pub lines: Vec<Line>,
}

/// A role's name for people.
pub fn role_title(role: Role) -> &'static str {
    match role {
        Role::Client => "Clients",
        Role::RdGateway => "RD Gateway",
        Role::RdWeb => "RD Web Access",
        Role::RdBroker => "RD Connection Broker",
        Role::RdSessionHost => "RD Session Host",
        Role::RdVirtualizationHost => "RD Virtualization Host",
        Role::RdLicenseServer => "RD Licensing",
        Role::DomainController => "Domain controller",
        Role::Dns => "DNS",
        Role::Nps => "NPS",
        Role::Crl => "CRL distribution",
        Role::Admin => "Administration",
        Role::Internet => "Internet",
    }
}

/// The tier a role sits on.
pub fn role_tier(role: Role) -> usize {
    match role {
        Role::Client | Role::Admin | Role::Internet => 0,
        Role::RdGateway | Role::RdWeb => 1,
        Role::RdBroker => 2,
        Role::RdSessionHost | Role::RdVirtualizationHost => 3,
        Role::RdLicenseServer | Role::DomainController | Role::Dns | Role::Nps | Role::Crl => 4,
    }
}

/// The roles a host or network names as a network role (`client`, `admin`, …).
fn parse_role(text: &str) -> Role {
    Role::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == text)
        .unwrap_or(Role::Client)
}

/// A port for labels: TCP ports bare (`3389`), UDP ones marked (`3389/udp`), as the legend says.
pub fn port_text(item: &LineItem) -> String {
    let mut text = if item.transport == "tcp" {
        item.ports.clone()
    } else {
        format!("{}/{}", item.ports, item.transport)
    };
    if item.edges > 1 {
        text.push_str(&format!(" ×{}", item.edges));
    }
    text
}

/// A service and its port on one label line (`rdp 3389`, `rdp-udp 3389/udp`), with ` ×N` for
/// edges folded into a group line.
pub fn item_text(item: &LineItem) -> String {
    format!("{} {}", item.service, port_text(item))
}

/// The label of a line, one string per text line. Problems start with their status word on a
/// line of its own; working lines start with ✓ before the first service; a long service and
/// port are split after the name; folded not-seen edges add "+N not seen". A line of only
/// not-seen edges says just how many, to stay quiet.
pub fn label_lines(line: &Line) -> Vec<String> {
    let edges = |items: &[LineItem]| items.iter().map(|i| i.edges).sum::<usize>();
    if line.class == LineClass::NotSeen {
        return vec![format!("not seen ({})", edges(&line.items))];
    }
    let mut out = Vec::new();
    let mut prefix = "";
    match line.class {
        LineClass::Unexpected => {
            let severity = line.items.iter().filter_map(|i| i.severity).max();
            out.push(
                match severity {
                    Some(Severity::High) => "! UNEXPECTED HIGH",
                    Some(Severity::Warning) => "! UNEXPECTED",
                    _ => "! unexpected (info)",
                }
                .to_string(),
            );
        }
        LineClass::Working => prefix = "✓ ",
        class => out.push(class.label().to_string()),
    }
    for item in &line.items {
        let text = format!("{prefix}{}", item_text(item));
        if text.chars().count() <= LABEL_WRAP {
            out.push(text);
        } else {
            out.push(format!("{prefix}{}", item.service));
            out.push(format!("  {}", port_text(item)));
        }
        prefix = if prefix.is_empty() { "" } else { "  " };
    }
    if !line.not_seen.is_empty() {
        out.push(format!("+{} not seen", edges(&line.not_seen)));
    }
    out
}

#[derive(Default)]
struct Builder {
    graph: Graph,
    by_key: BTreeMap<String, usize>,
    group_by_roles: BTreeMap<(Vec<Role>, bool), usize>,
}

impl Builder {
    fn group(&mut self, roles: Vec<Role>, outbound: bool) -> usize {
        if let Some(g) = self.group_by_roles.get(&(roles.clone(), outbound)) {
            return *g;
        }
        let tier = if outbound {
            4
        } else {
            roles
                .iter()
                .filter(|r| !matches!(r, Role::Client | Role::Admin | Role::Internet))
                .map(|r| role_tier(*r))
                .min()
                .unwrap_or(0)
        };
        let side = !roles.is_empty() && roles.iter().all(|r| *r == Role::Admin);
        let mut title = roles
            .iter()
            .map(|r| role_title(*r))
            .collect::<Vec<_>>()
            .join(" + ");
        if title.is_empty() {
            title = "No role".into();
        }
        if outbound {
            title = "Internet (outbound)".into();
        }
        let index = self.graph.groups.len();
        self.graph.groups.push(Group {
            roles: roles.clone(),
            title,
            tier,
            side,
            nodes: Vec::new(),
        });
        self.group_by_roles.insert((roles, outbound), index);
        index
    }

    fn node(
        &mut self,
        key: String,
        name: String,
        detail: String,
        kind: NodeKind,
        roles: Vec<Role>,
    ) {
        let outbound = kind == NodeKind::InternetOut;
        let group = self.group(roles, outbound);
        let index = self.graph.nodes.len();
        self.graph.groups[group].nodes.push(index);
        self.by_key.insert(lookup_key(&key, kind), index);
        self.graph.nodes.push(Node {
            key,
            name,
            detail,
            kind,
            group,
        });
    }

    /// The node for a party label; `outbound` when the party answers as the internet.
    fn resolve(&mut self, label: &str, role: Role, outbound: bool) -> usize {
        let kind = match label {
            EXTERNAL_LABEL if outbound => NodeKind::InternetOut,
            EXTERNAL_LABEL => NodeKind::External,
            INTERNAL_LABEL => NodeKind::Internal,
            _ => NodeKind::Other,
        };
        if let Some(i) = self.by_key.get(&lookup_key(label, kind)) {
            return *i;
        }
        let (name, detail, roles) = match kind {
            NodeKind::InternetOut => (
                "internet".to_string(),
                "public addresses".to_string(),
                vec![Role::Internet],
            ),
            NodeKind::External => (
                "internet".to_string(),
                "public addresses".to_string(),
                vec![Role::Internet],
            ),
            NodeKind::Internal => (
                "other internal".to_string(),
                "unlisted private addresses".to_string(),
                vec![Role::Client],
            ),
            _ => (label.to_string(), String::new(), vec![role]),
        };
        self.node(label.to_string(), name, detail, kind, roles);
        self.graph.nodes.len() - 1
    }
}

/// Inbound and outbound internet share one label; the lookup tells them apart.
fn lookup_key(label: &str, kind: NodeKind) -> String {
    if kind == NodeKind::InternetOut {
        format!("\u{0}out\u{0}{label}")
    } else {
        label.to_string()
    }
}

fn sort_roles(roles: &[Role]) -> Vec<Role> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    roles
}

fn edge_detail(e: &EdgeVerdict) -> String {
    let mut text = format!(
        "{} → {}: {} {}/{} {}",
        e.from,
        e.to,
        e.service,
        e.ports,
        e.transport,
        e.status.as_str().replace('_', " ")
    );
    if e.evidence.flows > 0 {
        text.push_str(&format!(
            ", {} flow{}",
            e.evidence.flows,
            if e.evidence.flows == 1 { "" } else { "s" }
        ));
    }
    if e.evidence.syn_retries > 0 {
        text.push_str(&format!(", {} SYN retries", e.evidence.syn_retries));
    }
    text
}

fn unexpected_detail(u: &UnexpectedFlow) -> String {
    format!(
        "{} → {}: {} {}/{} {} severity, {} flow{}",
        u.from,
        u.to,
        u.service.as_deref().unwrap_or("unlisted"),
        u.port,
        u.transport,
        severity_name(u.severity),
        u.evidence.flows,
        if u.evidence.flows == 1 { "" } else { "s" }
    )
}

/// `high`, `warning`, `info`.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "high",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

impl Graph {
    /// The graph of a verdict: every host and network of its deployment (even those no edge
    /// touches), the parties its edges name, and one line per (from, to, status); not-seen
    /// edges fold into a line with traffic between the same ends, and move to the group level
    /// when there are more than [`MAX_QUIET_LINES`] of them.
    pub fn from_verdict(verdict: &VerdictReport) -> Self {
        let graph = Self::build(verdict, false);
        let quiet = graph
            .lines
            .iter()
            .filter(|l| l.class == LineClass::NotSeen)
            .count();
        if quiet > MAX_QUIET_LINES {
            Self::build(verdict, true)
        } else {
            graph
        }
    }

    /// The graph; with `quiet_by_group`, not-seen edges are drawn between groups, not hosts.
    fn build(verdict: &VerdictReport, quiet_by_group: bool) -> Self {
        let mut b = Builder::default();
        let deployment = &verdict.deployment;
        for network in &deployment.networks {
            let get = |k: &str| network.get(k).cloned().unwrap_or_default();
            let (name, cidr) = (get("name"), get("cidr"));
            b.node(
                format!("{name} ({cidr})"),
                name,
                cidr,
                NodeKind::Network,
                vec![parse_role(&get("role"))],
            );
        }
        for host in &deployment.hosts {
            let addresses = host.addresses.join(", ");
            b.node(
                format!("{} ({addresses})", host.name),
                host.name.clone(),
                addresses,
                NodeKind::Host,
                sort_roles(&host.roles),
            );
        }
        type Key = (LineClass, End, End);
        let mut lines: BTreeMap<Key, Line> = BTreeMap::new();
        let mut add = |b: &mut Builder,
                       from: usize,
                       to: usize,
                       class: LineClass,
                       item: LineItem,
                       detail: String| {
            let graph = &b.graph;
            let end = |node: usize| {
                let group = graph.nodes[node].group;
                let size = graph.groups[group].nodes.len();
                if (matches!(class, LineClass::Working | LineClass::NotSeen)
                    && size > AGGREGATE_ABOVE)
                    || (quiet_by_group && class == LineClass::NotSeen && size > 1)
                {
                    End::Group(group)
                } else {
                    End::Node(node)
                }
            };
            let (mut from_end, mut to_end) = (end(from), end(to));
            if from_end == to_end {
                (from_end, to_end) = (End::Node(from), End::Node(to));
            }
            if from_end == to_end {
                return; // a host talking to itself draws nothing
            }
            let line = lines
                .entry((class, from_end, to_end))
                .or_insert_with(|| Line {
                    from: from_end,
                    to: to_end,
                    class,
                    items: Vec::new(),
                    not_seen: Vec::new(),
                    details: Vec::new(),
                });
            match line.items.iter_mut().find(|i| {
                i.service == item.service && i.transport == item.transport && i.ports == item.ports
            }) {
                Some(existing) => {
                    existing.edges += 1;
                    existing.flows += item.flows;
                    existing.severity = existing.severity.max(item.severity);
                }
                None => line.items.push(item),
            }
            if line.details.len() < MAX_DETAILS {
                line.details.push(detail);
            } else if line.details.len() == MAX_DETAILS {
                line.details.push("…".into());
            }
        };
        for e in &verdict.edges {
            let from = b.resolve(&e.from, e.from_role, false);
            let to = b.resolve(&e.to, e.to_role, e.to_role == Role::Internet);
            let item = LineItem {
                service: e.service.clone(),
                transport: e.transport.to_string(),
                ports: e.ports.clone(),
                edges: 1,
                flows: e.evidence.flows,
                severity: None,
            };
            add(
                &mut b,
                from,
                to,
                LineClass::of(e.status),
                item,
                edge_detail(e),
            );
        }
        for u in &verdict.unexpected {
            let role = |roles: &[Role]| roles.first().copied().unwrap_or(Role::Client);
            let from = b.resolve(&u.from, role(&u.from_roles), false);
            let to = b.resolve(&u.to, role(&u.to_roles), false);
            let item = LineItem {
                service: u.service.clone().unwrap_or_else(|| "unlisted".into()),
                transport: u.transport.clone(),
                ports: u.port.to_string(),
                edges: 1,
                flows: u.evidence.flows,
                severity: Some(u.severity),
            };
            add(
                &mut b,
                from,
                to,
                LineClass::Unexpected,
                item,
                unexpected_detail(u),
            );
        }
        // Fold each not-seen line into a line that carries traffic between the same two ends
        // (working first, else the first problem), so quiet edges add no line of their own.
        let quiet: Vec<Key> = lines
            .keys()
            .filter(|k| k.0 == LineClass::NotSeen)
            .copied()
            .collect();
        for key in quiet {
            let host = [
                LineClass::Working,
                LineClass::Rejected,
                LineClass::Unanswered,
                LineClass::Unexpected,
            ]
            .into_iter()
            .map(|class| (class, key.1, key.2))
            .find(|k| lines.contains_key(k));
            let Some(host) = host else { continue };
            let Some(line) = lines.remove(&key) else {
                continue;
            };
            if let Some(target) = lines.get_mut(&host) {
                target.not_seen = line.items;
                for detail in line.details {
                    if target.details.len() < MAX_DETAILS {
                        target.details.push(detail);
                    }
                }
            }
        }
        let mut graph = b.graph;
        let order = |a: &LineItem, b: &LineItem| {
            (&a.service, &a.transport, &a.ports).cmp(&(&b.service, &b.transport, &b.ports))
        };
        graph.lines = lines
            .into_values()
            .map(|mut line| {
                line.items.sort_by(order);
                line.not_seen.sort_by(order);
                line
            })
            .collect();
        graph
    }

    /// The group an end belongs to.
    pub fn group_of(&self, end: End) -> usize {
        match end {
            End::Node(n) => self.nodes.get(n).map_or(0, |n| n.group),
            End::Group(g) => g,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::verdict::Party;

    #[test]
    fn pseudo_party_labels_match_the_verdict() {
        let d = Deployment::from_toml("", "t.toml").unwrap();
        assert_eq!(Party::External.label(&d), EXTERNAL_LABEL);
        assert_eq!(Party::Internal.label(&d), INTERNAL_LABEL);
    }

    #[test]
    fn labels_wrap_long_items_and_quiet_not_seen() {
        let item = |service: &str, ports: &str| LineItem {
            service: service.into(),
            transport: "tcp".into(),
            ports: ports.into(),
            edges: 1,
            flows: 0,
            severity: None,
        };
        let mut line = Line {
            from: End::Node(0),
            to: End::Node(1),
            class: LineClass::Unanswered,
            items: vec![item("rpc-epm", "135"), item("rpc-dynamic", "49152-65535")],
            not_seen: vec![],
            details: vec![],
        };
        assert_eq!(
            label_lines(&line),
            ["UNANSWERED", "rpc-epm 135", "rpc-dynamic", "  49152-65535"]
        );
        line.class = LineClass::Working;
        line.items[0].transport = "udp".into();
        line.not_seen = vec![item("smb", "445")];
        assert_eq!(
            label_lines(&line),
            [
                "✓ rpc-epm 135/udp",
                "  rpc-dynamic",
                "  49152-65535",
                "+1 not seen"
            ]
        );
        line.class = LineClass::NotSeen;
        assert_eq!(label_lines(&line), ["not seen (2)"]);
    }
}
