//! Signature rules: the schema of `signatures/*.toml`, its loader and its validation.
//!
//! This module owns the port and role map that classification compares flows against: the closed
//! vocabularies ([`Role`], [`Condition`], [`Transport`], [`Evidence`]), the validated [`Rule`], and
//! [`SignatureSet`], which parses a TOML file and reports the first problem in it as a
//! [`SignatureError`] naming file, line, column and field. The shipped map
//! (`signatures/rds.toml`) is compiled in and returned by [`SignatureSet::builtin`].
//!
//! It must not classify flows, look at packets or print. Its only file-system access is
//! [`SignatureSet::load`], which `config` calls once at start-up; nothing on the per-packet path
//! may call it.
//!
//! Parsing is two-phase. serde reads a raw mirror whose fields are all [`toml::Spanned`] strings,
//! so that no value is interpreted by serde; then `Converter` checks each value and builds the
//! clean types, and every error can point at the exact value an administrator has to fix.
//! Syntax errors, unknown keys and values of the wrong TOML type are reported with the span that
//! the `toml` crate gives.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The shipped port and role map, compiled into the binary.
const BUILTIN_TOML: &str = include_str!("../../signatures/rds.toml");

/// The `origin` of [`SignatureSet::builtin`], as it appears in messages.
pub const BUILTIN_ORIGIN: &str = "signatures/rds.toml (built-in)";

/// Declares a closed keyword enum: the variants, their keyword in signature files (also their
/// serde name, so serde and [`as_str`](Role::as_str) cannot disagree), `ALL`, `as_str`, `Display`
/// and the private [`Keyword`] access the loader uses.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $keyword:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $keyword)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The keyword used for this value in signature files and reports.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $keyword, )+
                }
            }
        }

        impl Keyword for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }

            fn keyword(self) -> &'static str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum! {
    /// The transport a rule's ports belong to.
    pub enum Transport {
        /// TCP (RFC 9293).
        Tcp => "tcp",
        /// UDP (RFC 768).
        Udp => "udp",
    }
}

keyword_enum! {
    /// The part a host plays in a Remote Desktop Services deployment (closed vocabulary).
    ///
    /// A rule names the role that opens a connection ([`Rule::client_role`]) and the role that
    /// listens ([`Rule::server_role`]).
    pub enum Role {
        /// A Remote Desktop client (user device).
        Client => "client",
        /// RD Gateway: terminates HTTPS/UDP tunnels from the internet and relays RDP inward.
        RdGateway => "rd_gateway",
        /// RD Web Access: the web portal and RemoteApp feed.
        RdWeb => "rd_web",
        /// RD Connection Broker (RDCB).
        RdBroker => "rd_broker",
        /// RD Session Host (RDSH).
        RdSessionHost => "rd_session_host",
        /// RD Virtualization Host (RDVH), and in this map also the virtual desktops it hosts.
        RdVirtualizationHost => "rd_virtualization_host",
        /// RD License Server.
        RdLicenseServer => "rd_license_server",
        /// Active Directory domain controller.
        DomainController => "domain_controller",
        /// DNS server.
        Dns => "dns",
        /// Network Policy Server (RADIUS).
        Nps => "nps",
        /// Certificate revocation list distribution point.
        Crl => "crl",
        /// An administrator's workstation or management server.
        Admin => "admin",
        /// The internet, e.g. the Microsoft Clearing House.
        Internet => "internet",
    }
}

keyword_enum! {
    /// A deployment choice that makes a conditional rule apply (closed vocabulary).
    pub enum Condition {
        /// RD Web Access is deployed.
        RdWebAccess => "rd_web_access",
        /// RDP's UDP transport is enabled (MS-RDPEUDP; MS-TSGU UDP on the gateway).
        UdpTransport => "udp_transport",
        /// A central Network Policy Server authorizes gateway connections.
        Nps => "nps",
        /// Certificates publish their CRLs over HTTP.
        CrlHttp => "crl_http",
        /// Certificates publish their CRLs over FTP.
        CrlFtp => "crl_ftp",
        /// Certificates publish their CRLs over LDAP.
        CrlLdap => "crl_ldap",
        /// The licence server predates Windows Server 2008 (dynamic RPC in 1024-65535).
        LegacyLicenseServer => "legacy_license_server",
        /// RD Web Access sits in a perimeter network.
        RdWebInPerimeter => "rd_web_in_perimeter",
        /// Clients connect through an RD Gateway.
        RdGateway => "rd_gateway",
        /// Clients connect directly, without an RD Gateway.
        NoRdGateway => "no_rd_gateway",
        /// The deployment hosts virtual desktops (VDI).
        RdVirtualization => "rd_virtualization",
        /// Licensing uses per-user client access licences.
        PerUserCal => "per_user_cal",
    }
}

keyword_enum! {
    /// Evidence beyond the port number that a rule needs before it may classify a flow.
    pub enum Evidence {
        /// DCE/RPC evidence: an endpoint-mapper answer naming the port, or a bind on the flow
        /// itself (C706 ch. 12; MS-RPCE 2.2).
        Rpc => "rpc",
    }
}

/// Whether a deployment needs a rule's flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Every deployment that has both roles needs the flow.
    Required,
    /// The flow is needed only when the condition holds.
    Conditional(Condition),
}

impl Requirement {
    /// The keyword used in signature files: `"required"` or `"conditional"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Conditional(_) => "conditional",
        }
    }

    /// The condition of a conditional rule, `None` for a required one.
    pub const fn condition(self) -> Option<Condition> {
        match self {
            Self::Required => None,
            Self::Conditional(condition) => Some(condition),
        }
    }
}

/// An inclusive range of port numbers; `first == last` for a single port.
///
/// Ranges built by the loader always satisfy `1 <= first <= last`. A hand-built range with
/// `first > last` contains no port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    /// The lowest port in the range.
    pub first: u16,
    /// The highest port in the range.
    pub last: u16,
}

