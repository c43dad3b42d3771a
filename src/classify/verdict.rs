//! What the classifier concluded about a flow: the service, how sure it is, and the evidence.
//! Owns the closed `Verdict` vocabulary; must not compute anything (that is `classify`'s job).

use serde::Serialize;

/// Index of a service in the loaded signature set (`Classifier::service_name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u16);

/// How sure rdsflows is that a flow is the RDS service it names (rusticata's graded probe result).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not an RDS service, or no evidence at all.
    #[default]
    NotRds,
    /// The port suggests a service but something weakens it (a range port with only indirect evidence).
    Unsure,
    /// The server port is one the map lists for the service.
    Likely,
    /// The payload confirms the service.
    Certain,
}

impl Verdict {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRds => "not_rds",
            Self::Unsure => "unsure",
            Self::Likely => "likely",
            Self::Certain => "certain",
        }
    }
}

/// Evidence bits gathered while a flow is alive.
pub mod evidence {
    /// The first client payload is a DCE/RPC connection-oriented PDU (C706 section 12.6).
    pub const DCERPC_PAYLOAD: u8 = 0x01;
    /// The same client asked the same server's endpoint mapper (tcp/135) shortly before.
    pub const EPM_BEFORE: u8 = 0x02;
    /// The server port is in a dynamic RPC range and the SYN showed who the server is.
    pub const SERVER_FROM_SYN: u8 = 0x04;
}

/// The classification stored in each flow record: small and `Copy`, so the flow table stays lean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowClass {
    /// The service, when one applies.
    pub service: Option<ServiceId>,
    /// How sure.
    pub verdict: Verdict,
    /// Evidence bits (see [`evidence`]).
    pub evidence: u8,
    /// Payload-carrying packets already inspected, per direction (to server, to client); the
    /// classifier stops looking after a bounded number.
    pub inspected: [u8; 2],
}
