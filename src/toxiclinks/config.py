"""Where toxiclinks keeps its state, and the environment it runs third-party tools in.

Nothing here runs at import time: callers ask for :func:`home` or call
:func:`quiet_third_parties` and :func:`tune_memory` at their entry point (CLI, service).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: Environment variables that stop MLflow and BentoML from phoning home.
TELEMETRY_OFF = {
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
}

MODEL_NAME = "toxiclinks"


def home() -> Path:
    """Return ``TOXICLINKS_HOME`` (default ``~/.toxiclinks``), creating it on first use."""
    path = Path(os.environ.get("TOXICLINKS_HOME") or Path.home() / ".toxiclinks").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def quiet_third_parties() -> None:
    """Turn off telemetry and keep BentoML's state inside ``TOXICLINKS_HOME``."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("BENTOML_HOME", str(home() / "bentoml"))


def tune_memory() -> None:
    """Give Arrow's buffers to jemalloc, unless ``ARROW_DEFAULT_MEMORY_POOL`` names a pool.

    pyarrow's default (mimalloc) hands freed chunks back to the system, so the reader's worker
    threads spend their time faulting the same memory in again, contending for the process's page
    tables; jemalloc keeps it. Measured in bench/RESULTS.md: reading ~1.5× faster, lower peak memory.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):  # a pyarrow without jemalloc keeps its default
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def tracking_uri() -> str:
    """MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or a SQLite store under the home folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.db'}"


def label_store_path() -> Path:
    """Path of the SQLite label store (``TOXICLINKS_LABELS_DB`` overrides)."""
    override = os.environ.get("TOXICLINKS_LABELS_DB")
    return Path(override) if override else home() / "labels.sqlite"
