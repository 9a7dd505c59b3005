"""``toxiclinks audit-batch``: one audit per export of a folder, in parallel on a real
``LocalCluster`` of two worker processes (127.0.0.1); a corrupt export is reported in the summary
with its error and the other audits complete."""

from __future__ import annotations

import gzip
import logging
import shutil

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from toxiclinks.audit import run_batch
from toxiclinks.cli import main
from toxiclinks.model import write_seed_data

pytestmark = pytest.mark.slow

EXPORTS = 20
CORRUPT = "export-07.csv.gz"


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, on the loopback interface, no dashboard."""
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as local, \
            Client(local, set_as_default=False):
        yield local.scheduler_address


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """20 generated exports (one target site each, seeds apart); one of them a truncated download."""
    root = tmp_path_factory.mktemp("batch")
    folder = root / "exports"
    folder.mkdir()
    for i in range(EXPORTS):
        links, _, _ = write_seed_data(root / f"gen{i}", 1, 300, seed=100 + i, labels=False)
        if i == 7:
            (folder / CORRUPT).write_bytes(gzip.compress(links.read_bytes())[:400])
        else:
            shutil.copy(links, folder / f"export-{i:02d}.csv")
    return folder


def _expected(folder, out, name: str) -> dict:
    """A summary row worked out from the export and the audit's own outputs."""
    export = pd.read_csv(folder / f"{name}.csv")
    links = pd.read_csv(out / name / "links.csv")
    entries = [ln for ln in (out / name / "disavow.txt").read_text("utf-8").splitlines() if ln and not ln.startswith("#")]
    site = export["Target URL"].str.extract(r"^https?://(?:www\.)?([^/]+)")[0].mode()[0]
    return {"export": f"{name}.csv", "site": site, "links": len(export), "toxic": int((links["verdict"] == "toxic").sum()),
            "new_disavow_lines": len(entries), "error": ""}


def _check(result, folder, out) -> None:
    table = result.table.fillna("")
    assert list(table["export"]) == sorted(p.name for p in folder.iterdir())
    assert table.equals(pd.read_csv(out / "summary.csv", keep_default_na=False)[table.columns].astype(table.dtypes))
    for row in table.to_dict("records"):
        if row["export"] == CORRUPT:
            assert "Compressed file ended" in row["error"] and CORRUPT in row["error"], row
            assert row["links"] == 0 and "Traceback" not in row["error"]
            assert not (out / "export-07" / "links.csv").exists()
        else:
            assert row == _expected(folder, out, row["export"].removesuffix(".csv"))
            assert {"links.csv", "domains.csv", "disavow.txt", "report.html"} <= {p.name for p in (out / row["export"].removesuffix(".csv")).iterdir()}
    assert result.failed == 1 and (table["links"] > 0).sum() == EXPORTS - 1


def test_a_batch_on_the_cluster_reports_the_corrupt_export_and_completes_the_rest(cluster, exports, tmp_path):
    result = run_batch(exports, tmp_path / "out", cluster=cluster, history=False)
    _check(result, exports, tmp_path / "out")
    assert (result.table["toxic"].sum() > 0) and (result.table["new_disavow_lines"].sum() > 0)


def test_the_command_prints_the_summary_and_exits_2_for_a_failed_export(exports, tmp_path, capsys):
    folder = tmp_path / "few"
    folder.mkdir()
    for name in ("export-03.csv", CORRUPT, "export-11.csv"):
        shutil.copy(exports / name, folder / name)
    assert main(["audit-batch", str(folder), "--out", str(tmp_path / "out"), "--no-history"]) == 2
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["export", "site", "links", "toxic", "new", "disavow", "lines", "error"]
    assert [line.split()[0] for line in printed[1:4]] == ["export-03.csv", CORRUPT, "export-11.csv"]
    assert "Compressed file ended" in printed[2] and printed[-1].startswith("2 of 3 exports audited, 1 failed")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", keep_default_na=False)
    assert list(summary.columns) == ["export", "site", "links", "toxic", "new_disavow_lines", "error"]
    assert list(summary["links"]) == [len(pd.read_csv(folder / "export-03.csv")), 0,
                                      len(pd.read_csv(folder / "export-11.csv"))]


def test_an_existing_disavow_file_stops_the_batch_before_it_starts(exports, tmp_path, capsys):
    (tmp_path / "out" / "export-00").mkdir(parents=True)
    (tmp_path / "out" / "export-00" / "disavow.txt").write_text("domain:kept.example\n", "utf-8")
    assert main(["audit-batch", str(exports), "--out", str(tmp_path / "out")]) == 2
    assert "--force" in capsys.readouterr().err
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_missing_empty_and_hostile_inputs_are_reported_not_raised(exports, tmp_path, capsys):
    """No folder, an empty folder: one line, exit 2. Empty, binary and formula-laden files among the
    exports each get their own error row (no traceback), and the good export is still audited."""
    assert main(["audit-batch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o1")]) == 2
    assert "no such folder of exports" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["audit-batch", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")]) == 2
    assert "holds no exports" in capsys.readouterr().err
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(exports / "export-03.csv", folder / "a-good.csv")
    (folder / "b-empty.csv").write_bytes(b"")
    (folder / "c-binary.csv").write_bytes(bytes(range(256)) * 64)
    (folder / "d-formulas.csv").write_text('=HYPERLINK("http://evil.example"),=1+1\n"<script>x</script>",@SUM(A1)\n',
                                           "utf-8")
    assert main(["audit-batch", str(folder), "--out", str(tmp_path / "o3"), "--no-history"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    summary = pd.read_csv(tmp_path / "o3" / "summary.csv", keep_default_na=False)
    assert list(summary["export"]) == ["a-good.csv", "b-empty.csv", "c-binary.csv", "d-formulas.csv"]
    assert summary["error"].iloc[0] == "" and summary["links"].iloc[0] > 0
    assert all(summary["error"].iloc[1:] != "")
    assert not any(str(e).startswith(("=", "+", "-", "@")) for e in summary["error"])