impl PortRange {
    /// A range holding exactly `port`.
    pub const fn single(port: u16) -> Self {
        Self {
            first: port,
            last: port,
        }
    }

    /// Whether `port` lies in the range.
    pub const fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    /// Whether the range holds exactly one port.
    pub const fn is_single(self) -> bool {
        self.first == self.last
    }
}

impl fmt::Display for PortRange {
    /// `"3389"` for a single port, `"49152-65535"` for a range: the signature-file syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One validated entry of the port and role map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Unique kebab-case identifier.
    pub id: String,
    /// Short protocol or service name, e.g. `rdp`; a transport and single port always map to
    /// the same service within a set.
    pub service: String,
    /// Transport of the listener's ports.
    pub transport: Transport,
    /// Listener ports; empty only when [`port_setting`](Self::port_setting) supplies the port.
    pub ports: Vec<PortRange>,
    /// Name of the deployment-file setting that supplies the port (e.g. `wmi_fixed_port`).
    pub port_setting: Option<String>,
    /// The role that opens the connection.
    pub client_role: Role,
    /// The role that listens.
    pub server_role: Role,
    /// Whether the flow is always needed or only under a condition.
    pub requirement: Requirement,
    /// Evidence required beyond the port; always set when a port is a range.
    pub needs_evidence: Option<Evidence>,
    /// The reference section the rule comes from, e.g. `rds-ports.md § Remote Desktop Session Host`.
    pub source: String,
    /// The reference bullet, quoted.
    pub bullet: String,
    /// A plain-language sentence for administrators.
    pub description: String,
    /// Protocol specification or RFC, when one applies.
    pub spec: Option<String>,
}

impl Rule {
    /// Whether the rule lists `port` on `transport`. Ports supplied by
    /// [`port_setting`](Self::port_setting) are not known here and never match.
    pub fn lists_port(&self, transport: Transport, port: u16) -> bool {
        self.transport == transport && self.ports.iter().any(|range| range.contains(port))
    }
}

/// A validated set of rules and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureSet {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// The file the rules came from (a path, or [`BUILTIN_ORIGIN`]).
    pub origin: String,
}

impl SignatureSet {
    /// The shipped map, `signatures/rds.toml`, parsed once per process.
    ///
    /// # Panics
    ///
    /// Never in a tested build: the file is compiled in and the unit test
    /// `shipped_set_loads` proves that it validates.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<SignatureSet> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                // The only expect in this module: the input is a compile-time constant that the
                // unit tests validate, so a failure is a build defect, not bad user input.
                Self::from_toml(BUILTIN_TOML, BUILTIN_ORIGIN)
                    .expect("signatures/rds.toml must validate (see tests::shipped_set_loads)")
            })
            .clone()
    }

    /// Parses and validates a signature file's text; `origin` (usually the path) prefixes every
    /// error message.
    ///
    /// # Errors
    ///
    /// The first problem found, checking rules in file order: TOML syntax, an unknown key, a missing or empty field, a
    /// value outside its vocabulary, a malformed port, a range without `needs_evidence`, an
    /// inconsistent requirement/condition pair, a duplicate id, or a transport and port mapped
    /// to two services.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SignatureError> {
        let converter = Converter { text, origin };
        let raw: RawFile = toml::from_str(text).map_err(|err| converter.toml_error(&err))?;
        let rules = converter.rules(raw)?;
        Ok(Self {
            rules,
            origin: origin.to_owned(),
        })
    }

    /// Reads and validates the signature file at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read (the error has line 0), or any error of
    /// [`from_toml`](Self::from_toml).
    pub fn load(path: &Path) -> Result<Self, SignatureError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text, &origin),
            Err(err) => Err(SignatureError {
                origin,
                line: 0,
                column: 0,
                field: None,
                message: format!("cannot read signature file: {err}"),
            }),
        }
    }

    /// The rules that list `port` on `transport`, in file order.
    pub fn rules_listing(&self, transport: Transport, port: u16) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(move |rule| rule.lists_port(transport, port))
    }

    /// Writes the rules back as a signature file (without comments) that
    /// [`from_toml`](Self::from_toml) accepts and turns into the same rules.
    ///
    /// # Errors
    ///
    /// Only if the `toml` serializer rejects a value, which plain strings and arrays never cause.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let file = OutFile {
            rule: self.rules.iter().map(OutRule::from).collect(),
        };
        toml::to_string(&file)
    }
}

/// A problem in a signature file, located at a line, column and field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureError {
    /// The file (path, or [`BUILTIN_ORIGIN`]).
    pub origin: String,
    /// 1-based line; 0 when the file could not be read at all.
    pub line: usize,
    /// 1-based column, in characters; 0 when `line` is 0.
    pub column: usize,
    /// The key the problem is in, when known.
    pub field: Option<String>,
    /// What is wrong, and how to fix it where that is not obvious.
    pub message: String,
}

impl fmt::Display for SignatureError {
    /// `FILE:LINE:COL: field `ports`: message`; the position is omitted when `line` is 0 and
    /// the field part when the field is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.origin)?;
        } else {
            write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SignatureError {}

// ─── Raw (phase one) ─────────────────────────────────────────────────────────────────────────────

/// The file as serde sees it: one array of `[[rule]]` tables. A missing array is caught by
/// `Converter::rules` so that an empty file gets a message of our own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

/// One `[[rule]]` table with every value kept as a spanned string. Required keys are `Option`
/// too, so that a missing key is reported by name at the rule's `[[rule]]` header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Option<Spanned<String>>,
    service: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    ports: Option<Spanned<Vec<Spanned<String>>>>,
    port_setting: Option<Spanned<String>>,
    client_role: Option<Spanned<String>>,
    server_role: Option<Spanned<String>>,
    requirement: Option<Spanned<String>>,
    condition: Option<Spanned<String>>,
    needs_evidence: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    bullet: Option<Spanned<String>>,
    description: Option<Spanned<String>>,
    spec: Option<Spanned<String>>,
}

