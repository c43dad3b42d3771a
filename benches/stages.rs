//! Stage benchmarks on the bundled deployment scenario (generated in memory before timing):
//! decode alone, decode + flow table, and the whole pipeline with classification and summary.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rdsflows::capture::replay::ReplaySource;
use rdsflows::capture::{LinkType, PacketPos, PacketSource, RawPacket};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::decode::{decode, Decoded};
use rdsflows::flow::{FlowTable, FlowTableConfig};
use rdsflows::report::progress::Progress;

fn frames() -> Vec<(rdsflows::time::Timestamp, Vec<u8>)> {
    rdsflows::synth::generate("rds-deployment")
        .expect("the deployment scenario exists")
        .into_iter()
        .map(|f| (f.ts, f.data))
        .collect()
}

fn stages(c: &mut Criterion) {
    let frames = frames();
    let bytes: u64 = frames.iter().map(|(_, d)| d.len() as u64).sum();
    let packets = frames.len() as u64;

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("decode", |b| {
        b.iter(|| {
            for (n, (ts, data)) in frames.iter().enumerate() {
                let raw = RawPacket {
                    ts: *ts,
                    link: LinkType::ETHERNET,
                    data,
                    orig_len: data.len() as u32,
                    pos: PacketPos {
                        file: 0,
                        number: n as u64,
                    },
                };
                black_box(decode(&raw).ok());
            }
        })
    });
    group.throughput(Throughput::Elements(packets));
    group.bench_function("decode_and_flow_table", |b| {
        let classifier = Classifier::new(SignatureSet::builtin());
        let mut source = ReplaySource::new(LinkType::ETHERNET, frames.clone());
        b.iter(|| {
            source.rewind();
            let mut table = FlowTable::new(FlowTableConfig::default(), classifier.service_ports());
            while let Some(Ok(raw)) = source.next_packet() {
                if let Ok(Decoded::Ip(ip)) = decode(&raw) {
                    black_box(table.update(raw.ts, raw.pos, &ip).is_some());
                }
                table.drain_ended().for_each(drop);
            }
            table.finish();
            black_box(table.drain_ended().count())
        })
    });
    group.bench_function("full_pipeline", |b| {
        let progress = Progress::new(None, true);
        let mut source = ReplaySource::new(LinkType::ETHERNET, frames.clone());
        b.iter(|| {
            source.rewind();
            let mut classifier = Classifier::new(SignatureSet::builtin());
            let summary = rdsflows::pipeline::run(
                &mut source,
                &["bench".to_string()],
                &mut classifier,
                FlowTableConfig::default(),
                None,
                &progress,
            )
            .expect("no output to fail");
            black_box(summary.totals.flows)
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
