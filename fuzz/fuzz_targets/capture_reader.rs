//! Any bytes as a pcap, pcapng and Network Monitor file: the readers return frames or one
//! located error, never panic, never allocate what a length field claims without checking it.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rdsflows::capture::netmon::NetmonReader;
use rdsflows::capture::pcap::PcapReader;
use rdsflows::capture::pcapng::PcapngReader;
use rdsflows::capture::PacketSource;

fn drain(source: &mut dyn PacketSource) {
    let mut errors = 0;
    while let Some(next) = source.next_packet() {
        if next.is_err() {
            errors += 1;
        }
        assert!(errors <= 1, "an input reports its damage once, then stops");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = PcapReader::new(Cursor::new(data), "fuzz.pcap") {
        drain(&mut r);
    }
    if let Ok(mut r) = PcapngReader::new(Cursor::new(data), "fuzz.pcapng") {
        drain(&mut r);
    }
    if let Ok(mut r) = NetmonReader::new(Cursor::new(data), "fuzz.cap") {
        drain(&mut r);
    }
});
