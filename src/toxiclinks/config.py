"""Settings: the one module that reads the environment, into a typed, checked :class:`Settings`.

Nothing here runs at import time: callers ask for :func:`settings` (or :func:`home`) or call
:func:`quiet_third_parties` and :func:`tune_memory` at their entry point (CLI, service). A value
that cannot work (``TOXICLINKS_WATCH_SECONDS=soon``) is a :class:`~toxiclinks.errors.ConfigError`
naming the variable.

=========================== ==========================================================
``TOXICLINKS_HOME``         state folder (label store, MLflow store, caches); ``~/.toxiclinks``
``TOXICLINKS_MODEL``        model folder or ``models:/NAME@ALIAS`` used when none is given
``TOXICLINKS_LABELS_DB``    the label store's SQLite file (default: under the home folder)
``TOXICLINKS_API_TOKEN``    bearer token for the service's write endpoints (none: writes refused)
``TOXICLINKS_WATCH_SECONDS`` how often the service checks a ``models:/`` alias (0: never)
``TOXICLINKS_MAX_BODY_MB``  largest request body the service reads (default 64)
``TOXICLINKS_DEBUG``        show tracebacks of unexpected errors
``MLFLOW_TRACKING_URI``     MLflow store (default: SQLite under the home folder)
=========================== ==========================================================
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

#: Environment variables that stop MLflow and BentoML from phoning home.
TELEMETRY_OFF = {
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
}

MODEL_NAME = "toxiclinks"


@dataclass(frozen=True)
class Settings:
    """What the environment says, checked (see the module's table)."""

    home: Path
    model: str | None
    labels_db: Path | None
    api_token: str
    watch_seconds: float
    max_body_bytes: int
    debug: bool
    tracking_uri: str | None


def settings() -> Settings:
    """The settings the environment gives now (cheap: read at each entry point, never cached)."""
    env = os.environ
    return Settings(
        home=Path(env.get("TOXICLINKS_HOME") or Path.home() / ".toxiclinks").expanduser(),
        model=env.get("TOXICLINKS_MODEL") or None,
        labels_db=Path(env["TOXICLINKS_LABELS_DB"]) if env.get("TOXICLINKS_LABELS_DB") else None,
        api_token=env.get("TOXICLINKS_API_TOKEN", ""),
        watch_seconds=_number("TOXICLINKS_WATCH_SECONDS", 0.0, minimum=0.0),
        max_body_bytes=int(_number("TOXICLINKS_MAX_BODY_MB", 64.0, minimum=1.0) * 1024 * 1024),
        debug=debug(),
        tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
    )


def _number(name: str, default: float, *, minimum: float) -> float:
    """A numeric environment variable, or ``default`` when unset; a ConfigError when it is no number."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:  # also refuses NaN
        raise ConfigError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def debug() -> bool:
    """Whether ``TOXICLINKS_DEBUG`` asks for tracebacks (read alone, so a bad other setting cannot hide one)."""
    return bool(os.environ.get("TOXICLINKS_DEBUG"))


def home() -> Path:
    """Return ``TOXICLINKS_HOME`` (default ``~/.toxiclinks``), creating it on first use."""
    path = settings().home
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"TOXICLINKS_HOME={str(path)!r} cannot be used: {exc.strerror}") from None
    return path


def setup_logging(verbosity: int = 0) -> None:
    """Log to stderr: warnings by default, progress with ``-v``, details with ``-vv``."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger("toxiclinks")
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    root.setLevel(level)


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (tests and callers swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


_HANDLER = _Stderr()
_HANDLER.setFormatter(logging.Formatter("toxiclinks: %(message)s"))


def quiet_third_parties() -> None:
    """Turn off telemetry and keep BentoML's state inside ``TOXICLINKS_HOME``."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("BENTOML_HOME", str(home() / "bentoml"))


def tune_memory() -> None:
    """Give Arrow's buffers to jemalloc, unless ``ARROW_DEFAULT_MEMORY_POOL`` names a pool.

    pyarrow's default (mimalloc) hands freed chunks back to the system, so the reader's worker
    threads spend their time faulting the same memory in again, contending for the process's page
    tables; jemalloc keeps it (bench/RESULTS.md has the reader's times and peak memory with each).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):  # a pyarrow without jemalloc keeps its default
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def release_memory() -> None:
    """Hand memory that Arrow's pool and the C allocator keep after frees back to the system.

    Between an audit's scoring pass and the whole-export tables that follow, this lowers the
    process's peak: what the tables allocate then comes on top of the live memory alone.
    """
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
            ctypes.CDLL(libc).malloc_trim(0)


def tracking_uri() -> str:
    """MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or a SQLite store under the home folder."""
    return settings().tracking_uri or f"sqlite:///{home() / 'mlflow.db'}"


def label_store_path() -> Path:
    """Path of the SQLite label store (``TOXICLINKS_LABELS_DB`` overrides)."""
    return settings().labels_db or home() / "labels.sqlite"
