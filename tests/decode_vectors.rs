//! Arbitrary bytes never make the decoder or the pipeline panic, on any link type, whether the
//! capture claims the frame was cut or not (proptest; the fuzz targets go further).

use proptest::prelude::*;
use rdsflows::capture::replay::ReplaySource;
use rdsflows::capture::{LinkType, PacketPos, RawPacket};
use rdsflows::classify::signature::SignatureSet;
use rdsflows::classify::Classifier;
use rdsflows::decode::{decode, flow_addresses, Decoded};
use rdsflows::flow::FlowTableConfig;
use rdsflows::report::progress::Progress;
use rdsflows::time::Timestamp;

const LINKS: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::NULL,
    LinkType::RAW,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType(147),
];

/// Frames that start like real ones (Ethernet + IPv4/IPv6 + TCP/UDP) and then go wrong.
fn plausible_frame() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..120)).prop_map(|(v6, tail)| {
        let mut frame = vec![0u8; 12];
        if v6 {
            frame.extend_from_slice(&[0x86, 0xDD, 0x60, 0, 0, 0, 0, 40, 6, 64]);
        } else {
            frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 60, 0, 0, 0x20, 0, 64, 6, 0, 0]);
        }
        frame.extend_from_slice(&tail);
        frame
    })
}

proptest! {
    #[test]
    fn decode_never_panics(data in prop::collection::vec(any::<u8>(), 0..200), link in 0usize..8, cut in any::<bool>()) {
        let raw = RawPacket {
            ts: Timestamp::ZERO,
            link: LINKS[link],
            data: &data,
            orig_len: if cut { data.len() as u32 + 500 } else { data.len() as u32 },
            pos: PacketPos::default(),
        };
        let _ = decode(&raw);
    }

    #[test]
    fn pipeline_never_panics_and_counts_every_frame(frames in prop::collection::vec(plausible_frame(), 1..60)) {
        let n = frames.len() as u64;
        let timed = frames.into_iter().enumerate().map(|(i, f)| (Timestamp::from_parts(i as i64, 0), f)).collect();
        let mut source = ReplaySource::new(LinkType::ETHERNET, timed);
        let mut classifier = Classifier::new(SignatureSet::builtin());
        let mut lines = Vec::new();
        let summary = rdsflows::pipeline::run(&mut source, &["x".into()], &mut classifier,
            FlowTableConfig { max_flows: 4, ..FlowTableConfig::default() }, Some(&mut lines), &Progress::new(None, true), 1).unwrap();
        prop_assert_eq!(summary.totals.packets, n);
        let flow_lines = String::from_utf8(lines).unwrap().lines().count() as u64;
        prop_assert_eq!(flow_lines, summary.totals.flows);
    }

    /// The cheap address read that picks a frame's shard never disagrees with the decoder.
    #[test]
    fn flow_addresses_agree_with_decode(frame in plausible_frame(), data in prop::collection::vec(any::<u8>(), 0..120), link in 0usize..8, plausible in any::<bool>()) {
        let bytes = if plausible { frame } else { data };
        let raw = RawPacket {
            ts: Timestamp::ZERO,
            link: if plausible { LinkType::ETHERNET } else { LINKS[link] },
            data: &bytes,
            orig_len: bytes.len() as u32,
            pos: PacketPos::default(),
        };
        if let (Some(pair), Ok(Decoded::Ip(ip))) = (flow_addresses(&raw), decode(&raw)) {
            prop_assert_eq!(pair, (ip.src, ip.dst));
        }
    }

    /// Malformed and odd frames give the same flow lines on one thread and on three.
    #[test]
    fn sharded_pipeline_gives_the_same_lines(frames in prop::collection::vec(plausible_frame(), 1..60)) {
        let timed: Vec<_> = frames.into_iter().enumerate().map(|(i, f)| (Timestamp::from_parts(i as i64 * 7, 0), f)).collect();
        let lines = |threads| {
            let mut source = ReplaySource::new(LinkType::ETHERNET, timed.clone());
            let mut classifier = Classifier::new(SignatureSet::builtin());
            let mut lines = Vec::new();
            let summary = rdsflows::pipeline::run(&mut source, &["x".into()], &mut classifier,
                FlowTableConfig::default(), Some(&mut lines), &Progress::new(None, true), threads).unwrap();
            (lines, summary.totals.packets, serde_json::to_string(&summary.decode).unwrap())
        };
        prop_assert_eq!(lines(1), lines(3));
    }
}

proptest! {
    /// Whatever the frames, the summary and every flow line are valid JSON that round-trips:
    /// parse, print, parse again gives the same value (nothing a second parse would read differently).
    #[test]
    fn json_outputs_round_trip(frames in prop::collection::vec(plausible_frame(), 1..40)) {
        let timed = frames.into_iter().enumerate().map(|(i, f)| (Timestamp::from_parts(i as i64, 0), f)).collect();
        let mut source = ReplaySource::new(LinkType::ETHERNET, timed);
        let mut classifier = Classifier::new(SignatureSet::builtin());
        let mut lines = Vec::new();
        let summary = rdsflows::pipeline::run(&mut source, &["x".into()], &mut classifier,
            FlowTableConfig::default(), Some(&mut lines), &Progress::new(None, true), 1).unwrap();
        let mut json = Vec::new();
        rdsflows::report::json::write_summary(&mut json, &summary).unwrap();
        let text = String::from_utf8(lines).unwrap();
        for document in std::iter::once(String::from_utf8(json).unwrap()).chain(text.lines().map(str::to_string)) {
            let first: serde_json::Value = serde_json::from_str(&document).unwrap();
            let again: serde_json::Value = serde_json::from_str(&first.to_string()).unwrap();
            prop_assert_eq!(&first, &again);
        }
    }
}
