"""What ``audit --fetch`` recovers of a Search Console list: the casebook, its pages served locally.

    .venv/bin/python bench/fetch_casebook.py [--compare] [--keep DIR]

Issue #25's measure: on a Search Console list of realistic links whose pages are served locally,
``unknown`` should fall from ~96% to ≤ 10%, and the ranking should come within 0.03 ROC-AUC of the
same links audited from their full Ahrefs rows.

The links are the casebook's (``data/casebook/``) from its ten Ahrefs-format sites (572 hand-labelled
links). Each referring page is rendered as an ordinary HTML page from its Ahrefs row alone (never
from its label): ``<html lang>`` and ``<title>`` from the row; the link ``<a href=target rel=…>anchor</a>``
(an ``<img alt>`` for image links) inside its left and right context; placed in the article for
in-content links, else in a comments section (UGC links, "says:" comments, forum posts), an author
box (profiles, "About the author"), the footer (sitewide links, "powered by" credits) or a sidebar
widget; as many other outbound links as the row's ``External links`` (at most 500), with a site
header, menu and internal links around them. Lost links are served as the page without the link,
pages the row says answered 404 as 404. A local server (``tests/fetch_site``) plays the web: it is
the HTTP(S) proxy of the fetching audit, so the source URLs keep their public hostnames and https.

Each site is then audited three ways with the shipped model: (a) its Ahrefs export as it is,
(b) a Search Console "Latest links" export of the same links (linking page and last-crawled date:
all Search Console gives) without fetching, and (c) the same export with ``--fetch --site TARGET``.
Printed per way: links, share of ``unknown`` and ``gone`` verdicts, and ROC-AUC and PR-AUC of the
toxicity against the casebook labels (all links pooled; and without the links the fetch found
gone, whose pages no longer show them). ``--compare`` adds the field-by-field agreement between
what the fetch filled and the Ahrefs row of the same link.

The shipped model learned from the casebook, so (a) is in-sample (ROC-AUC 1.000) and the check is
strict: the fetched list must reach 0.97. ``--model`` takes any model folder; one trained on the
seed data alone (``train(extra_params={"casebook_weight": 0, "casebook_folds": 0})``) measures the
same links out of sample. What a page cannot give — the tools' domain metrics (DR, UR, traffic,
referring domains), their spam flags, sitewide counts (``Links in group``), the site-level
``Linked domains``, first-seen dates — is what separates (c) from (a).

The fetching audit runs with ``allow_private``: every request goes to the local proxy anyway, and
this skips the fetcher's own DNS look-ups of the public names (its private-address check), which a
resolver without internet may answer only after a 5 s timeout. tests/test_audit_fetch.py runs the
audit without it.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.fetch_site: the local web

from tests.fetch_site import Page, Server, serve  # noqa: E402

from toxiclinks.audit import run_audit  # noqa: E402
from toxiclinks.fetch import FetchOptions  # noqa: E402
from toxiclinks.model import ToxicityModel, load, load_casebook  # noqa: E402

CASEBOOK = ROOT / "data" / "casebook"
MAX_OUTBOUND = 500
WAYS = {"a": "Ahrefs export", "b": "GSC export", "c": "GSC export + --fetch"}
_WORDS = ("green", "harbor", "maple", "north", "river", "stone", "bright", "cedar", "urban", "coast",
          "summit", "oak", "silver", "meadow", "pioneer", "lake", "metro", "prairie", "willow", "union")
_NOUNS = ("times", "journal", "guide", "review", "hub", "news", "digest", "works", "press", "daily",
          "insider", "media", "post", "club", "notes", "weekly", "labs", "world", "report", "wire")
_TLDS = ("com", "org", "net", "co.uk", "com.au", "de", "io", "info")


# ---------------------------------------------------------------------------------------------
# The pages


def _targets() -> pd.Series:
    """Each casebook site's target URL, by site."""
    return pd.read_csv(CASEBOOK / "sites.csv", dtype=str).set_index("site")["target"]


def ahrefs_links() -> pd.DataFrame:
    """The casebook links read from Ahrefs exports (canonical columns, label, case_site, …)."""
    links, _ = load_casebook()
    return links[links["view"] == "ahrefs"].reset_index(drop=True)


def _value(row: pd.Series, name: str) -> object:
    """A field of a row, None when missing."""
    value = row[name]
    return None if value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value


