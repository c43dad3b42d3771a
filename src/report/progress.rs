//! Progress on stderr with indicatif: bytes read of the total, packets per second, time left.
//! Owns the bar; hidden with `--quiet` or when stderr is not a terminal. Must not write to stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::{RunObserver, RunStatus};

/// A progress bar that may be hidden.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for `total` bytes (a spinner when unknown); hidden when `quiet` or stderr is not a
    /// terminal.
    pub fn new(total: Option<u64>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                let style =
                    ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} eta {eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar
            }
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        Self { bar: Some(bar) }
    }

    /// Updates the position and the packet rate.
    pub fn update(&self, bytes: u64, packets: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            let secs = bar.elapsed().as_secs_f64();
            if secs > 0.0 {
                bar.set_message(format!("{:.0} pkt/s", packets as f64 / secs));
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl RunObserver for Progress {
    fn tick(&self, status: &RunStatus<'_>) {
        self.update(status.bytes_read, status.packets);
    }

    fn finish(&self) {
        Self::finish(self);
    }
}
