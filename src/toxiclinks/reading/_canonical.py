"""The canonical link table: raw cells of one chunk turned into it, and given column values with
their host columns (the readers and the service build every table here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..urls import (
    UNKNOWN_SUFFIX,
    arrow_strings,
    host_of,
    mostly_repeats,
    no_known_suffix,
    no_known_suffixes,
    normalize_url_series,
    split_host,
    split_hosts_arrow,
    url_hosts,
)
from . import _formats as formats
from ._sniff import REJECT_COLUMNS, Detected
from ._stray import StrayQuote, swallowed_record
from ._values import (
    ValueStats,
    blank_as_missing,
    holds_byte,
    is_text,
    link_type_from_flags,
    parse_bool,
    parse_date,
    parse_number,
    trimmed,
)

#: A cell longer than this is not a real export value (anchors, titles and contexts are short).
MAX_CELL = 32_768


def to_canonical(raw: pd.DataFrame, det: Detected, physical_lines: np.ndarray | None = None,
                  ) -> tuple[pd.DataFrame, pd.DataFrame, ValueStats]:
    """Map one chunk of raw string cells to canonical columns; split off the rows to reject.

    Also returns the chunk's unparsable-value counts (merged in file order by the caller).
    """
    stats = ValueStats()
    fmt, mapping = det.format, det.mapping
    n = len(raw)
    record = raw.index.to_numpy() + 1  # 1-based data record number
    lines = physical_lines if physical_lines is not None else record + det.header_line
    out: dict[str, pd.Series] = {}
    reject_reason = pd.Series("", index=raw.index, dtype=object)
    reject_column = pd.Series("", index=raw.index, dtype=object)
    reject_value = pd.Series("", index=raw.index, dtype=object)

    def reject(mask: pd.Series, column: str, reason: pd.Series | str, value: pd.Series | str) -> None:
        """Reject the rows of ``mask`` not rejected yet, for ``reason``; the first reason found wins.

        A ``reason`` or ``value`` series needs only the rows of ``mask`` (it is indexed by them)."""
        new = mask & (reject_reason == "")
        if new.any():
            reject_reason[new] = reason[new] if isinstance(reason, pd.Series) else reason
            reject_column[new] = column
            reject_value[new] = value[new] if isinstance(value, pd.Series) else value

    swallowed = swallowed_record(raw, det)
    if swallowed is not None:
        raise StrayQuote(record=swallowed)
    for header_name in set(mapping.values()):
        col = raw[header_name]
        if not is_text(col) or _max_bytes(col) <= MAX_CELL:
            continue  # numbers and booleans the parser already understood; short text
        too_long = col.str.len() > MAX_CELL
        if too_long.any():
            reject(too_long, header_name,
                   col[too_long].str.len().map(lambda k: f"cell is {k:,} characters long "
                                                          f"(limit {MAX_CELL:,})"), "")
            raw.loc[too_long, header_name] = ""

    for header_name in set(mapping.values()):
        col = raw[header_name]
        if is_text(col) and holds_byte(arrow_strings(col), 0):
            nul = col.str.contains("\x00", regex=False).fillna(False)
            reject(nul, header_name, "cell holds a NUL byte (\\x00), which no export tool writes",
                   col.str.replace("\x00", "\\x00", regex=False).str.slice(0, 200))

    for canonical, header_name in mapping.items():
        if canonical.startswith("flag:") or canonical == "redirect_chain":
            continue
        kind = schema.KIND.get(canonical)
        col = raw[header_name]
        if kind == "str":
            if canonical in ("source_url", "target_url"):
                continue
            out[canonical] = pd.array(trimmed(col), dtype="string")
        elif kind == "bool" or canonical == "lost":
            out[canonical] = parse_bool(col, canonical, fmt, lines, stats, header_name)
        elif kind == "float":
            out[canonical] = parse_number(col, lines, stats, header_name)
        elif kind == "datetime":
            out[canonical] = parse_date(col, lines, stats, header_name)

    if fmt is formats.AHREFS and "link_type" in mapping:
        kind_col = raw[mapping["link_type"]].str.strip().str.lower()
        link_type = kind_col.where(kind_col.isin(["text", "image", "frame", "form"]), pd.NA)
        if "redirect_chain" in mapping:
            link_type = link_type.mask(raw[mapping["redirect_chain"]].str.strip() != "", "redirect")
        out["link_type"] = link_type.astype("string")
    elif fmt.type_flags:
        out["link_type"] = link_type_from_flags(raw, mapping, fmt)

    # Source URL: required; a row without a usable one is rejected with the reason.
    src_header = mapping["source_url"]
    src, src_err = normalize_url_series(raw[src_header])
    bad_source = src_err.notna()
    if bad_source.any():  # reasons and values built for the bad rows only, not the whole chunk
        reject(bad_source, src_header, "source URL: " + src_err[bad_source],
               raw[src_header][bad_source].str.slice(0, 200))
    out["source_url"] = src
    if "target_url" in mapping:
        tgt_header = mapping["target_url"]
        tgt, tgt_err = normalize_url_series(raw[tgt_header])
        bad_target = tgt_err.notna() & (raw[tgt_header].str.strip() != "")
        if bad_target.any():
            stats.add(tgt_header, lines[bad_target.to_numpy()])
        out["target_url"] = tgt

    out["source_tool"] = pd.array(pa.repeat(fmt.name, n), dtype="string")
    out["source_file"] = pd.array(pa.repeat(det.path, n), dtype="string")
    out["source_row"] = pd.array(record, dtype="Float64")
    table, no_suffix = canonical_links(out, raw.index)
    if no_suffix.any():
        unusable = pd.Series(no_suffix, index=table.index)
        reject(unusable, src_header, "source URL: " + table["source_host"][unusable].map(UNKNOWN_SUFFIX.format),
               raw[src_header][unusable].str.slice(0, 200))

    bad_mask = (reject_reason != "").to_numpy()
    rejects = pd.DataFrame({
        "file": det.path, "line": lines[bad_mask], "column": reject_column[bad_mask].to_numpy(),
        "reason": reject_reason[bad_mask].to_numpy(), "value": reject_value[bad_mask].to_numpy(),
    }, columns=REJECT_COLUMNS)
    table = table.loc[~bad_mask] if bad_mask.any() else table
    return table.reset_index(drop=True), rejects, stats


#: The columns :func:`host_columns` derives from the source and target URLs.
HOST_COLUMNS = ("source_host", "source_site", "source_domain", "source_suffix", "source_platform",
                "target_host", "target_site")
#: The host columns of each URL beside its host: (column, field of :class:`~toxiclinks.urls.HostParts`).
_HOST_PARTS = (("source", (("site", "site"), ("domain", "registered_domain"), ("suffix", "suffix"),
                           ("platform", "platform"))),
               ("target", (("site", "site"),)))

#: A column as :func:`canonical_links` takes it: typed pandas values (what the readers parse) or a
#: list of plain Python values, ``None`` where missing (what a request to the service carries).
Column = pd.Series | pd.api.extensions.ExtensionArray | list[Any]


@overload
def canonical_links(given: Mapping[str, Column], index: pd.Index) -> tuple[pd.DataFrame, np.ndarray]: ...
@overload
def canonical_links(given: Mapping[str, Any], index: None = None) -> tuple[dict[str, Any], bool]: ...
def canonical_links(given: Mapping[str, Any], index: pd.Index | None = None,
                    ) -> tuple[pd.DataFrame, np.ndarray] | tuple[dict[str, Any], bool]:
    """Values of canonical fields turned into canonical links, with the host columns derived from the URLs.

    With an ``index``, ``given`` holds a column per field for those rows: typed pandas columns, or
    lists of plain values that get their field's dtype here (a list holding no value at all is left
    out: missing). The answer is the canonical table and, per row, whether to reject it because its
    source host ends in no known public suffix and is no IP address
    (:func:`toxiclinks.urls.no_known_suffix`). URLs must be normalised already.

    Without an index, ``given`` is one link's plain values (a live request): the answer is its values
    with the host columns added, ``None`` where missing, as its one-row table would hold them, and
    whether to reject it, computed without building a table.
    """
    if index is None:
        values = dict(given)
        values.update(_host_values(given["source_url"], given.get("target_url")))
        return values, no_known_suffix(values["source_host"], values["source_suffix"])
    columns = {name: _typed(name, values) if isinstance(values, list) else values
               for name, values in given.items()
               if name in schema.KIND and not (isinstance(values, list) and values.count(None) == len(values))}
    columns.update(host_columns(columns.get("source_url", pd.Series([], dtype="string")), columns.get("target_url")))
    table = schema.from_columns(columns, index)
    return table, no_known_suffixes(table["source_host"], table["source_suffix"])


def _typed(name: str, values: list[Any]) -> pd.Series:
    """Plain values of canonical field ``name`` as a column of its dtype (times in UTC, as naive)."""
    if schema.KIND[name] == "datetime":
        return pd.Series(pd.to_datetime(values, utc=True, errors="coerce").tz_convert(None))
    return pd.Series(pd.array(values, dtype=schema.dtype(name)))


def referring_site(links: pd.DataFrame) -> np.ndarray:
    """The referring site of each link (its host when no site could be derived), as objects."""
    return links["source_site"].fillna(links["source_host"]).fillna("").to_numpy(object)


def add_hosts(table: pd.DataFrame) -> None:
    """Fill the derived host columns of a canonical table, splitting each distinct host once."""
    for column, values in host_columns(table["source_url"], table["target_url"]).items():
        table[column] = values


def host_columns(source_url: pd.Series, target_url: pd.Series | None) -> dict[str, pd.api.extensions.ExtensionArray]:
    """Host, site, domain, suffix and platform of the source URLs, host and site of the targets.

    Each distinct host is split once; a column of few distinct URLs (the targets) has its hosts
    cut once per URL. A target column of ``None`` gives no target columns. (One link's URLs as
    plain values: :func:`canonical_links` without an index.)
    """
    out = {}
    for (prefix, fields), url_col in zip(_HOST_PARTS, (source_url, target_url), strict=True):
        if url_col is None:
            continue
        urls = arrow_strings(url_col)
        by_url = urls.dictionary_encode() if mostly_repeats(urls) else None
        encoded = url_hosts(urls if by_url is None else by_url.dictionary).dictionary_encode()
        distinct = encoded.dictionary
        indices = encoded.indices if by_url is None else encoded.indices.take(by_url.indices)
        if pc.any(pc.match_substring(distinct, ":")).as_py():  # a port or an IPv6 address (rare)
            distinct = pa.array([host_of(f"http://{h}") for h in distinct.to_pylist()], type=pa.string())
        parts = split_hosts_arrow(distinct)
        out[f"{prefix}_host"] = pd.array(distinct.take(indices), dtype="string")
        for column, attr in fields:
            out[f"{prefix}_{column}"] = pd.array(blank_as_missing(parts[attr]).take(indices), dtype="string")
    return out


def _host_values(source_url: str | None, target_url: str | None) -> dict[str, str | None]:
    """:func:`host_columns` of one link's URLs, as plain values, ``None`` where missing or empty."""
    out: dict[str, str | None] = {}
    for (prefix, fields), url in zip(_HOST_PARTS, (source_url, target_url), strict=True):
        parts = split_host(host_of(url)) if url is not None else None
        out[f"{prefix}_host"] = parts.host if parts else None
        for column, attr in fields:
            out[f"{prefix}_{column}"] = (getattr(parts, attr) or None) if parts else None
    return out


def _max_bytes(col: pd.Series) -> int:
    """Length in bytes of the longest cell of a text column (at least its length in characters)."""
    longest = pc.max(pc.binary_length(arrow_strings(col))).as_py()
    return longest or 0
