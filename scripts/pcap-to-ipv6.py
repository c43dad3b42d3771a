#!/usr/bin/env python3
"""Rewrites a pcap's Ethernet/IPv4 frames as Ethernet/IPv6, for timing rdsflows on IPv6.

Usage: scripts/pcap-to-ipv6.py IN.pcap OUT.pcap

Each IPv4 header (options included) becomes a 40-byte IPv6 header: the same payload, protocol
number and TTL (as the hop limit), addresses fd00::a.b.c.d for a.b.c.d. ICMP keeps protocol 1,
so it is not read as ICMPv6; fragments keep their payload but lose their fragment fields. TCP
and UDP checksums are left as they were (rdsflows does not check them). Other frames are copied
as they are. Used for the IPv6 figures in the README's
Performance section, on the benchmark capture of `rdsflows generate bench`.
"""
import struct
import sys


def as_ipv6(frame):
    """The frame with its IPv4 header swapped for an IPv6 one, if it is Ethernet/IPv4; as it is
    otherwise."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return frame
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    v6 = struct.pack(">IHBB", 6 << 28, max(total - ihl, 0), ip[9], ip[8])
    v6 += b"\xfd" + bytes(11) + ip[12:16] + b"\xfd" + bytes(11) + ip[16:20]
    return frame[:12] + b"\x86\xdd" + v6 + ip[ihl:]


def main(source, target):
    with open(source, "rb") as fin, open(target, "wb") as fout:
        header = fin.read(24)
        fout.write(header)
        endian = "<" if header[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        record = struct.Struct(endian + "IIII")
        rewritten = 0
        while True:
            head = fin.read(16)
            if len(head) < 16:
                break
            secs, frac, incl, orig = record.unpack(head)
            frame = fin.read(incl)
            converted = as_ipv6(frame)
            if converted is not frame:
                grown = len(converted) - len(frame)
                incl += grown
                orig += grown
                rewritten += 1
            fout.write(record.pack(secs, frac, incl, orig))
            fout.write(converted)
    print(f"{rewritten} frames rewritten")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