/// Spans of one converted rule, kept for the checks that compare rules with each other.
struct RuleSpans {
    id: Range<usize>,
    service: Range<usize>,
}

// ─── Conversion (phase two) ──────────────────────────────────────────────────────────────────────

/// Turns raw spanned values into clean types, and byte spans into positioned errors.
struct Converter<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Converter<'_> {
    fn error(&self, span: &Range<usize>, field: Option<&str>, message: String) -> SignatureError {
        let (line, column) = line_column(self.text, span.start);
        SignatureError {
            origin: self.origin.to_owned(),
            line,
            column,
            field: field.map(str::to_owned),
            message,
        }
    }

    fn field_error(&self, span: &Range<usize>, field: &str, message: String) -> SignatureError {
        self.error(span, Some(field), message)
    }

    /// A `toml` error keeps its span and message; the field comes from the message ("unknown
    /// field `x`") or from the `key =` that starts the line the error is on.
    fn toml_error(&self, err: &toml::de::Error) -> SignatureError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim_end().to_owned();
        let field = field_named_in(&message).or_else(|| key_of_line(self.text, span.start));
        self.error(&span, field.as_deref(), message)
    }

    fn rules(&self, raw: RawFile) -> Result<Vec<Rule>, SignatureError> {
        if raw.rule.is_empty() {
            return Err(self.field_error(
                &(0..0),
                "rule",
                "the file defines no rules; add at least one [[rule]] table".to_owned(),
            ));
        }
        // id -> span of its first definition.
        let mut ids: HashMap<String, Range<usize>> = HashMap::new();
        // (transport, single port) -> (service, rule id, span of that rule's service).
        let mut services: HashMap<(Transport, u16), (String, String, Range<usize>)> =
            HashMap::new();
        let mut rules = Vec::with_capacity(raw.rule.len());
        for raw_rule in raw.rule {
            let (rule, spans) = self.rule(raw_rule)?;
            if let Some(first) = ids.get(&rule.id) {
                let (first_line, _) = line_column(self.text, first.start);
                return Err(self.field_error(
                    &spans.id,
                    "id",
                    format!(
                        "duplicate id `{}`: already used by the rule at line {first_line}",
                        rule.id
                    ),
                ));
            }
            ids.insert(rule.id.clone(), spans.id.clone());
            for range in rule.ports.iter().filter(|range| range.is_single()) {
                let key = (rule.transport, range.first);
                match services.get(&key) {
                    Some((service, other_id, other_span)) if *service != rule.service => {
                        let (other_line, _) = line_column(self.text, other_span.start);
                        return Err(self.field_error(
                            &spans.service,
                            "service",
                            format!(
                                "{}/{} is already service `{service}` in rule `{other_id}` \
                                 (line {other_line}); a transport and port must always name \
                                 the same service",
                                rule.transport, range.first
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        services.insert(
                            key,
                            (rule.service.clone(), rule.id.clone(), spans.service.clone()),
                        );
                    }
                }
            }
            rules.push(rule);
        }
        Ok(rules)
    }

    fn rule(&self, raw: Spanned<RawRule>) -> Result<(Rule, RuleSpans), SignatureError> {
        let header = raw.span();
        let raw = raw.into_inner();

        let id = self.required(&header, "id", raw.id)?;
        self.check_kebab(&id, "id")?;
        let service = self.required(&header, "service", raw.service)?;
        self.check_kebab(&service, "service")?;
        let transport = self.required(&header, "transport", raw.transport)?;
        let transport = self.keyword::<Transport>(&transport, "transport", "transport")?;

        let port_setting = raw
            .port_setting
            .map(|setting| {
                self.check_snake(&setting, "port_setting")?;
                Ok(setting.into_inner())
            })
            .transpose()?;
        let (ports, ports_span) = match raw.ports {
            Some(ports) => {
                let span = ports.span();
                let parsed = ports
                    .into_inner()
                    .into_iter()
                    .map(|port| {
                        parse_port_range(port.get_ref())
                            .map(|range| (range, port.span()))
                            .map_err(|message| self.field_error(&port.span(), "ports", message))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (parsed, span)
            }
            None => (Vec::new(), header.clone()),
        };
        if ports.is_empty() && port_setting.is_none() {
            return Err(self.field_error(
                &ports_span,
                "ports",
                "no ports: list at least one port, or name the deployment setting that \
                 supplies it with `port_setting`"
                    .to_owned(),
            ));
        }

        let client_role = self.required(&header, "client_role", raw.client_role)?;
        let client_role = self.keyword::<Role>(&client_role, "client_role", "role")?;
        let server_role = self.required(&header, "server_role", raw.server_role)?;
        let server_role = self.keyword::<Role>(&server_role, "server_role", "role")?;

        let requirement_raw = self.required(&header, "requirement", raw.requirement)?;
        let condition = raw
            .condition
            .map(|condition| {
                let value = self.keyword::<Condition>(&condition, "condition", "condition")?;
                Ok((value, condition.span()))
            })
            .transpose()?;
        let requirement = match (requirement_raw.get_ref().as_str(), condition) {
            ("required", None) => Requirement::Required,
            ("conditional", Some((condition, _))) => Requirement::Conditional(condition),
            ("required", Some((_, span))) => {
                return Err(self.field_error(
                    &span,
                    "condition",
                    "`condition` is only allowed with requirement = \"conditional\"".to_owned(),
                ))
            }
            ("conditional", None) => {
                return Err(self.field_error(
                    &requirement_raw.span(),
                    "condition",
                    format!(
                        "requirement = \"conditional\" needs a `condition`; expected one of: {}",
                        keywords(Condition::ALL)
                    ),
                ))
            }
            (other, _) => {
                return Err(self.field_error(
                    &requirement_raw.span(),
                    "requirement",
                    format!(
                        "unknown requirement `{other}`; expected one of: required, conditional"
                    ),
                ))
            }
        };

        let needs_evidence = raw
            .needs_evidence
            .map(|evidence| self.keyword::<Evidence>(&evidence, "needs_evidence", "evidence"))
            .transpose()?;
        if needs_evidence.is_none() {
            if let Some((range, span)) = ports.iter().find(|(range, _)| !range.is_single()) {
                return Err(self.field_error(
                    span,
                    "needs_evidence",
                    format!(
                        "port range {range} would classify flows by port alone; ranges overlap \
                         the source ports of ordinary clients, so set needs_evidence = \"rpc\" \
                         (or list single ports)"
                    ),
                ));
            }
        }

        let source = self.required(&header, "source", raw.source)?;
        self.check_not_blank(&source, "source")?;
        let bullet = self.required(&header, "bullet", raw.bullet)?;
        self.check_not_blank(&bullet, "bullet")?;
        let description = self.required(&header, "description", raw.description)?;
        self.check_not_blank(&description, "description")?;
        let spec = raw
            .spec
            .map(|spec| {
                self.check_not_blank(&spec, "spec")?;
                Ok(spec.into_inner())
            })
            .transpose()?;

        let spans = RuleSpans {
            id: id.span(),
            service: service.span(),
        };
        let rule = Rule {
            id: id.into_inner(),
            service: service.into_inner(),
            transport,
            ports: ports.into_iter().map(|(range, _)| range).collect(),
            port_setting,
            client_role,
            server_role,
            requirement,
            needs_evidence,
            source: source.into_inner(),
            bullet: bullet.into_inner(),
            description: description.into_inner(),
            spec,
        };
        Ok((rule, spans))
    }

    /// A required key, or an error at the rule's `[[rule]]` header naming the missing key.
    fn required<T>(
        &self,
        header: &Range<usize>,
        field: &str,
        value: Option<Spanned<T>>,
    ) -> Result<Spanned<T>, SignatureError> {
        value.ok_or_else(|| {
            self.field_error(header, field, format!("missing required key `{field}`"))
        })
    }

    /// A value from a closed vocabulary; the error lists the allowed keywords.
    fn keyword<K: Keyword>(
        &self,
        value: &Spanned<String>,
        field: &str,
        noun: &str,
    ) -> Result<K, SignatureError> {
        K::parse(value.get_ref()).ok_or_else(|| {
            self.field_error(
                &value.span(),
                field,
                format!(
                    "unknown {noun} `{}`; expected one of: {}",
                    value.get_ref(),
                    keywords(K::all())
                ),
            )
        })
    }

    fn check_not_blank(&self, value: &Spanned<String>, field: &str) -> Result<(), SignatureError> {
        if value.get_ref().trim().is_empty() {
            Err(self.field_error(&value.span(), field, "must not be empty".to_owned()))
        } else {
            Ok(())
        }
    }

    /// Ids and services: lower-case words joined by single hyphens, e.g. `rdp-udp`.
    fn check_kebab(&self, value: &Spanned<String>, field: &str) -> Result<(), SignatureError> {
        self.check_not_blank(value, field)?;
        if is_words(value.get_ref(), '-') {
            Ok(())
        } else {
            Err(self.field_error(
                &value.span(),
                field,
                format!(
                    "`{}` is not kebab-case: use lower-case letters and digits joined by single \
                     hyphens, e.g. `rdp-client-to-session-host`",
                    value.get_ref()
                ),
            ))
        }
    }

    /// Setting names: lower-case words joined by single underscores, e.g. `wmi_fixed_port`.
    fn check_snake(&self, value: &Spanned<String>, field: &str) -> Result<(), SignatureError> {
        self.check_not_blank(value, field)?;
        if is_words(value.get_ref(), '_') {
            Ok(())
        } else {
            Err(self.field_error(
                &value.span(),
                field,
                format!(
                    "`{}` is not snake_case: use lower-case letters and digits joined by single \
                     underscores, e.g. `wmi_fixed_port`",
                    value.get_ref()
                ),
            ))
        }
    }
}

/// What the loader needs from a closed keyword enum; implemented by `keyword_enum!`.
trait Keyword: Copy + fmt::Display + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    /// The value's keyword in signature files.
    fn keyword(self) -> &'static str;
    /// The value whose keyword is exactly `text`.
    fn parse(text: &str) -> Option<Self> {
        Self::all()
            .iter()
            .copied()
            .find(|value| value.keyword() == text)
    }
}

/// `"a, b, c"` from a keyword list.
fn keywords<K: fmt::Display>(all: &[K]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Non-empty runs of `[a-z0-9]` joined by single `separator`s.
fn is_words(value: &str, separator: char) -> bool {
    value.split(separator).all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    })
}

/// Parses `"N"` or `"N-M"` with `1 <= N <= M <= 65535`, digits only.
fn parse_port_range(text: &str) -> Result<PortRange, String> {
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (parse_port(text, first)?, parse_port(text, last)?),
        None => {
            let port = parse_port(text, text)?;
            (port, port)
        }
    };
    if first > last {
        return Err(format!(
            "port range `{text}` is reversed: the first port must not exceed the last"
        ));
    }
    Ok(PortRange { first, last })
}

/// One port number of `whole`; the error quotes `whole`.
fn parse_port(whole: &str, part: &str) -> Result<u16, String> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{whole}` is not a port: expected \"N\" or \"N-M\" with N and M in 1-65535"
        ));
    }
    match part.parse::<u32>() {
        Ok(0) => Err(format!("port 0 in `{whole}` is not a valid port (1-65535)")),
        Ok(port) => u16::try_from(port)
            .map_err(|_| format!("port {port} in `{whole}` is out of range 1-65535")),
        // Only an overflow of u32 gets here: digits were checked above.
        Err(_) => Err(format!(
            "port `{part}` in `{whole}` is out of range 1-65535"
        )),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (index, c) in text.char_indices() {
        if index >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// The key in a serde message such as "unknown field `colour`, expected …".
pub(crate) fn field_named_in(message: &str) -> Option<String> {
    [
        "unknown field `",
        "missing field `",
        "duplicate field `",
        "duplicate key `",
    ]
    .iter()
    .find_map(|prefix| message.strip_prefix(prefix))
    .and_then(|rest| rest.split_once('`'))
    .map(|(field, _)| field.to_owned())
}

