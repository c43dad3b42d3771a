//! `--threads N` over one plain pcap file. Every thread reads and decodes chunks of the file
//! (the next one, whenever it has nothing to track), and keeps the flow table of one shard of
//! address pairs, fed the decoded packets of every chunk in file order. No frame crosses
//! between cores: only decoded packets do, and the payload bytes of the few that the payload
//! checks read. (Handing frames from one reading thread to workers held `sharded` near 1.25×:
//! moving them between cores cost more than decoding them. README, Performance.)
//!
//! A thread decodes a chunk from where its first record most likely starts, without waiting
//! for the chunk before to be read. No packet of a chunk reaches a flow table before that
//! guess has been checked against where the chunk before really ended; a wrong guess means
//! reading the chunk again. Chunks are therefore checked, and tracked, strictly in file order,
//! and numbers, the capture clock and time steps back are counted from the chunks before when
//! a chunk is tracked, not when it is decoded.
//!
//! Owns the chunk schedule, the check of the guesses and the hand-off of decoded packets; must
//! give exactly the flow lines and summary of one thread. The shards' replies and the merge
//! are `sharded`'s, so the two designs cannot drift apart in what they report.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::handoff::PacketList;
use super::order::{EndOrder, Ended};
use super::sharded::{shard_config, shard_of_packet, FromWorker, Merge};
use super::{account, collect_ended, note_input_error, tick, track, Reading, RunObserver};
use super::{ServicesSeen, PROGRESS_EVERY};
use crate::capture::chunks::{Fetched, Loaded, PcapChunks, CHUNK_BYTES};
use crate::capture::{CaptureError, PacketPos, RawPacket};
use crate::classify::Classifier;
use crate::decode::decode;
use crate::flow::{FlowTable, FlowTableConfig};
use crate::report::Summary;
use crate::stats::Stats;
use crate::time::Timestamp;

/// Chunks a thread may decode past the one the slowest shard is tracking: bounds memory (a
/// chunk's bytes are held until every shard has taken its packets) while keeping every thread
/// busy.
const CHUNKS_AHEAD: usize = 4;

/// The largest chunk buffer kept for reuse: a chunk and its last record of ordinary size.
const KEPT_BUFFER_BYTES: usize = 2 * CHUNK_BYTES as usize;

/// What every shard learns of a chunk when it tracks it.
#[derive(Clone, Copy, Debug, Default)]
struct ChunkFacts {
    /// Frames in the chunk.
    frames: u64,
    /// The latest time in it.
    max_ts: Option<Timestamp>,
}

/// What shard 0 reports for the whole run about a chunk: its counts, and its damage.
#[derive(Debug)]
struct ChunkCounts {
    stats: Stats,
    first_ts: Option<Timestamp>,
    last_ts: Option<Timestamp>,
    /// File bytes the chunk's records took.
    bytes: u64,
    damage: Option<CaptureError>,
}

/// One chunk's packets for one shard.
struct Handoff {
    chunk: Arc<Loaded>,
    packets: PacketList,
    facts: ChunkFacts,
    /// Shard 0's only.
    counts: Option<Box<ChunkCounts>>,
}

/// A chunk decoded from a start not yet checked.
struct Decoded {
    /// Where its first record was taken to start.
    start: u64,
    /// Where the next chunk's first record starts; `None` when the file ends in this chunk.
    next: Option<u64>,
    /// One per shard.
    handoffs: Vec<Handoff>,
}

/// What the threads share, under one lock.
struct Board {
    /// Chunks in the file.
    count: usize,
    /// Chunks decoded and waiting for their check, by index.
    decoded: BTreeMap<usize, Decoded>,
    /// Chunks `[0, checked)` are checked: their packets are in `ready`.
    checked: usize,
    /// Where chunk `checked` really starts (the only start known for certain).
    start: u64,
    /// The chunk the file ends in, once checked.
    last: Option<usize>,
    /// Chunks to decode again from their true start (a wrong guess, or none).
    again: BTreeSet<usize>,
    /// Chunks with no guess, waiting for their true start.
    unplaced: BTreeSet<usize>,
    /// The first chunk no thread has taken to decode.
    next_decode: usize,
    /// Per shard: checked chunks not yet tracked, by chunk index.
    ready: Vec<BTreeMap<usize, Handoff>>,
    /// Per shard: chunks tracked.
    tracked: Vec<usize>,
    /// Buffers and packet lists no longer used.
    spare: Vec<Vec<u8>>,
    spare_lists: Vec<PacketList>,
    /// Something failed: every thread leaves.
    stop: bool,
    /// Threads waiting for a change: only then is a change worth a system call to wake them.
    waiting: usize,
}

