//! Criterion benches for each stage of the pipeline (issue 6, "Throughput"): the record walk,
//! decode, the flow-table update, classification of new flows, the payload checks, and the
//! whole pipeline for reference, over one realistic input: 200,000 frames of the RDS mix that
//! `rdsflows generate bench` writes, generated in memory before anything is timed. Every stage
//! gets its input prepared by the stages before it, outside the timed loop, and reports packets
//! (or flows, or payloads) and bytes per second. A second group times each payload parser on one
//! protocol message built by `rdsflows::synth`. Owns no measurement logic of its own.
//!
//! Run: `cargo bench --bench stages -- --warm-up-time 1 --measurement-time 3`.

use std::collections::HashMap;
use std::hint::black_box;
use std::ops::Range;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use rdsflows::capture::pcap::PcapReader;
use rdsflows::capture::replay::ReplaySource;
use rdsflows::capture::{PacketPos, PacketSource, RawPacket};
use rdsflows::classify::payload::{inspect, Context};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::decode::{decode, Decoded, IpPacket};
use rdsflows::flow::{Direction, FlowRecord, FlowTable, FlowTableConfig, ServicePorts};
use rdsflows::report::progress::Progress;
use rdsflows::synth::bench::{write_bench, BenchSpec, DEFAULT_CONCURRENT};
use rdsflows::synth::payload as p;
use rdsflows::synth::rdp;
use rdsflows::synth::Rng;
use rdsflows::time::Timestamp;

/// Frames of the generated mix: big enough that the flow table sees thousands of flows come and
/// go, small enough to generate in a fraction of a second and keep every stage's input in memory.
const PACKETS: u64 = 200_000;
/// Flows for that many frames, in the proportion of the README's 2,000,000-frame capture.
const FLOWS: u64 = 2_600;

/// The captured frames, one after the other in one buffer, with what the capture says of each.
struct Frames {
    /// The pcap file as written.
    pcap: Vec<u8>,
    /// Every frame's bytes.
    bytes: Vec<u8>,
    /// Per frame: where its bytes are in `bytes`, and the rest of its record.
    records: Vec<(Range<usize>, RawPacket<'static>)>,
}

impl Frames {
    /// Generates the mix and walks it once through the crate's own reader.
    fn generate() -> Self {
        let spec = BenchSpec {
            packets: PACKETS,
            flows: FLOWS,
            concurrent: DEFAULT_CONCURRENT,
            seed: 1,
        };
        let mut pcap = Vec::new();
        write_bench(spec, &mut pcap).expect("writing to memory cannot fail");
        let mut reader = PcapReader::new(pcap.as_slice(), "bench.pcap").expect("a pcap header");
        let (mut bytes, mut records) = (Vec::new(), Vec::new());
        while let Some(Ok(raw)) = reader.next_packet() {
            let at = bytes.len()..bytes.len() + raw.data.len();
            bytes.extend_from_slice(raw.data);
            // The record without its borrowed bytes; `packets` lends them back from `bytes`.
            records.push((at, RawPacket { data: &[], ..raw }));
        }
        Self {
            pcap,
            bytes,
            records,
        }
    }

    /// The frames as the reader hands them to the decoder.
    fn packets(&self) -> Vec<RawPacket<'_>> {
        self.records
            .iter()
            .map(|(at, raw)| RawPacket {
                data: self.bytes.get(at.clone()).unwrap_or_default(),
                ..*raw
            })
            .collect()
    }
}

