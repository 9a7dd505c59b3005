"""Cell values: raw text cells parsed into booleans, numbers and dates, and the cells that could not be."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..urls import arrow_strings
from . import _formats as formats

_TRUE = frozenset({"true", "yes", "y", "1", "+", "x", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "-", "f"})


class ValueStats:
    """Counts of cells that could not be parsed, per column, reported once per file."""

    def __init__(self) -> None:
        self.bad: dict[str, list[int]] = {}
        self.count: dict[str, int] = {}

    def add(self, column: str, lines: np.ndarray) -> None:
        """Count the unparsable cells of ``column`` on ``lines``, keeping the first few line numbers."""
        if len(lines):
            self.count[column] = self.count.get(column, 0) + len(lines)
            self.bad.setdefault(column, []).extend(int(x) for x in lines[: 5 - len(self.bad.get(column, []))])

    def extend(self, other: ValueStats) -> None:
        """Add the counts of a later chunk."""
        for column, n in other.count.items():
            self.count[column] = self.count.get(column, 0) + n
            known = self.bad.setdefault(column, [])
            known.extend(other.bad[column][: 5 - len(known)])

    def messages(self) -> list[str]:
        """One problem note per column with unparsable cells."""
        return [f"column {col!r}: {n} value(s) could not be parsed and were read as missing "
                f"(first at line(s) {', '.join(map(str, self.bad[col]))})"
                for col, n in self.count.items()]


def parse_bool(col: pd.Series, canonical: str, fmt: formats.Format, lines: np.ndarray,
                stats: ValueStats, header_name: str) -> pd.Series:
    """true/false/yes/no/1/0/+ → boolean; empty → NA (False for formats where empty means no)."""
    if col.dtype == bool:
        return col.astype("boolean")
    low = _as_text(col).str.strip().str.lower()
    result = pd.Series(pd.NA, index=col.index, dtype="boolean")
    result[low.isin(_TRUE)] = True
    result[low.isin(_FALSE)] = False
    empty = low == ""
    if fmt.empty_flag_is_false:
        result[empty] = False
    if canonical == "lost":
        # Ahrefs writes a date in 'Lost' and a reason in 'Lost status': any value means lost.
        result[~empty & result.isna()] = True
        if not fmt.empty_flag_is_false:
            result[empty] = False
        return result
    unknown = ~empty & result.isna()
    if unknown.any():
        stats.add(header_name, lines[unknown.to_numpy()])
    return result


def parse_number(col: pd.Series, lines: np.ndarray, stats: ValueStats, header_name: str,
                  ) -> pd.Series:
    """Plain numbers, thousands separators ("1,240"), trailing % (Moz Spam Score)."""
    if pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
        return col.astype("Float64")
    text = _as_text(col).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    retry = values.isna() & (text != "")
    if retry.any():
        cleaned = text[retry].str.replace(r"[,\s%]", "", regex=True)
        values[retry] = pd.to_numeric(cleaned, errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            stats.add(header_name, lines[bad.to_numpy()])
    return values.astype("Float64")


def parse_date(col: pd.Series, lines: np.ndarray, stats: ValueStats, header_name: str,
                ) -> pd.Series:
    """ISO dates (tools) and m/d/yy or m/d/yyyy (Excel re-saves)."""
    if is_text(col):
        try:  # Arrow parses a column of plain ISO dates several times faster than pandas
            stamps = pc.cast(trimmed(col), pa.timestamp("ns"))
            return pd.Series(stamps.to_numpy(zero_copy_only=False), index=col.index)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # other layouts, time zones, bad values: pandas below, value by value
    text = _as_text(col).str.strip()
    # utc=True: a column mixing offsets (or offsets and none) is one timeline, read as UTC.
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_convert(None)
    retry = parsed.isna() & (text != "")
    for fmt in ("%m/%d/%y %H:%M", "%m/%d/%y", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y"):
        if not retry.any():
            break
        parsed[retry] = pd.to_datetime(text[retry], format=fmt, errors="coerce")
        retry = parsed.isna() & (text != "")
    # Years like 9999 parse, but do not fit the table's nanosecond timestamps: unparsable.
    out_of_range = parsed.notna() & ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max))
    parsed[out_of_range] = pd.NaT
    retry |= out_of_range
    if retry.any():
        stats.add(header_name, lines[retry.to_numpy()])
    return parsed.astype("datetime64[ns]")


def link_type_from_flags(raw: pd.DataFrame, mapping: dict[str, str], fmt: formats.Format,
                          ) -> pd.Series:
    """Semrush/Majestic/Moz flag columns → one link_type (the most specific flag set wins)."""
    result = pd.Series(pd.NA, index=raw.index, dtype="string")
    seen_any = False
    for flag, link_type in fmt.type_flags.items():
        header = mapping.get(f"flag:{flag}")
        if header is None:
            continue
        seen_any = True
        low = _as_text(raw[header]).str.strip().str.lower()
        is_set = ~low.isin(_FALSE | {""})
        if link_type == "text":
            result = result.mask(is_set & result.isna(), "text")
        else:
            result = result.mask(is_set, link_type)
    if seen_any and fmt.empty_flag_is_false:
        result = result.fillna("text")
    return result


def is_text(col: pd.Series) -> bool:
    """Whether the parser left a raw column as strings."""
    return col.dtype == object or str(col.dtype) in ("str", "string")


def _as_text(col: pd.Series) -> pd.Series:
    """A raw column as strings, whatever the parser inferred."""
    return col if is_text(col) else col.astype(str)


def holds_byte(values: pa.Array, byte: int) -> bool:
    """Whether any cell holds ``byte``: one scan of all the cells' bytes rather than a match per cell
    (bytes of cells sliced away may count too: then the exact check finds nothing)."""
    data = values.buffers()[2]
    return data is not None and bool((np.frombuffer(data, dtype=np.uint8) == byte).any())


def trimmed(col: pd.Series) -> pa.Array:
    """A raw text column trimmed of whitespace, blank cells as nulls."""
    return blank_as_missing(pc.utf8_trim_whitespace(arrow_strings(col)))


def blank_as_missing(values: pa.Array) -> pa.Array:
    """Empty strings as nulls: an empty cell is unknown, not a value."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
