"""Where toxiclinks keeps its state, and the environment it runs third-party tools in.

Nothing here runs at import time: callers ask for :func:`home` or call
:func:`quiet_third_parties` at their entry point (CLI, service, training).
"""

from __future__ import annotations

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


def tracking_uri() -> str:
    """MLflow tracking URI: ``MLFLOW_TRACKING_URI`` or a SQLite store under the home folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.db'}"


def label_store_path() -> Path:
    """Path of the SQLite label store (``TOXICLINKS_LABELS_DB`` overrides)."""
    override = os.environ.get("TOXICLINKS_LABELS_DB")
    return Path(override) if override else home() / "labels.sqlite"
