"""Audit history and monitoring, and labels that keep their links (issue 23, items 1 and 2).

Real SQLite and Parquet under a temporary TOXICLINKS_HOME; real audits with the shipped model.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from toxiclinks.audit import history_dir, run_audit
from toxiclinks.cli import main
from toxiclinks.errors import LabelsError
from toxiclinks.labels import LabelStore
from toxiclinks.model._synth import scheme_rows, write_rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    monkeypatch.setenv("TOXICLINKS_HOME", str(path))
    return path


def _profile(seed: int, natural: int, toxic: int) -> tuple[list[dict[str, str]], np.ndarray]:
    """Ahrefs rows of one target: editorial links, then negative-SEO links; truth 1 = toxic."""
    target, good = scheme_rows(seed, "editorial_blog", natural)
    _, bad = scheme_rows(seed + 1, "negative_seo", toxic, target)
    return [*good, *bad], np.array([0] * len(good) + [1] * len(bad))


def test_second_audit_reports_new_lost_new_toxic_and_a_burst(home, tmp_path, capsys):
    rows, _ = _profile(41, 120, 20)
    first = write_rows(tmp_path / "first.csv", rows)
    target, spam = scheme_rows(43, "negative_seo", 300)
    site = rows[0]["Target URL"].split("/")[2]
    for i, row in enumerate(spam):  # an attack: 300 spam sites, all first seen in one week
        row["Target URL"] = rows[0]["Target URL"]
        row["First seen"] = f"2023-03-{6 + i % 5:02d} 10:00:00"
    second = write_rows(tmp_path / "second.csv", [*rows[10:], *spam])

    one = run_audit([str(first)], tmp_path / "out1", progress=False)
    assert one.changes is None and not (tmp_path / "out1" / "changes.csv").exists()
    assert "Changes since the last audit" not in (tmp_path / "out1" / "report.html").read_text("utf-8")
    index = sqlite3.connect(history_dir() / "audits.sqlite")
    assert index.execute("SELECT site, links FROM audits").fetchall() == [(site, len(rows))]
    recorded = pq.read_table(next((history_dir() / site).glob("*.parquet")))
    assert recorded.num_rows == len(rows) and {"first_seen", "domain_rating", "toxicity", "verdict"} <= set(
        recorded.column_names)

    two = run_audit([str(second)], tmp_path / "out2", progress=False)
    changes = two.changes
    assert changes is not None
    assert changes.new == len(spam) and changes.lost == 10
    assert changes.new_toxic >= 0.9 * len(spam), changes.lines()
    assert changes.new_sites >= 250
    assert len(changes.bursts) == 1 and changes.bursts[0].week.isoformat() == "2023-03-06"
    assert changes.bursts[0].new_sites >= 250
    summary = two.summary()
    assert "since the last audit" in summary and "ALARM: burst of new referring sites" in summary
    report = (tmp_path / "out2" / "report.html").read_text("utf-8")
    assert "Changes since the last audit" in report and "burst of new referring sites" in report
    table = pd.read_csv(tmp_path / "out2" / "changes.csv")
    counts = table["change"].value_counts()
    assert counts["new"] == len(spam) and counts["lost"] == 10
    assert (table.loc[table["change"] == "new", "burst_week"] == "2023-03-06").sum() >= 250
    assert index.execute("SELECT count(*) FROM audits").fetchone() == (2,)

    # --no-history: nothing recorded, nothing compared; a stale changes.csv does not survive
    assert main(["audit", str(second), "--out", str(tmp_path / "out2"), "--force", "--no-history"]) == 0
    assert "since the last audit" not in capsys.readouterr().out
    assert not (tmp_path / "out2" / "changes.csv").exists()
    assert index.execute("SELECT count(*) FROM audits").fetchone() == (2,)
    # the same export again: nothing new, nothing lost, no burst reported twice
    three = run_audit([str(second)], tmp_path / "out3", progress=False)
    assert (three.changes.new, three.changes.lost, three.changes.bursts) == (0, 0, [])
    assert not list((history_dir() / site).glob(".*partial"))


def test_a_failed_audit_records_nothing(home, tmp_path):
    """An audit that fails at its last output (after every chunk went into the record) leaves no
    record and no partial file behind."""
    rows, _ = _profile(61, 20, 5)
    export = write_rows(tmp_path / "links.csv", rows)
    (tmp_path / "out" / "report.html").mkdir(parents=True)  # the report cannot be written
    (tmp_path / "out" / "report.html" / "keep").write_text("x")
    with pytest.raises(OSError):
        run_audit([str(export)], tmp_path / "out", progress=False)
    assert sqlite3.connect(history_dir() / "audits.sqlite").execute("SELECT count(*) FROM audits").fetchone() == (0,)
    assert [p for p in history_dir().rglob("*") if p.is_file() and p.name != "audits.sqlite"] == []


def _fill_labels(links_csv: Path, truth: np.ndarray) -> None:
    """What a reviewer does in a spreadsheet: fill the label column of an audit's links.csv."""
    frame = pd.read_csv(links_csv, dtype=str, keep_default_na=False)
    frame["label"] = ["toxic" if truth[int(r) - 1] else "natural" for r in frame["source_row"]]
    frame.to_csv(links_csv, index=False, quoting=csv.QUOTE_MINIMAL)