def placement(row: pd.Series) -> str:
    """Where the link sits on its page, from the export's own fields (never the label)."""
    if _value(row, "in_content"):
        return "body"
    text = " ".join(str(_value(row, c) or "") for c in ("left_context", "right_context")).lower()
    page_type = str(_value(row, "page_type") or "").lower()
    group = _value(row, "links_in_group") or 1
    if _value(row, "ugc") or "says:" in text or "#comment" in str(row["source_url"]):
        return "comments"
    if page_type.startswith("forum") or "signature" in text:
        return "forum"
    if page_type == "profile" or text.startswith("website") or "about the author" in text:
        return "author"
    if group > 3 or any(cue in text for cue in ("powered by", "©", "website by", "designed by", " by")):
        return "footer"
    return "sidebar"


def _outbound_domains(seed: int, n: int) -> list[str]:
    """``n`` outbound link URLs to plausible other sites (some repeated, as pages do)."""
    urls = []
    for i in range(n):
        k = (seed + 7919 * (i % max(1, int(n * 0.7)))) & 0xFFFFFFFF
        name = f"{_WORDS[k % 20]}{_NOUNS[(k // 20) % 20]}{(k // 400) % 97 or ''}.{_TLDS[(k // 38800) % 8]}"
        urls.append(f"https://www.{name}/{_NOUNS[i % 20]}/{i}")
    return urls


def render_page(row: pd.Series) -> Page:
    """The referring page of one Ahrefs row, as its site would serve it."""
    url = str(row["source_url"])
    if (_value(row, "http_code") or 200) >= 400:
        return int(row["http_code"]), {}, b"<!doctype html><title>Not found</title><h1>Page not found</h1>"
    esc = html.escape
    title = str(_value(row, "source_title") or "")
    lang = str(_value(row, "language") or "")
    host = url.split("/")[2]
    rel = " ".join(r for r in ("nofollow", "ugc", "sponsored") if _value(row, r))
    anchor = str(_value(row, "anchor") or "")
    if _value(row, "link_type") == "image":
        inner = f"<img src='/media/logo-{zlib.crc32(anchor.encode()) % 1000}.png' alt='{esc(anchor, quote=True)}'>"
    else:
        inner = esc(anchor)
    link = (f"<a href='{esc(str(row['target_url']), quote=True)}'" + (f" rel='{rel}'" if rel else "")
            + f">{inner}</a>")
    left, right = (esc(str(_value(row, c) or "")) for c in ("left_context", "right_context"))
    paragraph = f"<p>{left} {link} {right}</p>" if not _value(row, "lost") else f"<p>{left} {right}</p>"
    where = placement(row)
    seed = zlib.crc32(url.encode())
    others = _outbound_domains(seed, min(int(_value(row, "external_links") or 1) - 1, MAX_OUTBOUND - 1))
    half = len(others) // 2
    listed = "".join(f"<li><a href='{u}'>{esc(u.split('/')[2])}</a></li>" for u in others[:half])
    widget = "".join(f"<li><a href='{u}'>{esc(u.split('/')[2])}</a></li>" for u in others[half:])
    parts = {
        "body": paragraph if where == "body" else "",
        "comments": (f"<div id='comments' class='comments-area'><h2>Comments</h2><ol class='comment-list'>"
                     f"<li class='comment'><div class='comment-body'>{paragraph}</div></li></ol></div>"
                     if where == "comments" else ""),
        "forum": (f"<div class='forum-post'><div class='postbody'><p>Replying to the thread above.</p>"
                  f"<div class='signature'>{paragraph}</div></div></div>" if where == "forum" else ""),
        "author": f"<div class='author-bio'>{paragraph}</div>" if where == "author" else "",
        "footer": f"<div class='footer-links'>{paragraph}</div>" if where == "footer" else "",
        "sidebar": f"<div class='widget'>{paragraph}</div>" if where == "sidebar" else "",
    }
    page = f"""<!doctype html>
<html lang="{esc(lang, quote=True)}">
<head><meta charset="utf-8"><title>{esc(title)}</title>
<link rel="canonical" href="{esc(url, quote=True)}"></head>
<body>
<header class="site-header"><a href="/" class="logo">{esc(host)}</a>
<nav class="main-menu"><a href="/">Home</a> <a href="/about/">About</a> <a href="/blog/">Blog</a>
<a href="/contact/">Contact</a></nav></header>
<main id="main"><article class="post">
<h1>{esc(title)}</h1>
<div class="entry-content">
<p>{esc(title)}. Posted in our archive; read on for the details.</p>
{parts["body"]}
<p>See also <a href="/blog/">more posts</a> and <a href="/about/">about us</a>.</p>
{f"<h2>Further reading</h2><ul>{listed}</ul>" if listed else ""}
</div>
{parts["author"]}{parts["forum"]}{parts["comments"]}
</article></main>
<aside class="sidebar"><div class="widget"><h3>Elsewhere</h3><ul>{widget}</ul></div>{parts["sidebar"]}</aside>
<footer class="site-footer">{parts["footer"]}<p>&copy; 2026 {esc(host)} · <a href="/privacy/">Privacy</a></p></footer>
</body></html>"""
    return 200, {}, page.encode("utf-8")


