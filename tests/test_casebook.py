"""The casebook (data/casebook/): complete, readable, consistent, shipped; and how it is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toxiclinks.model import _casebook as casebook
from toxiclinks.model import _validation as validation

ROOT = Path(__file__).resolve().parents[1]


def test_the_casebook_is_large_varied_and_labelled():
    links, y = casebook.load()
    assert len(links) >= 600
    sites = casebook.sites()
    assert len(sites) >= 12 and sites["niche"].nunique() >= 12
    assert set(links["view"]) >= {"ahrefs", "semrush", "majestic", "gsc"}
    per_site = links.groupby("case_site").size()
    assert per_site.min() >= 50
    # Every category of both groups is there, with the label its group gives.
    assert set(links.loc[y == 1, "category"]) == set(casebook.TOXIC_CATEGORIES)
    assert set(links.loc[y == 0, "category"]) == set(casebook.NATURAL_CATEGORIES)
    assert links["note"].str.strip().str.len().min() > 10
    assert 0.3 < y.mean() < 0.55


def test_every_site_folder_passes_the_checker():
    folders = [str(ROOT / "data" / "casebook" / s) for s in casebook.sites()["site"]]
    result = subprocess.run([sys.executable, str(ROOT / "data" / "casebook" / "check.py"), *folders],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") == len(folders)


def test_the_checker_finds_a_wrong_category(tmp_path):
    site = casebook.sites()["site"].iloc[0]
    folder = tmp_path / site
    folder.mkdir()
    source = ROOT / "data" / "casebook" / site
    (folder / "export.csv").write_bytes((source / "export.csv").read_bytes())
    lines = (source / "labels.csv").read_text("utf-8").splitlines()
    first = lines[1].split(",")
    first[2:4] = ["toxic", "editorial"]  # a natural kind under the toxic label
    (folder / "labels.csv").write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n", "utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "data" / "casebook" / "check.py"), str(folder)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "is not a toxic category" in result.stdout


@pytest.mark.parametrize(("export", "labels", "said"), [
    (None, "source_url,target_url,label,category,note\n", "missing"),
    (b"", "source_url,target_url,label,category,note\n", "export: "),
    (b"\x00\x01binary\x00", "source_url,target_url,label,category,note\n", "export: "),
    ("copy", b"source_url,target_url,label,category,note\nhttps://a.com/\xe9,,toxic,pbn,x\n", "not UTF-8"),
    ("copy", "source_url,target_url,label,category,note\nhttps://a.com/,,toxic\n", "not five fields"),
    ("copy", "source_url,target_url,label,category,note\nhttps://a.com/,,toxic,pbn,x,extra\n", "not five fields"),
    ("copy", "", "header must be"),
])
def test_the_checker_names_a_broken_folder_without_a_traceback(tmp_path, export, labels, said):
    site = casebook.sites()["site"].iloc[0]
    folder = tmp_path / site
    folder.mkdir()
    if export is not None:
        data = (ROOT / "data" / "casebook" / site / "export.csv").read_bytes() if export == "copy" else export
        (folder / "export.csv").write_bytes(data)
    (folder / "labels.csv").write_bytes(labels if isinstance(labels, bytes) else labels.encode())
    result = subprocess.run([sys.executable, str(ROOT / "data" / "casebook" / "check.py"), str(folder)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and said in result.stdout and "Traceback" not in result.stderr, result


def test_folds_hold_out_whole_authors():
    links, _ = casebook.load()
    authors = links["case_author"].to_numpy(object)
    fold = validation.folds(authors, 7, seed=7)
    for author in set(authors):
        assert len(set(fold[authors == author])) == 1
    assert len(set(fold)) == 7


def test_projecting_to_a_thinner_export_blanks_what_it_lacks():
    links, _ = casebook.load()
    ahrefs = links[links["view"] == "ahrefs"].head(20)
    gsc = casebook.project(ahrefs, "gsc")
    assert gsc["anchor"].isna().all() and gsc["domain_rating"].isna().all()
    assert (gsc["source_url"] == ahrefs["source_url"]).all()
    assert gsc["source_site"].notna().all()


def test_the_shipped_model_was_measured_on_the_casebook():
    """The model card's numbers come from the shipped model's own training run."""
    from toxiclinks.model import load

    metrics = load(None).metadata["metrics"]
    assert metrics["casebook_roc_auc"] >= 0.93
    assert metrics["casebook_roc_auc"] - metrics["casebook_redflags_roc_auc"] >= 0.08


@pytest.mark.parametrize("split", ["partial", "known"])
def test_the_name_model_ranks_held_out_real_names(split):
    """Spam vs popular names the name model never saw (the lists' held-out fifth)."""
    from sklearn.metrics import roc_auc_score

    from toxiclinks.features import _names as names
    from toxiclinks.model._evaluate import _natural_mix_domains

    y, links = _natural_mix_domains("holdout", seed=3, per_list=1500)
    scores = names.fit(split).score(list(links["source_site"].fillna("")))
    assert roc_auc_score(y, scores) >= 0.8
    with pytest.raises(ValueError):
        names.fit("holdout")
    assert np.isfinite(scores).all()
