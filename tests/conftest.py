"""Shared fixtures: a temporary TOXICLINKS_HOME, a small trained model, real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True, scope="session")
def _toxiclinks_home(tmp_path_factory):
    """Keep every test's state (MLflow store, labels, BentoML home) out of the user's home."""
    home = tmp_path_factory.mktemp("toxiclinks-home")
    old = {k: os.environ.get(k) for k in ("TOXICLINKS_HOME", "MLFLOW_TRACKING_URI")}
    os.environ["TOXICLINKS_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200 or ``timeout`` passes."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def running(args: list[str], ready_url: str, *, env: dict[str, str], cwd: Path, timeout: float = 120):
    """Run a server process until the block ends; wait until ``ready_url`` answers first."""
    log = (cwd / "server.log").open("w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        wait_http(ready_url, timeout, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A model trained on a small seed set (no MLflow), shared by the audit and service tests."""
    from toxiclinks.model import train

    out = tmp_path_factory.mktemp("model")
    result = train(out=out, track=False, log=lambda *_: None,
                   extra_params={"synth_targets": 60, "synth_links_per_target": 150, "casebook_folds": 2})
    return result


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 with a SQLite store and served artifacts."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
           "DO_NOT_TRACK": "1"}
    uri = f"http://127.0.0.1:{port}"
    with running([str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                  "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                  "--artifacts-destination", str(root / "artifacts")],
                 f"{uri}/health", env=env, cwd=root, timeout=90):
        yield uri
