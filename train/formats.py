"""The byte layouts train/ shares with the engine, defined once on the Python side.

- The weight file header (written by export.py, read back by export_onnx.py; the engine's reader is
  the engine's weight reader (src/), whose table is weights/FORMAT.md, written from HEADER_ROWS below).
- The fixed size of a .aara file's header (src/ container.ts), which eval.py adds to estimated rates.
"""
import hashlib
import math
import struct

import numpy as np

MAGIC = b"AARAWGT\0"
VERSION_FACTORIZED = 1  # the layout of weight files before model kinds existed, unchanged
VERSION_KINDS = 2  # a model-kind field in the header (KIND_IDS), then the kind's tensors
VERSION_FITTED = 3  # as 2, with fitted Gaussian tables: rows per latent and level (fit_tables.py, gaussian.map)
KIND_IDS = {"factorized": 1, "hyper": 2, "checkerboard": 3, "spacechannel": 4, "ycontext": 5, "ychannel": 6}
HEADER_BYTES = 64
CDF_PRECISION = 16  # table entries sum to 2^16: the rANS coder's PROB_BITS
# magic, ten u32 fields (their meaning depends on the version, HEADER_ROWS), weights ID; zero-padded to 64 bytes
HEADER_STRUCT = struct.Struct("<8s10I16s")

HEADER_ROWS = {
    "factorized": [
        "| 8 | version (1) | u32 |",
        "| 12 | N, M, Nr, Mr, L | 5 × u32 |",
        "| 32 | CDF precision (16) | u32 |",
        "| 36 | SY, SZ: CDF row strides of ŷ and ẑ | 2 × u32 |",
    ],
    "hyper": [
        "| 8 | version (2; 3: fitted Gaussian tables, gaussian.rows and gaussian.map below) | u32 |",
        "| 12 | model kind: 1 factorized (always written as version 1), 2 hyper, 3 checkerboard, 4 spacechannel, 5 ycontext, 6 ychannel | u32 |",
        "| 16 | N, M, Nr, Mr, L, Nh | 6 × u32 |",
        "| 40 | CDF precision (16) | u32 |",
    ],
}
HEADER_ROWS["checkerboard"] = HEADER_ROWS["hyper"]  # the same header; the kind field says 3 (4, 5, 6)
HEADER_ROWS["spacechannel"] = HEADER_ROWS["ycontext"] = HEADER_ROWS["ychannel"] = HEADER_ROWS["hyper"]
COMMON_ROWS = [
    "| 44 | payload bytes (everything after the header) | u32 |",
    "| 48 | weights ID: first 16 bytes of SHA-256(payload) | 16 bytes |",
]


def padded_bytes(a):
    """A tensor's bytes in the file: f16 tensors are padded to a multiple of 4 (the reader's cursor walks words)."""
    return -(-a.nbytes // 4) * 4


def payload_bytes(arrays):
    """The tensors (name, array) back to back, little-endian, each padded as padded_bytes: everything after the header."""
    def data(a):
        b = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        return b + b"\0" * (padded_bytes(a) - len(b))
    return b"".join(data(a) for _, a in arrays)


def weights_id_of(payload):
    """The ID a file carries and every .aara file names: the first 16 bytes of SHA-256(payload)."""
    return hashlib.sha256(payload).digest()[:16]


def pack_header(kind, config, payload, strides=None, fitted=False):
    """The 64-byte header of a weight file of this kind; strides (SY, SZ) only for the factorized kind, whose
    CDF row strides live in the header (the other kinds store theirs in the payload); fitted: version 3."""
    c = config
    if kind == "factorized":
        fields = (VERSION_FACTORIZED, c["N"], c["M"], c["Nr"], c["Mr"], c["levels"], CDF_PRECISION, *strides)
    else:
        fields = (VERSION_FITTED if fitted else VERSION_KINDS, KIND_IDS[kind], c["N"], c["M"], c["Nr"], c["Mr"], c["levels"], c["Nh"], CDF_PRECISION)
    header = HEADER_STRUCT.pack(MAGIC, *fields, len(payload), weights_id_of(payload))
    return header + b"\0" * (HEADER_BYTES - len(header))


def unpack_header(data):
    """dict(kind, config, weights_id hex, fitted: version 3) of a weight file's bytes; ValueError when it is not one."""
    if len(data) < HEADER_BYTES:
        raise ValueError(f"{len(data)} bytes: shorter than a weight file header")
    magic, *fields, wid = HEADER_STRUCT.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not an aara weight file (bad magic)")
    version = fields[0]
    if version == VERSION_FACTORIZED:
        kind, (N, M, Nr, Mr, levels) = "factorized", fields[1:6]
        config = dict(N=N, M=M, Nr=Nr, Mr=Mr, levels=levels)
    elif version in (VERSION_KINDS, VERSION_FITTED):
        kinds = {v: k for k, v in KIND_IDS.items()}
        if fields[1] not in kinds:
            raise ValueError(f"unknown model kind {fields[1]}")
        kind, (N, M, Nr, Mr, levels, Nh) = kinds[fields[1]], fields[2:8]
        config = dict(N=N, M=M, Nr=Nr, Mr=Mr, levels=levels, kind=kind, Nh=Nh)
    else:
        raise ValueError(f"unsupported weight file version {version}")
    return dict(kind=kind, config=config, weights_id=wid.hex(), fitted=version == VERSION_FITTED)


CONTAINER_FIXED_BYTES = 24  # magic, version, level, flags, stream count, width, height, weights ID (container.ts)
CONTAINER_STREAM_BYTES = 4  # one u32 length per stream
CONTAINER_CRC_BYTES = 4
CHANNELS_PER_STREAM = 32  # one rANS stream per group of 32 channels of a latent


def container_overhead_bytes(config):
    """Bytes of a .aara file that are not entropy-coded symbols, for an estimated rate to be a file's."""
    streams = sum(math.ceil(config.get(c, 0) / CHANNELS_PER_STREAM) for c in ("M", "Mr", "Nh"))
    if config.get("kind") == "checkerboard":  # ẑ's anchors and its other elements in separate streams
        streams += math.ceil(config["Mr"] / CHANNELS_PER_STREAM)
    return CONTAINER_FIXED_BYTES + CONTAINER_STREAM_BYTES * streams + CONTAINER_CRC_BYTES
