//! The live status line on stderr: packets per second, live flows, RDS services seen so far and
//! kernel drops, redrawn about once a second on a terminal (a plain line a minute otherwise).
//! Owns the line's text and pacing, and may read the wall clock for that (it is I/O at the
//! edge); must not write to stdout or change anything the run computes.

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use console::Term;

use super::text::group;
use crate::pipeline::{RunObserver, RunStatus};

/// How often the line is redrawn on a terminal.
const TERMINAL_EVERY: Duration = Duration::from_secs(1);
/// How often a line is written when stderr is a file or a pipe (a journal, a log): once a
/// second would flood it.
const PLAIN_EVERY: Duration = Duration::from_secs(60);

/// Service names shown on the line (the count is always complete); keeps it on one row.
const MAX_NAMES: usize = 6;

#[derive(Debug)]
enum Output {
    Hidden,
    /// Redrawn in place: cleared, then written cut to the terminal's width with no padding, so
    /// the cursor stays after the text and the terminal's "^C" echo does not wrap (indicatif
    /// pads to the last column, and after Ctrl-C its clear then hit the wrong line).
    Terminal(Term),
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
            Output::Terminal(Term::stderr())
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
        let services = match status.rds_services {
            [] => "none yet".to_string(),
            names if names.len() <= MAX_NAMES => format!("{} ({})", names.len(), names.join(", ")),
            names => format!(
                "{} ({}, …)",
                names.len(),
                names
                    .iter()
                    .take(MAX_NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        // Drops come before the service list, so a narrow terminal cuts the names, not them.
        let drops = match status.kernel {
            Some(k) if k.dropped + k.if_dropped > 0 => format!(
                "{} dropped (kernel {}, interface {})",
                group(k.dropped + k.if_dropped),
                group(k.dropped),
                group(k.if_dropped)
            ),
            Some(_) => "0 dropped".to_string(),
            None => "drops unknown".to_string(),
        };
        format!(
            "{interface}: {} packets, {:.0} pkt/s, {} live flows, {} ended, {drops}; RDS services: {services}",
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
            Output::Terminal(term) => {
                // Room for the "^C" echo after the text.
                let width = usize::from(term.size().1).saturating_sub(4).max(20);
                let _ = term.clear_line();
                let _ = term.write_str(&console::truncate_str(&line, width, "…"));
                let _ = term.flush();
            }
            Output::Plain => {
                let _ = writeln!(std::io::stderr().lock(), "rdsflows: {line}");
            }
            Output::Hidden => {}
        }
    }

    fn finish(&self) {
        if let Output::Terminal(term) = &self.output {
            let _ = term.clear_line();
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
            "eth0: 12,345 packets, 210 pkt/s, 7 live flows, 1,200 ended, \
             3 dropped (kernel 3, interface 0); RDS services: 2 (rdp, kerberos)"
        );
        let quiet = RunStatus {
            rds_services: &[],
            kernel: Some(KernelStats::default()),
            ..status
        };
        let line = StatusLine::text("lo", &quiet, 0.0);
        assert!(
            line.contains(" 0 dropped; RDS services: none yet"),
            "{line}"
        );
        let many = [
            "rdp", "rdp-udp", "rdcb", "kerberos", "ldap", "dns", "radius", "smb",
        ];
        let busy = RunStatus {
            rds_services: &many,
            ..status
        };
        assert!(StatusLine::text("lo", &busy, 0.0)
            .contains("RDS services: 8 (rdp, rdp-udp, rdcb, kerberos, ldap, dns, …)"));
    }
}
