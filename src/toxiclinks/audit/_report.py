"""The audit's ``report.html``: one self-contained page a person reads first.

No scripts, no external resources (a Content-Security-Policy forbids both), every value from the
export HTML-escaped: a hostile anchor text stays text. Charts are inline SVG.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._history import Changes

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:28px 0 10px}
.muted{color:#5b6475}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:12px 16px;min-width:140px}
.card b{display:block;font-size:24px}.toxic{color:#b42318}.suspicious{color:#b54708}.ok{color:#067647}
.unknown{color:#475467}.alarm{background:#fef3f2;border:1px solid #fda29b;border-radius:8px;padding:10px 14px}
.fine{background:#ecfdf3;border:1px solid #abefc6;border-radius:8px;padding:10px 14px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}.panel{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:12px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e6e8ee;padding:6px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:13px}
"""


@dataclass
class ReportData:
    """Everything the report shows."""

    title: str
    links: pd.DataFrame  # scored links (toxicity, verdict, reasons, anchor_class, placement, anchor, …)
    domains: pd.DataFrame
    files: list[str]
    rejected: int
    model_label: str
    disavow_added_domains: list[str] = field(default_factory=list)
    disavow_added_urls: list[str] = field(default_factory=list)
    disavow_kept: int = 0
    disavow_moved: int = 0  # existing lines that did not fit, written to the overflow file instead
    disavow_marked: list[str] = field(default_factory=list)
    disavow_notes: list[str] = field(default_factory=list)
    existing_disavow: str | None = None
    alarms: list[str] = field(default_factory=list)
    changes: Changes | None = None  # since the previous audit of the site; no section when None


def e(value) -> str:
    """HTML-escape anything, including NA."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def bar_chart(labels: list[str], values: list[float], *, width: int = 500, color: str = "#4f6bed",
              colors: list[str] | None = None, fmt: str = "{:,.0f}") -> str:
    """Horizontal bar chart as inline SVG."""
    if not labels:
        return "<p class='muted'>No data.</p>"
    row, left = 24, 170
    top = max(values) or 1
    height = row * len(labels) + 10
    parts = [f"<svg role='img' width='{width}' height='{height}' viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>"]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        w = (width - left - 70) * value / top
        fill = colors[i] if colors else color
        parts.append(f"<text x='{left - 8}' y='{y + 15}' text-anchor='end' font-size='13'>{e(label)}</text>"
                     f"<rect x='{left}' y='{y + 3}' width='{w:.1f}' height='16' fill='{fill}' rx='2'/>"
                     f"<text x='{left + w + 6:.1f}' y='{y + 15}' font-size='12'>{e(fmt.format(value))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def histogram(scores: np.ndarray, *, width: int = 500, height: int = 180) -> str:
    """Histogram of toxicity 0-100 in 20 bins, coloured by verdict band, as inline SVG."""
    counts, edges = np.histogram(scores, bins=20, range=(0, 100))
    top = counts.max() or 1
    bw = (width - 40) / 20
    parts = [f"<svg role='img' width='{width}' height='{height + 30}' viewBox='0 0 {width} {height + 30}' xmlns='http://www.w3.org/2000/svg'>"]
    for i, c in enumerate(counts):
        h = (height - 10) * c / top
        colour = "#b42318" if edges[i] >= 60 else "#f79009" if edges[i] >= 30 else "#12b76a"
        parts.append(f"<rect x='{30 + i * bw:.1f}' y='{height - h:.1f}' width='{bw - 2:.1f}' height='{h:.1f}' fill='{colour}'>"
                     f"<title>{edges[i]:.0f}-{edges[i + 1]:.0f}: {c:,} links</title></rect>")
    for tick in (0, 25, 50, 75, 100):
        x = 30 + tick / 100 * (width - 40)
        parts.append(f"<text x='{x:.1f}' y='{height + 18}' font-size='12' text-anchor='middle'>{tick}</text>")
    parts.append(f"<text x='2' y='12' font-size='12'>{top:,}</text></svg>")
    return "".join(parts)


def render(data: ReportData) -> str:
    """The whole page."""
    links, domains = data.links, data.domains
    n = len(links)
    verdicts = links["verdict"].value_counts() if n else pd.Series(dtype=int)
    cards = "".join(
        f"<div class='card'><span class='muted'>{label}</span><b class='{cls}'>{value}</b></div>"
        for label, cls, value in [
            ("links audited", "", f"{n:,}"),
            ("referring sites", "", f"{links['source_site'].nunique():,}" if n else "0"),
            ("toxic", "toxic", f"{verdicts.get('toxic', 0):,}"),
            ("suspicious", "suspicious", f"{verdicts.get('suspicious', 0):,}"),
            ("ok", "ok", f"{verdicts.get('ok', 0):,}"),
            ("unknown (too little data)", "unknown", f"{verdicts.get('unknown', 0):,}"),
            *([("gone (link removed or page 404/410; not disavowed)", "", f"{verdicts['gone']:,}")]
              if verdicts.get("gone", 0) else []),
            ("rows rejected", "", f"{data.rejected:,}"),
        ])
    alarm_html = ("".join(f"<p class='alarm'>⚠ {e(a)}</p>" for a in data.alarms)
                  or "<p class='fine'>No anchor over-optimisation alarm: no keyword anchor dominates the profile.</p>")
    anchor_counts = links["anchor_class"].value_counts() if n else pd.Series(dtype=int)
    placement_counts = links["placement"].value_counts() if n else pd.Series(dtype=int)
    actions = domains["action"].value_counts() if len(domains) else pd.Series(dtype=int)
    risky = domains.sort_values(["worst_toxicity", "links"], ascending=False).head(25)
    risky_rows = "".join(
        f"<tr><td><code>{e(r.source_site)}</code></td><td class='num'>{r.links:,}</td>"
        f"<td class='num'>{r.worst_toxicity:.0f}</td><td class='num'>{r.typical_toxicity:.0f}</td>"
        f"<td>{e(r.action)}</td><td>{e(r.reasons)}</td></tr>" for r in risky.itertuples())
    change = _disavow_section(data)
    since = _changes_section(data.changes) if data.changes is not None else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(data.title)}</title><style>{_CSS}</style></head>
<body><main>
<h1>{e(data.title)}</h1>
<p class="muted">Files: {e(', '.join(data.files))}. Model: {e(data.model_label)}. Toxicity is a calibrated probability × 100: a sorting signal for review, not a verdict. Every flagged link lists its reasons.</p>
<div class="cards">{cards}</div>
{since}<h2>Anchor profile</h2>{alarm_html}
<div class="grid">
<div class="panel"><h3>Toxicity distribution</h3>{histogram(links['toxicity'].to_numpy(float) if n else np.array([]))}</div>
<div class="panel"><h3>Anchor classes</h3>{bar_chart(list(map(str, anchor_counts.index)), [float(v) for v in anchor_counts.values])}</div>
<div class="panel"><h3>Placement</h3>{bar_chart(list(map(str, placement_counts.index)), [float(v) for v in placement_counts.values], color="#7a5af8")}</div>
<div class="panel"><h3>Recommended actions (referring sites)</h3>{bar_chart(list(map(str, actions.index)), [float(v) for v in actions.values], color="#0e9384")}</div>
</div>
<h2>Riskiest referring sites</h2>
<table><thead><tr><th>site</th><th>links</th><th>worst</th><th>typical</th><th>action</th><th>reasons</th></tr></thead>
<tbody>{risky_rows}</tbody></table>
<h2>Disavow file</h2>{change}
</main></body></html>
"""


