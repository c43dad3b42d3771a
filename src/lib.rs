//! rdsflows: classify network flows against the Microsoft Remote Desktop Services port and role map.
//!
//! ```text
//! capture (I/O) ──RawPacket<'a>──▶ decode ──Decoded<'a>──▶ flow ──&FlowRecord──▶ classify ──▶ report (I/O)
//! ```
//!
//! `decode`, `flow` and `classify` are pure: bytes and capture timestamps in, values out; no file,
//! terminal or clock I/O. Time always comes from the packet, never from the wall clock.

pub mod capture;
pub mod classify;
pub mod decode;
pub mod flow;
pub mod time;
