//! `--threads N` over any source but a single plain pcap file (several files, pcapng, gzip,
//! standard input, live capture; `chunked` reads a plain pcap by ranges instead): the pipeline
//! split across worker threads by address pair. Owns the dispatch
//! (this thread reads every frame, counts it, and hands it to the shard of its address pair,
//! read cheaply from the IP header), the workers (each decodes its frames and keeps a flow
//! table and a classifier), the merge of their ended flows back into one order, and the return
//! of each reported flow to the thread that tracked it, to be freed there. Must give
//! exactly the flow lines and summary of one thread: anything that depends on more than one
//! address pair (the capture clock, the summary, the order of the flow lines) stays in this
//! thread.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use super::order::{EndOrder, Ended};
use super::{account, collect_ended, note_input_error, tick, track, Progress, ServicesSeen, Sink};
use super::{Reading, RunObserver, PROGRESS_EVERY};
use crate::capture::{LinkType, PacketPos, PacketSource, RawPacket, SourceEvent};
use crate::classify::verdict::ServiceId;
use crate::classify::Classifier;
use crate::decode::{decode, flow_addresses, Decoded, IpPacket, Transport};
use crate::flow::{FlowTable, FlowTableConfig, TableStats};
use crate::report::{Summary, SummaryBuilder};
use crate::stats::Stats;
use crate::time::Timestamp;

/// Packets per batch handed to a worker: large enough that the channel costs nothing per
/// packet, small enough that a batch's frames stay in the cache.
const BATCH_PACKETS: usize = 1024;
/// Batches in flight per worker before the reader waits (bounds memory).
const BATCHES_IN_FLIGHT: usize = 8;

/// One frame in a batch: its bytes are `data[start..start + len]` of the batch.
#[derive(Clone, Copy, Debug)]
struct Slot {
    ts: Timestamp,
    /// The whole input's clock at this frame: every shard judges timeouts by it.
    clock: Timestamp,
    pos: PacketPos,
    link: LinkType,
    orig_len: u32,
    start: usize,
    len: usize,
}

/// Frames for one worker, copied out of the reader's buffer.
#[derive(Debug, Default)]
struct Batch {
    slots: Vec<Slot>,
    data: Vec<u8>,
    /// The clock after the batch: a shard with few packets still sweeps on time.
    clock: Timestamp,
    /// Flows of this shard the merge has reported since the last batch, for the worker to
    /// free (see [`Merge::returned`]).
    returned: Vec<Ended>,
}

impl Batch {
    fn push(&mut self, packet: &RawPacket<'_>, clock: Timestamp) {
        let start = self.data.len();
        self.data.extend_from_slice(packet.data);
        self.slots.push(Slot {
            ts: packet.ts,
            clock,
            pos: packet.pos,
            link: packet.link,
            orig_len: packet.orig_len,
            start,
            len: packet.data.len(),
        });
        self.clock = clock;
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.data.clear();
    }
}

enum ToWorker {
    Batch(Batch),
    /// A quiet live link: no frames, but the clock moved.
    Advance(Timestamp),
    /// The input is over, at this clock.
    Finish(Timestamp),
}

/// What a worker sends back after each message.
pub(super) struct FromWorker {
    shard: usize,
    ended: Vec<Ended>,
    /// Every flow of this shard that ends before this time has been sent.
    watermark: Timestamp,
    live_flows: u64,
    new_services: Vec<ServiceId>,
    /// The batch, emptied, for reuse.
    spent: Option<Batch>,
    /// The shard's table counters and decode counts, with its last message.
    done: Option<(TableStats, Box<Stats>)>,
}

impl FromWorker {
    /// An empty reply of shard `shard`, its ended flows to go in `list` (emptied first: a list
    /// the merge handed back, so that this thread frees the flows in it).
    pub(super) fn new(shard: usize, mut list: Vec<Ended>) -> Self {
        list.clear();
        Self {
            shard,
            ended: list,
            watermark: Timestamp::ZERO,
            live_flows: 0,
            new_services: Vec::new(),
            spent: None,
            done: None,
        }
    }