/// The bare key at the start of the line holding byte `offset` (`ports = [3389]` gives `ports`).
pub(crate) fn key_of_line(text: &str, offset: usize) -> Option<String> {
    let start = text
        .get(..offset)?
        .rfind('\n')
        .map_or(0, |newline| newline + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    bare.then(|| key.to_owned())
}

// ─── Serialization mirror ────────────────────────────────────────────────────────────────────────

#[derive(Serialize)]
struct OutFile<'a> {
    rule: Vec<OutRule<'a>>,
}

/// A rule in signature-file form; field order matches the shipped file.
#[derive(Serialize)]
struct OutRule<'a> {
    id: &'a str,
    service: &'a str,
    transport: &'static str,
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_setting: Option<&'a str>,
    client_role: &'static str,
    server_role: &'static str,
    requirement: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    needs_evidence: Option<&'static str>,
    source: &'a str,
    bullet: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<&'a str>,
}

impl<'a> From<&'a Rule> for OutRule<'a> {
    fn from(rule: &'a Rule) -> Self {
        Self {
            id: &rule.id,
            service: &rule.service,
            transport: rule.transport.as_str(),
            ports: rule.ports.iter().map(ToString::to_string).collect(),
            port_setting: rule.port_setting.as_deref(),
            client_role: rule.client_role.as_str(),
            server_role: rule.server_role.as_str(),
            requirement: rule.requirement.as_str(),
            condition: rule.requirement.condition().map(Condition::as_str),
            needs_evidence: rule.needs_evidence.map(Evidence::as_str),
            source: &rule.source,
            bullet: &rule.bullet,
            description: &rule.description,
            spec: rule.spec.as_deref(),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests: a panic is the failure report"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ── The shipped set ─────────────────────────────────────────────────────────────────────────

    #[test]
    fn shipped_set_loads() {
        let set = SignatureSet::from_toml(BUILTIN_TOML, BUILTIN_ORIGIN)
            .unwrap_or_else(|err| panic!("{err}"));
        assert!(!set.rules.is_empty());
        assert_eq!(SignatureSet::builtin(), set);
    }

    /// A `- ` bullet of the seed and the heading path it sits under (H1 excluded).
    struct SeedBullet {
        section: String,
        text: String,
    }

    /// Every heading path (H2 and below, joined with " > ") and every bullet of the seed.
    fn parse_seed(markdown: &str) -> (Vec<String>, Vec<SeedBullet>) {
        let mut lines = markdown.lines().peekable();
        // Skip YAML front matter.
        if lines.peek() == Some(&"---") {
            lines.next();
            for line in lines.by_ref() {
                if line == "---" {
                    break;
                }
            }
        }
        let mut path: Vec<String> = Vec::new();
        let mut sections = Vec::new();
        let mut bullets = Vec::new();
        for line in lines {
            let level = line.chars().take_while(|&c| c == '#').count();
            if level > 0 && line[level..].starts_with(' ') {
                path.truncate(level.saturating_sub(2));
                if level >= 2 {
                    path.push(normalise(&line[level..]));
                    sections.push(path.join(" > "));
                }
            } else if let Some(bullet) = line.strip_prefix("- ") {
                bullets.push(SeedBullet {
                    section: path.join(" > "),
                    text: normalise(bullet),
                });
            }
        }
        (sections, bullets)
    }

    /// Collapses whitespace and removes markdown backslash escapes (`\<` → `<`).
    fn normalise(text: &str) -> String {
        let mut unescaped = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match chars.peek() {
                Some(&next) if c == '\\' && next.is_ascii_punctuation() => {}
                _ => unescaped.push(c),
            }
        }
        unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn seed() -> Option<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/rds-ports.md");
        std::fs::read_to_string(path).ok()
    }

    fn seed_source(section: &str) -> String {
        format!("rds-ports.md § {section}")
    }

    #[test]
    fn shipped_set_covers_every_seed_bullet() {
        let Some(markdown) = seed() else {
            println!("skipped: ../shared/seeds/rds-ports.md not found");
            return;
        };
        let (_, bullets) = parse_seed(&markdown);
        assert_eq!(bullets.len(), 39, "the seed's bullet count changed");
        let set = SignatureSet::builtin();
        let missing: Vec<String> = bullets
            .iter()
            .filter(|bullet| {
                !set.rules.iter().any(|rule| {
                    normalise(&rule.bullet) == bullet.text
                        && rule.source == seed_source(&bullet.section)
                })
            })
            .map(|bullet| format!("{} :: {}", bullet.section, bullet.text))
            .collect();
        assert!(missing.is_empty(), "bullets without a rule: {missing:#?}");
    }

    #[test]
    fn every_shipped_rule_cites_a_real_seed_bullet() {
        let Some(markdown) = seed() else {
            println!("skipped: ../shared/seeds/rds-ports.md not found");
            return;
        };
        let (sections, bullets) = parse_seed(&markdown);
        for rule in SignatureSet::builtin().rules {
            assert!(
                sections.iter().any(|s| rule.source == seed_source(s)),
                "rule {} cites unknown section {:?}",
                rule.id,
                rule.source
            );
            assert!(
                bullets
                    .iter()
                    .any(|b| rule.source == seed_source(&b.section)
                        && normalise(&rule.bullet) == b.text),
                "rule {} quotes a bullet that is not in its section: {:?}",
                rule.id,
                rule.bullet
            );
        }
    }

    #[test]
    fn shipped_services_follow_the_service_map() {
        // service -> (transport, ports) as agreed for the project.
        let map: &[(&str, Transport, &[&str])] = &[
            ("rdp", Transport::Tcp, &["3389"]),
            ("rdp-udp", Transport::Udp, &["3389"]),
            ("https", Transport::Tcp, &["443"]),
            ("rdg-udp", Transport::Udp, &["3391"]),
            ("rdcb", Transport::Tcp, &["5504"]),
            ("rpc-epm", Transport::Tcp, &["135"]),
            ("rpc-dynamic", Transport::Tcp, &["49152-65535"]),
            ("rpc-dynamic-legacy", Transport::Tcp, &["1024-65535"]),
            ("smb", Transport::Tcp, &["445"]),
            ("netbios-ssn", Transport::Tcp, &["139"]),
            ("netbios-ns", Transport::Udp, &["137"]),
            ("netbios-dgm", Transport::Udp, &["138"]),
            ("kerberos", Transport::Tcp, &["88"]),
            ("kerberos", Transport::Udp, &["88"]),
            ("ldap", Transport::Tcp, &["389"]),
            ("cldap", Transport::Udp, &["389"]),
            ("ldaps", Transport::Tcp, &["636"]),
            ("dns", Transport::Tcp, &["53"]),
            ("dns", Transport::Udp, &["53"]),
            ("http", Transport::Tcp, &["80"]),
            ("ftp", Transport::Tcp, &["21"]),
            ("radius", Transport::Udp, &["1812"]),
            ("radius-acct", Transport::Udp, &["1813"]),
            ("winrm", Transport::Tcp, &["5985"]),
            ("wmi", Transport::Tcp, &[]),
        ];
        for rule in SignatureSet::builtin().rules {
            let ports: Vec<String> = rule.ports.iter().map(ToString::to_string).collect();
            assert!(
                map.iter().any(|(service, transport, expected)| {
                    *service == rule.service && *transport == rule.transport && ports == *expected
                }),
                "rule {} ({} {}/{:?}) is off the service map",
                rule.id,
                rule.service,
                rule.transport,
                ports
            );
            if rule.service == "rpc-dynamic-legacy" {
                assert_eq!(
                    rule.requirement,
                    Requirement::Conditional(Condition::LegacyLicenseServer),
                    "{}",
                    rule.id
                );
            }
            if rule.service == "wmi" {
                assert_eq!(rule.port_setting.as_deref(), Some("wmi_fixed_port"));
            }
            if rule.service.starts_with("rpc-dynamic") {
                assert_eq!(rule.needs_evidence, Some(Evidence::Rpc), "{}", rule.id);
            }
        }
    }

    #[test]
    fn shipped_set_round_trips_through_toml() {
        let set = SignatureSet::builtin();
        let text = set.to_toml().unwrap();
        let again = SignatureSet::from_toml(&text, "round-trip.toml")
            .unwrap_or_else(|err| panic!("{err}\n{text}"));
        assert_eq!(again.rules, set.rules);
    }

    #[test]
    fn keyword_serde_names_match_as_str() {
        for role in Role::ALL {
            let json = serde_json::to_string(role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), *role);
        }
        for condition in Condition::ALL {
            let json = serde_json::to_string(condition).unwrap();
            assert_eq!(json, format!("\"{condition}\""));
        }
        assert_eq!(serde_json::to_string(&Transport::Udp).unwrap(), "\"udp\"");
        assert_eq!(Transport::Tcp.to_string(), "tcp");
    }

    // ── Field-level errors ──────────────────────────────────────────────────────────────────────

    /// A valid one-rule file; tests replace one line to break it.
    const VALID: &str = r#"# test rule
