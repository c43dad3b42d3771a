//! Any frames through decode, the flow table, the classifier and the summary: the first byte
//! picks the link type (low bits) and one or two flow worker threads (high bit: the sharded
//! pipeline), then frames are length-prefixed (one byte). Totals are conserved.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdsflows::capture::replay::ReplaySource;
use rdsflows::capture::LinkType;
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::time::{Duration, Timestamp};

const LINKS: [LinkType; 6] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::NULL,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::IPV6,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(first & 0x7f) % LINKS.len()];
    let threads = if first & 0x80 == 0 { 1 } else { 2 };
    let mut frames = Vec::new();
    let mut ts = Timestamp::from_parts(1_700_000_000, 0);
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        frames.push((ts, tail[..take].to_vec()));
        rest = &tail[take..];
        // Time moves in jumps chosen by the input, sometimes past every idle timeout.
        ts = ts.plus(Duration::from_secs(i64::from(len % 7) * 60));
    }
    let count = frames.len() as u64;
    let mut source = ReplaySource::new(link, frames);
    let mut classifier = Classifier::new(SignatureSet::builtin());
    let config = FlowTableConfig {
        max_flows: 8,
        ..FlowTableConfig::default()
    };
    let mut lines = Vec::new();
    let summary = rdsflows::pipeline::run(
        &mut source,
        &["fuzz".into()],
        &mut classifier,
        config,
        Some(&mut lines),
        &Progress::new(None, true),
        threads,
    )
    .expect("writing to a Vec cannot fail");
    assert_eq!(summary.totals.packets, count);
    assert_eq!(
        lines.iter().filter(|b| **b == b'\n').count() as u64,
        summary.totals.flows
    );
});
