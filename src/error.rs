//! Fatal errors: the ones that stop a run (bad signature file, unwritable output, no readable
//! input, a live capture that cannot start). Per-packet and per-file damage is not here: it is data, counted in `Stats`.

use std::io;
use std::path::PathBuf;

use crate::classify::signature::SignatureError;

/// A reason the run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The signature file is unreadable or invalid (the message names file, line and field).
    #[error("{0}")]
    Signatures(#[from] SignatureError),
    /// The deployment file is unreadable or invalid (file, line, field and the fix).
    #[error("{0}")]
    Deployment(#[from] crate::deployment::DeploymentError),
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// No input could be read at all.
    #[error("no capture could be read:\n  {}", .0.join("\n  "))]
    NoInput(Vec<String>),
    /// The command line asked for something impossible.
    #[error("{0}")]
    Usage(String),
    /// A live capture could not start (permission, interface, filter, `-w` file).
    #[cfg(feature = "live")]
    #[error("{0}")]
    Live(#[from] crate::capture::live::LiveError),
}
