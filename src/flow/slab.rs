//! The flow table's record storage: records addressed by a `u32` id, in fixed-size chunks with a
//! free list. Owns where a record lives and how much memory that takes; must not hash keys or
//! decide which flows live or end (that is the table's job).
//!
//! Why chunks and not one `Vec`: a `Vec` grows by doubling, so at a million flows it can hold
//! room for two million records, and each growth copies every record while the old and the new
//! buffer are both allocated (issue 6, "Throughput": peak memory bounded by `--max-flows`).
//! Chunks are allocated once at their final size and never move; the first chunk alone grows by
//! doubling, so a small table stays small.

/// Records per chunk (a power of two, so an id splits into chunk and offset with a shift). At
/// about 200 bytes a record, a chunk is under 1 MB: the last, partly used chunk wastes little.
const CHUNK_SLOTS: usize = 4096;

/// `Slot::Free`'s `next` at the end of the free list.
const NO_SLOT: u32 = u32::MAX;

/// The most slots a slab can address (`NO_SLOT` is not an id).
pub(super) const MAX_SLOTS: usize = NO_SLOT as usize;

#[derive(Debug)]
enum Slot<T> {
    Live(T),
    /// A free slot, linked to the next free one: reuse costs no memory beyond the slot itself.
    Free {
        next: u32,
    },
}

/// Records addressed by `u32` ids.
#[derive(Debug)]
pub(super) struct Slab<T> {
    chunks: Vec<Vec<Slot<T>>>,
    /// Head of the free list (most recently freed first, so its memory is likely still cached).
    free: u32,
    len: usize,
    /// Slots ever used (live or free): ids below this exist.
    slots: usize,
}

impl<T> Slab<T> {
    /// An empty slab; allocates nothing.
    pub(super) fn new() -> Self {
        Self {
            chunks: Vec::new(),
            free: NO_SLOT,
            len: 0,
            slots: 0,
        }
    }

    /// Live records.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Slots ever used, live or free: every id is below this.
    pub(super) fn slots(&self) -> usize {
        self.slots
    }

    fn slot(&self, id: u32) -> Option<&Slot<T>> {
        let id = id as usize;
        self.chunks
            .get(id / CHUNK_SLOTS)
            .and_then(|chunk| chunk.get(id % CHUNK_SLOTS))
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot<T>> {
        let id = id as usize;
        self.chunks
            .get_mut(id / CHUNK_SLOTS)
            .and_then(|chunk| chunk.get_mut(id % CHUNK_SLOTS))
    }

    /// The live record `id`.
    pub(super) fn get(&self, id: u32) -> Option<&T> {
        match self.slot(id) {
            Some(Slot::Live(value)) => Some(value),
            _ => None,
        }
    }

    /// The live record `id`, mutably.
    pub(super) fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        match self.slot_mut(id) {
            Some(Slot::Live(value)) => Some(value),
            _ => None,
        }
    }

    /// Stores `value` and returns its id: a freed slot when there is one, else a new slot.
    /// Gives the value back when all [`MAX_SLOTS`] ids are live (the table's cap keeps it far
    /// below that).
    pub(super) fn insert(&mut self, value: T) -> Result<u32, T> {
        if self.free != NO_SLOT {
            let id = self.free;
            if let Some(slot) = self.slot_mut(id) {
                if let Slot::Free { next } = *slot {
                    *slot = Slot::Live(value);
                    self.free = next;
                    self.len += 1;
                    return Ok(id);
                }
            }
            // A free-list head that is not a free slot would be a bug here; growing is still
            // correct, and the broken list is dropped rather than followed.
            self.free = NO_SLOT;
        }
        let Ok(id) = u32::try_from(self.slots) else {
            return Err(value);
        };
        if self.slots >= MAX_SLOTS {
            return Err(value);
        }
        if self
            .chunks
            .last()
            .is_none_or(|chunk| chunk.len() == CHUNK_SLOTS)
        {
            // The first chunk grows by doubling (a small table stays small); later ones are
            // allocated once, at their full size.
            let capacity = if self.chunks.is_empty() {
                0
            } else {
                CHUNK_SLOTS
            };
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let Some(chunk) = self.chunks.last_mut() else {
            return Err(value);
        };
        chunk.push(Slot::Live(value));
        self.slots += 1;
        self.len += 1;
        Ok(id)
    }

    /// Takes the live record `id` out; its slot is reused by a later insert.
    pub(super) fn remove(&mut self, id: u32) -> Option<T> {
        let next = self.free;
        let slot = self.slot_mut(id)?;
        if !matches!(slot, Slot::Live(_)) {
            return None;
        }
        let Slot::Live(value) = std::mem::replace(slot, Slot::Free { next }) else {
            return None;
        };
        self.free = id;
        self.len -= 1;
        Some(value)
    }

    /// Live records with their ids, in id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.chunks
            .iter()
            .flatten()
            .zip(0u32..)
            .filter_map(|(slot, id)| match slot {
                Slot::Live(value) => Some((id, value)),
                Slot::Free { .. } => None,
            })
    }

