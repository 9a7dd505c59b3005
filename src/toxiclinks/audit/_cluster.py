"""Both passes of an audit as Dask tasks (``--cluster``): the same per-chunk work as in one process.

Pass 1 is one task per export (the reader goes through a file in order: stray-quote recovery and
line numbers need what came before), which writes the file's canonical chunks into a temporary
folder inside the output folder, then one task per chunk collects its profile keys; the client
merges the chunks' context builders in export order and computes the context. Pass 2 is one task
per chunk: the chunk's slice of the context goes with the task, the rest of the context and the
model are sent to every worker once. Each task scores its chunk with :func:`score_chunk` and writes
its rows (links.csv bytes, Arrow) under a name of its own, atomically, so that a task run again
after a worker died overwrites its own part; the client appends the parts to the outputs in export
order and keeps the compact per-link numbers, as the local loop does.

Workers read exports and write parts themselves, so the exports and ``--out`` must be on a folder
every worker sees at the same path (or the exports given as fsspec URLs the workers can open).
Dask is imported only here, and only when an audit is given ``--cluster``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import ConfigError, InputError, ToxiclinksError
from ..features import Context, ContextBuilder
from ..model import ToxicityModel, load, scoring_features
from ..safeio import atomic_open
from ._accumulate import Part
from ._chunk import ChunkJob, encoded_rows, parquet_schema, score_chunk, target_counts_of

if TYPE_CHECKING:
    from distributed import Client, Future

log = logging.getLogger(__name__)

#: How long connecting to a scheduler may take before the audit gives up.
CONNECT_SECONDS = 10


def parse_cluster(spec: str) -> int | None:
    """The number of worker processes of ``local:N``; None for a scheduler's address."""
    if spec.startswith("local:") or spec == "local":
        count = spec.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise ConfigError(f"--cluster {spec}: local:N takes the number of worker processes to start here, "
                              "a whole number of at least 1 (local:2)")
        return int(count)
    if not spec.strip() or any(c.isspace() for c in spec):
        raise ConfigError(f"--cluster {spec!r}: give a Dask scheduler's address (tcp://HOST:8786) or local:N")
    return None


def connect(spec: str) -> tuple[Client, Any]:
    """A client of the scheduler at ``spec``, or of a new ``LocalCluster`` (``local:N``) with its cluster."""
    workers = parse_cluster(spec)
    from distributed import Client, LocalCluster

    if workers is not None:
        # Worker processes, one thread each (the work is Python: threads would share one GIL), on the
        # loopback interface, no dashboard; they import this module as they start (preload), while
        # the client loads the model.
        cluster = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR, preload=[__name__])
        try:
            return Client(cluster, set_as_default=False), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        return Client(spec, timeout=CONNECT_SECONDS, set_as_default=False), None
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"--cluster {spec}: cannot reach a Dask scheduler there ({reason}); start one with "
                          "`dask scheduler` and workers with `dask worker ADDRESS`, or use local:N") from None


@dataclass(frozen=True)
class _ModelRef:
    """Where workers find the audit's model: the client's pickled into the shared temporary folder,
    and the --model it was loaded from. Small: it goes with every task (data scattered to workers
    would be lost with the last worker holding it; a file in the shared folder is not)."""

    token: str  # the model's fingerprint
    pickled: str  # the client's model, pickled
    location: str | None  # the --model given (a folder, or None for the default model)
    site_topic: str | None


_LOADED: dict[str, Any] = {}  # per worker process: the current audit's model, features and shared context
_LOADED_LOCK = threading.Lock()


def _loaded(path: str, make: Callable[[], Any]) -> Any:
    """``make()``, once per worker process for a file of the audit's temporary folder."""
    with _LOADED_LOCK:
        if path not in _LOADED:
            folder = str(Path(path).parent)
            for other in [k for k in _LOADED if not k.startswith(folder)]:  # an earlier audit's
                del _LOADED[other]
            _LOADED[path] = make()
        return _LOADED[path]


