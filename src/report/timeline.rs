//! The timeline: flow starts per service in fixed time buckets, for the report's "flows over the
//! capture" chart. Owns the bounded histogram and the choice of bucket width; must not keep
//! anything per flow (memory is bounded by services × [`MAX_SPAN`] whatever the capture size).
//!
//! Buckets are aligned on multiples of their width since the epoch, and every width on the
//! ladder is a multiple of the one before it, so coarsening merges whole buckets and never
//! splits one: the counts stay exact whatever order flows end in.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::time::Timestamp;

/// Bucket widths in seconds, each a multiple of the previous (1 s … 1 week); beyond the last
/// the width doubles.
const LADDER: [i64; 14] = [
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800,
];
/// Most buckets the builder spans before it coarsens (the memory bound per service).
pub const MAX_SPAN: i64 = 1024;
/// Most buckets the finished timeline has: enough for a readable chart row.
pub const MAX_BUCKETS: i64 = 60;
const NANOS: i64 = 1_000_000_000;

/// Flow starts per service over the capture.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// Start of the first bucket (seconds since the epoch, a multiple of `bucket_seconds`), or
    /// null when there was no packet.
    pub start: Option<f64>,
    /// Width of every bucket in seconds: 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 21600,
    /// 43200, 86400, 604800, or a doubling of that.
    pub bucket_seconds: f64,
    /// How many buckets each service line has (at most 60), covering the capture.
    pub buckets: usize,
    /// One line per RDS service seen, in signature order.
    pub services: Vec<ServiceTimeline>,
}

/// One service's line of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceTimeline {
    /// Service name from the signatures.
    pub service: String,
    /// Flows that started in each bucket.
    pub flows: Vec<u64>,
    /// Of those, flows rejected or unanswered.
    pub failed: Vec<u64>,
}

/// The bucket width at a ladder level, in nanoseconds (saturating).
fn width_nanos(level: usize) -> i64 {
    let seconds = match LADDER.get(level) {
        Some(s) => *s,
        None => {
            let doublings = u32::try_from(level + 1 - LADDER.len()).unwrap_or(u32::MAX);
            LADDER[LADDER.len() - 1].saturating_mul(2_i64.saturating_pow(doublings))
        }
    };
    seconds.saturating_mul(NANOS)
}

/// Folds flow starts into buckets; coarsens when the span would exceed [`MAX_SPAN`].
#[derive(Debug, Default)]
pub struct TimelineBuilder {
    level: usize,
    /// (service id, bucket index) -> [flows, failed].
    counts: BTreeMap<(u16, i64), [u64; 2]>,
    /// Lowest and highest bucket index seen.
    range: Option<(i64, i64)>,
}

impl TimelineBuilder {
    /// Counts one flow of service `service` that started at `first_seen`.
    pub fn add(&mut self, service: u16, first_seen: Timestamp, failed: bool) {
        let mut index = first_seen.as_nanos().div_euclid(width_nanos(self.level));
        let (low, high) = self
            .range
            .map_or((index, index), |(l, h)| (l.min(index), h.max(index)));
        if high.saturating_sub(low) >= MAX_SPAN {
            self.coarsen_to_span(low, high, MAX_SPAN);
            index = first_seen.as_nanos().div_euclid(width_nanos(self.level));
        } else {
            self.range = Some((low, high));
        }
        let entry = self.counts.entry((service, index)).or_default();
        entry[0] += 1;
        entry[1] += u64::from(failed);
    }

    /// Raises the level until the buckets from `low` to `high` (at the current level) fit in
    /// `span` buckets, merging the counts.
    fn coarsen_to_span(&mut self, low: i64, high: i64, span: i64) {
        let old = width_nanos(self.level);
        let mut level = self.level;
        let (first, last) = (low.saturating_mul(old), high.saturating_mul(old));
        while last.div_euclid(width_nanos(level)) - first.div_euclid(width_nanos(level)) >= span {
            level += 1;
        }
        if level == self.level {
            return;
        }
        let factor = width_nanos(level) / old;
        self.level = level;
        let counts = std::mem::take(&mut self.counts);
        for ((service, index), [flows, failed]) in counts {
            let entry = self
                .counts
                .entry((service, index.div_euclid(factor)))
                .or_default();
            entry[0] += flows;
            entry[1] += failed;
        }
        self.range = Some((low.div_euclid(factor), high.div_euclid(factor)));
    }