impl Board {
    /// Checks decoded chunks in file order, as far as their starts allow.
    fn check(&mut self) {
        while self.last.is_none() {
            let index = self.checked;
            let Some(decoded) = self.decoded.remove(&index) else {
                return;
            };
            if decoded.start != self.start {
                self.again.insert(index);
                self.recycle(decoded.handoffs);
                return;
            }
            for (ready, handoff) in self.ready.iter_mut().zip(decoded.handoffs) {
                ready.insert(index, handoff);
            }
            self.checked = index + 1;
            match decoded.next.filter(|_| index + 1 < self.count) {
                Some(next) => {
                    self.start = next;
                    if self.unplaced.remove(&(index + 1)) {
                        self.again.insert(index + 1);
                    }
                }
                None => self.last = Some(index),
            }
        }
    }

    fn recycle(&mut self, handoffs: Vec<Handoff>) {
        for handoff in handoffs {
            self.give_back(handoff);
        }
    }

    fn give_back(&mut self, handoff: Handoff) {
        if let Some(loaded) = Arc::into_inner(handoff.chunk) {
            let buffer = loaded.into_buffer();
            // One that grew for a huge last record is let go, not kept for every chunk after.
            if buffer.capacity() <= KEPT_BUFFER_BYTES {
                self.spare.push(buffer);
            }
        }
        let mut list = handoff.packets;
        list.clear();
        self.spare_lists.push(list);
    }
}

struct Shared<'a> {
    chunks: &'a PcapChunks,
    file_index: u32,
    shards: usize,
    inputs: &'a [String],
    board: Mutex<Board>,
    changed: Condvar,
}

/// What a thread does next.
enum Job {
    Track(Handoff),
    /// Decode this chunk, from this start if it is known.
    Decode {
        index: usize,
        start: Option<u64>,
        buffer: Vec<u8>,
        lists: Vec<PacketList>,
    },
    /// Every chunk is tracked.
    Finish,
    Stop,
}

/// Chunks a shard tracks between two messages to the merging thread: each message wakes it,
/// and a wake-up per chunk cost more than the merge itself.
const CHUNKS_PER_MESSAGE: usize = 8;

/// What a shard tells the merging thread, every few chunks.
struct ToMain {
    reply: FromWorker,
    /// Shard 0's count of what the chunks held: frames, bytes on the wire, file bytes.
    read: (u64, u64, u64),
    /// Shard 0's: damage that ended the file.
    damage: Vec<CaptureError>,
}

impl Shared<'_> {
    fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop(&self) {
        let mut board = self.lock();
        board.stop = true;
        self.changed_and_unlock(board);
    }

    /// Lets go of the board after a change, waking the threads that wait for one.
    fn changed_and_unlock(&self, board: MutexGuard<'_, Board>) {
        let waiting = board.waiting > 0;
        drop(board);
        if waiting {
            self.changed.notify_all();
        }
    }

    /// Waits for something to do: tracking first (it frees memory and lets the others decode
    /// ahead), then chunks to decode again, then the next chunk no thread has taken.
    fn next_job(&self, shard: usize, next_track: usize) -> Job {
        let mut board = self.lock();
        loop {
            if board.stop {
                return Job::Stop;
            }
            let ready = board
                .ready
                .get_mut(shard)
                .and_then(|r| r.remove(&next_track));
            if let Some(handoff) = ready {
                return Job::Track(handoff);
            }
            if board.last.is_some_and(|last| next_track > last) {
                return Job::Finish;
            }
            let again = board.again.pop_first();
            let next = board.next_decode;
            let slowest = board.tracked.iter().copied().min().unwrap_or(0);
            let in_file = next < board.count && board.last.is_none_or(|last| next <= last);
            let index = match again {
                Some(index) => Some(index),
                None if in_file && next < slowest + CHUNKS_AHEAD => {
                    board.next_decode += 1;
                    Some(next)
                }
                None => None,
            };
            if let Some(index) = index {
                let start = (index == board.checked).then_some(board.start);
                let buffer = board.spare.pop().unwrap_or_default();
                let lists = (0..self.shards)
                    .map(|_| board.spare_lists.pop().unwrap_or_default())
                    .collect();
                return Job::Decode {
                    index,
                    start,
                    buffer,
                    lists,
                };
            }
            board.waiting += 1;
            board = self
                .changed
                .wait(board)
                .unwrap_or_else(PoisonError::into_inner);
            board.waiting -= 1;
        }
    }

    /// Files a decoded chunk (or, with `None`, a chunk that had no start to decode from) and
    /// checks what can be checked.
    fn decoded(&self, index: usize, decoded: Option<Decoded>, buffers: Option<Vec<Handoff>>) {
        let mut board = self.lock();
        match decoded {
            Some(decoded) => {
                board.decoded.insert(index, decoded);
            }
            None => {
                if index == board.checked {
                    board.again.insert(index);
                } else {
                    board.unplaced.insert(index);
                }
            }
        }
        if let Some(handoffs) = buffers {
            board.recycle(handoffs);
        }
        board.check();
        self.changed_and_unlock(board);
    }
}