def _worker_model(ref: _ModelRef) -> tuple[ToxicityModel, Any]:
    """The audit's model and features on this worker, loaded once per worker process.

    A model that comes unpickled scores with LightGBM (the compiled forest belongs to a loaded
    one), so the worker loads the model from the same place when that gives the very model the
    client has, and scores with the compiled forest as the client does; else it takes the client's.
    """
    def make() -> tuple[ToxicityModel, Any]:
        model = None
        if ref.location is None or not ref.location.startswith("models:/"):
            try:
                own = load(ref.location)
                if _fingerprint(own) == ref.token:
                    model = own
                else:
                    log.info("the model at %s on this worker differs from the client's; using the client's",
                             ref.location or "the default location")
            except ToxiclinksError as exc:
                log.info("no model of its own on this worker (%s); using the client's", exc)
        if model is None:
            model = _load_pickle(ref.pickled)
        return model, scoring_features(model, ref.site_topic)

    return _loaded(ref.pickled, make)


def _fingerprint(model: ToxicityModel) -> str:
    """SHA-256 of what makes a model's scores: its forest, calibration and metadata (not its pickle,
    whose sets of strings are ordered differently in each process)."""
    digest = hashlib.sha256(model.booster.model_to_string().encode("utf-8"))
    for values in (model.calib_x, model.calib_y):
        digest.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    digest.update(json.dumps(model.metadata, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


@dataclass
class _FileRead:
    """What a worker's reading of one export gave: its chunks (files and sizes), rejects and notes."""

    chunks: list[tuple[str, int]]
    rejects: list[pd.DataFrame]
    notes: list[str]
    target_counts: dict[str, int]


class Reader(Protocol):
    """The audit's reader (``_run``'s: the exports' canonical chunks, the audited site named), sent
    to the workers as it is; each reads one export with it."""

    exports: list[str]

    def chunks(self, rejects: list[pd.DataFrame] | None, notes: list[str] | None) -> Iterator[pd.DataFrame]: ...


def _read_export(tmp: str, index: int, given: str, location: str, reader: Reader) -> _FileRead:
    """Task: read one export and write its canonical chunks into ``tmp`` (pass 1)."""
    folder = Path(tmp)
    if not folder.is_dir():
        raise InputError(f"this worker ({os.uname().nodename}) does not see the output folder; with --cluster, "
                         "--out must be a folder every worker sees at the same path", path=tmp)
    local = location
    if "://" in location:  # an fsspec URL: copied once into the shared folder, read from there
        import fsspec

        local = str(folder / f"export-{index:04d}{''.join(Path(location).suffixes[-2:])}")
        try:
            with fsspec.open(location, "rb") as src, atomic_open(local, "wb", durable=False) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, ValueError, ImportError) as exc:
            raise InputError(f"cannot open on the worker: {exc}", path=given) from None
    elif not Path(local).exists():
        raise InputError(f"no such file on worker {os.uname().nodename}; with --cluster, exports must be on a "
                         "folder every worker sees at the same path", path=given)
    rejects: list[pd.DataFrame] = []
    notes: list[str] = []
    chunks: list[tuple[str, int]] = []
    counts: Counter[str] = Counter()
    for number, links in enumerate(dataclasses.replace(reader, exports=[local]).chunks(rejects, notes)):
        if local != given:  # the outputs name the export as the user gave it, as in one process
            links["source_file"] = pd.array(np.full(len(links), given, dtype=object), dtype="string")
        counts.update(target_counts_of(links))
        path = folder / f"chunk-{index:04d}-{number:06d}.pkl"
        _dump(links, path)
        chunks.append((str(path), len(links)))
    if local != given:
        for bad in rejects:
            bad["file"] = bad["file"].astype(object).where(bad["file"].astype(object) != local, given)
        notes = [n.replace(local, given) for n in notes]
    return _FileRead(chunks, rejects, notes, counts)


def _chunk_context(ref: _ModelRef, chunk_path: str) -> ContextBuilder:
    """Task: one chunk's profile keys (pass 1), as a builder the client merges in order."""
    _, features = _worker_model(ref)
    builder = features.context_builder()
    features.add_to_context(builder, _load_pickle(chunk_path))
    return builder


@dataclass
class _Shared:
    """What every pass-2 task needs, pickled once into the temporary folder: the scoring job (model
    left out: it comes from the :class:`_ModelRef`) and the context's per-group tables."""

    job: ChunkJob
    tables: dict[str, tuple[str, np.ndarray]]
    target_vectors: np.ndarray


def _score_part(ref: _ModelRef, shared_path: str, chunk_path: str, codes: dict[str, np.ndarray], first: bool,
                ) -> tuple[str, str, Part]:
    """Task: score one chunk (pass 2); its rows written under names of its own, atomically."""
    model, _ = _worker_model(ref)
    shared: _Shared = _loaded(shared_path, lambda: _load_pickle(shared_path))
    job = dataclasses.replace(shared.job, model=model)
    table, part = score_chunk(job, _load_pickle(chunk_path), Context(codes, shared.tables, shared.target_vectors))
    csv, rows = encoded_rows(table, parquet_schema(job.columns), first)
    stem = chunk_path.removesuffix(".pkl").replace("chunk-", "part-")
    with atomic_open(Path(f"{stem}.csv"), "wb", durable=False) as fh:
        fh.write(csv)
    with atomic_open(Path(f"{stem}.arrow"), "wb", durable=False) as fh, pa.ipc.new_file(fh, rows.schema) as writer:
        writer.write_table(rows)
    return f"{stem}.csv", f"{stem}.arrow", part


def _dump(value: Any, path: Path) -> None:
    """Pickle ``value`` into the temporary folder: written whole under a name of its own, then moved
    into place, so a task run again (its worker died) replaces its own file whole, never half."""
    with atomic_open(path, "wb", durable=False) as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _load_pickle(path: str) -> Any:
    """A chunk, model or context the audit put into its temporary folder."""
    with open(path, "rb") as fh:
        return pickle.load(fh)


class ClusterSession:
    """A connection to the cluster for one audit and its temporary folder inside the output folder.

    Entered before the model is loaded: the connection (a ``LocalCluster``'s worker processes
    starting and importing toxiclinks) is made on a thread meanwhile; :meth:`use_model` waits for it.
    """

    def __init__(self, spec: str, out: Path) -> None:
        self.spec, self.out = spec, out
        self.chunks: list[tuple[str, int]] = []
        self.client: Client | None = None
        self.cluster: Any = None
        self.tmp: Path | None = None

    def __enter__(self) -> ClusterSession:
        parse_cluster(self.spec)  # a malformed value fails at once
        self._began = time.perf_counter()
        self._connecting = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="toxiclinks-connect")
        self._connection = self._connecting.submit(connect, self.spec)
        return self

    def use_model(self, model: ToxicityModel, location: str | None, site_topic: str | None) -> None:
        """Wait for the connection; put the model where the workers find it."""
        self.client, self.cluster = self._connection.result()
        log.info("connected to %s in %.2f s (%d workers)", self.spec, time.perf_counter() - self._began,
                 len(self.client.scheduler_info(n_workers=-1)["workers"]))
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".cluster-", dir=self.out)).resolve()
        pickled = self.tmp / "model.pkl"
        _dump(model, pickled)
        self.ref = _ModelRef(_fingerprint(model), str(pickled), location, site_topic)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._connecting.shutdown(wait=True)
            if self.client is None and self._connection.exception() is None:
                self.client, self.cluster = self._connection.result()
            if self.client is not None:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _key(self, what: str, *numbers: int) -> str:
        return f"toxiclinks-{what}-{'-'.join(map(str, numbers))}-{self.tmp.name}"

    def first_pass(self, builder: ContextBuilder, reader: Reader,
                   rejects: list[pd.DataFrame], notes: list[str]) -> tuple[int, Counter[str]]:
        """Read every export on the workers and merge the chunks' profile keys into ``builder``;
        rejects and notes appended in export order. The links read and the count per target site."""
        client, began = self.client, time.perf_counter()
        exports = reader.exports
        reads = [client.submit(_read_export, str(self.tmp), i, str(path), _location(str(path)), reader,
                               key=self._key("read", i), pure=False) for i, path in enumerate(exports)]
        contexts: list[list[Future]] = []
        counts: Counter[str] = Counter()
        for read in reads:  # in export order; the other files are read meanwhile
            result: _FileRead = read.result()
            contexts.append([client.submit(_chunk_context, self.ref, path, key=self._key("context", len(self.chunks) + k),
                                           pure=False) for k, (path, _) in enumerate(result.chunks)])
            self.chunks += result.chunks
            rejects += result.rejects
            notes += result.notes
            counts.update(result.target_counts)
        del reads
        read, merged = time.perf_counter(), 0.0
        for futures in contexts:
            for future in futures:
                partial = future.result()
                future.release()
                at = time.perf_counter()
                builder.merge(partial)
                merged += time.perf_counter() - at
        log.info("pass 1: %d exports read in %.2f s, %d chunks' profile keys in %.2f s more (merging: %.2f s)",
                 len(exports), read - began, len(self.chunks), time.perf_counter() - read, merged)
        return sum(n for _, n in self.chunks), counts

    def second_pass(self, job: ChunkJob, context: Context,
                    ) -> Iterator[tuple[Path, pa.Table, Part, Callable[[], tuple]]]:
        """Score every chunk on the workers; each chunk's outputs in export order, for the sink:
        its links.csv part, its rows, its accumulator share and its links for the history."""
        # The model reaches the workers through the _ModelRef; the job goes without it.
        shared = self.tmp / "context.pkl"
        _dump(_Shared(dataclasses.replace(job, model=None), context.tables, context.target_vectors),  # type: ignore[arg-type]
              shared)
        log.info("pass 2: scoring %d chunks", len(self.chunks))
        futures: list[Future | None] = []
        start = 0
        for number, (path, n) in enumerate(self.chunks):
            codes = context.rows(start, start + n).codes
            futures.append(self.client.submit(_score_part, self.ref, str(shared), path, codes, start == 0,
                                              key=self._key("score", number), pure=False))
            start += n
        waited = assembled = 0.0
        for number in range(len(futures)):
            began = time.perf_counter()
            # Released once taken: a finished part is not computed again if its worker dies later.
            future, futures[number] = futures[number], None
            csv, arrow, part = future.result()
            future.release()
            got = time.perf_counter()
            chunk_path = self.chunks[number][0]
            rows = pa.ipc.open_file(pa.memory_map(arrow)).read_all()
            yield Path(csv), rows, part, lambda rows=rows, path=chunk_path: _history_rows(path, rows)
            for name in (csv, arrow, chunk_path):
                Path(name).unlink(missing_ok=True)
            waited, assembled = waited + got - began, assembled + time.perf_counter() - got
        log.info("pass 2: %d chunks; the client waited %.2f s for parts and assembled them in %.2f s",
                 len(futures), waited, assembled)


def _history_rows(chunk_path: str, rows: pa.Table) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A scored chunk's canonical links, toxicity and verdict, as the history records them."""
    return (_load_pickle(chunk_path), rows.column("toxicity").to_numpy(),
            rows.column("verdict").to_numpy(zero_copy_only=False))


def _location(path: str) -> str:
    """Where workers find an export: fsspec URLs as given, local paths made absolute."""
    return path if "://" in path else str(Path(path).absolute())
