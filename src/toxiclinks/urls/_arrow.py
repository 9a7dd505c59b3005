"""Arrow string helpers shared by URL normalisation and host splitting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(col: pd.Series) -> pa.Array:
    """A string column as one contiguous Arrow array (no copy when it is Arrow-backed already)."""
    arrow = pa.array(col.array, type=pa.string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def mostly_repeats(values: pa.Array) -> bool:
    """Whether most values repeat (judged on the first 1,000): then work once per distinct value pays."""
    sample = values.slice(0, 1000)
    return 4 * len(pc.unique(sample)) < len(sample)


def string_buffers(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (n + 1, int64) and UTF-8 bytes of an Arrow string array, without copying the bytes."""
    width = np.dtype(np.int64 if pa.types.is_large_string(strings.type) else np.int32)
    _, offsets, data = strings.buffers()
    starts = np.frombuffer(offsets, dtype=width, count=len(strings) + 1, offset=strings.offset * width.itemsize)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return starts.astype(np.int64), raw


def substrings(data: np.ndarray, start: np.ndarray, stop: np.ndarray,
               valid: np.ndarray | None = None) -> pa.Array:
    """The strings ``data[start[i]:stop[i]]`` (null where ``valid`` is False), gathered at once.

    Callers cut at ASCII bytes ('/', '.', '#'), which never fall inside a UTF-8 character.
    """
    lengths = np.maximum(stop - start, 0)
    if valid is not None:
        lengths = np.where(valid, lengths, 0)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    gather = np.repeat(start - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=np.int64)
    validity = None if valid is None or valid.all() else pa.array(valid).buffers()[1]
    small = offsets[-1] < np.iinfo(np.int32).max
    return pa.Array.from_buffers(pa.string() if small else pa.large_string(), len(lengths),
                                 [validity, pa.py_buffer(offsets.astype(np.int32) if small else offsets),
                                  pa.py_buffer(data[gather])])
