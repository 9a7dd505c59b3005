"""``toxiclinks inspect``: what an export is, what it carries, and what is wrong with it."""

from __future__ import annotations

from pathlib import Path

from ..safeio import write_csv_atomic
from ._read import read_export

#: Signal groups an auditor reads, and the canonical fields that carry each.
SIGNALS: dict[str, tuple[str, ...]] = {
    "target URL": ("target_url",),
    "anchor text": ("anchor",),
    "surrounding text": ("left_context", "right_context"),
    "rel nofollow/ugc/sponsored": ("nofollow", "ugc", "sponsored"),
    "link type (text/image/redirect/frame/form)": ("link_type",),
    "placement (in-content, sitewide, links in group)": ("in_content", "sitewide", "links_in_group"),
    "source page title and language": ("source_title", "language"),
    "authority metrics": ("domain_rating", "url_rating", "authority_score", "trust_flow",
                          "citation_flow", "domain_authority", "page_authority"),
    "traffic": ("domain_traffic", "page_traffic"),
    "outbound link counts": ("external_links", "linked_domains"),
    "first/last seen dates": ("first_seen", "last_seen"),
    "lost status": ("lost",),
    "the tool's own spam flag or score": ("tool_spam_flag", "tool_spam_score"),
}


def inspect_file(path: str, *, format: str | None = None, rejects_dir: str | None = None) -> str:
    """Read ``path`` and describe it in plain text."""
    result = read_export(path, format)
    det = result.detected
    links = result.links
    out = [
        f"{path}",
        f"  format:    {det.format.name} — {det.format.label}",
        f"  encoding:  {det.encoding}" + (f", {det.compression}-compressed" if det.compression else ""),
        f"  delimiter: {_show_delimiter(det.delimiter)}; header on line {det.header_line}"
        if det.header_line else "  no header (one URL per line)",
        f"  rows read: {len(links):,}; rows rejected: {len(result.rejects):,}",
        f"  referring sites: {links['source_site'].nunique():,}; "
        f"target sites: {links['target_site'].nunique():,}",
        "  columns → canonical fields:",
    ]
    for canonical, header in det.mapping.items():
        out.append(f"    {header!r:36} → {canonical}")
    unused = [h for h in det.header if h not in det.mapping.values()]
    if unused:
        out.append(f"  columns not used: {', '.join(map(repr, unused))}")
    carried, lacking = [], []
    for signal, fields in SIGNALS.items():
        present = [f for f in fields if f in det.mapping or (f == "link_type" and any(
            k.startswith("flag:") for k in det.mapping))]
        (carried if present else lacking).append(signal)
    out.append(f"  signals carried: {', '.join(carried) or 'none'}")
    out.append(f"  signals lacking: {', '.join(lacking) or 'none'}")
    problems = list(result.problems)
    if len(result.rejects):
        reasons = result.rejects["reason"].str.split(":").str[0].value_counts()
        for reason, count in reasons.items():
            first = result.rejects.loc[result.rejects["reason"].str.startswith(reason), "line"].head(3)
            problems.append(f"{count:,} row(s) rejected — {reason} (line(s) "
                            f"{', '.join(str(int(x)) for x in first)}…)")
        if rejects_dir:
            target = Path(rejects_dir) / f"{Path(path).name}.rejects.csv"
            write_csv_atomic(result.rejects, target)
            problems.append(f"rejected rows written to {target}")
    out.append("  problems:" + ("" if problems else " none"))
    out.extend(f"    - {p}" for p in problems)
    return "\n".join(out)


def _show_delimiter(delimiter: str) -> str:
    """Name a delimiter readably."""
    return {"\t": "tab", ",": "comma", ";": "semicolon"}.get(delimiter, repr(delimiter))
