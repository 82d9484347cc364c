"""A safetensors reader in NumPy (the format: an 8-byte little-endian header length N, N bytes of
JSON naming each tensor's dtype, shape and [begin, end) byte offsets into the data that follows,
and an optional "__metadata__" map of strings). Written from the format's description so the client
needs nothing beyond NumPy."""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


class SafetensorsError(ValueError):
    pass


def load_bytes(data: bytes):
    """(tensors, metadata): name -> ndarray (a copy, little-endian), and the metadata strings."""
    if len(data) < 8:
        raise SafetensorsError(f"file too short: {len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data) or data[8:9] != b"{":
        raise SafetensorsError("not a safetensors file: no header length and JSON header at its start")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype == "BF16":  # the top 16 bits of a float32
            raw = np.frombuffer(body[info["data_offsets"][0]:info["data_offsets"][1]], dtype="<u2")
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        elif dtype in _DTYPES:
            arr = np.frombuffer(body[info["data_offsets"][0]:info["data_offsets"][1]], dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        else:
            raise SafetensorsError(f"tensor {name!r}: dtype {dtype} is not supported")
        tensors[name] = arr.reshape(info["shape"]).copy()
    return tensors, metadata