def _disavow_section(data: ReportData) -> str:
    """What the recommended disavow file changes against the existing one."""
    parts = []
    if data.existing_disavow:
        if data.disavow_moved:
            parts.append(f"<p>Existing file <code>{e(data.existing_disavow)}</code>: {data.disavow_moved:,} of its "
                         "lines do not fit within Google's limits beside the rest; they are in "
                         "<code>disavow-overflow.txt</code>, the others in <code>disavow.txt</code>, in order.</p>")
        else:
            parts.append(f"<p>Existing file <code>{e(data.existing_disavow)}</code>: all {data.disavow_kept:,} "
                         "entries and every comment kept, in order.</p>")
    else:
        parts.append("<p>No existing disavow file was given; if you already uploaded one to Google, "
                     "run again with <code>--existing-disavow</code>, because an upload replaces it.</p>")
    parts.append(f"<p><b>New:</b> {len(data.disavow_added_domains):,} <code>domain:</code> entries and "
                 f"{len(data.disavow_added_urls):,} URLs.</p>")
    if data.disavow_added_domains:
        shown = "".join(f"<li><code>domain:{e(d)}</code></li>" for d in data.disavow_added_domains[:50])
        more = len(data.disavow_added_domains) - 50
        parts.append(f"<ul>{shown}</ul>" + (f"<p class='muted'>… and {more:,} more.</p>" if more > 0 else ""))
    for title, items in (("Marked in the existing file (kept)", data.disavow_marked),
                         ("Notes", data.disavow_notes)):
        if items:
            parts.append(f"<h3>{title}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items[:100]) + "</ul>")
    return "".join(parts)


def _changes_section(changes: Changes) -> str:
    """"Changes since the last audit": counts, burst alarms and the most toxic new links."""
    cards = "".join(
        f"<div class='card'><span class='muted'>{label}</span><b class='{cls}'>{value:,}</b></div>"
        for label, cls, value in [
            ("new links", "", changes.new), ("new toxic links", "toxic", changes.new_toxic),
            ("became toxic", "toxic", changes.became_toxic), ("lost links", "", changes.lost),
            ("new referring sites", "", changes.new_sites), ("lost referring sites", "", changes.lost_sites),
        ])
    alarms = ("".join(f"<p class='alarm'>⚠ {e(b.text())}</p>" for b in changes.bursts)
              or "<p class='fine'>No burst of new referring sites since the last audit.</p>")
    notes = "".join(f"<p class='muted'>{e(n)}</p>" for n in changes.notes)
    table = changes.table
    toxic = table[(table["change"] != "lost") & (table["verdict"] == "toxic")].head(25)
    rows = "".join(
        f"<tr><td>{e(r.change.replace('_', ' '))}</td><td><code>{e(r.source_url)}</code></td>"
        f"<td class='num'>{r.toxicity:.0f}</td><td>{e(r.first_seen)}</td><td>{e(r.burst_week)}</td></tr>"
        for r in toxic.itertuples())
    listing = (f"<h3>New and newly toxic links, most toxic first</h3><table><thead><tr><th>change</th>"
               f"<th>source</th><th>toxicity</th><th>first seen</th><th>burst week</th></tr></thead>"
               f"<tbody>{rows}</tbody></table>") if rows else ""
    return (f"<h2>Changes since the last audit</h2><p class='muted'>Compared with the audit of "
            f"<code>{e(changes.site)}</code> recorded {e(changes.previous_at)} ({changes.previous_links:,} links); "
            f"every change is listed in <code>changes.csv</code>.</p><div class='cards'>{cards}</div>"
            f"{alarms}{notes}{listing}\n")