def pages_of(links: pd.DataFrame) -> dict[str, Page]:
    """Every referring page of ``links``, by URL."""
    return {str(row["source_url"]): render_page(row) for _, row in links.iterrows()}


def write_gsc(links: pd.DataFrame, path: Path) -> None:
    """A Search Console "Latest links" export of ``links``: linking page and last-crawled date."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["Linking page", "Last crawled"])
        for url, seen in zip(links["source_url"], links["last_seen"], strict=True):
            writer.writerow([url, "" if pd.isna(seen) else pd.Timestamp(seen).strftime("%Y-%m-%d")])


# ---------------------------------------------------------------------------------------------
# The audits


@dataclass
class Measured:
    """One way's audit of every link: per-link verdict, toxicity, fetch outcome and label."""

    name: str
    links: pd.DataFrame  # source_url, verdict, toxicity, fetch_outcome, label
    seconds: float

    def row(self) -> dict[str, object]:
        y, p = self.links["label"].to_numpy(int), self.links["toxicity"].to_numpy(float)
        gone = self.links["verdict"].eq("gone").to_numpy()
        kept = ~gone
        return {
            "way": self.name, "links": len(y),
            "unknown": float(self.links["verdict"].eq("unknown").mean()),
            "gone": float(gone.mean()),
            "roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p),
            "roc_auc_not_gone": roc_auc_score(y[kept], p[kept]),
            "pr_auc_not_gone": average_precision_score(y[kept], p[kept]),
            "seconds": self.seconds,
        }


def _audited(out: Path, labels: pd.DataFrame) -> pd.DataFrame:
    """links.csv of one audit joined to the labels by source URL (unique in the casebook's Ahrefs sites)."""
    rows = pd.read_csv(out / "links.csv", dtype=str, keep_default_na=False)
    rows["toxicity"] = rows["toxicity"].astype(float)
    rows = rows.drop(columns="label")  # the reviewer's column, empty
    joined = rows.merge(labels, on="source_url", how="left", validate="one_to_one")
    if joined["label"].isna().any() or len(joined) != len(labels):
        raise RuntimeError(f"{out}: the audit's links do not match the casebook's")
    if "fetch_outcome" not in joined:
        joined["fetch_outcome"] = ""
    return joined[["source_url", "verdict", "toxicity", "fetch_outcome", "label", "case_site"]]


def audit_all(links: pd.DataFrame, work: Path, model: ToxicityModel, server: Server | None = None,
              ) -> dict[str, Measured]:
    """The three ways, site by site (each site's export is its own audit, as a user would run it)."""
    targets = _targets()
    results: dict[str, list[pd.DataFrame]] = {k: [] for k in WAYS}
    seconds = dict.fromkeys(WAYS, 0.0)
    options = FetchOptions(delay=0, concurrency=8, allow_private=True)
    for site, group in links.groupby("case_site", sort=True):
        labels = group[["source_url", "label", "case_site"]].assign(source_url=group["source_url"].astype(str))
        gsc = work / "gsc" / f"{site}-Latest links.csv"
        gsc.parent.mkdir(parents=True, exist_ok=True)
        write_gsc(group, gsc)
        runs = {"a": ([str(CASEBOOK / site / "export.csv")], {}),
                "b": ([str(gsc)], {}),
                "c": ([str(gsc)], {"site": targets[site], "fetch": "missing", "fetch_options": options})}
        for way, (exports, extra) in runs.items():
            out = work / way / site
            started = time.perf_counter()
            if way == "c" and server is not None:
                with server.environment():
                    run_audit(exports, out, model=model, progress=False, force=True, **extra)
            else:
                run_audit(exports, out, model=model, progress=False, force=True, **extra)
            seconds[way] += time.perf_counter() - started
            results[way].append(_audited(out, labels))
    return {way: Measured(way, pd.concat(frames, ignore_index=True), seconds[way]) for way, frames in results.items()}