    /// Adds what a shard tells the merge after a piece of work: the flows that ended, how far
    /// its table has swept, and the services first seen since `known` of them were; with
    /// `done`, its last word. Several pieces of work can go in one reply.
    pub(super) fn report(
        &mut self,
        table: &FlowTable,
        order: &mut EndOrder,
        services: &ServicesSeen,
        known: usize,
        done: Option<(TableStats, Box<Stats>)>,
    ) {
        self.watermark = if done.is_some() {
            Timestamp::MAX
        } else {
            table.swept_through()
        };
        let ended = &mut self.ended;
        ended.reserve(order.len());
        let _ = order.release_all(|e| {
            ended.push(e);
            Ok::<(), ()>(())
        });
        self.live_flows = table.len() as u64;
        let new_services = services.order.get(known..).unwrap_or_default();
        self.new_services.extend_from_slice(new_services);
        if done.is_some() {
            self.done = done;
        }
    }
}

/// Which shard a frame belongs to: that of its flow's address pair, in either direction. Plain
/// TCP and UDP are placed from the IP header alone; anything else is decoded here to find out
/// (an ICMP error goes with the packet it quotes, so it reaches the table that holds that
/// flow). A frame that is no flow at all goes to shard 0, which only counts it.
fn shard_of(packet: &RawPacket<'_>, shards: usize) -> usize {
    if let Some((a, b)) = flow_addresses(packet) {
        return shard_of_pair(&a, &b, shards);
    }
    match decode(packet) {
        Ok(Decoded::Ip(ip)) => shard_of_packet(&ip, shards),
        _ => 0,
    }
}

/// The shard of the flow an IP packet counts toward. Reads the addresses where they lie: the
/// packet was just written by the decoder, and copying its addresses out whole stalled on
/// those writes (issue 6).
#[inline]
pub(super) fn shard_of_packet(ip: &IpPacket<'_>, shards: usize) -> usize {
    match ip.transport {
        Transport::Icmp(message) if message.is_unreachable() => {
            let (a, b) = message.quoted.map_or((ip.src, ip.dst), |q| (q.src, q.dst));
            shard_of_pair(&a, &b, shards)
        }
        _ => shard_of_pair(&ip.src, &ip.dst, shards),
    }
}

fn shard_of_pair(a: &IpAddr, b: &IpAddr, shards: usize) -> usize {
    let (a, b) = (fold(a), fold(b));
    // Symmetric in the two addresses, then a multiply-shift onto the shard count. Not keyed: a
    // sender who puts all its flows in one shard only costs parallelism, never correctness.
    let mixed = (a.min(b).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ a.max(b))
        .wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let high = (u128::from(mixed) * shards as u128) >> 64;
    usize::try_from(high).unwrap_or(0)
}

fn fold(address: &IpAddr) -> u64 {
    match address {
        IpAddr::V4(v4) => u64::from(u32::from(*v4)),
        IpAddr::V6(v6) => {
            let bits = u128::from(*v6);
            // Both halves: the interface identifier alone repeats across prefixes.
            (bits as u64) ^ ((bits >> 64) as u64).rotate_left(17)
        }
    }
}

