#!/usr/bin/env python3
"""Seeds the fuzz corpora from the project's own samples (never from third-party captures):
the first records of each sample as small pcaps (capture_reader), frames re-encoded in the
pipeline target's format, as they are and rewritten as IPv6 (pipeline), the shipped TOML files
(config_files), and distinct TCP/UDP payloads with a context byte for their port (probes)."""
import importlib.util
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"


def records(path):
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data, 0)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from(endian + "IIII", data, offset)
        yield data[offset:offset + 16 + caplen], data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen


for target in ("capture_reader", "pipeline", "config_files", "probes"):
    (corpus / target).mkdir(parents=True, exist_ok=True)

def load_ipv6_rewrite():
    """`as_ipv6` of scripts/pcap-to-ipv6.py (a file name no `import` takes): an Ethernet/IPv4
    frame with its IPv4 header swapped for an IPv6 one. Seeds the IPv6 roads of decoding, which
    the samples (all IPv4) would leave to chance."""
    path = root / "scripts" / "pcap-to-ipv6.py"
    spec = importlib.util.spec_from_file_location("pcap_to_ipv6", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.as_ipv6


as_ipv6 = load_ipv6_rewrite()


for sample in sorted((root / "samples").glob("*.pcap")):
    header = sample.read_bytes()[:24]
    recs = list(records(sample))
    for n, start in enumerate(range(0, 120, 40)):
        chunk = b"".join(raw for raw, _ in recs[start:start + 40])
        (corpus / "capture_reader" / f"{sample.stem}-{n}.pcap").write_bytes(header + chunk)
    for n, start in enumerate(range(0, len(recs), len(recs) // 12 or 1)):
        for family, convert in (("", lambda f: f), ("-v6", as_ipv6)):
            frames = [convert(frame)[:255] for _, frame in recs[start:start + 8]]
            blob = bytes([0]) + b"".join(bytes([len(f)]) + f for f in frames)
            (corpus / "pipeline" / f"{sample.stem}{family}-{n}.bin").write_bytes(blob)

for toml in (root / "signatures" / "rds.toml", root / "samples" / "rds-deployment.toml"):
    (corpus / "config_files" / toml.name).write_bytes(toml.read_bytes())

# probes: the selector byte is (index of the server port in the target's PORTS) << 1 | udp.
PORTS = [3389, 443, 135, 49672, 88, 389, 53, 137, 138, 139, 445, 1812, 1813, 21, 80, 5985, 3391,
         13389, 502, 102, 1645, 5353, 1032, 42356]


def payload_of(frame):
    """(is_udp, src_port, dst_port, payload) of an Ethernet/IPv4 TCP or UDP frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    proto = ip[9]
    l4 = ip[ihl:]
    if proto == 6 and len(l4) >= 20:
        return False, *struct.unpack_from(">HH", l4, 0), l4[(l4[12] >> 4) * 4:]
    if proto == 17 and len(l4) >= 8:
        return True, *struct.unpack_from(">HH", l4, 0), l4[8:]
    return None


for sample in sorted((root / "samples").glob("*.pcap")):
    seen = set()
    for _, frame in records(sample):
        parsed = payload_of(frame)
        if not parsed or not parsed[3]:
            continue
        udp, sport, dport, data = parsed
        port = dport if dport in PORTS else sport
        if port not in PORTS:
            continue
        # Encrypted records differ after a few bytes: key on the start to keep the set small.
        key = (udp, port, data[:8])
        if key in seen or len(seen) >= 150:
            continue
        seen.add(key)
        selector = (PORTS.index(port) << 1) | int(udp)
        name = f"{sample.stem}-{len(seen):03d}.bin"
        (corpus / "probes" / name).write_bytes(bytes([selector]) + data[:1400])