def measure(work: Path, model: ToxicityModel | str | None = None) -> tuple[pd.DataFrame, dict[str, Measured]]:
    """Serve the pages, run the three audits; the table (one row per way) and the per-link results.

    ``TOXICLINKS_HOME`` should be a fresh folder (the fetch cache and the label store live there)."""
    links = ahrefs_links()
    mdl = model if isinstance(model, ToxicityModel) else load(model)
    with serve(pages_of(links)) as server:
        measured = audit_all(links, work, mdl, server)
    table = pd.DataFrame([m.row() for m in measured.values()]).set_index("way")
    table.insert(0, "what", [WAYS[w] for w in table.index])
    return table, measured


def compare(links: pd.DataFrame) -> pd.DataFrame:
    """Per filled field: rows the fetch filled, and how often the value equals the Ahrefs row's."""
    from toxiclinks.audit._fetching import FILLED, PageFetcher, audited_site
    from toxiclinks.reading import read_export

    targets = _targets()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serve(pages_of(links)) as server, server.environment():
        for site, group in links.groupby("case_site", sort=True):
            gsc = Path(tmp) / f"{site}.csv"
            write_gsc(group, gsc)
            thin = read_export(gsc).links
            fetcher = PageFetcher("missing", audited_site(targets[site]), Path(tmp) / "cache.sqlite",
                                  FetchOptions(delay=0, allow_private=True))
            fetcher.fill(thin)
            full = group.set_index(group["source_url"].astype(str))
            thin = thin.set_index(thin["source_url"].astype(str))
            for name in (*FILLED, "linked_domains"):
                got, want = thin[name], full.loc[thin.index, name]
                filled = got.notna()
                same = [_same(a, b) for a, b in zip(got[filled], want[filled], strict=True)]
                rows.append((site, name, int(filled.sum()), int(want.notna().sum()), int(sum(same))))
    frame = pd.DataFrame(rows, columns=["site", "field", "filled", "ahrefs_has", "equal"])
    return frame.groupby("field", sort=False)[["filled", "ahrefs_has", "equal"]].sum()


def _same(a: object, b: object) -> bool:
    """Whether a fetched value equals the export's (numbers within 1%, text ignoring case and spaces)."""
    if b is pd.NA or b is None:
        return False
    if isinstance(a, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 0.01 * max(1.0, abs(float(b)))
    if isinstance(a, str):
        return " ".join(a.lower().split()) == " ".join(str(b).lower().split())
    return bool(a == b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--compare", action="store_true", help="also compare fetched fields with the Ahrefs rows")
    parser.add_argument("--keep", metavar="DIR", help="write the audits here instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fetch-casebook-") as tmp:
        os.environ["TOXICLINKS_HOME"] = str(Path(tmp) / "home")  # a fresh fetch cache, no stored rules
        work = Path(args.keep) if args.keep else Path(tmp) / "audits"
        table, _ = measure(work, args.model)
        print(f"{int(table['links'].iloc[0])} casebook links of {ahrefs_links()['case_site'].nunique()} "
              "Ahrefs-format sites; pages served by a local proxy\n")
        shown = table.copy()
        for c in ("unknown", "gone"):
            shown[c] = (shown[c] * 100).map("{:.1f}%".format)
        for c in ("roc_auc", "pr_auc", "roc_auc_not_gone", "pr_auc_not_gone"):
            shown[c] = shown[c].map("{:.3f}".format)
        shown["seconds"] = shown["seconds"].map("{:.1f}".format)
        print(shown.to_markdown() if _has_tabulate() else shown.to_string())
        if args.compare:
            print("\nfetched fields against the Ahrefs rows:")
            print(compare(ahrefs_links()).to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
