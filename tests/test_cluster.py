"""The audit on a Dask cluster (``--cluster``): a real ``LocalCluster`` of two worker processes on
127.0.0.1 gives the single-process audit's outputs, byte for byte, on a generated 200k-link export,
also when a worker process is killed in the middle of the audit (the nanny starts a new one and
the lost tasks run again). Without ``--cluster`` Dask is not even imported."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from tests.pinned import GENERATED_LINKS, ROOT, fingerprint
from toxiclinks.audit import run_audit
from toxiclinks.cli import main
from toxiclinks.errors import InputError
from toxiclinks.model import load, scoring_features, write_seed_data
from toxiclinks.reading import iter_export

SAMPLE = ROOT / "data/sample/ahrefs_sample.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, on the loopback interface, no dashboard."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as local, \
            Client(local, set_as_default=False) as client:
        yield local.scheduler_address, client


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The pinned outputs' generated export (tests/pinned.py's recipe) and its single-process audit."""
    tmp = tmp_path_factory.mktemp("generated")
    links, _, _ = write_seed_data(tmp / "export", max(1, GENERATED_LINKS // 300), 300, seed=2024, labels=False)
    run_audit([str(links)], tmp / "single", progress=False, history=False)
    return links, tmp / "single"


def _same_outputs(out: Path, single: Path, export: Path) -> None:
    """Every output of ``out`` is the single-process audit's (links.parquet by its rows)."""
    assert fingerprint(out, {str(export): "EXPORT"}) == fingerprint(single, {str(export): "EXPORT"})
    for name in ("links.csv", "domains.csv", "disavow.txt"):
        assert (out / name).read_bytes() == (single / name).read_bytes(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_clustered_audit_writes_the_single_process_outputs(cluster, generated, tmp_path):
    export, single = generated
    result = run_audit([str(export)], tmp_path / "out", progress=False, history=False, cluster=cluster[0])
    assert result.links == sum(1 for _ in export.open(encoding="utf-8")) - 1
    _same_outputs(tmp_path / "out", single, export)


class _KillOnce(WorkerPlugin):
    """Kills the worker process that has just finished the task ``prefix…`` (its part written, its
    result not yet with the client), once: the marker file says it happened."""

    name = "kill-once"

    def __init__(self, prefix: str, marker: str) -> None:
        self.prefix, self.marker = prefix, marker

    def transition(self, key, start, finish, **kwargs) -> None:
        if (finish == "memory" and str(key).startswith(self.prefix) and not os.path.exists(self.marker)):
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("task", ["toxiclinks-read-0-", "toxiclinks-score-2-"])
def test_a_worker_killed_mid_audit_costs_a_retry_not_a_row(cluster, generated, tmp_path, task):
    address, client = cluster
    export, single = generated
    marker = tmp_path / "killed"
    client.register_plugin(_KillOnce(task, str(marker)))
    try:
        run_audit([str(export)], tmp_path / "out", progress=False, history=False, cluster=address)
    finally:
        client.unregister_worker_plugin(_KillOnce.name)
    assert marker.exists(), "no worker was killed: the test proves nothing"
    killed = int(marker.read_text())
    client.wait_for_workers(2, timeout=120)  # the nanny started a new worker process
    assert killed not in client.run(os.getpid).values()
    _same_outputs(tmp_path / "out", single, export)


def test_context_builders_of_chunks_merge_into_the_whole_exports(tmp_path):
    """Pass 1 on a cluster: one builder per chunk, merged in order, gives the context of one builder
    fed every chunk (small chunks, so that targets' first-seen URLs and anchors cross chunks)."""
    links, _, _ = write_seed_data(tmp_path, 12, 400, seed=7, labels=False)
    features = scoring_features(load(None), "garden tools")
    whole = features.context_builder()
    merged = features.context_builder()
    chunks = [chunk for chunk, _ in iter_export(links, chunk_rows=700)]
    assert len(chunks) > 5
    for chunk in chunks:
        features.add_to_context(whole, chunk)
        part = features.context_builder()
        features.add_to_context(part, chunk)
        merged.merge(part)
    a, b = whole.finish(), merged.finish()
    assert a.codes.keys() == b.codes.keys() and a.tables.keys() == b.tables.keys()
    for name in a.codes:
        np.testing.assert_array_equal(a.codes[name], b.codes[name])
    for name, (grouping, values) in a.tables.items():
        assert b.tables[name][0] == grouping
        np.testing.assert_array_equal(values, b.tables[name][1])
    np.testing.assert_array_equal(a.target_vectors, b.target_vectors)


def test_the_command_audits_on_a_running_scheduler(cluster, tmp_path, capsys):
    assert main(["audit", str(SAMPLE), "--out", str(tmp_path / "c"), "--cluster", cluster[0], "--no-history"]) == 0
    assert "Audited 1,435 links" in capsys.readouterr().out
    assert main(["audit", str(SAMPLE), "--out", str(tmp_path / "s"), "--no-history"]) == 0
    for name in ("links.csv", "domains.csv", "disavow.txt"):
        assert (tmp_path / "c" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()


def test_an_export_given_as_an_fsspec_url_is_read_by_the_workers(cluster, tmp_path):
    url = SAMPLE.as_uri()  # file:///…: the filesystem every fsspec installation has
    run_audit([url], tmp_path / "url", progress=False, history=False, cluster=cluster[0])
    run_audit([str(SAMPLE)], tmp_path / "path", progress=False, history=False)
    by_url, by_path = (pd.read_csv(tmp_path / name / "links.csv", keep_default_na=False) for name in ("url", "path"))
    assert (by_url["source_file"] == url).all() and (by_path["source_file"] == str(SAMPLE)).all()
    pd.testing.assert_frame_equal(by_url.drop(columns="source_file"), by_path.drop(columns="source_file"))
    assert (tmp_path / "url" / "disavow.txt").read_bytes() == (tmp_path / "path" / "disavow.txt").read_bytes()


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("value", ["local:0", "local:abc", "local:-1", "unreachable"])
def test_a_bad_cluster_is_one_line(value, tmp_path, capsys):
    if value == "unreachable":
        value = f"tcp://127.0.0.1:{_closed_port()}"
    assert main(["audit", str(SAMPLE), "--out", str(tmp_path / "out"), "--cluster", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --cluster") and "Traceback" not in err, err
    assert ("local:N" in err) if value.startswith("local") else ("cannot reach a Dask scheduler" in err)
    assert not (tmp_path / "out" / "links.csv").exists()


def test_fetching_is_refused_on_a_cluster(tmp_path):
    with pytest.raises(InputError, match="--fetch"):
        run_audit([str(SAMPLE)], tmp_path, progress=False, fetch="missing", cluster="local:1")


def test_without_a_cluster_dask_is_not_imported(tmp_path):
    """Nor is the fetching stack (httpx) without --fetch: every command would pay for it."""
    code = ("import sys, toxiclinks.cli, toxiclinks.audit\n"
            "assert not {'dask', 'distributed', 'httpx'} & set(sys.modules)\n"
            "from toxiclinks.audit import run_audit\n"
            f"run_audit([{str(SAMPLE)!r}], {str(tmp_path / 'out')!r}, progress=False, history=False)\n"
            "assert not {'dask', 'distributed', 'httpx'} & set(sys.modules), "
            "sorted(m for m in sys.modules if 'dask' in m or 'httpx' in m)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert (tmp_path / "out" / "links.csv").exists()
