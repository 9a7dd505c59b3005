"""``toxiclinks audit``: exports in; links, domains, a disavow file and a report out.

Outputs (each written atomically, CSV cells escaped against formula injection):
``links.csv`` and ``links.parquet`` (every link with toxicity, verdict and reasons, plus an empty
``label`` column a reviewer can fill and import back), ``domains.csv`` (one row per referring
site with the recommended action), ``disavow.txt``, ``report.html`` and, when rows were rejected,
``rejects.csv``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import disavow, schema
from .errors import DisavowError, InputError
from .features.anchor import CLASSES
from .features.placement import REGIONS
from .model import ToxicityModel, load
from .readers import REJECT_COLUMNS, iter_export, referring_site
from .report import ReportData, render
from .safeio import atomic_open, escape_formulas, write_csv_atomic
from .score import PLACEMENTS, VERDICTS, score, scoring_features
from .urls import platforms, site_entries, under_sites

_ANCHOR_LABELS = (*CLASSES, "unknown")
_PLACEMENT_LABELS = tuple(dict.fromkeys((*PLACEMENTS, *REGIONS)))
LINK_COLUMNS = ["source_file", "source_row", "source_url", "target_url", "anchor", "source_site",
                "toxicity", "verdict", "reasons", "anchor_class", "placement", "label"]


@dataclass
class AuditResult:
    """What an audit wrote and found."""

    out_dir: Path
    links: int
    rejected: int
    verdicts: dict[str, int]
    domains: int
    actions: dict[str, int]
    disavow_domains: int
    disavow_urls: int
    alarms: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The one-screen summary printed at the end."""
        v = self.verdicts
        lines = [
            f"Audited {self.links:,} links from {self.domains:,} referring sites in {self.seconds:.1f} s"
            + (f" ({self.rejected:,} rows rejected: see rejects.csv)" if self.rejected else ""),
            f"  toxic {v.get('toxic', 0):,} · suspicious {v.get('suspicious', 0):,} · ok {v.get('ok', 0):,}"
            f" · unknown {v.get('unknown', 0):,}",
            "  sites: " + " · ".join(f"{k} {n:,}" for k, n in self.actions.items()),
            f"  disavow.txt: {self.disavow_domains:,} new domain: entries, {self.disavow_urls:,} new URLs",
            *[f"  ALARM: {a}" for a in self.alarms[:5]],
            *([f"  … {len(self.alarms) - 5} more alarms in report.html"] if len(self.alarms) > 5 else []),
            *[f"  note: {n}" for n in self.notes],
            f"Open {self.out_dir / 'report.html'} first; review before uploading disavow.txt.",
        ]
        return "\n".join(lines)


class Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.perf_counter()

    def step(self, text: str, done: int = 0, total: int = 0) -> None:
        if not self.enabled:
            return
        bar = ""
        if total:
            filled = int(30 * done / total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} "
        sys.stderr.write(f"\r\x1b[2K{bar}{text} ({time.perf_counter() - self.started:.1f} s)")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


def stored_rules() -> tuple[list[str], list[str]]:
    """Allow/deny rules from the label store (they apply at once, without retraining)."""
    from .config import label_store_path
    from .labels import LabelStore

    if not label_store_path().exists():
        return [], []
    return LabelStore().rules()


