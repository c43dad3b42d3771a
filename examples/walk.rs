//! The bare record walk: the floor any pcap tool stands on, for `scripts/bench-peers.sh`.
//! Reads a classic pcap (either byte order, micro- or nanosecond) record by record into one
//! reusable buffer and counts frames and bytes, nothing more. With `--reader`, walks the same
//! file through rdsflows' own capture reader instead (the pipeline's first stage alone).
//! Must stay this small: no decoding, no third-party code.
//!
//! Usage: `cargo run --release --example walk -- [--reader] FILE`

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use rdsflows::capture::file::open_inputs;
use rdsflows::capture::PacketSource;

/// Walks the records with std only; returns (frames, captured bytes, a checksum byte).
fn bare(path: &str) -> io::Result<(u64, u64, u8)> {
    let mut input = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut header = [0u8; 24];
    input.read_exact(&mut header)?;
    let big = match header[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => return Err(io::Error::other("not a classic pcap file")),
    };
    let u32_at = |b: &[u8], at: usize| {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    };
    let (mut frames, mut bytes, mut check) = (0u64, 0u64, 0u8);
    let mut record = [0u8; 16];
    let mut data = vec![0u8; 262_144];
    loop {
        match input.read_exact(&mut record) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let caplen = u32_at(&record, 8) as usize;
        if caplen > data.len() {
            data.resize(caplen, 0);
        }
        input.read_exact(&mut data[..caplen])?;
        frames += 1;
        bytes += caplen as u64;
        check ^= data.first().copied().unwrap_or(0);
    }
    Ok((frames, bytes, check))
}

/// Walks the records through rdsflows' reader.
fn reader(path: &str) -> (u64, u64, u8) {
    let (mut source, errors) = open_inputs(&[PathBuf::from(path)]);
    for e in errors {
        eprintln!("walk: {e}");
    }
    let (mut frames, mut bytes, mut check) = (0u64, 0u64, 0u8);
    while let Some(next) = source.next_packet() {
        let Ok(packet) = next else { break };
        frames += 1;
        bytes += packet.data.len() as u64;
        check ^= packet.data.first().copied().unwrap_or(0);
    }
    (frames, bytes, check)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (use_reader, path) = match args.as_slice() {
        [flag, path] if flag == "--reader" => (true, path),
        [path] => (false, path),
        _ => {
            eprintln!("usage: walk [--reader] FILE");
            return ExitCode::from(2);
        }
    };
    let result = if use_reader {
        Ok(reader(path))
    } else {
        bare(path)
    };
    match result {
        Ok((frames, bytes, check)) => {
            println!("{frames} frames, {bytes} captured bytes (check {check})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("walk: {path}: {e}");
            ExitCode::from(2)
        }
    }
}
