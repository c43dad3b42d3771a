//! Writing classic pcap files (used by the sample generator and, later, `capture -w`).
//! Owns the pcap file header and record layout; must not decide what is written.

use std::io::{self, Write};

use super::LinkType;
use crate::time::Timestamp;

/// Classic pcap magic for nanosecond timestamps, written in our (little-endian) byte order.
/// pcap file format: draft-ietf-opsawg-pcap, section 4.
const PCAP_MAGIC_NANOS: u32 = 0xA1B2_3C4D;

/// Writes a nanosecond-resolution, little-endian classic pcap stream.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the 24-byte file header.
    ///
    /// # Errors
    /// Any error from the underlying writer.
    pub fn new(mut out: W, link: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&PCAP_MAGIC_NANOS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // 8..16: thiszone and sigfigs, always zero.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&link.0.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out, snaplen })
    }

    /// Writes one record; `data` is cut to the snapshot length, `orig_len` is kept.
    ///
    /// # Errors
    /// Any error from the underlying writer.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let kept = data.len().min(self.snaplen as usize);
        let nanos = ts.as_nanos();
        let secs = u32::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
        let frac = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&secs.to_le_bytes());
        record[4..8].copy_from_slice(&frac.to_le_bytes());
        record[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
        record[12..16].copy_from_slice(&orig_len.max(kept as u32).to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(&data[..kept])
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    /// Any error from flushing.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