/// What the flow table gives the classifier, collected in one untimed pass over the frames.
struct FlowInput<'a> {
    /// Every IP packet, decoded.
    ip: Vec<(Timestamp, PacketPos, IpPacket<'a>)>,
    /// Each flow as it was when its first packet created it (what `on_new_flow` sees).
    new_flows: Vec<FlowRecord>,
    /// Every payload the table handed on: the flow (index into `new_flows`), its direction,
    /// the bytes.
    payloads: Vec<(usize, Direction, &'a [u8])>,
}

impl<'a> FlowInput<'a> {
    fn prepare(packets: &[RawPacket<'a>], ports: &ServicePorts) -> Self {
        let ip: Vec<_> = packets
            .iter()
            .filter_map(|raw| match decode(raw) {
                Ok(Decoded::Ip(ip)) => Some((raw.ts, raw.pos, ip)),
                _ => None,
            })
            .collect();
        let mut table = FlowTable::new(FlowTableConfig::default(), ports.clone());
        let (mut new_flows, mut payloads) = (Vec::new(), Vec::new());
        // The live flow of each key, as an index into `new_flows` (a key that comes back after
        // its flow ended starts a new flow, and the map then points at that one).
        let mut index = HashMap::new();
        for (ts, pos, packet) in &ip {
            if let Some(update) = table.update(*ts, *pos, packet) {
                if update.is_new {
                    index.insert(update.flow.key, new_flows.len());
                    new_flows.push(update.flow.clone());
                }
                if !update.payload.is_empty() {
                    if let Some(&n) = index.get(&update.flow.key) {
                        payloads.push((n, update.dir, update.payload));
                    }
                }
            }
            table.drain_ended().for_each(drop);
        }
        Self {
            ip,
            new_flows,
            payloads,
        }
    }
}

fn stages(c: &mut Criterion) {
    let frames = Frames::generate();
    let packets = frames.packets();
    let signatures = SignatureSet::builtin();
    let ports = Classifier::new(signatures.clone()).service_ports();
    let input = FlowInput::prepare(&packets, &ports);
    let frame_count = packets.len() as u64;
    let frame_bytes: u64 = packets.iter().map(|p| p.data.len() as u64).sum();

    let mut group = c.benchmark_group("stages");
    // One iteration is a pass over the 200,000 frames (tens of milliseconds): ten samples of one
    // iteration each (criterion's advice for long iterations) keep a three-second measurement
    // meaningful.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);

    // 1. The record walk: pcap file bytes in memory to records, through the crate's reader.
    group.throughput(Throughput::ElementsAndBytes {
        elements: frame_count,
        bytes: frames.pcap.len() as u64,
    });
    group.bench_function("record_walk", |b| {
        b.iter(|| {
            let mut reader =
                PcapReader::new(frames.pcap.as_slice(), "bench.pcap").expect("a pcap header");
            let (mut n, mut check) = (0u64, 0u8);
            while let Some(Ok(raw)) = reader.next_packet() {
                n += 1;
                check ^= raw.data.first().copied().unwrap_or(0);
            }
            black_box((n, check))
        })
    });

    // 2. Decode: frames to IP packets.
    group.throughput(Throughput::ElementsAndBytes {
        elements: frame_count,
        bytes: frame_bytes,
    });
    group.bench_function("decode", |b| {
        b.iter(|| {
            for raw in &packets {
                black_box(decode(raw).ok());
            }
        })
    });

    // 3. The flow-table update alone, over packets decoded beforehand (`IpPacket` borrows the
    // frame, not the decoder, so decoding can be hoisted). A fresh table per pass; building the
    // empty table and dropping the full one are left out of the timing.
    let ip_count = input.ip.len() as u64;
    group.throughput(Throughput::ElementsAndBytes {
        elements: ip_count,
        bytes: frame_bytes,
    });
    group.bench_function("flow_update", |b| {
        b.iter_batched(
            || FlowTable::new(FlowTableConfig::default(), ports.clone()),
            |mut table| {
                for (ts, pos, ip) in &input.ip {
                    black_box(table.update(*ts, *pos, ip).is_some());
                    table.drain_ended().for_each(drop);
                }
                table.finish();
                table.drain_ended().for_each(drop);
                table
            },
            BatchSize::PerIteration,
        )
    });
    // Decode and the table together, as the pipeline runs them: a check that the two parts
    // above add up.
    group.throughput(Throughput::ElementsAndBytes {
        elements: frame_count,
        bytes: frame_bytes,
    });
    group.bench_function("decode_and_flow_update", |b| {
        b.iter_batched(
            || FlowTable::new(FlowTableConfig::default(), ports.clone()),
            |mut table| {
                for raw in &packets {
                    if let Ok(Decoded::Ip(ip)) = decode(raw) {
                        black_box(table.update(raw.ts, raw.pos, &ip).is_some());
                    }
                    table.drain_ended().for_each(drop);
                }
                table.finish();
                table.drain_ended().for_each(drop);
                table
            },
            BatchSize::PerIteration,
        )
    });

    // 4. Classification of new flows by port (and endpoint-mapper memory): elements are flows.
    group.throughput(Throughput::Elements(input.new_flows.len() as u64));
    group.bench_function("classify_new_flows", |b| {
        b.iter_batched(
            || (Classifier::new(signatures.clone()), input.new_flows.clone()),
            |(mut classifier, mut flows)| {
                for flow in &mut flows {
                    classifier.on_new_flow(flow);
                }
                (classifier, flows)
            },
            BatchSize::PerIteration,
        )
    });

    // 5. The payload checks on every payload the table hands on (elements are those packets;
    // the classifier parses the first few per direction of each flow and skips the rest, as in
    // the pipeline), over flows already classified by port.
    let payload_bytes: u64 = input.payloads.iter().map(|(_, _, d)| d.len() as u64).sum();
    group.throughput(Throughput::ElementsAndBytes {
        elements: input.payloads.len() as u64,
        bytes: payload_bytes,
    });
    let classified: Vec<FlowRecord> = {
        let mut classifier = Classifier::new(signatures.clone());
        let mut flows = input.new_flows.clone();
        flows.iter_mut().for_each(|f| classifier.on_new_flow(f));
        flows
    };
    group.bench_function("payload_checks", |b| {
        b.iter_batched(
            || (Classifier::new(signatures.clone()), classified.clone()),
            |(mut classifier, mut flows)| {
                for (n, dir, payload) in &input.payloads {
                    if let Some(flow) = flows.get_mut(*n) {
                        classifier.on_payload(flow, *dir, payload);
                    }
                }
                (classifier, flows)
            },
            BatchSize::PerIteration,
        )
    });

    // The whole pipeline (summary and flow verdicts included), for reference.
    group.throughput(Throughput::ElementsAndBytes {
        elements: frame_count,
        bytes: frame_bytes,
    });
    let mut source = ReplaySource::default();
    for raw in &packets {
        source.push(raw.ts, raw.link, raw.data, raw.orig_len, raw.pos);
    }
    let progress = Progress::new(None, true);
    group.bench_function("full_pipeline", |b| {
        b.iter(|| {
            source.rewind();
            let mut classifier = Classifier::new(signatures.clone());
            let summary = rdsflows::pipeline::run(
                &mut source,
                &["bench".to_string()],
                &mut classifier,
                FlowTableConfig::default(),
                None,
                &progress,
                1,
            )
            .expect("no output to fail");
            black_box(summary.totals.flows)
        })
    });
    group.finish();
}

/// One message of each protocol the payload checks know, as `rdsflows::synth` builds it for the
/// generated captures, with the context (transport and ports) the classifier would give it.
fn messages() -> Vec<(&'static str, Context, Vec<u8>)> {
    let mut rng = Rng::new(1);
    let tcp = |server_port| Context {
        tcp: true,
        server_port,
        client_port: 50_123,
    };
    let udp = |server_port| Context {
        tcp: false,
        server_port,
        client_port: 50_123,
    };
    let realm = "CONTOSO.EXAMPLE";
    let hello = rdp::ClientHelloOptions {
        sni: Some("rdgw.contoso.example"),
        alpn: &["http/1.1"],
    };
    let cred = p::spnego_init_krb5(&mut rng, realm, &["ldap", "dc1.contoso.example"]);
    vec![
        (
            "rdp_x224_connection_request",
            tcp(3389),
            rdp::x224_connection_request(
                &rdp::RdpToken::MstsHash("user1".into()),
                rdp::PROTOCOL_SSL | rdp::PROTOCOL_HYBRID,
                None,
            ),
        ),
        (
            "tls_client_hello",
            tcp(443),
            rdp::tls_client_hello(&mut rng, &hello),
        ),
        (
            "dcerpc_bind",
            tcp(135),
            p::rpc_bind(2, &p::RpcInterface::EPM),
        ),
        (
            "kerberos_as_req_tcp",
            tcp(88),
            p::kerberos_tcp(&p::krb_as_req(&mut rng, realm, "user1")),
        ),
        (
            "ldap_sasl_bind",
            tcp(389),
            p::ldap_bind_request_sasl(1, "GSS-SPNEGO", &cred),
        ),
        (
            "dns_query",
            udp(53),
            p::dns_query(0x1234, "rdgw.contoso.example", p::DNS_TYPE_A),
        ),
        (
            "smb2_negotiate",
            tcp(445),
            p::smb2_negotiate_request(rng.array16(), rng.array32()),
        ),
    ]
}

/// Each payload parser on one message, through the classifier's dispatch (`inspect`: the first
/// byte and the ports pick the parser), bytes per second.
fn payload_parsers(c: &mut Criterion) {
    let mut group = c.benchmark_group("payload_parsers");
    for (name, ctx, message) in messages() {
        assert!(
            inspect(ctx, &message).is_some(),
            "{name}: the checks must recognise the message"
        );
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(inspect(black_box(ctx), black_box(&message)).is_some()))
        });
    }
    group.finish();
}

criterion_group!(benches, stages, payload_parsers);
criterion_main!(benches);
