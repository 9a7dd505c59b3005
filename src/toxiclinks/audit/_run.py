"""``toxiclinks audit``: exports in; links, domains, a disavow file and a report out.

Outputs (each written atomically, CSV cells escaped against formula injection):
``links.csv`` and ``links.parquet`` (every link with toxicity, verdict and reasons, plus an empty
``label`` column a reviewer can fill and import back), ``domains.csv`` (one row per referring
site with the recommended action), ``disavow.txt``, ``report.html``, when rows were rejected
``rejects.csv``, when not everything fits in a disavow file Google accepts,
``disavow-overflow.txt``, and when an earlier audit of the same site is recorded, ``changes.csv``
(``_history``). No output is ever written over a file the run reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
from ..config import home, release_memory
from ..errors import DisavowError, InputError
from ..features import Context
from ..fetch import FetchOptions
from ..model import (
    ToxicityModel,
    load,
    scoring_features,
)
from ..reading import REJECT_COLUMNS, iter_export
from ..safeio import (
    atomic_open,
    csv_bytes,
    same_file,
    write_csv_atomic,
)
from . import _disavow as disavow
from ._accumulate import Accumulator, Part
from ._alarms import anchor_alarms
from ._chunk import (
    ChunkJob,
    chunk_features,
    chunk_judgment,
    chunk_rows,
    encoded_rows,
    link_rows,
    parquet_schema,
    target_counts_of,
)
from ._fetching import FETCH_COLUMNS, PageFetcher, audited_site, name_site
from ._history import Changes, Recorder
from ._inputs import (
    guard_inputs,
    guard_previous_disavow,
    guard_previous_overflow,
    read_site_list,
    stored_rules,
)
from ._merge import merge
from ._report import ReportData, render

T = TypeVar("T")

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
    full: str = ""  # what did not fit in disavow.txt (in disavow-overflow.txt instead), or ""
    changes: Changes | None = None  # since the previous recorded audit of the same site
    site: str | None = None  # the audited site: --site, or the target site most links point to

    def summary(self) -> str:
        """The one-screen summary printed at the end."""
        v = self.verdicts
        lines = [
            f"Audited {self.links:,} links from {self.domains:,} referring sites in {self.seconds:.1f} s"
            + (f" ({self.rejected:,} rows rejected: see rejects.csv)" if self.rejected else ""),
            f"  toxic {v.get('toxic', 0):,} · suspicious {v.get('suspicious', 0):,} · ok {v.get('ok', 0):,}"
            f" · unknown {v.get('unknown', 0):,}" + (f" · gone {v['gone']:,} (not disavowed)" if v.get("gone") else ""),
            "  sites: " + " · ".join(f"{k} {n:,}" for k, n in self.actions.items()),
            f"  disavow.txt: {self.disavow_domains:,} new domain: entries, {self.disavow_urls:,} new URLs",
            *[f"  ALARM: {a}" for a in self.alarms[:5]],
            *([f"  … {len(self.alarms) - 5} more alarms in report.html"] if len(self.alarms) > 5 else []),
            *[f"  note: {n}" for n in self.notes],
            *(self.changes.lines() if self.changes is not None else []),
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


#: Exports whose canonical links take up to this much memory are read once and held (each chunk
#: let go once scored); larger ones are streamed twice (profile statistics first, then scoring
#: chunk by chunk), so memory stays bounded. Reading a file the second time costs ~4 CPU-seconds
#: per million links (bench/RESULTS.md).
READ_ONCE_BYTES = 1 << 30
#: Canonical links take about this many bytes of memory per byte of a plain export file, so a
#: file that cannot fit is streamed from the start (a compressed one is held until it overflows).
_MEMORY_PER_FILE_BYTE = 2.2
#: About four chunks are in memory while scoring (reading, features, LightGBM, writing), so the
#: chunk size bounds a streamed audit's peak memory (bench/RESULTS.md has the trade-off).
CHUNK_ROWS = 50_000


def run_audit(exports: list[str], out_dir: str | Path, *, existing_disavow: str | None = None,
              allowlist: str | None = None, denylist: str | None = None, site_topic: str | None = None,
              model: ToxicityModel | str | None = None, progress: bool = True, force: bool = False,
              formats: str | None = None, pages: str | None = None, site: str | None = None,
              fetch: str | None = None, fetch_options: FetchOptions | None = None,
              history: bool = True, cluster: str | None = None) -> AuditResult:
    """Audit exports with a model; write every output into ``out_dir``.

    The exports are read in chunks. A first pass collects the profile-level statistics that
    features need (the features' profile context); the second scores each chunk and appends
    it to ``links.csv``/``links.parquet``, keeping only compact per-link numbers for the domain
    table, the disavow file and the report. Every output appears atomically at the end.

    ``site`` names the audited site for rows whose export does not (Search Console's);
    ``fetch`` ("missing" or "all") fills thin rows from their referring pages (see ``--fetch``).
    With ``history`` the audit is recorded under ``$TOXICLINKS_HOME/history`` for its site (the
    ``site`` given, or the target site most links point to) and compared with the previous one.
    ``cluster`` (``tcp://host:8786``, or ``local:N`` for N worker processes here) runs both passes
    as Dask tasks (``_cluster``): the same per-chunk work and the same outputs.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder", path=str(out))
    if cluster is not None and fetch:
        raise InputError("--fetch runs in one process (one polite queue per host, one page cache): "
                         "audit without --cluster to fetch pages")
    guard_inputs(out, exports, existing_disavow=existing_disavow, allowlist=allowlist, denylist=denylist,
                 pages=pages)
    bar = Progress(progress)
    (allow, allow_notes), (deny, deny_notes) = read_site_list(allowlist), read_site_list(denylist, "denylist")
    stored_allow, stored_deny = stored_rules()
    allow, deny = allow + stored_allow, deny + stored_deny
    existing_lines, existing_problems = ([], []) if not existing_disavow else disavow.read(existing_disavow)
    guard_previous_disavow(out / "disavow.txt", existing_disavow, force)
    guard_previous_overflow(out / disavow.OVERFLOW_FILE, force)
    with contextlib.ExitStack() as outer:
        session = None
        if cluster is not None:
            from ._cluster import ClusterSession

            bar.step(f"connecting to the cluster {cluster}")
            session = outer.enter_context(ClusterSession(cluster, out))
        bar.step("loading model")
        mdl = model if isinstance(model, ToxicityModel) else load(model)
        features = scoring_features(mdl, site_topic)
        site = audited_site(site)
        fetcher = None if not fetch else PageFetcher(fetch, site, home() / "fetch-cache.sqlite",
                                                     fetch_options or FetchOptions(), bar.step)
        reader = _Reader(exports, formats, site, fetcher)
        rejects: list[pd.DataFrame] = []
        notes = [*allow_notes, *deny_notes, *existing_problems]
        if session is not None:
            session.use_model(mdl, None if isinstance(model, ToxicityModel) else model, site_topic)
        # Pass 1: profile statistics (and, for exports that fit, the chunks themselves).
        builder = features.context_builder()
        held: list[tuple[pd.DataFrame, dict[str, np.ndarray]]] | None = [] if _may_hold(exports) else None
        held_bytes = total = 0
        target_counts: Counter[str] = Counter()  # links per target site
        if session is not None:
            bar.step("reading on the cluster")
            total, target_counts = session.first_pass(builder, reader, rejects, notes)
            held = None
        else:
            for chunk in reader.chunks(rejects, notes):
                anchors = features.add_to_context(builder, chunk)
                total += len(chunk)
                target_counts.update(target_counts_of(chunk))
                if held is not None:  # with the anchor features, which pass 2 then takes back
                    held.append((chunk, anchors))
                    held_bytes += int(chunk.memory_usage(deep=True).sum()) + sum(v.nbytes for v in anchors.values())
                    held = held if held_bytes <= READ_ONCE_BYTES else None
                bar.step(f"reading: {total:,} links")
            chunk = anchors = None  # the last chunk is not needed while the context is computed
        context = builder.finish()
        del builder
        rejected = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
        page_index = None
        if pages:
            from ._pages import load_folder

            page_index = load_folder(pages)
            notes += page_index[1]
        # Pass 2: score chunk by chunk, appending to the outputs.
        out.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            acc = Accumulator(stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8")))
            columns = [*LINK_COLUMNS, *(FETCH_COLUMNS if fetcher else ())]
            job = ChunkJob(mdl, allow, deny, site_topic, columns, pages, None if page_index is None else page_index[0])
            recorder = None
            key = site or (max(target_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
                                         if target_counts else None)
            if history and key:
                recorder = Recorder(key, [str(p) for p in exports], out.resolve())
                stack.callback(recorder.discard)
            elif history:
                notes.append("no target site is known, so this audit is not recorded in the history (give --site)")
            sink = _Sink(stack, out, columns, acc, recorder, bar, total)
            # The local loop's LightGBM judgments, then the comparison with the previous audit.
            model_thread = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="toxiclinks-model"))
            if session is not None:
                bar.step("scoring on the cluster", 0, total)
                for scored in session.second_pass(job, context):
                    sink.add(*scored)
            else:
                chunks = _let_go(held) if held is not None else ((c, None) for c in reader.chunks(None, None))
                del held
                _score_locally(job, chunks, context, total, model_thread, sink)
                del chunks
            if sink.start != total:
                raise InputError(f"the export changed while it was being audited ({total:,} links on the first "
                                 f"reading, {sink.start:,} on the second); run the audit again")
            # What is left needs only the compact per-link numbers.
            del context
            release_memory()
            # The comparison with the previous audit of the site (Arrow hash passes that release the
            # GIL) runs on the model's thread, idle now, while this one builds the site decisions.
            comparing = model_thread.submit(recorder.changes) if recorder is not None else None
            sink.close()
            bar.step("writing outputs")
            if page_index is not None:
                notes.append(f"{len(page_index[0]):,} saved pages; region found for {acc.regions_found:,} "
                             f"of {total:,} links")
            if fetcher is not None:
                notes.append(fetcher.summary())
            domains = acc.site_table(allow)
            rec = acc.recommendation(domains)
            merged = merge(existing_lines, rec, allow=allow, today=dt.date.today(),
                           source=str(existing_disavow or "the existing file"))
            if merged.moved and existing_disavow and same_file(existing_disavow, out / "disavow.txt"):
                raise DisavowError(f"{out / 'disavow.txt'} is the existing disavow file of this run, and the merged "
                                   f"file would be shorter ({merged.moved:,} of its lines do not fit within Google's "
                                   "limits beside the rest): write to another --out folder, so that it stays as it is")
            alarms = anchor_alarms(acc.anchor_counts())
            if merged.full:
                alarms.insert(0, merged.full)
            write_csv_atomic(domains, out / "domains.csv")
            with atomic_open(out / "disavow.txt") as fh:
                fh.write(merged.text)
            overflow = out / disavow.OVERFLOW_FILE
            if merged.overflow:
                with atomic_open(overflow) as fh:
                    fh.write(merged.overflow_text)
            elif overflow.exists() and force:  # one from an earlier run would tell of lines that now fit
                overflow.unlink()
            if len(rejected):
                write_csv_atomic(rejected, out / "rejects.csv")
            changes = None
            if comparing is not None:
                try:
                    changes = comparing.result()
                except InputError as exc:  # a damaged earlier record: this audit is still recorded, not compared
                    notes.append(f"not compared with the last audit: {exc}")
            if changes is not None:
                write_csv_atomic(changes.table, out / "changes.csv")
            elif (out / "changes.csv").is_file():  # one from an earlier run would describe another comparison
                (out / "changes.csv").unlink()
            label = f"{mdl.name} version {mdl.version}"
            report = ReportData(title=f"Backlink audit — {', '.join(sorted(acc.targets)) or 'links'}",
                                links=acc.report_frame(), domains=domains, files=[str(p) for p in exports],
                                rejected=len(rejected), model_label=label,
                                disavow_added_domains=merged.added_domains, disavow_added_urls=merged.added_urls,
                                disavow_kept=merged.kept, disavow_moved=merged.moved, disavow_marked=merged.marked, disavow_notes=merged.notes,
                                existing_disavow=existing_disavow, alarms=alarms, changes=changes)
            with atomic_open(out / "report.html") as fh:
                fh.write(render(report))
            if recorder is not None:
                recorder.commit()
    bar.close()
    return AuditResult(out, total, len(rejected), acc.verdicts(), len(domains), domains["action"].value_counts().to_dict(),
                       len(merged.added_domains), len(merged.added_urls), alarms,
                       time.perf_counter() - started, notes + merged.notes, merged.full, changes, key)


def _may_hold(exports: list[str]) -> bool:
    """Whether the exports may fit in :data:`READ_ONCE_BYTES` (compressed ones are not sized here)."""
    size = 0
    for path in exports:
        with contextlib.suppress(OSError):
            size += Path(path).stat().st_size
    return size * _MEMORY_PER_FILE_BYTE <= READ_ONCE_BYTES


def _let_go(chunks: list[T]) -> Iterator[T]:
    """The held chunks in order, each dropped from the list as it is handed out."""
    chunks.reverse()
    while chunks:
        yield chunks.pop()


def _score_locally(job: ChunkJob, chunks: Iterable[tuple[pd.DataFrame, dict[str, np.ndarray] | None]],
                   context: Context, total: int, model_thread: ThreadPoolExecutor, sink: _Sink) -> None:
    """Pass 2 in this process: every chunk scored and handed to ``sink`` in order."""
    read = 0
    pending: tuple[pd.DataFrame, np.ndarray, Context, Future] | None = None

    def write(chunk: pd.DataFrame, X: np.ndarray, chunk_context: Context, judgment: Future) -> None:
        table, part = chunk_rows(job, chunk, X, chunk_context, judgment.result())
        sink.add(*encoded_rows(table, sink.schema, sink.start == 0, csv_bytes), part,
                 (chunk, table["toxicity"].to_numpy(float), table["verdict"].to_numpy(object)))

    # LightGBM runs on one core for chunk k (it releases the GIL) while this thread computes the
    # features of chunk k+1 and then writes chunk k: about a fifth of the audit's time is hidden.
    for chunk, anchors in chunks:
        chunk_context = context.rows(read, read + len(chunk))
        if len(chunk_context) != len(chunk):
            raise InputError("the export changed while it was being audited (the second reading "
                             f"found more than the {total:,} links of the first); run the audit again")
        read += len(chunk)
        X, chunk_context, allowed, denied = chunk_features(job, chunk, chunk_context, anchors)
        judgment = model_thread.submit(chunk_judgment, job, X, allowed, denied)
        if pending is not None:
            write(*pending)
        pending = (chunk, X, chunk_context, judgment)
    if pending is not None:
        write(*pending)


class _Sink:
    """The outputs scored chunks are appended to, in export order: links.csv, links.parquet, the
    accumulator and the history record."""

    def __init__(self, stack: contextlib.ExitStack, out: Path, columns: list[str], acc: Accumulator,
                 recorder: Recorder | None, bar: Progress, total: int) -> None:
        self.columns, self.acc, self.recorder, self.bar, self.total = columns, acc, recorder, bar, total
        self.csv = stack.enter_context(atomic_open(out / "links.csv", "wb"))
        self.schema = parquet_schema(columns)
        self.parquet = pq.ParquetWriter(stack.enter_context(atomic_open(out / "links.parquet", "wb")), self.schema)
        stack.callback(self.parquet.close)
        self.start = 0

    def add(self, csv: bytes | Path, rows: pa.Table, part: Part,
            record: tuple[pd.DataFrame, np.ndarray, np.ndarray] | Callable[[], tuple] | None) -> None:
        """Append one chunk: its CSV bytes (or a file holding them), its rows as Arrow, its accumulator
        share and, for the history, its canonical links with toxicity and verdict (or how to get them)."""
        if isinstance(csv, Path):
            with csv.open("rb") as fh:
                shutil.copyfileobj(fh, self.csv, 1 << 20)
        else:
            self.csv.write(csv)
        self.parquet.write_table(rows)
        self.acc.add_part(part, self.start)
        if self.recorder is not None and record is not None:
            self.recorder.add(*(record() if callable(record) else record))
        self.start += len(part)
        self.bar.step("scoring", self.start, self.total)

    def close(self) -> None:
        """An export without links still gets links.csv's header."""
        if self.start == 0:
            self.csv.write(csv_bytes(link_rows(schema.empty_table(), pd.DataFrame(columns=self.columns),
                                                self.columns)))


@dataclass
class _Reader:
    """The exports' canonical links chunk by chunk, with the audited site named and pages fetched
    where asked; the same on both passes of a streamed audit (fetched pages come from the cache)."""

    exports: list[str]
    formats: str | None
    site: str | None
    fetcher: PageFetcher | None

    def chunks(self, rejects: list[pd.DataFrame] | None, notes: list[str] | None) -> Iterator[pd.DataFrame]:
        """Every export's links; rejects and notes collected when asked."""
        for path in self.exports:
            problems: list[str] = []
            for links, bad in iter_export(path, self.formats, problems=problems, chunk_rows=CHUNK_ROWS):
                if rejects is not None and len(bad):
                    rejects.append(bad)
                if len(links):
                    if self.fetcher is not None:
                        self.fetcher.fill(links, first_pass=rejects is not None)
                    elif self.site:
                        name_site(links, self.site)
                    yield links
            if notes is not None:
                notes += [f"{path}: {p}" for p in problems]
