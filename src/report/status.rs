//! The live status line on stderr: packets per second, live flows, RDS services seen so far and
//! kernel drops, redrawn about once a second on a terminal (a plain line a minute otherwise).
//! Owns the line's text and pacing, and may read the wall clock for that (it is I/O at the
//! edge); must not write to stdout or change anything the run computes.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::text::group;
use crate::pipeline::{RunObserver, RunStatus};

/// How often the line is redrawn on a terminal.
const TERMINAL_EVERY: Duration = Duration::from_secs(1);
/// How often a line is written when stderr is a file or a pipe (a journal, a log): once a
/// second would flood it.
const PLAIN_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum Output {
    Hidden,
    Terminal(ProgressBar),
    Plain,
}

#[derive(Clone, Copy, Debug)]
struct Last {
    at: Instant,
    packets: u64,
}

/// The status line of a live capture.
#[derive(Debug)]
pub struct StatusLine {
    interface: String,
    output: Output,
    every: Duration,
    last: Cell<Last>,
}

impl StatusLine {
    /// A status line for a capture on `interface`: redrawn in place when stderr is a terminal,
    /// a plain line a minute when it is not, nothing when `quiet`.
    pub fn new(interface: &str, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let output = if quiet {
            Output::Hidden
        } else if terminal {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            Output::Terminal(bar)
        } else {
            Output::Plain
        };
        Self {
            interface: interface.to_string(),
            output,
            every: if terminal {
                TERMINAL_EVERY
            } else {
                PLAIN_EVERY
            },
            last: Cell::new(Last {
                at: Instant::now(),
                packets: 0,
            }),
        }
    }

    /// The line's text, from a status and the packet rate.
    pub fn text(interface: &str, status: &RunStatus<'_>, packets_per_sec: f64) -> String {
        let services = if status.rds_services.is_empty() {
            "none yet".to_string()
        } else {
            format!(
                "{} ({})",
                status.rds_services.len(),
                status.rds_services.join(", ")
            )
        };
        let drops = match status.kernel {
            Some(k) => format!(
                "dropped {} (kernel {}, interface {})",
                group(k.dropped + k.if_dropped),
                group(k.dropped),
                group(k.if_dropped)
            ),
            None => "dropped: unknown".to_string(),
        };
        format!(
            "{interface}: {} packets, {:.0} pkt/s, {} live flows, {} ended; RDS services: {services}; {drops}",
            group(status.packets),
            packets_per_sec,
            group(status.live_flows),
            group(status.ended_flows),
        )
    }
}

impl RunObserver for StatusLine {
    fn tick(&self, status: &RunStatus<'_>) {
        if matches!(self.output, Output::Hidden) {
            return;
        }
        let now = Instant::now();
        let last = self.last.get();
        let elapsed = now.duration_since(last.at);
        if elapsed < self.every {
            return;
        }
        let rate = status.packets.saturating_sub(last.packets) as f64 / elapsed.as_secs_f64();
        self.last.set(Last {
            at: now,
            packets: status.packets,
        });
        let line = Self::text(&self.interface, status, rate);
        match &self.output {
            Output::Terminal(bar) => {
                bar.set_message(line);
                bar.tick();
            }
            Output::Plain => {
                let _ = writeln!(std::io::stderr().lock(), "rdsflows: {line}");
            }
            Output::Hidden => {}
        }
    }

    fn finish(&self) {
        if let Output::Terminal(bar) = &self.output {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::KernelStats;

    #[test]
    fn the_line_names_rate_flows_services_and_drops() {
        let services = ["rdp", "kerberos"];
        let status = RunStatus {
            packets: 12_345,
            wire_bytes: 0,
            bytes_read: 0,
            live_flows: 7,
            ended_flows: 1_200,
            rds_services: &services,
            kernel: Some(KernelStats {
                received: 12_400,
                dropped: 3,
                if_dropped: 0,
            }),
        };
        assert_eq!(
            StatusLine::text("eth0", &status, 210.4),
            "eth0: 12,345 packets, 210 pkt/s, 7 live flows, 1,200 ended; \
             RDS services: 2 (rdp, kerberos); dropped 3 (kernel 3, interface 0)"
        );
        let quiet = RunStatus {
            rds_services: &[],
            kernel: None,
            ..status
        };
        assert!(StatusLine::text("lo", &quiet, 0.0).contains("RDS services: none yet"));
    }
}
