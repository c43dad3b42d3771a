//! A SYN flood streamed straight to a pcap writer: millions of distinct flows (a scan from the
//! internet across a /16 and many ports) with the `rds-deployment` scenario woven in by time, so
//! tests can check that the RDS flows inside still come out right. Owns nothing but the loop;
//! must never hold the flood in memory (one frame buffer, reused).

use std::io;

use etherparse::PacketBuilder;

use super::{generate, Rng, SNAPLEN};
use crate::capture::writer::PcapWriter;
use crate::capture::LinkType;
use crate::time::{Duration, Timestamp};

/// The scanner: one address from TEST-NET-3 (RFC 5737), as an attacker's would be.
const SCANNER: [u8; 4] = [203, 0, 113, 66];
/// Router MAC used for internet-side frames in the scenarios.
const ROUTER_MAC: [u8; 6] = [0x00, 0x00, 0x0c, 0x9f, 0xf0, 0x01];
const TARGET_MAC: [u8; 6] = [0x00, 0x15, 0x5d, 0x0a, 0x02, 0x15];

/// Writes `flows` single-SYN flows, each a distinct 5-tuple, spread evenly over the capture time
/// of the `rds-deployment` scenario, with that scenario's frames interleaved in time order.
/// Returns the number of frames written.
///
/// # Errors
/// Any error from the writer.
pub fn write_syn_flood<W: io::Write>(flows: u64, seed: u64, out: W) -> io::Result<u64> {
    let scenario = generate("rds-deployment").unwrap_or_default();
    let start = scenario.first().map_or(Timestamp::ZERO, |f| f.ts);
    let end = scenario.last().map_or(start, |f| f.ts);
    let span = end.since(start).as_nanos().max(1);
    let step = (span / i64::try_from(flows.max(1)).unwrap_or(i64::MAX)).max(1);

    let mut writer = PcapWriter::new(
        io::BufWriter::with_capacity(1 << 20, out),
        LinkType::ETHERNET,
        SNAPLEN,
    )?;
    let mut rng = Rng::new(seed);
    let mut frame = Vec::with_capacity(64);
    let mut scenario_frames = scenario.iter().peekable();
    let mut written = 0u64;
    for i in 0..flows {
        let ts = start.plus(Duration::from_nanos(
            step.saturating_mul(i64::try_from(i).unwrap_or(i64::MAX)),
        ));
        while let Some(f) = scenario_frames.next_if(|f| f.ts <= ts) {
            writer.write_packet(f.ts, &f.data, f.data.len() as u32)?;
            written += 1;
        }
        // Distinct 5-tuples: the flow index picks target host (10.1.x.y, x in 100..=199 so the
        // deployment's own hosts are never hit), target port and source port.
        let host = u32::try_from(i % 25_600).unwrap_or(0);
        let rest = i / 25_600;
        let dst = [10, 1, 100 + (host / 256) as u8, (host % 256) as u8];
        let dst_port = 1 + (rest % 65_000) as u16;
        let src_port = 1024 + ((rest / 65_000) % 64_000) as u16;
        let isn = rng.next_u64() as u32;
        frame.clear();
        PacketBuilder::ethernet2(ROUTER_MAC, TARGET_MAC)
            .ipv4(SCANNER, dst, 44)
            .tcp(src_port, dst_port, isn, 1024)
            .syn()
            .write(&mut frame, &[])
            .map_err(|e| io::Error::other(e.to_string()))?;
        writer.write_packet(ts, &frame, frame.len() as u32)?;
        written += 1;
    }
    for f in scenario_frames {
        writer.write_packet(f.ts, &f.data, f.data.len() as u32)?;
        written += 1;
    }
    writer.finish()?.into_inner().map_err(|e| e.into_error())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_has_every_flow_and_the_scenario() {
        let mut bytes = Vec::new();
        let written = write_syn_flood(1000, 7, &mut bytes).unwrap();
        let scenario = generate("rds-deployment").unwrap().len() as u64;
        assert_eq!(written, 1000 + scenario);
        let mut again = Vec::new();
        write_syn_flood(1000, 7, &mut again).unwrap();
        assert_eq!(bytes, again, "deterministic");
    }
}