def read_site_list(path: str | Path | None) -> list[str]:
    """An allowlist/denylist: one domain, ``domain:`` line or URL per line; ``#`` comments."""
    if not path:
        return []
    path = Path(path)
    if not path.is_file():
        raise InputError("no such allowlist file", path=str(path))
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def domain_table(links: pd.DataFrame, scored: pd.DataFrame, allow: list[str]) -> pd.DataFrame:
    """One row per referring site: counts, worst/typical toxicity, reasons and the action."""
    frame = pd.DataFrame({
        "source_site": referring_site(links),
        "toxicity": scored["toxicity"].to_numpy(float), "verdict": scored["verdict"].to_numpy(object),
        "reasons": scored["reasons"].to_numpy(object),
    })
    if len(frame) == 0:
        return pd.DataFrame(columns=["source_site", "links", "toxic", "suspicious", "unknown",
                                     "worst_toxicity", "typical_toxicity", "action", "reasons"])
    frame["is_toxic"] = frame["verdict"] == "toxic"
    frame["is_suspicious"] = frame["verdict"] == "suspicious"
    frame["is_unknown"] = frame["verdict"] == "unknown"
    g = frame.groupby("source_site", sort=False)
    table = pd.DataFrame({
        "links": g.size(),
        "toxic": g["is_toxic"].sum().astype(int),
        "suspicious": g["is_suspicious"].sum().astype(int),
        "unknown": g["is_unknown"].sum().astype(int),
        "worst_toxicity": g["toxicity"].max(),
        "typical_toxicity": g["toxicity"].median(),
    })
    flagged = frame[frame["reasons"] != ""]
    table["reasons"] = flagged.groupby("source_site", sort=False)["reasons"].agg(_top_reasons)
    table["reasons"] = table["reasons"].fillna("")
    table = table.reset_index()
    allowed = site_entries(allow)
    action = np.full(len(table), "keep", dtype=object)
    share = table["toxic"] / table["links"]
    action[(table["suspicious"] > 0) | (table["unknown"] == table["links"])] = "review"
    action[table["toxic"] > 0] = "disavow these URLs"
    platform = platforms(table["source_site"])
    action[(share >= 0.5).to_numpy() & ~platform] = "disavow domain"
    action[table["source_site"].map(lambda s: under_sites(s, allowed)).to_numpy(bool)] = "keep (allowlisted)"
    table["action"] = action
    return table.sort_values(["worst_toxicity", "links"], ascending=False).reset_index(drop=True)


def recommendation(links: pd.DataFrame, scored: pd.DataFrame, domains: pd.DataFrame) -> disavow.Recommendation:
    """What to disavow: whole sites whose action says so, else the toxic URLs of mixed sites."""
    rec = disavow.Recommendation()
    for r in domains[domains["action"] == "disavow domain"].itertuples():
        rec.domains[r.source_site] = (f"{r.source_site}: {r.toxic}/{r.links} links toxic, "
                                      f"worst {r.worst_toxicity:.0f}: {r.reasons}")
    url_sites = set(domains.loc[domains["action"] == "disavow these URLs", "source_site"])
    site = referring_site(links)
    toxic = (scored["verdict"].to_numpy(object) == "toxic") & pd.Series(site).isin(url_sites).to_numpy()
    for url, tox, why in zip(links["source_url"].to_numpy(object)[toxic], scored["toxicity"].to_numpy()[toxic],
                             scored["reasons"].to_numpy(object)[toxic], strict=True):
        rec.urls.setdefault(url, f"toxicity {tox:.0f}: {why}")
    return rec


def _top_reasons(reasons: pd.Series) -> str:
    """The three most frequent reason phrases among a site's links."""
    if len(reasons) == 1:
        return "; ".join(str(reasons.iloc[0]).split("; ")[:3])
    counts: dict[str, int] = {}
    for text in reasons:
        for phrase in str(text).split("; "):
            if phrase:
                counts[phrase] = counts.get(phrase, 0) + 1
    return "; ".join(sorted(counts, key=counts.get, reverse=True)[:3])


_KEYWORD_CLASSES = ("exact-match commercial", "partial match", "compound")