    /// The finished timeline: at most [`MAX_BUCKETS`] buckets covering the flow starts and the
    /// capture span (`first`, `last` packet), one line per service `name` knows, in id order.
    pub fn finish(
        mut self,
        name: impl Fn(u16) -> Option<String>,
        capture: Option<(Timestamp, Timestamp)>,
    ) -> Timeline {
        let width = width_nanos(self.level);
        let mut range = self.range;
        if let Some((first, last)) = capture {
            let (a, b) = (
                first.as_nanos().div_euclid(width),
                last.as_nanos().div_euclid(width),
            );
            let (a, b) = (a.min(b), a.max(b));
            range = Some(range.map_or((a, b), |(l, h)| (l.min(a), h.max(b))));
        }
        let Some((low, high)) = range else {
            return Timeline {
                bucket_seconds: 1.0,
                ..Timeline::default()
            };
        };
        self.range = Some((low, high));
        self.coarsen_to_span(low, high, MAX_BUCKETS);
        let (low, high) = self.range.unwrap_or((low, high));
        let width = width_nanos(self.level);
        let buckets = usize::try_from(high - low + 1).unwrap_or(0);
        let mut services: Vec<ServiceTimeline> = Vec::new();
        let mut current: Option<u16> = None;
        for ((service, index), [flows, failed]) in &self.counts {
            if current != Some(*service) {
                let Some(name) = name(*service) else { continue };
                current = Some(*service);
                services.push(ServiceTimeline {
                    service: name,
                    flows: vec![0; buckets],
                    failed: vec![0; buckets],
                });
            }
            let Some(line) = services.last_mut() else {
                continue;
            };
            let Ok(slot) = usize::try_from(index - low) else {
                continue;
            };
            if let (Some(f), Some(x)) = (line.flows.get_mut(slot), line.failed.get_mut(slot)) {
                *f += flows;
                *x += failed;
            }
        }
        Timeline {
            start: Some(low as f64 * width as f64 / NANOS as f64),
            bucket_seconds: width as f64 / NANOS as f64,
            buckets,
            services,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_nanos(secs * NANOS)
    }

    fn names(id: u16) -> Option<String> {
        Some(format!("s{id}"))
    }

    #[test]
    fn short_capture_gets_small_buckets_and_exact_counts() {
        let mut b = TimelineBuilder::default();
        let t0 = 1_793_606_400; // 2026-11-02 08:00:00 UTC
        for s in 0..210 {
            b.add(1, at(t0 + s), s % 7 == 0);
        }
        b.add(0, at(t0 + 3), false);
        let t = b.finish(names, Some((at(t0), at(t0 + 210))));
        assert_eq!(t.bucket_seconds, 5.0);
        assert_eq!(t.start, Some(t0 as f64));
        assert_eq!(t.buckets, 43);
        assert_eq!(t.services.len(), 2);
        assert_eq!(t.services[0].service, "s0");
        assert_eq!(t.services[1].flows.iter().sum::<u64>(), 210);
        assert_eq!(t.services[1].failed.iter().sum::<u64>(), 30);
        assert_eq!(t.services[1].flows[0], 5);
    }

    #[test]
    fn memory_stays_bounded_and_counts_survive_coarsening() {
        let mut b = TimelineBuilder::default();
        // A year of flows, out of order, every 17 minutes, over three services.
        let mut n = 0u64;
        for i in (0..31_000i64).rev() {
            b.add((i % 3) as u16, at(i * 1020), i % 2 == 0);
            n += 1;
            assert!(b.counts.len() <= 3 * MAX_SPAN as usize);
        }
        let t = b.finish(names, None);
        assert!(t.buckets as i64 <= MAX_BUCKETS);
        let total: u64 = t.services.iter().flat_map(|s| s.flows.iter()).sum();
        assert_eq!(total, n);
        assert_eq!(t.bucket_seconds, 604_800.0);
    }

    #[test]
    fn bogus_timestamps_far_apart_do_not_overflow() {
        let mut b = TimelineBuilder::default();
        b.add(0, Timestamp::from_nanos(i64::MIN / 2), false);
        b.add(0, Timestamp::from_nanos(i64::MAX / 2), true);
        b.add(0, Timestamp::ZERO, false);
        let t = b.finish(names, None);
        assert!(t.buckets as i64 <= MAX_BUCKETS && t.buckets > 0);
        assert_eq!(t.services[0].flows.iter().sum::<u64>(), 3);
    }

    #[test]
    fn no_flows_no_lines() {
        let t = TimelineBuilder::default().finish(names, Some((at(10), at(20))));
        assert!(t.services.is_empty());
        assert_eq!(t.buckets, 11);
        let empty = TimelineBuilder::default().finish(names, None);
        assert_eq!(empty.buckets, 0);
        assert_eq!(empty.start, None);
    }
}
