"""The forest compiled to C (treelite + tl2cgen, with the machine's C compiler): raw scores
identical to LightGBM's, to the bit, at several times its speed; and a second build of the same
trees that gives the leaf each row reaches in every tree (what the reasons' contributions are
read from), as LightGBM's ``pred_leaf`` does.

A library is built once per forest into ``$TOXICLINKS_HOME/compiled/`` by a compiler process,
loaded only when it matches the SHA-256 its build wrote, and used only after it gave the booster's
very bits on a probe matrix; until then, and whenever it cannot be built, LightGBM scores.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from ..config import home
from ..safeio import atomic_open, sha256_file

_LOG = logging.getLogger(__name__)

_COMPILED_FORMAT = 1  # part of the library's key: changing how it is built makes every old one unused
_LIGHTGBM_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float)

# Run by the compiler process (``python -c``): the forest's LightGBM text in, a shared library out.
# It imports only the compiling libraries, writes the library under a temporary name then renames
# it (a reader never sees half a file) after writing its SHA-256 beside it (``.sha256``: a library
# that does not match it is never loaded, since loading a damaged one can crash the process), and
# leaves the traceback in ``.failed`` if building fails. Builders of one library take turns (a lock
# beside it): one that finds it built, or failed, builds nothing, so two processes never publish
# different builds of one library (a reader would find a library and a SHA-256 that differ).
_BUILD = """
import fcntl, hashlib, os, sys, traceback
text, library, failed, toolchain = sys.argv[1:5]
part = library + ".%d.part" % os.getpid()
digest_part = part + ".sha256"
try:
    os.nice(10)
    with open(library[:-3] + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(library) and not os.path.exists(failed):
            import lightgbm, tl2cgen, treelite
            model = treelite.frontend.from_lightgbm(lightgbm.Booster(model_file=text))
            tl2cgen.export_lib(model, toolchain=toolchain, libpath=part, params={"parallel_comp": 8},
                               nthread=max(1, min(4, os.cpu_count() or 1)))
            with open(part, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            with open(digest_part, "w") as fh:
                fh.write(digest + "\\n")
            os.replace(digest_part, library[:-3] + ".sha256")
            os.replace(part, library)
except Exception:
    with open(failed, "w") as fh:
        traceback.print_exc(file=fh)
    sys.exit(1)
finally:
    for leftover in (text, part, digest_part):
        if os.path.exists(leftover):
            os.remove(leftover)
"""


class CompiledForest:
    """A booster compiled to C by treelite and tl2cgen: raw scores (log-odds) of a feature matrix."""

    def __init__(self, path: Path) -> None:
        import tl2cgen

        self.path, self._tl2cgen = path, tl2cgen
        # One predictor per thread count; loading fails here, not in the middle of an audit.
        self._predictors: dict[int, Any] = {1: tl2cgen.Predictor(path, nthread=1)}
        self._lock = threading.Lock()

    def raw_score(self, X: np.ndarray, threads: int = 1) -> np.ndarray:
        """Raw scores of the rows of ``X`` (missing values as NaN), on ``threads`` threads."""
        return self._outputs(X, threads).reshape(len(X))

    def leaves(self, X: np.ndarray, threads: int = 1) -> np.ndarray:
        """For a forest built from :func:`leaf_forest_text`: the leaf each row reaches in every tree
        (rows × trees, each tree's leaves numbered from 0), as LightGBM's ``pred_leaf`` gives them."""
        return self._outputs(X, threads).reshape(len(X), -1).astype(np.int32)

    def _outputs(self, X: np.ndarray, threads: int) -> np.ndarray:
        """The library's raw outputs for the rows of ``X``."""
        X = np.ascontiguousarray(X)
        if not self.reads(X):
            raise ValueError("the compiled forest reads only float32 values and doubles not ending in 32 one bits")
        # LightGBM reads a value within its zero threshold as 0 (its dense rows keep only the others).
        tiny = np.abs(X) <= _LIGHTGBM_ZERO
        if np.count_nonzero(tiny) > np.count_nonzero(X == 0):
            X = np.where(tiny, X.dtype.type(0), X)
        return self._predictor(threads).predict(self._tl2cgen.DMatrix(X), pred_margin=True)

    @staticmethod
    def reads(X: np.ndarray) -> bool:
        """Whether the compiled code reads every value of ``X`` as LightGBM does.

        tl2cgen's generated code holds each value in a union with an int that is -1 for a missing
        value, so it takes a double whose low 32 bits are all ones for a missing one. A float32
        (the feature matrices are float32) widened to a double has 29 zero bits there; doubles are
        checked.
        """
        if X.dtype == np.float32:
            return True
        if X.dtype != np.float64:
            return False
        return bool(CompiledForest.reads_each(X).all())

    @staticmethod
    def reads_each(X: np.ndarray) -> np.ndarray:
        """Which doubles of ``X`` the compiled code reads as LightGBM does (see :meth:`reads`)."""
        low = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64) & np.uint64(0xFFFFFFFF)
        return low != np.uint64(0xFFFFFFFF)

    def _predictor(self, threads: int) -> Any:
        predictor = self._predictors.get(threads)
        if predictor is None:
            with self._lock:
                predictor = self._predictors.get(threads)
                if predictor is None:
                    try:
                        predictor = self._tl2cgen.Predictor(self.path, nthread=threads)
                    except Exception as exc:  # the file is gone (removed by hand, or by another process)
                        _LOG.info("the compiled forest scores on one thread: %s: %s", type(exc).__name__, exc)
                        predictor = self._predictors[1]  # the same bits, the library already loaded
                    self._predictors[threads] = predictor
        return predictor


def leaf_forest_text(text: str, trees: int) -> str:
    """A LightGBM model text whose outputs are leaf numbers: the same trees, each a class of its own
    (a multiclass model of one iteration), each leaf's value its number in its tree.

    Compiled, it gives per tree the leaf a row reaches, which is LightGBM's ``pred_leaf``; the
    build is checked against ``pred_leaf`` like the scores' one. The header's ``tree_sizes`` (byte
    offsets of the trees, which the new values change) is dropped; LightGBM then reads the trees
    one after another.
    """
    head, _, body = text.partition("\nTree=")
    replaced = {"num_class": f"num_class={trees}", "num_tree_per_iteration": f"num_tree_per_iteration={trees}",
                "objective": f"objective=multiclass num_class:{trees}"}
    lines = [replaced.get(line.split("=", 1)[0], line) for line in head.split("\n")
             if not line.startswith("tree_sizes=")]
    body = re.sub(r"^leaf_value=(.*)$", lambda m: "leaf_value=" + " ".join(map(str, range(len(m.group(1).split())))),
                  body, flags=re.MULTILINE)
    return "\n".join(lines) + "\nTree=" + body


class CompileState:
    """Where one model's compiled forest stands: not looked for, being built, ready, or not to be used.

    ``leaves``: the forest that gives leaf numbers (:func:`leaf_forest_text`) instead of scores.
    """

    def __init__(self, booster: lgb.Booster, leaves: bool = False) -> None:
        self.booster = booster
        self.leaves = leaves
        self.ready: CompiledForest | None = None
        self.off = False
        self.library: Path | None = None
        self.text: str | None = None  # the forest's LightGBM text, until the compiler process has it
        self.toolchain = ""
        self.process: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def forest(self, wait: bool) -> CompiledForest | None:
        if self.ready is not None or self.off:
            return self.ready
        with self.lock:
            try:
                return self._advance(wait)
            except Exception as exc:  # any failure means the same: LightGBM scores, as before
                self.off = True
                _LOG.info("the compiled forest is not used (LightGBM scores): %s: %s", type(exc).__name__, exc)
                return None

    def _advance(self, wait: bool) -> CompiledForest | None:
        if self.ready is not None or self.off:
            return self.ready
        if self.library is None:
            toolchain = next((cc for cc in ("gcc", "clang") if shutil.which(cc)), None)
            versions = _compiler_versions()
            if toolchain is None or versions is None:
                self.off = True  # no C compiler or no tl2cgen here: not an error, just slower
                _LOG.debug("no compiled forest: %s", "no C compiler" if toolchain is None else "tl2cgen is not installed")
                return None
            text = self.booster.model_to_string()
            if self.leaves:
                text = leaf_forest_text(text, self.booster.num_trees())
            key = hashlib.sha256(f"{_COMPILED_FORMAT} {versions} {toolchain}\n{text}".encode()).hexdigest()
            folder = home() / "compiled"
            folder.mkdir(exist_ok=True)
            self.library, self.text, self.toolchain = folder / f"{key}.so", text, toolchain
        failed = self.library.with_suffix(".failed")
        if self.library.exists():
            return self._load(failed)
        if failed.exists():
            self.off = True
            _LOG.info("the compiled forest is not used (LightGBM scores): building it failed before, see %s", failed)
            return None
        if self.process is None:
            # A name of its own (two models of one process may build the same library); the
            # compiler process removes it.
            handle, text_file = tempfile.mkstemp(suffix=".txt", prefix=f"{self.library.stem}.", dir=self.library.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                fh.write(self.text)
            self.text = None
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BUILD, text_file, str(self.library), str(failed), self.toolchain],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)  # an interrupted audit does not interrupt the build
            _LOG.info("compiling the forest into %s (LightGBM scores until it is ready)", self.library)
        if wait:
            self.process.wait()
        if self.process.poll() is None:
            return None
        if self.library.exists():
            return self._load(failed)
        self.off = True
        _LOG.info("the compiled forest is not used (LightGBM scores): building it failed (exit %s), see %s",
                  self.process.returncode, failed)
        return None

    def _load(self, failed: Path) -> CompiledForest | None:
        """Load the library and check it against the booster; a library that differs is never used.

        The check's outcome is the same for the same library and forest (the library's name is the
        forest's digest), so a passed check is noted beside it with the library's SHA-256 and
        not repeated while that matches (the check takes ~0.3 s, loading alone ~0.05 s).
        """
        checked, built = self.library.with_suffix(".checked"), self.library.with_suffix(".sha256")
        digest = sha256_file(self.library)
        if not built.exists() or built.read_text("utf-8").strip() != digest:
            # Damaged, or not ours: never loaded (a truncated library crashes the process that maps it).
            self.off = True
            self.library.unlink(missing_ok=True)
            _LOG.warning("the compiled forest %s is not used (LightGBM scores): it does not match the SHA-256 "
                         "its build wrote; the next run builds it again", self.library)
            return None
        try:
            forest = CompiledForest(self.library)
            if checked.exists() and checked.read_text("utf-8").strip() == digest:
                self.ready = forest
                return forest
            same = all(np.array_equal(forest.leaves(probe, 1), self.booster.predict(probe, pred_leaf=True, num_threads=1))
                       if self.leaves else
                       np.array_equal(forest.raw_score(probe, 1), self.booster.predict(probe, raw_score=True, num_threads=1))
                       for probe in _probe_matrices(self.booster))
        except Exception as exc:  # an unreadable library (a truncated file, say): the next run builds it again
            self.off = True
            self.library.unlink(missing_ok=True)
            _LOG.warning("the compiled forest %s is not used (LightGBM scores): %s: %s", self.library,
                         type(exc).__name__, exc)
            return None
        if not same:  # the same library and forest would differ again: never built again for them
            self.off = True
            failed.write_text("its outputs differ from LightGBM's on the probe matrix\n", "utf-8")
            self.library.unlink(missing_ok=True)
            checked.unlink(missing_ok=True)
            _LOG.warning("the compiled forest %s is not used (LightGBM scores): its outputs differ from "
                         "LightGBM's on the probe matrix", self.library)
            return None
        with atomic_open(checked) as fh:
            fh.write(digest + "\n")
        self.ready = forest
        return forest


def _compiler_versions() -> str | None:
    """The versions of treelite and tl2cgen (they decide the code built), or ``None`` if either is missing."""
    from importlib import metadata

    try:
        return f"treelite {metadata.version('treelite')} tl2cgen {metadata.version('tl2cgen')}"
    except metadata.PackageNotFoundError:
        return None


def _probe_matrices(booster: lgb.Booster, rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Rows that try every decision of the forest, as doubles and as float32: each feature takes, at
    random, a split threshold of it, the doubles and floats either side of one, a category it splits
    on or the next one, 0, -1 or NaN (doubles the compiled forest does not read left out)."""
    dump = booster.dump_model()
    values: list[set[float]] = [{0.0, -1.0} for _ in range(dump["max_feature_idx"] + 1)]
    stack = [tree["tree_structure"] for tree in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            continue
        seen = values[node["split_feature"]]
        if node["decision_type"] == "==":
            for category in str(node["threshold"]).split("||"):
                seen.update((float(category), float(category) + 1))
        else:
            threshold = float(node["threshold"])
            with np.errstate(over="ignore"):  # a threshold beyond float32 becomes an infinity
                single = np.float32(threshold)
            seen.update((threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf), float(single),
                         float(np.nextafter(single, np.float32(-np.inf))), float(np.nextafter(single, np.float32(np.inf)))))
        stack += [node["left_child"], node["right_child"]]
    rng = np.random.default_rng(0)
    columns = []
    for seen in values:
        choices = np.array([np.nan, *sorted(seen)])
        columns.append(rng.choice(choices[CompiledForest.reads_each(choices)], rows))
    doubles = np.column_stack(columns)
    with np.errstate(over="ignore"):
        return doubles, doubles.astype(np.float32)