/// A shard's place in the file as it tracks chunk after chunk.
#[derive(Debug, Default)]
struct Tracked {
    /// The capture clock after the chunks tracked.
    clock: Timestamp,
    /// Frames before the next chunk.
    frames: u64,
    /// The time of the last frame so far (shard 0 counts steps back across chunks).
    last_ts: Option<Timestamp>,
}

/// One thread: decodes its chunks and tracks its shard's flows until the file is done.
fn worker(
    shared: &Shared<'_>,
    shard: usize,
    mut table: FlowTable,
    mut classifier: Classifier,
    outbox: &Sender<ToMain>,
    returned: &Receiver<Vec<Ended>>,
) {
    // A panic here must not leave the other threads waiting for this one forever.
    struct StopOnPanic<'s, 'a>(&'s Shared<'a>);
    impl Drop for StopOnPanic<'_, '_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.stop();
            }
        }
    }
    let _guard = StopOnPanic(shared);

    let mut services = ServicesSeen::default();
    let mut order = EndOrder::default();
    // Shard 0 adds up every chunk's frame and decode counts.
    let mut stats = Stats::for_inputs(shared.inputs);
    let mut place = Tracked::default();
    let mut next_track = 0;
    // What the merging thread has not been told yet.
    let mut unsent: Option<ToMain> = None;
    loop {
        match shared.next_job(shard, next_track) {
            Job::Stop => return,
            Job::Decode {
                index,
                start,
                buffer,
                lists,
            } => {
                let loaded = shared.chunks.load(index, buffer);
                match decode_chunk(shared, index, start, loaded, lists) {
                    Ok(decoded) => shared.decoded(index, Some(decoded), None),
                    Err(unused) => shared.decoded(index, None, Some(unused)),
                }
            }
            Job::Track(mut handoff) => {
                let known = services.order.len();
                let file = shared.file_index;
                for packet in handoff.packets.iter(handoff.chunk.bytes()) {
                    let ip = packet.ip;
                    let pos = PacketPos {
                        file,
                        number: place.frames + packet.number,
                    };
                    table.set_clock(place.clock.max(packet.clock));
                    track(
                        &mut table,
                        &mut classifier,
                        &mut services,
                        packet.ts,
                        pos,
                        &ip,
                    );
                    collect_ended(&mut table, &mut order);
                }
                let facts = handoff.facts;
                place.clock = facts.max_ts.map_or(place.clock, |t| t.max(place.clock));
                place.frames += facts.frames;
                table.advance(place.clock);
                collect_ended(&mut table, &mut order);
                next_track += 1;
                let message = unsent.get_or_insert_with(|| ToMain::new(shard, returned));
                message
                    .reply
                    .report(&table, &mut order, &services, known, None);
                if let Some(counts) = handoff.counts.take() {
                    add_chunk(&mut stats, &mut place, *counts, message);
                }
                // The merging thread has gone only when the run failed.
                let gone = next_track % CHUNKS_PER_MESSAGE == 0
                    && unsent.take().is_some_and(|m| outbox.send(m).is_err());
                let mut board = shared.lock();
                if let Some(done) = board.tracked.get_mut(shard) {
                    *done = next_track;
                }
                board.give_back(handoff);
                shared.changed_and_unlock(board);
                if gone {
                    return;
                }
            }
            Job::Finish => {
                let known = services.order.len();
                // The whole input's last time, which this shard's own packets may not reach.
                table.set_clock(place.clock);
                table.finish();
                collect_ended(&mut table, &mut order);
                let done = Some((*table.stats(), Box::new(std::mem::take(&mut stats))));
                let mut message = unsent
                    .take()
                    .unwrap_or_else(|| ToMain::new(shard, returned));
                message
                    .reply
                    .report(&table, &mut order, &services, known, done);
                let _ = outbox.send(message);
                return;
            }
        }
    }
}

