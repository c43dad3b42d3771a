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
/// them. The buffer holds at most the flows ended between two sweeps.
#[derive(Debug, Default)]
pub(crate) struct EndOrder {
    heap: BinaryHeap<Reverse<Ended>>,
}

impl EndOrder {
    pub(crate) fn push(&mut self, ended: Ended) {
        self.heap.push(Reverse(ended));
    }

    /// Flows held now.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Hands `emit` every held flow that ended before `watermark`, in order.
    pub(crate) fn release<E>(
        &mut self,
        watermark: Timestamp,
        mut emit: impl FnMut(Ended) -> Result<(), E>,
    ) -> Result<(), E> {
        while self
            .heap
            .peek()
            .is_some_and(|Reverse(e)| e.key.0 < watermark)
        {
            if let Some(Reverse(ended)) = self.heap.pop() {
                emit(ended)?;
            }
        }
        Ok(())
    }

    /// Hands `emit` every held flow, in order (the input is over).
    pub(crate) fn release_all<E>(
        &mut self,
        mut emit: impl FnMut(Ended) -> Result<(), E>,
    ) -> Result<(), E> {
        while let Some(Reverse(ended)) = self.heap.pop() {
            emit(ended)?;
        }
        Ok(())
    }
}
