//! The deployment: which hosts and networks play which RDS role, and the options that change what
//! flows are expected (RD Web Access deployed, UDP transport, a custom RDP port…). Owns the
//! deployment file format (TOML, documented in samples/rds-deployment.toml) and its validation;
//! must not look at traffic (role inference from traffic lives in `verdict::infer`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::classify::signature::{field_named_in, key_of_line, line_column, Condition, Role};

/// An address block, `10.1.10.0/24` or `2001:db8::/48`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The network address (host bits cleared).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/LEN` or a bare address (a /32 or /128).
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .trim()
            .parse()
            .map_err(|_| format!("`{addr_text}` is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length `{p}` must be 0 to {max}"))?,
            None => max,
        };
        let cidr = Self { addr, prefix };
        if cidr.network() != addr {
            return Err(format!(
                "`{text}` has host bits set; the network is {}/{prefix}",
                cidr.network()
            ));
        }
        Ok(cidr)
    }

    fn mask(bits: u32, prefix: u8) -> u128 {
        if prefix == 0 {
            0
        } else {
            let width = bits;
            (!0u128 << (width - u32::from(prefix))) & (!0u128 >> (128 - width))
        }
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(v4) => {
                let m = Self::mask(32, self.prefix) as u32;
                IpAddr::from((u32::from(v4) & m).to_be_bytes())
            }
            IpAddr::V6(v6) => {
                IpAddr::from((u128::from(v6) & Self::mask(128, self.prefix)).to_be_bytes())
            }
        }
    }

    /// True when `ip` is inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let m = Self::mask(32, self.prefix) as u32;
                u32::from(ip) & m == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & Self::mask(128, self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// How sure role inference is (only for inferred deployments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// One weak sign.
    Low,
    /// One strong sign or several weak ones.
    Medium,
    /// Several strong signs.
    High,
}

impl Confidence {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Why inference gave a host a role.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Inference {
    /// The role.
    pub role: Role,
    /// How sure.
    pub confidence: Confidence,
    /// What was seen, in words.
    pub evidence: Vec<String>,
}

/// A host of the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// A short name (`rdgw`, `dc1`).
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
    /// Its roles.
    pub roles: Vec<Role>,
    /// For inferred deployments: why each role was given.
    pub inferred: Vec<Inference>,
}

/// A network of clients or administrators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// A short name (`office`).
    pub name: String,
    /// The address block.
    pub cidr: Cidr,
    /// `client` or `admin`.
    pub role: Role,
}

/// The choices that change which flows are expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Options {
    /// RD Web Access deployed (clients need TCP 443 to it).
    pub rd_web_access: bool,
    /// RDP's UDP transport enabled (UDP 3389; UDP 3391 on the gateway).
    pub udp_transport: bool,
    /// Clients connect through an RD Gateway.
    pub rd_gateway: bool,
    /// Clients (some or all) connect directly, without the gateway.
    pub direct_connections: bool,
    /// A Network Policy Server authorizes gateway connections.
    pub nps: bool,
    /// CRLs fetched over HTTP.
    pub crl_http: bool,
    /// CRLs fetched over FTP.
    pub crl_ftp: bool,
    /// CRLs fetched over LDAP.
    pub crl_ldap: bool,
    /// Licence server older than Windows Server 2008 (dynamic RPC 1024-65535).
    pub legacy_license_server: bool,
    /// RD Web Access in a perimeter network (WMI to it).
    pub rd_web_in_perimeter: bool,
    /// Virtual desktops (VDI).
    pub rd_virtualization: bool,
    /// Per-user CALs (licence server queries AD).
    pub per_user_cal: bool,
    /// The RDP port of the session hosts (3389 unless changed).
    pub rdp_port: u16,
    /// The fixed WMI port of RD Web Access in a perimeter network, when set.
    pub wmi_fixed_port: Option<u16>,
}

impl Options {
    /// Whether a rule's condition holds.
    pub fn holds(&self, condition: Condition) -> bool {
        match condition {
            Condition::RdWebAccess => self.rd_web_access,
            Condition::UdpTransport => self.udp_transport,
            Condition::Nps => self.nps,
            Condition::CrlHttp => self.crl_http,
            Condition::CrlFtp => self.crl_ftp,
            Condition::CrlLdap => self.crl_ldap,
            Condition::LegacyLicenseServer => self.legacy_license_server,
            Condition::RdWebInPerimeter => self.rd_web_in_perimeter,
            Condition::RdGateway => self.rd_gateway,
            Condition::NoRdGateway => self.direct_connections,
            Condition::RdVirtualization => self.rd_virtualization,
            Condition::PerUserCal => self.per_user_cal,
        }
    }
}