impl ToMain {
    /// A message with nothing in it yet. Frees the flows the merge has handed back first, on
    /// the thread that allocated them, and carries the next ones in one of their lists.
    fn new(shard: usize, returned: &Receiver<Vec<Ended>>) -> Self {
        let mut list = Vec::new();
        while let Ok(mut spent) = returned.try_recv() {
            spent.clear();
            if spent.capacity() > list.capacity() {
                list = spent;
            }
        }
        Self {
            reply: FromWorker::new(shard, list),
            read: (0, 0, 0),
            damage: Vec::new(),
        }
    }
}

/// Shard 0 counts a checked chunk into the run: its frames, a step back in time across the
/// seam with the chunk before, its damage and its progress.
fn add_chunk(stats: &mut Stats, place: &mut Tracked, counts: ChunkCounts, message: &mut ToMain) {
    stats.add_frames(&counts.stats);
    stats.add_decoded(&counts.stats);
    if let (Some(before), Some(first)) = (place.last_ts, counts.first_ts) {
        if first < before {
            stats.ts_backwards += 1;
        }
    }
    place.last_ts = counts.last_ts.or(place.last_ts);
    message.read.0 += counts.stats.packets;
    message.read.1 += counts.stats.wire_bytes;
    message.read.2 += counts.bytes;
    message.damage.extend(counts.damage);
}