[[rule]]
id = "rdp-client-to-session-host"
service = "rdp"
transport = "tcp"
ports = ["3389"]
client_role = "client"
server_role = "rd_session_host"
requirement = "required"
source = "rds-ports.md § From client to RD resource"
bullet = "TCP and UDP 3389: Standard Remote Desktop Protocol (RDP) port."
description = "Clients connect to session hosts."
"#;

    /// A second valid rule, appended by tests that need two.
    const SECOND: &str = r#"
[[rule]]
id = "https-client-to-rd-web"
service = "https"
transport = "tcp"
ports = ["443"]
client_role = "client"
server_role = "rd_web"
requirement = "conditional"
condition = "rd_web_access"
source = "rds-ports.md § From client to RD resource"
bullet = "TCP 443 (HTTPS): Required if RDWeb is deployed."
description = "Users open RD Web Access."
"#;

    fn with(from: &str, to: &str) -> String {
        assert!(VALID.contains(from), "test bug: {from:?} not in VALID");
        VALID.replacen(from, to, 1)
    }

    fn error_of(text: &str) -> SignatureError {
        match SignatureSet::from_toml(text, "test.toml") {
            Ok(set) => panic!("expected an error, got {set:?}"),
            Err(err) => err,
        }
    }

    /// 1-based (line, column) of the `nth` (0-based) occurrence of `needle`, computed
    /// independently of `line_column`.
    fn locate_nth(text: &str, needle: &str, nth: usize) -> (usize, usize) {
        text.lines()
            .enumerate()
            .flat_map(|(index, line)| {
                line.match_indices(needle)
                    .map(move |(column, _)| (index + 1, column + 1))
            })
            .nth(nth)
            .unwrap_or_else(|| panic!("test bug: {needle:?} #{nth} not found"))
    }

    fn locate(text: &str, needle: &str) -> (usize, usize) {
        locate_nth(text, needle, 0)
    }

    #[track_caller]
    fn assert_error(text: &str, at: (usize, usize), field: &str, message_part: &str) {
        let err = error_of(text);
        assert_eq!((err.line, err.column), at, "position of {err} in\n{text}");
        assert_eq!(err.field.as_deref(), Some(field), "field of {err}");
        assert!(
            err.message.contains(message_part),
            "message {:?} lacks {message_part:?}",
            err.message
        );
        assert_eq!(err.origin, "test.toml");
    }

    #[test]
    fn valid_fixture_loads() {
        let set = SignatureSet::from_toml(VALID, "test.toml").unwrap();
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.rules[0].ports, vec![PortRange::single(3389)]);
        assert_eq!(set.origin, "test.toml");
        let two = format!("{VALID}{SECOND}");
        assert_eq!(SignatureSet::from_toml(&two, "t").unwrap().rules.len(), 2);
    }

    #[test]
    fn toml_syntax_error_uses_toml_span_and_names_the_key() {
        // A bare word is not a TOML value: toml points at it, the line's key names the field.
        let text = with(r#"transport = "tcp""#, "transport = tcp");
        let err = error_of(&text);
        assert_eq!((err.line, err.column), locate(&text, "tcp"), "{err}");
        assert_eq!(err.field.as_deref(), Some("transport"));
        assert_eq!(err.origin, "test.toml");
        // An unclosed array runs on into the next line; toml reports where it noticed.
        let text = with(r#"ports = ["3389"]"#, r#"ports = ["3389""#);
        let err = error_of(&text);
        assert_eq!(err.line, locate(&text, "client_role").0, "{err}");
        assert!(err.message.contains("array"), "{err}");
    }

    #[test]
    fn unknown_field_is_named_at_its_key() {
        let text = with("description =", "colour = \"red\"\ndescription =");
        assert_error(&text, locate(&text, "colour"), "colour", "unknown field");
    }

    #[test]
    fn wrong_value_type_names_the_key() {
        let text = with(r#"ports = ["3389"]"#, "ports = [3389]");
        assert_error(&text, locate(&text, "3389"), "ports", "invalid type");
    }

    #[test]
    fn unknown_role_lists_the_vocabulary() {
        let text = with(r#"client_role = "client""#, r#"client_role = "clinet""#);
        assert_error(
            &text,
            locate(&text, "\"clinet\""),
            "client_role",
            "unknown role `clinet`; expected one of: client, rd_gateway",
        );
        let text = with(r#""rd_session_host""#, r#""session_host""#);
        assert_error(
            &text,
            locate(&text, "\"session_host\""),
            "server_role",
            "unknown role",
        );
    }

    #[test]
    fn unknown_condition_is_rejected() {
        let text = format!("{VALID}{SECOND}").replacen("\"rd_web_access\"", "\"rdweb\"", 1);
        assert_error(
            &text,
            locate(&text, "\"rdweb\""),
            "condition",
            "unknown condition",
        );
    }

    #[test]
    fn unknown_transport_is_rejected() {
        let text = with(r#"transport = "tcp""#, r#"transport = "sctp""#);
        assert_error(
            &text,
            locate(&text, "\"sctp\""),
            "transport",
            "expected one of: tcp, udp",
        );
    }

    #[test]
    fn unknown_requirement_and_evidence_are_rejected() {
        let text = with(r#""required""#, r#""mandatory""#);
        assert_error(
            &text,
            locate(&text, "\"mandatory\""),
            "requirement",
            "unknown requirement",
        );
        let text = with("description =", "needs_evidence = \"tls\"\ndescription =");
        assert_error(
            &text,
            locate(&text, "\"tls\""),
            "needs_evidence",
            "unknown evidence",
        );
    }

    #[test]
    fn missing_service_is_reported_at_the_rule_header() {
        let text = with("service = \"rdp\"\n", "");
        assert_error(
            &text,
            locate(&text, "[[rule]]"),
            "service",
            "missing required key",
        );
    }

    #[test]
    fn empty_id_is_rejected() {
        let text = with(r#"id = "rdp-client-to-session-host""#, r#"id = """#);
        assert_error(&text, locate(&text, "\"\""), "id", "must not be empty");
        let text = with(
            r#"id = "rdp-client-to-session-host""#,
            r#"id = "Not_Kebab""#,
        );
        assert_error(
            &text,
            locate(&text, "\"Not_Kebab\""),
            "id",
            "not kebab-case",
        );
    }

    #[test]
    fn duplicate_id_points_at_the_second_and_names_the_first_line() {
        let second = SECOND.replacen("https-client-to-rd-web", "rdp-client-to-session-host", 1);
        let text = format!("{VALID}{second}");
        let first_line = locate(&text, "\"rdp-client-to-session-host\"").0;
        assert_error(
            &text,
            locate_nth(&text, "\"rdp-client-to-session-host\"", 1),
            "id",
            &format!("already used by the rule at line {first_line}"),
        );
    }

    #[test]
    fn bad_port_strings_point_at_the_element() {
        for (bad, message) in [
            ("0", "port 0"),
            ("70000", "out of range"),
            ("10-5", "reversed"),
            ("abc", "is not a port"),
            ("", "is not a port"),
            (" 3389", "is not a port"),
            ("+3389", "is not a port"),
            ("1-", "is not a port"),
            ("99999999999", "out of range"),
        ] {
            let text = with(
                r#"ports = ["3389"]"#,
                &format!(r#"ports = ["443", "{bad}"]"#),
            );
            assert_error(
                &text,
                locate(&text, &format!("\"{bad}\"")),
                "ports",
                message,
            );
        }
    }

    #[test]
    fn empty_ports_need_a_port_setting() {
        let text = with(r#"ports = ["3389"]"#, "ports = []");
        assert_error(&text, locate(&text, "[]"), "ports", "port_setting");
        let text = with("ports = [\"3389\"]\n", "");
        assert_error(&text, locate(&text, "[[rule]]"), "ports", "no ports");
        // With a port setting the same rule is valid.
        let text = with(
            r#"ports = ["3389"]"#,
            "ports = []\nport_setting = \"wmi_fixed_port\"",
        );
        let set = SignatureSet::from_toml(&text, "test.toml").unwrap();
        assert_eq!(set.rules[0].port_setting.as_deref(), Some("wmi_fixed_port"));
        let text = with(
            r#"ports = ["3389"]"#,
            "ports = []\nport_setting = \"WMI port\"",
        );
        assert_error(
            &text,
            locate(&text, "\"WMI port\""),
            "port_setting",
            "snake_case",
        );
    }

    #[test]
    fn conditional_needs_a_condition_and_required_forbids_one() {
        let text = with(
            r#"requirement = "required""#,
            r#"requirement = "conditional""#,
        );
        assert_error(
            &text,
            locate(&text, "\"conditional\""),
            "condition",
            "needs a `condition`",
        );
        let text = with(
            "requirement = \"required\"",
            "requirement = \"required\"\ncondition = \"nps\"",
        );
        assert_error(&text, locate(&text, "\"nps\""), "condition", "only allowed");
    }

    #[test]
    fn port_range_without_evidence_is_rejected() {
        let text = with(r#"ports = ["3389"]"#, r#"ports = ["135", "49152-65535"]"#);
        assert_error(
            &text,
            locate(&text, "\"49152-65535\""),
            "needs_evidence",
            "49152-65535 would classify flows by port alone",
        );
        let text = with(
            r#"ports = ["3389"]"#,
            "ports = [\"49152-65535\"]\nneeds_evidence = \"rpc\"",
        );
        let set = SignatureSet::from_toml(&text, "test.toml").unwrap();
        assert_eq!(set.rules[0].needs_evidence, Some(Evidence::Rpc));
    }

    #[test]
    fn evidence_on_a_single_port_is_allowed() {
        let text = with("description =", "needs_evidence = \"rpc\"\ndescription =");
        let set = SignatureSet::from_toml(&text, "test.toml").unwrap();
        assert_eq!(set.rules[0].needs_evidence, Some(Evidence::Rpc));
    }

    #[test]
    fn one_transport_and_port_cannot_name_two_services() {
        let second = SECOND.replacen("\"443\"", "\"3389\"", 1);
        let text = format!("{VALID}{second}");
        assert_error(
            &text,
            locate(&text, "\"https\""),
            "service",
            "tcp/3389 is already service `rdp` in rule `rdp-client-to-session-host` (line 4)",
        );
        // The same port on the other transport is a different key.
        let udp = second.replacen("\"tcp\"", "\"udp\"", 1);
        assert!(SignatureSet::from_toml(&format!("{VALID}{udp}"), "t").is_ok());
    }

    #[test]
    fn empty_source_is_rejected() {
        let text = with(
            r#"source = "rds-ports.md § From client to RD resource""#,
            r#"source = "  ""#,
        );
        assert_error(
            &text,
            locate(&text, "\"  \""),
            "source",
            "must not be empty",
        );
        let text = with(
            "source = \"rds-ports.md § From client to RD resource\"\n",
            "",
        );
        assert_error(
            &text,
            locate(&text, "[[rule]]"),
            "source",
            "missing required key",
        );
    }

    #[test]
    fn empty_file_has_no_rules() {
        assert_error("# nothing here\n", (1, 1), "rule", "no rules");
        let text = "[[rul]]\n";
        assert_error(text, (1, 3), "rul", "unknown field");
    }

    #[test]
    fn display_is_file_line_column_field_message() {
        let text = with(r#"ports = ["3389"]"#, r#"ports = ["70000"]"#);
        let err = error_of(&text);
        assert_eq!(
            err.to_string(),
            "test.toml:6:10: field `ports`: port 70000 in `70000` is out of range 1-65535"
        );
        let unreadable = SignatureError {
            origin: "x.toml".to_owned(),
            line: 0,
            column: 0,
            field: None,
            message: "cannot read".to_owned(),
        };
        assert_eq!(unreadable.to_string(), "x.toml: cannot read");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "§" is two bytes in UTF-8 but one column: the stray `x` after it is at column 19.
        let text = with(
            "description = \"Clients connect to session hosts.\"",
            "description = \"§\" x",
        );
        let err = error_of(&text);
        assert_eq!((err.line, err.column), (12, 19), "{err}");
        assert_eq!(err.field.as_deref(), Some("description"));
        assert_eq!(line_column("a§b\nc", 3), (1, 3));
        assert_eq!(line_column("a§b\nc", 5), (2, 1));
        assert_eq!(line_column("", 10), (1, 1));
    }

    // ── Port ranges ─────────────────────────────────────────────────────────────────────────────

    #[test]
    fn port_range_contains_and_is_single() {
        let range = PortRange {
            first: 49152,
            last: 65535,
        };
        assert!(range.contains(49152) && range.contains(65535) && !range.contains(49151));
        assert!(!range.is_single());
        assert!(PortRange::single(3389).is_single());
        assert_eq!(parse_port_range("3389-3389"), Ok(PortRange::single(3389)));
    }

    proptest! {
        #[test]
        fn port_range_display_parses_back(first in 1u16.., len in 0u16..) {
            let last = first.saturating_add(len);
            let range = PortRange { first, last };
            prop_assert_eq!(parse_port_range(&range.to_string()), Ok(range));
        }
    }
}
