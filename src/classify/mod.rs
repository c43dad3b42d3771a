//! Classification: which RDS service a flow is, by port and (pluggable) payload checks.
pub mod verdict;
