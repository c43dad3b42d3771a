//! rdsflows: classify network flows against the Microsoft Remote Desktop Services port and role map.
//!
//! ```text
//! capture (I/O) ──RawPacket<'a>──▶ decode ──Decoded<'a>──▶ flow ──&FlowRecord──▶ classify ──▶ report (I/O)
//! ```
//!
//! `decode`, `flow` and `classify` are pure: bytes and capture timestamps in, values out; no file,
//! terminal or clock I/O. Time always comes from the packet, never from the wall clock.
//! `pipeline` runs the stages in order; `main` owns arguments, files and exit codes.

pub mod bench;
pub mod capture;
pub mod classify;
pub mod cli;
pub mod decode;
pub mod deployment;
pub mod error;
pub mod flow;
pub mod incident;
pub mod pipeline;
pub mod report;
pub mod stats;
pub mod synth;
pub mod time;
pub mod verdict;