/// Hosts, networks and options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Where it came from: a file path, or `inferred from traffic`.
    pub origin: String,
    /// True when inferred rather than read from a file.
    pub inferred: bool,
    /// The deployment's name, if given.
    pub name: Option<String>,
    /// Hosts with roles.
    pub hosts: Vec<Host>,
    /// Client and admin networks.
    pub networks: Vec<Network>,
    /// Options.
    pub options: Options,
}

/// A deployment file that cannot be used: file, line, column, field and what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentError {
    /// The file.
    pub origin: String,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field, when one is at fault.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for DeploymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.origin, self.message);
        }
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeploymentError {}

impl Deployment {
    /// Reads and validates a deployment file.
    ///
    /// # Errors
    /// A `DeploymentError` naming the file, line, field and the fix.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DeploymentError {
            origin: origin.clone(),
            line: 0,
            column: 0,
            field: None,
            message: format!("cannot read deployment file: {e}"),
        })?;
        Self::from_toml(&text, &origin)
    }

    /// Parses and validates deployment TOML; `origin` names it in errors.
    ///
    /// # Errors
    /// A `DeploymentError` naming the place and the fix.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, DeploymentError> {
        let check = Checker { text, origin };
        let raw: RawFile = toml::from_str(text).map_err(|e| check.toml_error(&e))?;
        check.deployment(raw)
    }

    /// An empty deployment with default options (used by inference).
    pub fn empty(origin: &str) -> Self {
        Self {
            origin: origin.into(),
            inferred: false,
            name: None,
            hosts: Vec::new(),
            networks: Vec::new(),
            options: RawOptions::default().resolve(&[]),
        }
    }

    /// Every host with `role`, by index.
    pub fn hosts_with(&self, role: Role) -> impl Iterator<Item = usize> + '_ {
        self.hosts
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.roles.contains(&role))
            .map(|(i, _)| i)
    }

    /// The host that owns `ip`.
    pub fn host_of(&self, ip: IpAddr) -> Option<usize> {
        self.hosts.iter().position(|h| h.addresses.contains(&ip))
    }

    /// The most specific network holding `ip`.
    pub fn network_of(&self, ip: IpAddr) -> Option<usize> {
        self.networks
            .iter()
            .enumerate()
            .filter(|(_, n)| n.cidr.contains(ip))
            .max_by_key(|(_, n)| n.cidr.prefix)
            .map(|(i, _)| i)
    }

    /// Writes the deployment as an editable, commented TOML file (what `rdsflows roles` prints).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str("# rdsflows deployment file: hosts and networks by RDS role.\n");
        out.push_str("# Edit it, then pass it back with `rdsflows analyze --deployment FILE`.\n");
        out.push_str("# Roles: client, rd_gateway, rd_web, rd_broker, rd_session_host, rd_virtualization_host,\n");
        out.push_str(
            "#        rd_license_server, domain_controller, dns, nps, crl, admin, internet.\n",
        );
        if self.inferred {
            out.push_str("# Inferred from traffic: check every host; confidence and evidence are in the comments.\n");
        }
        if let Some(name) = &self.name {
            out.push_str(&format!("\nname = {}\n", toml_string(name)));
        }
        let o = &self.options;
        out.push_str("\n[options]\n");
        let flags = [
            (
                "rd_web_access",
                o.rd_web_access,
                "RD Web Access deployed: clients need TCP 443 to it",
            ),
            (
                "udp_transport",
                o.udp_transport,
                "RDP over UDP enabled (UDP 3389; UDP 3391 on the gateway)",
            ),
            (
                "rd_gateway",
                o.rd_gateway,
                "clients connect through an RD Gateway",
            ),
            (
                "direct_connections",
                o.direct_connections,
                "clients also connect directly (broker and session hosts on 3389)",
            ),
            (
                "nps",
                o.nps,
                "a Network Policy Server authorizes gateway connections (RADIUS 1812/1813)",
            ),
            ("crl_http", o.crl_http, "CRLs over HTTP (TCP 80)"),
            ("crl_ftp", o.crl_ftp, "CRLs over FTP (TCP 21)"),
            ("crl_ldap", o.crl_ldap, "CRLs over LDAP (389)"),
            (
                "legacy_license_server",
                o.legacy_license_server,
                "licence server older than Windows Server 2008 (RPC 1024-65535)",
            ),
            (
                "rd_web_in_perimeter",
                o.rd_web_in_perimeter,
                "RD Web Access in a perimeter network",
            ),
            (
                "rd_virtualization",
                o.rd_virtualization,
                "virtual desktops (VDI)",
            ),
            ("per_user_cal", o.per_user_cal, "per-user CALs"),
        ];
        for (key, value, comment) in flags {
            out.push_str(&format!("{key} = {value}    # {comment}\n"));
        }
        out.push_str(&format!(
            "rdp_port = {}    # the session hosts' RDP port\n",
            o.rdp_port
        ));
        if let Some(port) = o.wmi_fixed_port {
            out.push_str(&format!("wmi_fixed_port = {port}\n"));
        }
        for network in &self.networks {
            out.push_str(&format!(
                "\n[[network]]\nname = {}\ncidr = \"{}\"\nrole = \"{}\"\n",
                toml_string(&network.name),
                network.cidr,
                network.role
            ));
        }
        for host in &self.hosts {
            out.push('\n');
            for inference in &host.inferred {
                out.push_str(&format!(
                    "# {}: {} confidence: {}\n",
                    inference.role,
                    inference.confidence.as_str(),
                    inference.evidence.join("; ")
                ));
            }
            let addresses: Vec<String> =
                host.addresses.iter().map(|a| format!("\"{a}\"")).collect();
            let roles: Vec<String> = host.roles.iter().map(|r| format!("\"{r}\"")).collect();
            out.push_str(&format!(
                "[[host]]\nname = {}\naddresses = [{}]\nroles = [{}]\n",
                toml_string(&host.name),
                addresses.join(", "),
                roles.join(", ")
            ));
        }
        out
    }
}