/// Decodes chunk `index` from `start`, or from its guessed start, and sorts its packets by
/// shard. Without a start to go from, gives back its packet lists (with the buffer) unused.
fn decode_chunk(
    shared: &Shared<'_>,
    index: usize,
    start: Option<u64>,
    mut loaded: Loaded,
    mut lists: Vec<PacketList>,
) -> Result<Decoded, Vec<Handoff>> {
    let chunks = shared.chunks;
    let Some(start) = start.or_else(|| chunks.guess_start(index, &mut loaded)) else {
        let chunk = Arc::new(loaded);
        let unused = lists
            .into_iter()
            .map(|packets| Handoff {
                chunk: Arc::clone(&chunk),
                packets,
                facts: ChunkFacts::default(),
                counts: None,
            })
            .collect();
        return Err(unused);
    };
    let end = chunks.range(index).end;
    let link = chunks.link();
    let mut counts = ChunkCounts {
        stats: Stats::for_inputs(shared.inputs),
        first_ts: None,
        last_ts: None,
        bytes: 0,
        damage: None,
    };
    let mut facts = ChunkFacts::default();
    let mut at = start;
    let mut next = None;
    while at < end {
        let (ts, data, orig_len, after) = match chunks.fetch(index, &mut loaded, at) {
            Fetched::Record {
                ts,
                data,
                orig_len,
                next,
            } => (ts, data, orig_len, next),
            Fetched::End => break,
            Fetched::Damage(error) => {
                counts.damage = Some(error);
                break;
            }
        };
        at = after;
        facts.frames += 1;
        let bytes = loaded.bytes();
        let frame = RawPacket {
            ts,
            link,
            data: bytes.get(data).unwrap_or_default(),
            orig_len,
            pos: PacketPos {
                file: shared.file_index,
                number: facts.frames,
            },
        };
        counts.stats.count_frame(&frame);
        counts.first_ts = counts.first_ts.or(Some(ts));
        counts.last_ts = Some(ts);
        let clock = facts.max_ts.map_or(ts, |t| t.max(ts));
        facts.max_ts = Some(clock);
        let decoded = decode(&frame);
        let Some(ip) = account(&mut counts.stats, &decoded) else {
            continue;
        };
        let shard = shard_of_packet(ip, shared.shards);
        let payload = ip.payload();
        let offset = (payload.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
        let payload = match (u32::try_from(offset), u32::try_from(payload.len())) {
            (Ok(offset), Ok(len)) if len > 0 => (offset, len),
            _ => (0, 0),
        };
        if let Some(list) = lists.get_mut(shard) {
            list.push(ts, clock, facts.frames, ip, payload);
        }
    }
    if at >= end && counts.damage.is_none() {
        next = Some(at);
    }
    counts.bytes = at.saturating_sub(start);
    let chunk = Arc::new(loaded);
    let mut counts = Some(Box::new(counts));
    let handoffs = lists
        .into_iter()
        .map(|packets| Handoff {
            chunk: Arc::clone(&chunk),
            packets,
            facts,
            counts: counts.take(),
        })
        .collect();
    Ok(Decoded {
        start,
        next,
        handoffs,
    })
}

/// [`super::run`] over one plain pcap file, read by ranges on `threads` threads.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    chunks: &PcapChunks,
    file_index: u32,
    inputs: &[String],
    classifier: &mut Classifier,
    table_config: FlowTableConfig,
    flows_out: Option<&mut dyn Write>,
    observer: &dyn RunObserver,
    threads: usize,
) -> io::Result<Summary> {
    let shards = threads.max(1);
    let shard_config = shard_config(table_config, shards);
    let shared = Shared {
        chunks,
        file_index,
        shards,
        inputs,
        board: Mutex::new(Board {
            count: chunks.count(),
            decoded: BTreeMap::new(),
            checked: 0,
            start: chunks.first_record(),
            last: None,
            again: BTreeSet::new(),
            unplaced: BTreeSet::new(),
            next_decode: 0,
            ready: (0..shards).map(|_| BTreeMap::new()).collect(),
            tracked: vec![0; shards],
            spare: Vec::new(),
            spare_lists: Vec::new(),
            stop: false,
            waiting: 0,
        }),
        changed: Condvar::new(),
    };
    let mut stats = Stats::for_inputs(inputs);
    let classifier_view: &Classifier = classifier;
    let (merge, failure) = std::thread::scope(|scope| {
        let (outbox, inbox) = mpsc::channel();
        let mut returns = Vec::with_capacity(shards);
        for shard in 0..shards {
            let table = FlowTable::new(shard_config, classifier_view.service_ports());
            let forked = classifier_view.fork();
            let (shared, outbox) = (&shared, outbox.clone());
            let (give_back, returned) = mpsc::channel();
            returns.push(give_back);
            scope.spawn(move || worker(shared, shard, table, forked, &outbox, &returned));
        }
        drop(outbox);
        let mut merge = Merge::new(flows_out, table_config.max_flows, shards, inputs);
        let failure = gather(
            &inbox,
            &returns,
            &mut merge,
            &mut stats,
            classifier_view,
            observer,
        );
        if failure.is_some() {
            shared.stop();
            // Let every thread leave before the scope joins them.
            while inbox.recv().is_ok() {}
        }
        (merge, failure)
    });
    if let Some(error) = failure {
        return Err(error);
    }
    let mut merge = merge;
    merge
        .order
        .release_all(|e| merge.sink.emit(&e, classifier_view))?;
    observer.finish();
    stats.add_frames(&merge.counted);
    stats.add_decoded(&merge.counted);
    let builder = merge.sink.summary;
    let mut summary = builder.finish(classifier, &stats, &merge.table_stats, &table_config);
    summary.flow_table.tables = shards as u64;
    Ok(summary)
}

/// Merges what the threads send until every shard is done, handing each the flows it may free;
/// the error that stopped it, if any.
fn gather(
    inbox: &Receiver<ToMain>,
    returns: &[Sender<Vec<Ended>>],
    merge: &mut Merge<'_>,
    stats: &mut Stats,
    classifier: &Classifier,
    observer: &dyn RunObserver,
) -> Option<io::Error> {
    let mut reading = Reading {
        packets: 0,
        wire_bytes: 0,
        bytes_read: 0,
        kernel: None,
    };
    let mut ticked = 0;
    while merge.finished < returns.len() {
        let Ok(message) = inbox.recv() else {
            return Some(io::Error::other("a flow worker thread stopped"));
        };
        for error in &message.damage {
            note_input_error(stats, error);
        }
        if let Err(e) = merge.take(message.reply, classifier) {
            return Some(e);
        }
        for (shard, give_back) in returns.iter().enumerate() {
            let list = merge.returned(shard);
            if !list.is_empty() {
                // To a shard that has finished, the send fails and the flows are freed here.
                let _ = give_back.send(list);
            }
        }
        let (frames, wire_bytes, bytes) = message.read;
        reading.packets += frames;
        reading.wire_bytes += wire_bytes;
        reading.bytes_read += bytes;
        if reading.packets >= ticked + PROGRESS_EVERY {
            ticked = reading.packets;
            tick(
                observer,
                reading,
                merge.progress(),
                classifier,
                &merge.services,
            );
        }
    }
    None
}
