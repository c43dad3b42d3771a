//! Flows: bidirectional conversations built from decoded packets. Owns keys, records, TCP state
//! and the table; must not read the clock, inspect payloads beyond handing them on, or decide
//! services.

pub mod key;
pub mod record;
mod slab;
pub mod state;
pub mod table;

pub use key::{FlowKey, Side};
pub use record::{uid_of, Direction, EndReason, FlowRecord, Outcome};
pub use state::ConnState;
pub use table::{end_time, FlowTable, FlowTableConfig, PacketUpdate, ServicePorts, TableStats};