/// One shard: its own flow table and classifier, fed batches until told to finish.
fn worker(
    shard: usize,
    mut table: FlowTable,
    mut classifier: Classifier,
    inbox: Receiver<ToWorker>,
    outbox: Sender<FromWorker>,
) {
    let mut services = ServicesSeen::default();
    let mut order = EndOrder::default();
    // Only the counts decoding makes; the reader counts frames and inputs.
    let mut stats = Stats::default();
    for message in inbox {
        let known = services.order.len();
        let mut returned = Vec::new();
        let (spent, done) = match message {
            ToWorker::Batch(mut batch) => {
                returned = std::mem::take(&mut batch.returned);
                for slot in &batch.slots {
                    let Some(data) = batch.data.get(slot.start..slot.start + slot.len) else {
                        continue;
                    };
                    let raw = RawPacket {
                        ts: slot.ts,
                        link: slot.link,
                        data,
                        orig_len: slot.orig_len,
                        pos: slot.pos,
                    };
                    table.set_clock(slot.clock);
                    let decoded = decode(&raw);
                    let Some(ip) = account(&mut stats, &decoded) else {
                        continue;
                    };
                    track(
                        &mut table,
                        &mut classifier,
                        &mut services,
                        slot.ts,
                        slot.pos,
                        ip,
                    );
                    collect_ended(&mut table, &mut order);
                }
                table.advance(batch.clock);
                collect_ended(&mut table, &mut order);
                batch.clear();
                (Some(batch), None)
            }
            ToWorker::Advance(now) => {
                table.advance(now);
                collect_ended(&mut table, &mut order);
                (None, None)
            }
            ToWorker::Finish(clock) => {
                // The whole input's last time, which this shard's own packets may not reach:
                // flows past their timeout then end as they would in one table.
                table.set_clock(clock);
                table.finish();
                collect_ended(&mut table, &mut order);
                (
                    None,
                    Some((*table.stats(), Box::new(std::mem::take(&mut stats)))),
                )
            }
        };
        let finished = done.is_some();
        let mut reply = FromWorker::new(shard, returned);
        reply.report(&table, &mut order, &services, known, done);
        reply.spent = spent;
        if outbox.send(reply).is_err() || finished {
            return;
        }
    }
}

/// The merge: ended flows from every shard, released in end order once every shard has passed
/// them.
pub(super) struct Merge<'o> {
    pub(super) sink: Sink<'o>,
    pub(super) order: EndOrder,
    watermarks: Vec<Timestamp>,
    live_flows: Vec<u64>,
    ended_flows: u64,
    pub(super) services: ServicesSeen,
    spare: Vec<Batch>,
    /// Per shard: flows reported since they were last handed back to the shard's thread.
    ///
    /// That thread allocated their heap parts (details, names, extras) and frees them. Freed
    /// here, each went back to the other thread's glibc arena under its lock: a trial build
    /// that never freed them ran two threads 1–6 % faster in three batches of alternating
    /// runs (36 ms less CPU in the slowest hour), one thread no faster. Handing them back gets
    /// most of that (issue 6, README).
    returned: Vec<Vec<Ended>>,
    /// Emptied lists of the workers' replies, to carry the returned flows.
    spare_lists: Vec<Vec<Ended>>,
    pub(super) table_stats: TableStats,
    /// The workers' counts (of frames, when they read, and of decoding), added up.
    pub(super) counted: Stats,
    pub(super) finished: usize,
}

impl<'o> Merge<'o> {
    /// A merge of `shards` shards into `flows_out` and a summary; `inputs` names the inputs
    /// the workers count frames of.
    pub(super) fn new(
        flows_out: Option<&'o mut dyn Write>,
        max_flows: usize,
        shards: usize,
        inputs: &[String],
    ) -> Self {
        Merge {
            sink: Sink {
                summary: SummaryBuilder::default(),
                flows_out,
            },
            order: EndOrder::for_max_flows(max_flows),
            watermarks: vec![Timestamp::ZERO; shards],
            live_flows: vec![0; shards],
            ended_flows: 0,
            services: ServicesSeen::default(),
            spare: Vec::new(),
            returned: (0..shards).map(|_| Vec::new()).collect(),
            spare_lists: Vec::new(),
            table_stats: TableStats::default(),
            counted: Stats::for_inputs(inputs),
            finished: 0,
        }
    }
    pub(super) fn take(
        &mut self,
        mut reply: FromWorker,
        classifier: &Classifier,
    ) -> io::Result<()> {
        self.ended_flows += reply.ended.len() as u64;
        for ended in reply.ended.drain(..) {
            self.order.push(ended);
        }
        // Enough to give each shard a list back; more would only pile up.
        if self.spare_lists.len() < self.returned.len() {
            self.spare_lists.push(reply.ended);
        }
        if let Some(w) = self.watermarks.get_mut(reply.shard) {
            *w = reply.watermark;
        }
        if let Some(live) = self.live_flows.get_mut(reply.shard) {
            *live = reply.live_flows;
        }
        for id in reply.new_services {
            self.services.note(Some(id));
        }
        if let Some(batch) = reply.spent {
            self.spare.push(batch);
        }
        if let Some((table_stats, counted)) = reply.done {
            add_stats(&mut self.table_stats, &table_stats);
            self.counted.add_frames(&counted);
            self.counted.add_decoded(&counted);
            self.finished += 1;
        }
        let watermark = self
            .watermarks
            .iter()
            .copied()
            .min()
            .unwrap_or(Timestamp::MAX);
        let Self {
            sink,
            order,
            returned,
            spare_lists,
            ..
        } = self;
        let shards = returned.len();
        order.release(watermark, |e| {
            sink.emit(&e, classifier)?;
            // The shard of the flow's address pair: the one that tracked it, but for an ICMP
            // error tied to no flow, which went to the shard of the flow it quotes (only a
            // free made across threads, as before).
            let shard = shard_of_pair(&e.flow.key.a_addr, &e.flow.key.b_addr, shards);
            if let Some(list) = returned.get_mut(shard) {
                if list.capacity() == 0 {
                    *list = spare_lists.pop().unwrap_or_default();
                }
                list.push(e);
            }
            Ok(())
        })
    }

