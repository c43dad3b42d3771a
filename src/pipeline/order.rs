//! The order ended flows are reported in: by end time, then first packet, then key. Owns the
//! reorder buffer that turns "when a sweep noticed the flow" into "when the flow ended", so the
//! flow lines and the summary come out the same whatever the sweep timing and however many
//! shards the table was split into. Must not decide when a flow ends (the flow table does).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::flow::{EndReason, FlowKey, FlowRecord};
use crate::time::Timestamp;

/// Where an ended flow sorts: end time, first packet, key. Total: two ended flows never share
/// all three (a key is live once at a time, and a reused key starts a later flow).
pub(crate) type EndKey = (Timestamp, Timestamp, FlowKey);

/// An ended flow with its sort key.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) key: EndKey,
    pub(crate) flow: FlowRecord,
    pub(crate) reason: EndReason,
}

impl Ended {
    pub(crate) fn new(flow: FlowRecord, reason: EndReason, end_time: Timestamp) -> Self {
        Self {
            key: (end_time, flow.first_seen, flow.key),
            flow,
            reason,
        }
    }
}

impl PartialEq for Ended {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Ended {}
impl PartialOrd for Ended {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ended {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// Ended flows held until no flow that ends earlier can still turn up.
///
/// A flow table knows it has ended every flow whose end time is before its last sweep
/// (`FlowTable::swept_through`); flows ended since then wait here until the next sweep passes
/// them, normally the flows of about a second of capture time.
///
/// Memory stays bounded by `--max-flows` whatever the input: evicted flows are not held (their
/// end depends on the table's fill, so their order is not the same for every sharding anyway),
/// and when more than `cap` flows wait at once (a flood of port reuses within one instant of
/// capture time, say) they are all released in order as they stand.
#[derive(Debug)]
pub(crate) struct EndOrder {
    /// The held flows' sort keys, with where each flow is in `held`. The heap moves only keys:
    /// moving whole flow records through it made `memmove` the largest item in the profile of
    /// a two-thread run's merging thread (issue 6).
    heap: BinaryHeap<Reverse<(EndKey, usize)>>,
    held: Vec<Option<Ended>>,
    /// Places in `held` free for reuse.
    free: Vec<usize>,
    evicted: Vec<Ended>,
    cap: usize,
}

impl Default for EndOrder {
    fn default() -> Self {
        Self::with_cap(usize::MAX)
    }
}

impl EndOrder {
    /// The most flows held for a table of `max_flows`: a quarter of it, and at least 65,536.
    pub(crate) fn for_max_flows(max_flows: usize) -> Self {
        Self::with_cap((max_flows / 4).max(65_536))
    }

    fn with_cap(cap: usize) -> Self {
        Self {
            heap: BinaryHeap::new(),
            held: Vec::new(),
            free: Vec::new(),
            evicted: Vec::new(),
            cap,
        }
    }

    pub(crate) fn push(&mut self, ended: Ended) {
        if ended.reason == EndReason::Evicted {
            self.evicted.push(ended);
            return;
        }
        let key = ended.key;
        let at = match self.free.pop() {
            Some(at) => {
                if let Some(slot) = self.held.get_mut(at) {
                    *slot = Some(ended);
                }
                at
            }
            None => {
                self.held.push(Some(ended));
                self.held.len() - 1
            }
        };
        self.heap.push(Reverse((key, at)));
    }

    /// Flows held now.
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.evicted.len()
    }

    /// The earliest held flow, taken out.
    fn pop(&mut self) -> Option<Ended> {
        let Reverse((_, at)) = self.heap.pop()?;
        let ended = self.held.get_mut(at).and_then(Option::take);
        self.free.push(at);
        ended
    }

    /// Hands `emit` the evicted flows, then every held flow that ended before `watermark`, in
    /// order (all of them when more than the cap wait).
    pub(crate) fn release<E>(
        &mut self,
        watermark: Timestamp,
        mut emit: impl FnMut(Ended) -> Result<(), E>,
    ) -> Result<(), E> {
        for ended in self.evicted.drain(..) {
            emit(ended)?;
        }
        let watermark = if self.heap.len() > self.cap {
            Timestamp::MAX
        } else {
            watermark
        };
        while self
            .heap
            .peek()
            .is_some_and(|Reverse((key, _))| key.0 < watermark)
        {
            if let Some(ended) = self.pop() {
                emit(ended)?;
            }
        }
        Ok(())
    }

    /// Hands `emit` every held flow, evicted ones first, then in order (the input is over).
    pub(crate) fn release_all<E>(
        &mut self,
        mut emit: impl FnMut(Ended) -> Result<(), E>,
    ) -> Result<(), E> {
        for ended in self.evicted.drain(..) {
            emit(ended)?;
        }
        while !self.heap.is_empty() {
            if let Some(ended) = self.pop() {
                emit(ended)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;
    use crate::flow::Side;
    use std::net::{IpAddr, Ipv4Addr};

    fn ended(port: u16, first: i64, end: i64, reason: EndReason) -> Ended {
        let host = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let (key, _) = FlowKey::new(host, port, host, 3389, 6);
        let flow = FlowRecord::new(
            key,
            Side::A,
            false,
            Timestamp::from_nanos(first),
            PacketPos::default(),
        );
        Ended::new(flow, reason, Timestamp::from_nanos(end))
    }

    fn ports(released: &[Ended]) -> Vec<u16> {
        released.iter().map(|e| e.flow.key.a_port).collect()
    }

    #[test]
    fn releases_in_end_order_only_below_the_watermark() {
        let mut order = EndOrder::default();
        order.push(ended(1, 0, 30, EndReason::Idle));
        order.push(ended(2, 0, 10, EndReason::Closed));
        order.push(ended(3, 5, 20, EndReason::PortReuse));
        order.push(ended(4, 1, 20, EndReason::Idle));
        let mut out = Vec::new();
        order
            .release(Timestamp::from_nanos(20), |e| {
                out.push(e);
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(ports(&out), [2], "20 is not before the watermark 20");
        order
            .release_all(|e| {
                out.push(e);
                Ok::<(), ()>(())
            })
            .unwrap();
        // Same end time: the earlier first packet first.
        assert_eq!(ports(&out), [2, 4, 3, 1]);
    }

    #[test]
    fn evicted_flows_and_overflow_are_not_held() {
        let mut order = EndOrder::with_cap(2);
        order.push(ended(1, 0, 50, EndReason::Idle));
        order.push(ended(2, 0, 99, EndReason::Evicted));
        let mut out = Vec::new();
        let mut emit = |e| {
            out.push(e);
            Ok::<(), ()>(())
        };
        order.release(Timestamp::ZERO, &mut emit).unwrap();
        assert_eq!(order.len(), 1, "the evicted flow went at once");
        order.push(ended(3, 0, 40, EndReason::PortReuse));
        order.push(ended(4, 0, 45, EndReason::PortReuse));
        order.release(Timestamp::ZERO, &mut emit).unwrap();
        assert_eq!(order.len(), 0, "past the cap everything goes, in order");
        assert_eq!(ports(&out), [2, 3, 4, 1]);
    }
}
