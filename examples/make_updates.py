#!/usr/bin/env python3
"""Writes the example updates in examples/updates/: five small safetensors files shaped like a
LoRA adapter (two F32 tensors, one BF16), four honest nodes and one that scaled its update by 50.
Standard library only, so it runs anywhere Python does; the files are committed as they are."""
import json
import os
import random
import struct


def bf16(value):
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16


def write(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, (dtype, shape, values) in tensors.items():
        if dtype == "F32":
            blob = struct.pack("<%df" % len(values), *values)
        else:
            blob = struct.pack("<%dH" % len(values), *[bf16(v) for v in values])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "updates")
    os.makedirs(here, exist_ok=True)
    rng = random.Random(7)
    base = {"lora_A": [rng.gauss(0, 0.1) for _ in range(8 * 64)],
            "lora_B": [rng.gauss(0, 0.1) for _ in range(64 * 8)],
            "bias": [rng.gauss(0, 0.1) for _ in range(64)]}
    for node in range(5):
        scale = 50.0 if node == 4 else 1.0
        noisy = {k: [scale * (v + rng.gauss(0, 0.01)) for v in vs] for k, vs in base.items()}
        write(os.path.join(here, "node%d.safetensors" % node), {
            "lora_A": ("F32", [8, 64], noisy["lora_A"]),
            "lora_B": ("F32", [64, 8], noisy["lora_B"]),
            "bias": ("BF16", [64], noisy["bias"]),
        })


if __name__ == "__main__":
    main()
