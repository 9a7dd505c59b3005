"""Write test exports in each tool's documented layout (shared/docs/export-formats.md)."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

AHREFS_HEADER = ["Referring page title", "Referring page URL", "Language", "Platform", "Referring page HTTP code", "Domain rating", "UR", "Domain traffic", "Referring domains", "Linked domains", "External links", "Page traffic", "Keywords", "Target URL", "Left context", "Anchor", "Right context", "Redirect Chain URLs", "Redirect Chain status codes", "Type", "Is spam", "Content", "Nofollow", "UGC", "Sponsored", "Rendered", "Raw", "Lost status", "Drop reason", "Discovered status", "First seen", "Last seen", "Lost", "Author", "Page type", "Page category", "Links in group"]

SEMRUSH_HEADER = ["Page ascore", "Source title", "Source url", "Target url", "Anchor", "External links", "Internal links", "Nofollow", "Sponsored", "Ugc", "Text", "Frame", "Form", "Image", "Sitewide", "First seen", "Last seen", "New link", "Lost link"]
SEMRUSH_OLD_HEADER = ["Page score", "Page trust score", "Source title", "Source url", "Target url", "Anchor", "External links", "Internal links", "Nofollow", "Frame", "Form", "Image", "Sitewide", "First seen", "Last seen"]
SEMRUSH_AUDIT_HEADER = ["Source title", "Source url", "Target url", "Anchor", "Toxicity Score", "Toxic markers", "First seen", "Last seen", "Nofollow"]
MAJESTIC_HEADER = ["Target URL", "Source URL", "Anchor Text", "Source Crawl Date", "Source First Found Date", "FlagNoFollow", "FlagImageLink", "FlagRedirect", "FlagFrame", "FlagOldCrawl", "FlagAltText", "FlagMention", "SourceCitationFlow", "SourceTrustFlow", "TargetCitationFlow", "TargetTrustFlow", "SourceTopicalTrustFlow_Topic_0", "SourceTopicalTrustFlow_Value_0", "RefDomainTopicalTrustFlow_Topic_0", "RefDomainTopicalTrustFlow_Value_0"]
MOZ_HEADER = ["URL", "Title", "Anchor Text", "Spam Score", "Page Authority", "Domain Authority", "Number of Domains Linking to this Page", "Number of Domains Linking to Domain", "Origin", "Target URL", "Link Equity", "No Link Equity", "Only rel=nofollow", "Only follow", "301"]
MOZ_PREAMBLE = ("-" * 72 + "\nInbound Links for,example.com\nSorted by,page_authority\n"
                "Filter,all\n" + "-" * 72 + "\n\n")


def ahrefs_row(**values: str) -> dict[str, str]:
    """An Ahrefs row with plausible defaults; keyword arguments use header names with _ for space."""
    row = {h: "" for h in AHREFS_HEADER}
    row.update({
        "Referring page title": "Trail notes", "Referring page URL": "https://hikers.example.org/trail",
        "Language": "en", "Referring page HTTP code": "200", "Domain rating": "31", "UR": "4.5",
        "Domain traffic": "1200", "Referring domains": "3", "Linked domains": "40",
        "External links": "12", "Page traffic": "10", "Keywords": "2",
        "Target URL": "https://gear.example.com/", "Anchor": "Gear Example", "Type": "text",
        "Is spam": "false", "Content": "true", "Nofollow": "false", "UGC": "false",
        "Sponsored": "false", "Rendered": "true", "Raw": "true", "Discovered status": "linkfound",
        "First seen": "2024-03-01 10:00:00", "Last seen": "2024-06-01 10:00:00", "Links in group": "1",
    })
    row.update({k.replace("_", " "): v for k, v in values.items()})
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]] | list[list[str]], *,
              delimiter: str = ",", encoding: str = "utf-8", newline: str = "\n",
              quoting: int = csv.QUOTE_MINIMAL, preamble: str = "", bom: bool = False,
              compress: bool = False) -> Path:
    """Write a CSV the way an export tool would."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    text = preamble + buf.getvalue()
    data = text.encode(encoding)
    if bom and encoding.lower().replace("-", "") == "utf8":
        data = b"\xef\xbb\xbf" + data
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def canonical(rows: list[dict]) -> pd.DataFrame:
    """A canonical link table from a few hand-written links (missing fields stay unknown)."""
    from toxiclinks import schema
    from toxiclinks.reading import add_hosts
    from toxiclinks.urls import normalize_url

    frame = pd.DataFrame(rows)
    for col in ("source_url", "target_url"):
        if col in frame:
            frame[col] = frame[col].map(lambda u: normalize_url(u) if isinstance(u, str) else None)
    table = schema.conform(frame)
    add_hosts(table)
    return table