/// A TOML basic string with every character that could break the file or a terminal escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ─── Raw file and validation ─────────────────────────────────────────────────────────────────────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<String>,
    options: Option<RawOptions>,
    #[serde(default)]
    host: Vec<Spanned<RawHost>>,
    #[serde(default)]
    network: Vec<Spanned<RawNetwork>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    rd_web_access: Option<bool>,
    udp_transport: Option<bool>,
    rd_gateway: Option<bool>,
    direct_connections: Option<bool>,
    nps: Option<bool>,
    crl_http: Option<bool>,
    crl_ftp: Option<bool>,
    crl_ldap: Option<bool>,
    legacy_license_server: Option<bool>,
    rd_web_in_perimeter: Option<bool>,
    rd_virtualization: Option<bool>,
    per_user_cal: Option<bool>,
    rdp_port: Option<Spanned<i64>>,
    wmi_fixed_port: Option<Spanned<i64>>,
}

impl RawOptions {
    /// Options with defaults that follow from the roles present: RD Web Access is deployed when
    /// an rd_web host is listed, and so on. UDP transport is on by default (Windows' default).
    fn resolve(&self, hosts: &[Host]) -> Options {
        let has = |role: Role| hosts.iter().any(|h| h.roles.contains(&role));
        let gateway = self.rd_gateway.unwrap_or(has(Role::RdGateway));
        Options {
            rd_web_access: self.rd_web_access.unwrap_or(has(Role::RdWeb)),
            udp_transport: self.udp_transport.unwrap_or(true),
            rd_gateway: gateway,
            direct_connections: self.direct_connections.unwrap_or(!gateway),
            nps: self.nps.unwrap_or(has(Role::Nps)),
            crl_http: self.crl_http.unwrap_or(has(Role::Crl)),
            crl_ftp: self.crl_ftp.unwrap_or(false),
            crl_ldap: self.crl_ldap.unwrap_or(false),
            legacy_license_server: self.legacy_license_server.unwrap_or(false),
            rd_web_in_perimeter: self.rd_web_in_perimeter.unwrap_or(false),
            rd_virtualization: self
                .rd_virtualization
                .unwrap_or(has(Role::RdVirtualizationHost)),
            per_user_cal: self.per_user_cal.unwrap_or(false),
            rdp_port: self
                .rdp_port
                .as_ref()
                .and_then(|p| u16::try_from(*p.get_ref()).ok())
                .unwrap_or(3389),
            wmi_fixed_port: self
                .wmi_fixed_port
                .as_ref()
                .and_then(|p| u16::try_from(*p.get_ref()).ok()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Spanned<String>,
    address: Option<Spanned<String>>,
    addresses: Option<Vec<Spanned<String>>>,
    roles: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    name: Spanned<String>,
    cidr: Spanned<String>,
    role: Option<Spanned<String>>,
}

struct Checker<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Checker<'_> {
    fn error(&self, span: &Range<usize>, field: Option<&str>, message: String) -> DeploymentError {
        let (line, column) = line_column(self.text, span.start);
        DeploymentError {
            origin: self.origin.to_owned(),
            line,
            column,
            field: field.map(str::to_owned),
            message,
        }
    }

    fn toml_error(&self, err: &toml::de::Error) -> DeploymentError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim_end().to_owned();
        let field = field_named_in(&message).or_else(|| key_of_line(self.text, span.start));
        self.error(&span, field.as_deref(), message)
    }

    fn role(&self, raw: &Spanned<String>, field: &str) -> Result<Role, DeploymentError> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == raw.get_ref().as_str())
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                self.error(
                    &raw.span(),
                    Some(field),
                    format!(
                        "unknown role `{}`; use one of: {}",
                        raw.get_ref(),
                        known.join(", ")
                    ),
                )
            })
    }

    fn deployment(&self, raw: RawFile) -> Result<Deployment, DeploymentError> {
        let mut hosts: Vec<Host> = Vec::new();
        let mut seen: BTreeMap<IpAddr, (String, usize)> = BTreeMap::new();
        for raw_host in &raw.host {
            let span = raw_host.span();
            let h = raw_host.get_ref();
            let name = h.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(self.error(&h.name.span(), Some("name"), "a host needs a name".into()));
            }
            let mut texts: Vec<&Spanned<String>> = h.addresses.iter().flatten().collect();
            texts.extend(h.address.iter());
            if texts.is_empty() {
                return Err(self.error(
                    &span,
                    Some("address"),
                    format!("host `{name}` has no `address` (or `addresses = [...]`)"),
                ));
            }
            let mut addresses = Vec::new();
            for text in texts {
                let addr: IpAddr = text.get_ref().trim().parse().map_err(|_| {
                    let hint = if text.get_ref().contains('/') {
                        "; a network belongs in a [[network]] table with `cidr`"
                    } else {
                        ""
                    };
                    self.error(
                        &text.span(),
                        Some("address"),
                        format!("`{}` is not an IPv4 or IPv6 address{hint}", text.get_ref()),
                    )
                })?;
                let (line, _) = line_column(self.text, text.span().start);
                if let Some((other, other_line)) = seen.get(&addr) {
                    return Err(self.error(
                        &text.span(),
                        Some("address"),
                        format!(
                            "{addr} is already host `{other}` (line {other_line}); give one host all its roles instead"
                        ),
                    ));
                }
                seen.insert(addr, (name.clone(), line));
                addresses.push(addr);
            }
            let mut roles = Vec::new();
            for raw_role in h.roles.get_ref() {
                let role = self.role(raw_role, "roles")?;
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            if roles.is_empty() {
                return Err(self.error(
                    &h.roles.span(),
                    Some("roles"),
                    format!("host `{name}` has no role"),
                ));
            }
            // `internet` means "outside the organisation": it cannot also be an internal role.
            if roles.contains(&Role::Internet) && roles.len() > 1 {
                return Err(self.error(
                    &h.roles.span(),
                    Some("roles"),
                    format!(
                        "host `{name}` is `internet` and also an internal role; an internet host cannot be part of the deployment"
                    ),
                ));
            }
            hosts.push(Host {
                name,
                addresses,
                roles,
                inferred: Vec::new(),
            });
        }
        let mut networks = Vec::new();
        for raw_network in &raw.network {
            let n = raw_network.get_ref();
            let cidr = Cidr::parse(n.cidr.get_ref())
                .map_err(|m| self.error(&n.cidr.span(), Some("cidr"), m))?;
            let role = match &n.role {
                Some(r) => self.role(r, "role")?,
                None => Role::Client,
            };
            if !matches!(role, Role::Client | Role::Admin) {
                let span = n.role.as_ref().map_or(raw_network.span(), Spanned::span);
                return Err(self.error(
                    &span,
                    Some("role"),
                    format!("a network can be `client` or `admin`, not `{role}`; list servers as [[host]]"),
                ));
            }
            networks.push(Network {
                name: n.name.get_ref().trim().to_owned(),
                cidr,
                role,
            });
        }
        let raw_options = raw.options.unwrap_or_default();
        for (field, value) in [
            ("rdp_port", &raw_options.rdp_port),
            ("wmi_fixed_port", &raw_options.wmi_fixed_port),
        ] {
            if let Some(port) = value {
                if !(1..=65535).contains(port.get_ref()) {
                    return Err(self.error(
                        &port.span(),
                        Some(field),
                        format!("{} is not a port (1-65535)", port.get_ref()),
                    ));
                }
            }
        }
        let options = raw_options.resolve(&hosts);
        Ok(Deployment {
            origin: self.origin.to_owned(),
            inferred: false,
            name: raw.name,
            hosts,
            networks,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "lab"
[options]
udp_transport = true
rdp_port = 3389

[[network]]
name = "office"
cidr = "10.1.10.0/24"

[[host]]
name = "rdgw"
address = "10.1.1.10"
roles = ["rd_gateway"]

[[host]]
name = "dc1"
addresses = ["10.1.0.5", "2001:db8:1::5"]
roles = ["domain_controller", "dns"]
"#;

    fn error(text: &str) -> DeploymentError {
        Deployment::from_toml(text, "d.toml").unwrap_err()
    }

    #[test]
    fn example_loads_with_derived_options() {
        let d = Deployment::from_toml(EXAMPLE, "d.toml").unwrap();
        assert_eq!(d.hosts.len(), 2);
        assert_eq!(d.host_of("2001:db8:1::5".parse().unwrap()), Some(1));
        assert_eq!(d.network_of("10.1.10.7".parse().unwrap()), Some(0));
        assert!(
            d.options.rd_gateway,
            "a gateway host implies the gateway option"
        );
        assert!(!d.options.direct_connections);
        assert!(!d.options.rd_web_access);
        // Round trip through the writer `rdsflows roles` uses.
        let again = Deployment::from_toml(&d.to_toml(), "d.toml").unwrap();
        assert_eq!(again.hosts, d.hosts);
        assert_eq!(again.networks, d.networks);
        assert_eq!(again.options, d.options);
    }

    #[test]
    fn unknown_role_names_line_field_and_vocabulary() {
        let e = error("[[host]]\nname = \"x\"\naddress = \"10.0.0.1\"\nroles = [\"rd_gatway\"]\n");
        assert_eq!((e.line, e.field.as_deref()), (4, Some("roles")));
        assert!(e.message.contains("rd_gateway"), "{e}");
        assert!(e.to_string().starts_with("d.toml:4:"), "{e}");
    }

    #[test]
    fn bad_address_and_cidr_are_located() {
        let e = error("[[host]]\nname = \"x\"\naddress = \"10.0.0.300\"\nroles = [\"dns\"]\n");
        assert_eq!((e.line, e.field.as_deref()), (3, Some("address")));
        let e = error("[[host]]\nname = \"x\"\naddress = \"10.0.0.0/24\"\nroles = [\"dns\"]\n");
        assert!(e.message.contains("[[network]]"), "{e}");
        let e = error("[[network]]\nname = \"n\"\ncidr = \"10.1.10.5/24\"\n");
        assert_eq!((e.line, e.field.as_deref()), (3, Some("cidr")));
        assert!(e.message.contains("10.1.10.0/24"), "{e}");
        let e = error("[[network]]\nname = \"n\"\ncidr = \"10.1.10.0/33\"\n");
        assert!(e.message.contains("0 to 32"), "{e}");
    }

    #[test]
    fn contradictions_are_refused() {
        let e = error("[[host]]\nname = \"x\"\naddress = \"10.0.0.1\"\nroles = [\"internet\", \"rd_broker\"]\n");
        assert_eq!(e.field.as_deref(), Some("roles"));
        let e = error(
            "[[host]]\nname = \"a\"\naddress = \"10.0.0.1\"\nroles = [\"dns\"]\n[[host]]\nname = \"b\"\naddress = \"10.0.0.1\"\nroles = [\"nps\"]\n",
        );
        assert_eq!(e.line, 7);
        assert!(e.message.contains("already host `a` (line 3)"), "{e}");
        let e = error("[[network]]\nname = \"n\"\ncidr = \"10.0.0.0/8\"\nrole = \"rd_broker\"\n");
        assert_eq!((e.line, e.field.as_deref()), (4, Some("role")));
    }

    #[test]
    fn unknown_keys_and_bad_ports_are_named() {
        let e = error("[options]\nudp = true\n");
        assert_eq!(e.field.as_deref(), Some("udp"));
        let e = error("[options]\nrdp_port = 70000\n");
        assert_eq!((e.line, e.field.as_deref()), (2, Some("rdp_port")));
    }

    #[test]
    fn cidr_membership() {
        let v4 = Cidr::parse("10.1.10.0/24").unwrap();
        assert!(v4.contains("10.1.10.255".parse().unwrap()));
        assert!(!v4.contains("10.1.11.0".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("10.1.10.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
    }
}
