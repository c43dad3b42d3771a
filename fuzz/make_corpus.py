#!/usr/bin/env python3
"""Seeds the fuzz corpora from the project's own samples (never from third-party captures):
the first records of each sample as small pcaps (capture_reader), frames re-encoded in the
pipeline target's format (pipeline), and the shipped TOML files (config_files)."""
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


for target in ("capture_reader", "pipeline", "config_files"):
    (corpus / target).mkdir(parents=True, exist_ok=True)

for sample in sorted((root / "samples").glob("*.pcap")):
    header = sample.read_bytes()[:24]
    recs = list(records(sample))
    for n, start in enumerate(range(0, 120, 40)):
        chunk = b"".join(raw for raw, _ in recs[start:start + 40])
        (corpus / "capture_reader" / f"{sample.stem}-{n}.pcap").write_bytes(header + chunk)
    for n, start in enumerate(range(0, len(recs), len(recs) // 12 or 1)):
        frames = [frame[:255] for _, frame in recs[start:start + 8]]
        blob = bytes([0]) + b"".join(bytes([len(f)]) + f for f in frames)
        (corpus / "pipeline" / f"{sample.stem}-{n}.bin").write_bytes(blob)

for toml in (root / "signatures" / "rds.toml", root / "samples" / "rds-deployment.toml"):
    (corpus / "config_files" / toml.name).write_bytes(toml.read_bytes())