    /// Takes every live record out, in id order; the slab is left empty and its memory is freed
    /// as the iterator goes.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = T> {
        self.free = NO_SLOT;
        self.len = 0;
        self.slots = 0;
        std::mem::take(&mut self.chunks)
            .into_iter()
            .flatten()
            .filter_map(|slot| match slot {
                Slot::Live(value) => Some(value),
                Slot::Free { .. } => None,
            })
    }

    /// Bytes allocated: every chunk's capacity and the chunk list itself. O(1): the table asks
    /// on every new flow, and every chunk after the first has exactly `CHUNK_SLOTS` slots.
    pub(super) fn allocation_size(&self) -> usize {
        let slots = match self.chunks.split_first() {
            Some((first, rest)) => first.capacity() + rest.len() * CHUNK_SLOTS,
            None => 0,
        };
        slots * size_of::<Slot<T>>() + self.chunks.capacity() * size_of::<Vec<Slot<T>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_before_the_slab_grows() {
        let mut slab = Slab::new();
        let ids: Vec<u32> = (0..10).map(|n| slab.insert(n).unwrap()).collect();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
        assert_eq!(slab.remove(3), Some(3));
        assert_eq!(slab.remove(7), Some(7));
        assert_eq!(slab.remove(7), None, "a freed id is gone");
        assert_eq!(slab.get(3), None);
        assert_eq!(slab.len(), 8);
        // Most recently freed first.
        assert_eq!(slab.insert(70), Ok(7));
        assert_eq!(slab.insert(30), Ok(3));
        assert_eq!(slab.insert(10), Ok(10));
        assert_eq!(slab.slots(), 11);
        assert_eq!(slab.get(7), Some(&70));
        let live: Vec<_> = slab.iter().map(|(id, v)| (id, *v)).collect();
        assert_eq!(live.len(), 11);
        assert_eq!(live.get(3), Some(&(3, 30)));
    }

    #[test]
    fn chunks_after_the_first_are_allocated_at_full_size() {
        let mut slab = Slab::new();
        for n in 0..(CHUNK_SLOTS + 1) {
            slab.insert(n).unwrap();
        }
        let slot = size_of::<Slot<usize>>();
        let list = slab.chunks.capacity() * size_of::<Vec<Slot<usize>>>();
        assert_eq!(slab.allocation_size(), 2 * CHUNK_SLOTS * slot + list);
        let counted: usize = slab.chunks.iter().map(Vec::capacity).sum();
        assert_eq!(
            counted,
            2 * CHUNK_SLOTS,
            "the O(1) count is the real capacity"
        );
        let last = u32::try_from(CHUNK_SLOTS).unwrap();
        assert_eq!(slab.get(last), Some(&CHUNK_SLOTS));
        assert_eq!(slab.get_mut(last + 1), None);
        let drained: Vec<usize> = slab.drain().collect();
        assert_eq!(drained, (0..=CHUNK_SLOTS).collect::<Vec<_>>());
        assert_eq!((slab.len(), slab.slots()), (0, 0));
        assert_eq!(slab.insert(5), Ok(0));
    }
}