    /// The flows of `shard` reported since the last call, for its thread to free.
    pub(super) fn returned(&mut self, shard: usize) -> Vec<Ended> {
        self.returned
            .get_mut(shard)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    pub(super) fn progress(&self) -> Progress {
        Progress {
            live_flows: self.live_flows.iter().sum(),
            ended_flows: self.ended_flows,
        }
    }
}

/// The shards' counters as one table's. Peaks add up (an upper bound of the true peak, which
/// no single thread saw).
fn add_stats(total: &mut TableStats, shard: &TableStats) {
    total.created += shard.created;
    for (t, s) in total.ended.iter_mut().zip(shard.ended) {
        *t += s;
    }
    total.peak_flows += shard.peak_flows;
    total.fragments_attributed += shard.fragments_attributed;
    total.fragments_orphaned += shard.fragments_orphaned;
    total.icmp_errors_tied += shard.icmp_errors_tied;
    total.icmp_errors_untied += shard.icmp_errors_untied;
    total.peak_table_bytes += shard.peak_table_bytes;
}

/// One shard's table configuration: the cap is shared out, so that the shards together hold
/// at most `max_flows`.
pub(super) fn shard_config(table_config: FlowTableConfig, shards: usize) -> FlowTableConfig {
    FlowTableConfig {
        max_flows: table_config.max_flows.div_ceil(shards).max(1),
        ..table_config
    }
}

/// [`super::run`] on `threads` worker threads.
pub(super) fn run<S: PacketSource + ?Sized>(
    source: &mut S,
    inputs: &[String],
    classifier: &mut Classifier,
    table_config: FlowTableConfig,
    flows_out: Option<&mut dyn Write>,
    observer: &dyn RunObserver,
    threads: usize,
) -> io::Result<Summary> {
    let shards = threads.max(1);
    let shard_config = shard_config(table_config, shards);
    let mut stats = Stats::for_inputs(inputs);
    let classifier_view: &Classifier = classifier;
    let (summary, table_stats) = std::thread::scope(|scope| -> io::Result<_> {
        let (outbox, replies) = mpsc::channel();
        let mut inboxes: Vec<SyncSender<ToWorker>> = Vec::with_capacity(shards);
        for shard in 0..shards {
            let (to_worker, inbox) = mpsc::sync_channel(BATCHES_IN_FLIGHT);
            inboxes.push(to_worker);
            let table = FlowTable::new(shard_config, classifier_view.service_ports());
            let forked = classifier_view.fork();
            let outbox = outbox.clone();
            scope.spawn(move || worker(shard, table, forked, inbox, outbox));
        }
        drop(outbox);
        let mut merge = Merge::new(flows_out, table_config.max_flows, shards, &[]);
        let mut clock = Timestamp::ZERO;
        let lanes = Lanes {
            inboxes: &inboxes,
            replies: &replies,
        };
        let dispatched = dispatch(
            source,
            &mut stats,
            classifier_view,
            observer,
            &lanes,
            &mut merge,
            &mut clock,
        );
        // Whatever happened, tell every worker to finish and collect them all, so none is left
        // blocked on a full channel.
        for inbox in &inboxes {
            let _ = inbox.send(ToWorker::Finish(clock));
        }
        let mut failure = dispatched.err();
        while merge.finished < shards {
            let Ok(reply) = replies.recv() else {
                failure.get_or_insert_with(|| io::Error::other("a flow worker thread stopped"));
                break;
            };
            if let Err(e) = merge.take(reply, classifier_view) {
                failure.get_or_insert(e);
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        merge
            .order
            .release_all(|e| merge.sink.emit(&e, classifier_view))?;
        observer.finish();
        stats.add_decoded(&merge.counted);
        Ok((merge.sink.summary, merge.table_stats))
    })?;
    let mut summary = summary.finish(classifier, &stats, &table_stats, &table_config);
    summary.flow_table.tables = shards as u64;
    Ok(summary)
}

/// The channels to and from the workers.
#[derive(Clone, Copy)]
struct Lanes<'a> {
    inboxes: &'a [SyncSender<ToWorker>],
    replies: &'a Receiver<FromWorker>,
}

/// Reads, decodes and counts every frame, and hands IP packets to their shard in batches,
/// merging what the workers send back as it goes.
fn dispatch<S: PacketSource + ?Sized>(
    source: &mut S,
    stats: &mut Stats,
    classifier: &Classifier,
    observer: &dyn RunObserver,
    lanes: &Lanes<'_>,
    merge: &mut Merge<'_>,
    clock: &mut Timestamp,
) -> io::Result<()> {
    let Lanes { inboxes, replies } = *lanes;
    let shards = inboxes.len();
    let mut batches: Vec<Batch> = (0..shards).map(|_| Batch::default()).collect();
    // `clock` is the one a single table would keep: the latest time of any packet that
    // reached it, or of a quiet live link.
    while let Some(event) = source.next_event() {
        let next = match event {
            SourceEvent::Packet(next) => next,
            SourceEvent::Idle { now, tick: due } => {
                if let Some(now) = now {
                    *clock = (*clock).max(now);
                    for shard in 0..shards {
                        send_batch(shard, &mut batches, inboxes, merge)?;
                        deliver(inboxes, shard, ToWorker::Advance(now))?;
                    }
                    drain(replies, merge, classifier)?;
                    // A quiet moment on a live link: let `tail -f` see the lines written so far.
                    merge.sink.flush()?;
                }
                if due {
                    report_progress(source, stats, classifier, observer, replies, merge)?;
                }
                continue;
            }
        };
        let packet = match next {
            Ok(packet) => packet,
            Err(error) => {
                note_input_error(stats, &error);
                continue;
            }
        };
        stats.count_frame(&packet);
        *clock = (*clock).max(packet.ts);
        let shard = shard_of(&packet, shards);
        if let Some(batch) = batches.get_mut(shard) {
            batch.push(&packet, *clock);
            if batch.slots.len() >= BATCH_PACKETS {
                send_batch(shard, &mut batches, inboxes, merge)?;
                drain(replies, merge, classifier)?;
            }
        }
        if stats.packets.is_multiple_of(PROGRESS_EVERY) {
            report_progress(source, stats, classifier, observer, replies, merge)?;
        }
    }
    for shard in 0..shards {
        send_batch(shard, &mut batches, inboxes, merge)?;
    }
    Ok(())
}

/// Merges what the workers sent so far, then tells the observer where the run stands.
fn report_progress<S: PacketSource + ?Sized>(
    source: &mut S,
    stats: &Stats,
    classifier: &Classifier,
    observer: &dyn RunObserver,
    replies: &Receiver<FromWorker>,
    merge: &mut Merge<'_>,
) -> io::Result<()> {
    drain(replies, merge, classifier)?;
    let progress = merge.progress();
    let reading = Reading::of(source, stats);
    tick(observer, reading, progress, classifier, &merge.services);
    Ok(())
}

/// Sends a shard its batch (if it holds anything) and starts a fresh one from the spares.
fn send_batch(
    shard: usize,
    batches: &mut [Batch],
    inboxes: &[SyncSender<ToWorker>],
    merge: &mut Merge<'_>,
) -> io::Result<()> {
    let Some(batch) = batches.get_mut(shard) else {
        return Ok(());
    };
    if batch.slots.is_empty() {
        return Ok(());
    }
    let fresh = merge.spare.pop().unwrap_or_default();
    let mut full = std::mem::replace(batch, fresh);
    full.returned = merge.returned(shard);
    deliver(inboxes, shard, ToWorker::Batch(full))
}

fn deliver(inboxes: &[SyncSender<ToWorker>], shard: usize, message: ToWorker) -> io::Result<()> {
    inboxes
        .get(shard)
        .ok_or_else(|| io::Error::other("no such shard"))?
        .send(message)
        .map_err(|_| io::Error::other("a flow worker thread stopped"))
}

/// Merges every reply that is waiting, without blocking.
fn drain(
    replies: &Receiver<FromWorker>,
    merge: &mut Merge<'_>,
    classifier: &Classifier,
) -> io::Result<()> {
    while let Ok(reply) = replies.try_recv() {
        merge.take(reply, classifier)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PacketPos;
    use crate::classify::signature::SignatureSet;
    use crate::flow::{EndReason, FlowKey, FlowRecord, Side};
    use std::net::Ipv4Addr;

    fn ended(host: u8, end: i64) -> Ended {
        let client = IpAddr::V4(Ipv4Addr::new(10, 0, 0, host));
        let server = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1));
        let (key, _) = FlowKey::new(client, 50_000, server, 3389, 6);
        let first = Timestamp::from_nanos(end - 1);
        let flow = FlowRecord::new(key, Side::A, false, first, PacketPos::default());
        Ended::new(flow, EndReason::Closed, Timestamp::from_nanos(end))
    }

    /// The shard the dispatch gave the flow's packets, from a reply's addresses (server to
    /// client, the other way round from the key's order).
    fn shard_of_flow(ended: &Ended, shards: usize) -> usize {
        shard_of_pair(&ended.flow.key.b_addr, &ended.flow.key.a_addr, shards)
    }

    /// Every flow the merge reports goes back to the shard whose thread tracked it (and
    /// allocated its heap parts), and only once.
    #[test]
    fn reported_flows_go_back_to_the_shard_that_tracked_them() {
        let shards = 3;
        let classifier = Classifier::new(SignatureSet::builtin());
        let mut merge = Merge::new(None, 1000, shards, &[]);
        let flows: Vec<Ended> = (1..=60).map(|host| ended(host, i64::from(host))).collect();
        let mut sent = vec![Vec::new(); shards];
        for flow in flows {
            let shard = shard_of_flow(&flow, shards);
            sent[shard].push(flow.flow.key);
            let mut reply = FromWorker::new(shard, Vec::new());
            reply.ended.push(flow);
            merge.take(reply, &classifier).unwrap();
        }
        assert!(sent.iter().all(|keys| !keys.is_empty()), "{sent:?}");
        // Nothing is reported until every shard has swept past it.
        assert!((0..shards).all(|shard| merge.returned(shard).is_empty()));
        for shard in 0..shards {
            let mut reply = FromWorker::new(shard, Vec::new());
            reply.watermark = Timestamp::MAX;
            merge.take(reply, &classifier).unwrap();
        }
        for (shard, keys) in sent.iter().enumerate() {
            let returned: Vec<FlowKey> = merge.returned(shard).iter().map(|e| e.flow.key).collect();
            assert_eq!(&returned, keys, "shard {shard}");
            assert!(merge.returned(shard).is_empty(), "shard {shard}, twice");
        }
    }
}
