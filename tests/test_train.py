"""Training: honest splits, baselines, calibration, MLflow tracking against a real server, integrity."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from toxiclinks.errors import LabelsError, ModelError, ModelIntegrityError
from toxiclinks.model import load, train
from toxiclinks.model._train import grouped_split
from toxiclinks.reading import join_labels, read_labels


def test_model_beats_both_baselines_on_held_out_sites(small_model):
    table = small_model.table
    model = table.loc["model (LightGBM, calibrated)"]
    for baseline in ("baseline: TLD spam rate only", "baseline: red-flag count (17 flags)"):
        assert model["roc_auc"] > table.loc[baseline, "roc_auc"] + 0.03
        assert model["pr_auc"] > table.loc[baseline, "pr_auc"]
    # Calibrated: the Brier score beats predicting the base rate.
    base_rate = table.loc["model (LightGBM, calibrated)", "toxic share"]
    assert model["brier"] < base_rate * (1 - base_rate)
    assert (small_model.folder / "metrics.md").exists()
    assert set(small_model.per_view["view"]) >= {"ahrefs", "gsc"}


def test_domain_only_check_is_reported_with_tld_baseline(small_model):
    check = small_model.domain_check
    assert any("held-out names" in i for i in check.index)
    assert any(i.startswith("baseline: TLD") for i in check.index)
    assert (check["domains"] > 100).all()


def test_grouped_split_keeps_sites_apart():
    groups = np.array([f"site{i % 37}" for i in range(1000)], dtype=object)
    a, b, c = grouped_split(groups, (0.2, 0.1, 0.7), seed=3)
    assert not (a & b).any() and not (a & c).any() and (a | b | c).all()
    for m1, m2 in ((a, b), (a, c), (b, c)):
        assert not set(groups[m1]) & set(groups[m2])


def test_training_tracks_to_a_real_mlflow_server(tmp_path, mlflow_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    result = train(out=tmp_path / "m", track=True, log=lambda *_: None,
                   extra_params={"synth_targets": 12, "synth_links_per_target": 120})
    import mlflow

    client = mlflow.MlflowClient(mlflow_server)
    run = client.get_run(result.run_id)
    assert run.data.metrics["test_roc_auc"] > run.data.metrics["baseline_tld_roc_auc"]
    assert "lgb_learning_rate" in run.data.params
    assert client.get_model_version_by_alias("toxiclinks", "challenger").version == result.registered_version
    assert client.get_model_version_by_alias("toxiclinks", "champion")
    # The registered artifact loads back as the native pipeline and scores identically.
    loaded = load("models:/toxiclinks@challenger")
    assert loaded.version == result.registered_version
    from toxiclinks.reading import read_export

    links = read_export(tmp_path / "m" / "seed-data" / "links.csv").links.head(200)
    assert np.allclose(loaded.predict_proba(links), result.model.predict_proba(links))
    pyfunc = mlflow.pyfunc.load_model("models:/toxiclinks@challenger")
    assert np.allclose(pyfunc.predict(links)["toxicity"], np.round(result.model.predict_proba(links) * 100, 1))


def test_corrupt_and_mismatched_artifacts_fail_clearly(tmp_path, small_model):
    folder = tmp_path / "m"
    shutil.copytree(small_model.folder, folder, ignore=shutil.ignore_patterns("seed-data"))
    load(folder)  # intact
    data = (folder / "model.joblib").read_bytes()
    (folder / "model.joblib").write_bytes(data[:-100])
    with pytest.raises(ModelIntegrityError, match="corrupt or was changed"):
        load(folder)
    (folder / "model.joblib").write_bytes(data)
    meta = json.loads((folder / "model.json").read_text())
    meta["versions"]["lightgbm"] = "2.0.0"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="lightgbm 2.0.0"):
        load(folder)
    meta["format_version"] = 99
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="format version 99"):
        load(folder)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="not valid JSON"):
        load(folder)
    os.remove(folder / "model.json")
    with pytest.raises(ModelIntegrityError, match="missing"):
        load(folder)
    with pytest.raises(ModelError, match="no model"):
        load(tmp_path / "nowhere")


def test_labels_file_reading_and_joining(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("source_url,target_url,label,note\n"
                    "HTTPS://Spam.example.com/a#x,,toxic,seen in GSC\n"
                    "https://good.example.org/,https://me.example.com/,natural,\n"
                    "https://x.example.net/,,maybe,\n"
                    "not a url,,toxic,\n"
                    "https://unreviewed.example.com/,,,\n")
    labels, rejects = read_labels(path)
    assert list(labels["source_url"]) == ["https://spam.example.com/a", "https://good.example.org/"]
    assert list(rejects["line"]) == [4, 5] and "maybe" in rejects.iloc[0]["reason"]
    links = pd.DataFrame({"source_url": ["https://spam.example.com/a", "https://good.example.org/",
                                         "https://good.example.org/", "https://other.example/"],
                          "target_url": ["https://me.example.com/", "https://me.example.com/",
                                         "https://else.example.com/", None]})
    y = join_labels(links, labels)
    assert y[0] == 1 and y[1] == 0 and np.isnan(y[2]) and np.isnan(y[3])
    bad = tmp_path / "bad.csv"
    bad.write_text("url,verdict\nx,y\n")
    with pytest.raises(LabelsError, match="needs a 'source_url' column"):
        read_labels(bad)


def test_labels_rows_of_the_wrong_shape_are_rejected_by_line_not_skipped(tmp_path):
    """pandas skipped such rows with a warning on the terminal, and numbered the rest as if every
    row were one line; a multi-line note or a blank line moved every line number after it."""
    path = tmp_path / "labels.tsv"
    path.write_text("source_url\tlabel\tnote\n"
                    "https://a.example.com/\ttoxic\t\"two\nlines\"\n"  # lines 2-3
                    "https://b.example.com/\tnatural\tx\textra\n"  # line 4: one cell too many
                    "\n"
                    "https://c.example.com/\tmaybe\t\n", encoding="utf-16")  # line 6
    labels, rejects = read_labels(path)
    assert list(labels["source_url"]) == ["https://a.example.com/"] and labels["note"].iloc[0] == "two\nlines"
    assert list(rejects["line"]) == [4, 6]
    assert "4 cells, the header 3" in rejects.iloc[0]["reason"] and "maybe" in rejects.iloc[1]["reason"]
    binary = tmp_path / "labels.xlsx"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(LabelsError, match="binary"):
        read_labels(binary)
    with pytest.raises(LabelsError, match="is a folder"):
        read_labels(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n \n")
    with pytest.raises(LabelsError, match="is empty"):
        read_labels(empty)
    huge = tmp_path / "huge.csv"
    huge.write_text("source_url,label,note\nhttps://a.example.com/,toxic,\"" + "x" * 200_000 + "\"\n")
    with pytest.raises(LabelsError, match="line 2: not a readable CSV"):
        read_labels(huge)