def anchor_counts(links: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Links per (target site, normalised anchor, anchor class); chunks' counts add up."""
    frame = pd.DataFrame({"target": links["target_site"].fillna("").to_numpy(object),
                          "anchor": links["anchor"].fillna("").str.lower().str.strip().to_numpy(object),
                          "cls": scored["anchor_class"].to_numpy(object)})
    frame = frame[(frame["target"] != "") & (frame["cls"] != "unknown")]
    # Only keyword anchors are quoted in alarms; the others count by class alone.
    frame.loc[~frame["cls"].isin(_KEYWORD_CLASSES), "anchor"] = ""
    return frame.groupby(["target", "anchor", "cls"], sort=False).size().rename("n").reset_index()


def anchor_alarms(counts: pd.DataFrame) -> list[str]:
    """Over-optimisation alarms: one keyword anchor ≥ 30% of ≥ 10 links; money anchors ≥ 20%."""
    alarms = []
    counts = counts.groupby(["target", "anchor", "cls"], sort=False)["n"].sum().reset_index()
    for target, group in counts.groupby("target", sort=False):
        total = int(group["n"].sum())
        if total < 10:
            continue
        keyword = group[group["cls"].isin(_KEYWORD_CLASSES)]
        if len(keyword):
            top = keyword.groupby("anchor", sort=False)["n"].sum().sort_values(ascending=False, kind="stable")
            if top.iloc[0] / total >= 0.3:
                alarms.append(f"{target}: the keyword anchor '{top.index[0]}' is {top.iloc[0] / total:.0%} "
                              f"of {total:,} links (natural profiles are led by brand and URL anchors)")
        exact_share = group.loc[group["cls"] == "exact-match commercial", "n"].sum() / total
        if exact_share >= 0.2:
            alarms.append(f"{target}: {exact_share:.0%} of anchors are exact-match commercial keywords")
    return alarms[:20]


#: Exports up to this many links are read once and held in memory; larger ones are streamed
#: twice (profile statistics first, then scoring chunk by chunk), so memory stays bounded.
READ_ONCE_ROWS = 500_000
CHUNK_ROWS = 100_000
_PARQUET_SCHEMA = pa.schema([(c, pa.int64() if c == "source_row" else pa.float64() if c == "toxicity"
                              else pa.string()) for c in LINK_COLUMNS])


def run_audit(exports: list[str], out_dir: str | Path, *, existing_disavow: str | None = None,
              allowlist: str | None = None, denylist: str | None = None, site_topic: str | None = None,
              model: ToxicityModel | str | None = None, progress: bool = True, force: bool = False,
              formats: str | None = None, pages: str | None = None) -> AuditResult:
    """Audit exports with a model; write every output into ``out_dir``.

    The exports are read in chunks. A first pass collects the profile-level statistics that
    features need (:mod:`toxiclinks.features.context`); the second scores each chunk and appends
    it to ``links.csv``/``links.parquet``, keeping only compact per-link numbers for the domain
    table, the disavow file and the report. Every output appears atomically at the end.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder", path=str(out))
    bar = Progress(progress)
    allow, deny = read_site_list(allowlist), read_site_list(denylist)
    stored_allow, stored_deny = stored_rules()
    allow, deny = allow + stored_allow, deny + stored_deny
    existing_lines, existing_problems = ([], []) if not existing_disavow else disavow.read(existing_disavow)
    _guard_previous_disavow(out / "disavow.txt", existing_disavow, force)
    bar.step("loading model")
    mdl = model if isinstance(model, ToxicityModel) else load(model)
    features = scoring_features(mdl, site_topic)
    rejects: list[pd.DataFrame] = []
    notes = list(existing_problems)
    # Pass 1: profile statistics (and, for exports that fit, the chunks themselves).
    builder = features.context_builder()
    held: list[pd.DataFrame] | None = []
    total = 0
    for chunk in _read_chunks(exports, formats, rejects, notes):
        features.add_to_context(builder, chunk)
        total += len(chunk)
        if held is not None:
            held.append(chunk)
            held = held if total <= READ_ONCE_ROWS else None
        bar.step(f"reading: {total:,} links")
    chunk = None  # the last chunk is not needed while the context is computed
    context = builder.finish()
    rejected = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    page_index = None
    if pages:
        from .pages import load_folder

        page_index = load_folder(pages)
        notes += page_index[1]
    # Pass 2: score chunk by chunk, appending to the outputs.
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        acc = _Accumulator(stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8")))
        csv_fh = stack.enter_context(atomic_open(out / "links.csv", newline=""))
        parquet = pq.ParquetWriter(stack.enter_context(atomic_open(out / "links.parquet", "wb")),
                                   _PARQUET_SCHEMA)
        stack.callback(parquet.close)
        chunks = held if held is not None else _read_chunks(exports, formats, None, None)
        start = 0
        for chunk in chunks:
            if page_index is not None:
                from .pages import add_regions

                add_regions(chunk, pages, (page_index[0], []))
                acc.regions_found += int(chunk["region"].notna().sum())
            chunk_context = context.rows(start, start + len(chunk))
            if len(chunk_context) != len(chunk):
                raise InputError("the export changed while it was being audited (the second reading "
                                 f"found more than the {total:,} links of the first); run the audit again")
            scored = score(mdl, chunk, allow=allow, deny=deny, site_topic=site_topic, context=chunk_context)
            table = _link_rows(chunk, scored)
            escape_formulas(table).to_csv(csv_fh, index=False, header=start == 0)
            parquet.write_table(pa.Table.from_pandas(table, schema=_PARQUET_SCHEMA, preserve_index=False))
            acc.add(chunk, scored, start)
            start += len(chunk)
            bar.step("scoring", start, total)
        if start != total:
            raise InputError(f"the export changed while it was being audited ({total:,} links on the first "
                             f"reading, {start:,} on the second); run the audit again")
        del context, held, chunks  # what is left needs only the compact per-link numbers
        if start == 0:
            _link_rows(schema.empty_table(), pd.DataFrame(columns=[*LINK_COLUMNS])).to_csv(csv_fh, index=False)
        bar.step("writing outputs")
        if page_index is not None:
            notes.append(f"{len(page_index[0]):,} saved pages; region found for {acc.regions_found:,} "
                         f"of {total:,} links")
        sites, scored_all = acc.per_link()
        domains = domain_table(sites, scored_all, allow)
        acc.add_toxic_urls(sites, set(domains.loc[domains["action"] == "disavow these URLs", "source_site"]))
        rec = recommendation(sites, scored_all, domains)
        merged = disavow.merge(existing_lines, rec, allow=allow, today=dt.date.today())
        alarms = anchor_alarms(acc.anchor_counts())
        write_csv_atomic(domains, out / "domains.csv")
        with atomic_open(out / "disavow.txt") as fh:
            fh.write(merged.text)
        if len(rejected):
            write_csv_atomic(rejected, out / "rejects.csv")
        label = f"{mdl.name} version {mdl.version}"
        report = ReportData(title=f"Backlink audit — {', '.join(sorted(acc.targets)) or 'links'}",
                            links=acc.report_frame(), domains=domains, files=[str(p) for p in exports],
                            rejected=len(rejected), model_label=label,
                            disavow_added_domains=merged.added_domains, disavow_added_urls=merged.added_urls,
                            disavow_kept=merged.kept, disavow_marked=merged.marked, disavow_notes=merged.notes,
                            existing_disavow=existing_disavow, alarms=alarms)
        with atomic_open(out / "report.html") as fh:
            fh.write(render(report))
    bar.close()
    verdicts = pd.Series(scored_all["verdict"]).value_counts().to_dict()
    return AuditResult(out, total, len(rejected), verdicts, len(domains), domains["action"].value_counts().to_dict(),
                       len(merged.added_domains), len(merged.added_urls), alarms,
                       time.perf_counter() - started, notes + merged.notes)


def _read_chunks(exports: list[str], formats: str | None, rejects: list[pd.DataFrame] | None,
                 notes: list[str] | None) -> Iterator[pd.DataFrame]:
    """Canonical links of every export, chunk by chunk; rejects and notes collected when asked."""
    for path in exports:
        problems: list[str] = []
        for links, bad in iter_export(path, formats, problems=problems, chunk_rows=CHUNK_ROWS):
            if rejects is not None and len(bad):
                rejects.append(bad)
            if len(links):
                yield links
        if notes is not None:
            notes += [f"{path}: {p}" for p in problems]


def _link_rows(links: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """The rows of links.csv for one chunk."""
    table = pd.DataFrame({c: links[c] for c in ("source_file", "source_row", "source_url", "target_url",
                                                "anchor", "source_site")})
    table["source_row"] = table["source_row"].astype("Int64")
    for c in ("toxicity", "verdict", "reasons", "anchor_class", "placement"):
        table[c] = scored[c].to_numpy()
    table["label"] = ""
    return table[LINK_COLUMNS]


class _Accumulator:
    """What the whole-export outputs need from each scored chunk, kept compact: codes instead of
    strings, and the URLs of toxic links spilled to a temporary file until the disavow file needs them."""

    def __init__(self, spill: IO[str]) -> None:
        self.site_codes: dict[str, int] = {}
        self.reason_codes: dict[str, int] = {}
        self.parts: list[dict[str, np.ndarray]] = []
        self.counts: list[pd.DataFrame] = []
        self.targets: dict[str, None] = {}  # the first three target sites, for the report title
        self.regions_found = 0
        self.toxic_urls = spill  # one URL per line

    def add(self, links: pd.DataFrame, scored: pd.DataFrame, start: int) -> None:
        verdict = scored["verdict"].to_numpy(object)
        toxic = np.flatnonzero(verdict == "toxic")
        reasons = scored["reasons"].to_numpy(object)
        flagged = np.flatnonzero(reasons != "")
        self.parts.append({
            "site": _codes(referring_site(links), self.site_codes), "toxicity": scored["toxicity"].to_numpy(np.float32),
            "verdict": pd.Categorical(verdict, categories=VERDICTS).codes,
            "anchor_class": pd.Categorical(scored["anchor_class"], categories=_ANCHOR_LABELS).codes,
            "placement": pd.Categorical(scored["placement"], categories=_PLACEMENT_LABELS).codes,
            "flagged": flagged + start, "reasons": _codes(reasons[flagged], self.reason_codes),
            "toxic": toxic + start,
        })
        urls = links["source_url"].to_numpy(object)[toxic]  # normalised URLs hold no line breaks
        self.toxic_urls.write("".join(f"{u}\n" for u in urls))
        self.counts.append(anchor_counts(links, scored))
        if len(self.counts) >= 20:  # keep the partial counts small
            self.counts = [self.anchor_counts()]
        for target in links["target_site"].dropna().unique()[:3]:
            if len(self.targets) < 3:
                self.targets.setdefault(target)

    def _column(self, name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in self.parts]) if self.parts else np.empty(0, dtype=np.int64)

    def per_link(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-link referring sites and scores, as domain_table and recommendation take them
        (``source_url`` is filled by :meth:`add_toxic_urls`)."""
        n = sum(len(p["site"]) for p in self.parts)
        site = _names(self.site_codes)[self._column("site")] if n else np.empty(0, dtype=object)
        reasons = np.full(n, "", dtype=object)
        reasons[self._column("flagged")] = _names(self.reason_codes)[self._column("reasons")]
        verdicts = np.array(VERDICTS, dtype=object)[self._column("verdict")]
        sites = pd.DataFrame({"source_site": site, "source_host": site, "source_url": np.full(n, None, dtype=object)})
        return sites, pd.DataFrame({"toxicity": self._column("toxicity").astype(float), "verdict": verdicts,
                                    "reasons": reasons})

    def add_toxic_urls(self, sites: pd.DataFrame, wanted: set[str]) -> None:
        """Fill ``source_url`` of the toxic links of the ``wanted`` sites from the spill file."""
        toxic = self._column("toxic")
        keep = np.isin(sites["source_site"].to_numpy(object)[toxic], list(wanted))
        urls = sites["source_url"].to_numpy(object).copy()
        self.toxic_urls.seek(0)
        for row, line, kept in zip(toxic, self.toxic_urls, keep, strict=True):
            if kept:
                urls[row] = line.rstrip("\n")
        sites["source_url"] = urls

    def anchor_counts(self) -> pd.DataFrame:
        if not self.counts:
            return pd.DataFrame(columns=["target", "anchor", "cls", "n"])
        return pd.concat(self.counts, ignore_index=True).groupby(
            ["target", "anchor", "cls"], sort=False)["n"].sum().reset_index()

    def report_frame(self) -> pd.DataFrame:
        """The per-link columns the report charts."""
        return pd.DataFrame({
            "toxicity": self._column("toxicity").astype(float),
            "verdict": pd.Categorical.from_codes(self._column("verdict").astype(np.int8), VERDICTS),
            "anchor_class": pd.Categorical.from_codes(self._column("anchor_class").astype(np.int8), _ANCHOR_LABELS),
            "placement": pd.Categorical.from_codes(self._column("placement").astype(np.int8), _PLACEMENT_LABELS),
            "source_site": self._column("site"),
        })


def _codes(values: np.ndarray, known: dict[str, int]) -> np.ndarray:
    """Numbers for strings, stable across chunks (new ones are added to ``known``)."""
    local, uniques = pd.factorize(values)
    mapping = np.array([known.setdefault(v, len(known)) for v in uniques], dtype=np.int32)
    return mapping[local] if len(local) else np.empty(0, dtype=np.int32)


def _names(known: dict[str, int]) -> np.ndarray:
    """The strings of :func:`_codes`, indexable by their numbers."""
    return np.array(list(known), dtype=object)


def _guard_previous_disavow(target: Path, existing: str | None, force: bool) -> None:
    """Refuse to replace a disavow.txt whose entries the new file would not keep."""
    if not target.exists() or force:
        return
    if existing and Path(existing).resolve() == target.resolve():
        return
    lines, _ = disavow.read(target)
    if any(ln.kind in ("domain", "url") for ln in lines):
        raise DisavowError(f"{target} already exists with entries; the new file would not keep them. "
                           f"Pass it as --existing-disavow {target} to merge, or --force to replace it.")