def test_importing_a_labelled_links_csv_keeps_the_recorded_rows(home, tmp_path, capsys):
    rows, truth = _profile(71, 15, 5)
    export = write_rows(tmp_path / "export.csv", rows)
    assert main(["audit", str(export), "--out", str(tmp_path / "out")]) == 0
    export.unlink()  # the export is gone: the recorded audit is all that is left of its rows
    _fill_labels(tmp_path / "out" / "links.csv", truth)
    db = tmp_path / "labels.sqlite"
    assert main(["label", "import", str(tmp_path / "out" / "links.csv"), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    unique = len(pd.read_csv(tmp_path / "out" / "links.csv", dtype=str).drop_duplicates(["source_url", "target_url"]))
    assert f"{unique} link rows from recorded audits" in out and "without a link row" not in out
    store = LabelStore(db)
    kept = store.rows()
    assert len(kept) == unique and len(store.unlinked()) == 0
    assert kept["domain_rating"].notna().all() and kept["first_seen"].notna().all()
    assert kept["anchor"].notna().any() and set(kept["source_url"]) == set(store.latest()["source_url"])


def test_an_old_label_store_is_migrated(tmp_path, home):
    """A store written by the code before link rows existed (schema version 0) opens, keeps its
    judgments and rules, and takes link rows; a store of an unknown newer version is refused."""
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS judgments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source_url TEXT NOT NULL, target_url TEXT NOT NULL DEFAULT '',
            label INTEGER NOT NULL CHECK (label IN (0, 1)),
            author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS judgments_link ON judgments (source_url, target_url, id);
        CREATE TABLE IF NOT EXISTS site_rules (
            id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL,
            rule TEXT NOT NULL CHECK (rule IN ('allow', 'deny', 'clear')),
            author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
        INSERT INTO judgments (source_url, target_url, label, author, created_at)
            VALUES ('https://spam.example.com/a', '', 1, 'ann', '2025-01-01T00:00:00+00:00');
        INSERT INTO site_rules (site, rule, author, created_at) VALUES ('partner.example', 'allow', 'ann', '2025');
    """)
    con.commit()
    con.close()
    store = LabelStore(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone() == (1,)
    assert list(store.latest()["source_url"]) == ["https://spam.example.com/a"]
    assert store.rules() == (["partner.example"], [])
    assert list(store.unlinked()["source_url"]) == ["https://spam.example.com/a"]
    links = pd.DataFrame({"source_url": ["https://spam.example.com/a"], "target_url": ["https://me.example.org/"],
                          "anchor": ["cheap pills"], "domain_rating": [3.0],
                          "first_seen": [pd.Timestamp("2024-05-01")]})
    assert store.keep_rows(links) == 1
    store.close()
    again = LabelStore(db)  # a migrated store opens as it is
    row = again.rows().iloc[0]
    assert (row["anchor"], row["domain_rating"], row["first_seen"]) == ("cheap pills", 3.0, pd.Timestamp("2024-05-01"))
    assert pd.isna(row["nofollow"]) and len(again.unlinked()) == 0 and len(again.history()) == 1
    again.close()

    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version=7")
    con.close()
    with pytest.raises(LabelsError, match="newer"):
        LabelStore(db)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    assert main(["label", "allow", "partner.example", "--db", str(garbage)]) == 2


@pytest.mark.slow
def test_retrain_without_export_uses_labels_from_two_exports(home, tmp_path, capsys):
    """The done-when of issue 23: two sites audited, their links.csv labelled and imported, the
    exports deleted; ``toxiclinks retrain`` with no --export learns from both."""
    db = tmp_path / "labels.sqlite"
    labelled = 0
    sites = set()
    for name, seed in (("a", 81), ("b", 91)):
        rows, truth = _profile(seed, 25, 10)
        export = write_rows(tmp_path / f"{name}.csv", rows)
        assert main(["audit", str(export), "--out", str(tmp_path / name)]) == 0
        export.unlink()
        _fill_labels(tmp_path / name / "links.csv", truth)
        assert main(["label", "import", str(tmp_path / name / "links.csv"), "--db", str(db)]) == 0
        links = pd.read_csv(tmp_path / name / "links.csv", dtype=str)
        labelled += len(links.drop_duplicates(["source_url", "target_url"]))  # a link listed twice counts once
        sites.add(rows[0]["Target URL"].split("/")[2])
    assert len(sites) == 2
    params = json.loads((ROOT / "training" / "params.json").read_text("utf-8"))
    params.update({"synth_targets": 40, "synth_links_per_target": 150})
    config = tmp_path / "params.json"
    config.write_text(json.dumps(params))
    capsys.readouterr()
    assert main(["retrain", "--db", str(db), "--config", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"user-labelled links: {labelled:,}" in out, out
    assert f"{labelled:,} labelled links with their rows, linking to 2 target site(s)" in out, out
    assert "decision: dry run: would" in out


def test_audits_too_large_to_compare_in_memory_are_recorded_not_compared(home, tmp_path, monkeypatch):
    from toxiclinks.audit import _history

    rows, _ = _profile(47, 60, 10)
    export = write_rows(tmp_path / "links.csv", rows)
    run_audit([str(export)], tmp_path / "out1", progress=False)
    monkeypatch.setattr(_history, "COMPARE_MAX_LINKS", 2 * len(rows) - 1)
    two = run_audit([str(export)], tmp_path / "out2", progress=False)
    assert two.changes is None and not (tmp_path / "out2" / "changes.csv").exists()
    assert any("not compared with the last audit" in n and "in memory" in n for n in two.notes), two.notes
    assert len(_history.recorded()) == 2  # still recorded, for the next audit
