"""Score the casebook with a fixed model: ``python bench/score_casebook.py [--model PATH]``.

Each casebook site's export is scored as its own batch, as an audit would score it; prints
ROC-AUC, PR-AUC, precision at recall 0.8 and the median toxicity per category. It uses only the
readers, URL normaliser and model loader, so it also runs against an older checkout's code
(``PYTHONPATH=OLD/src python bench/score_casebook.py --model OLD/models/default``): that is how the
model card's "previous model" figures are made. A model that learned from the casebook scores
it in-sample here; its honest figures are the leave-sites-out ones in ``metrics.md``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from toxiclinks.model import load
from toxiclinks.reading import read_export
from toxiclinks.urls import normalize_url_series

CASEBOOK = Path(__file__).resolve().parents[1] / "data" / "casebook"


def site_scores(folder: Path, model) -> pd.DataFrame:
    """Label, category and probability of each link of one casebook site."""
    links = read_export(folder / "export.csv").links
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as fh:
        labels = pd.DataFrame(list(csv.DictReader(fh)))
    source = normalize_url_series(labels["source_url"])[0].astype(object)
    target = labels["target_url"].where(labels["target_url"] != "")
    if target.notna().any():
        target = normalize_url_series(target.fillna(""))[0].astype(object).where(target.notna())
    by_pair = {(s, t if isinstance(t, str) else None): i for i, (s, t) in enumerate(zip(source, target, strict=True))}
    by_page = {s: i for (s, t), i in by_pair.items() if t is None}
    at = [by_pair.get((s, t if isinstance(t, str) else None), by_page.get(s))
          for s, t in zip(links["source_url"].astype(object), links["target_url"].astype(object), strict=True)]
    p = model.predict_proba(links)
    return pd.DataFrame({"site": folder.name, "label": labels["label"].to_numpy()[at],
                         "category": labels["category"].to_numpy()[at], "p": p})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    args = parser.parse_args()
    model = load(args.model)
    sites = pd.read_csv(CASEBOOK / "sites.csv", dtype=str)
    frame = pd.concat([site_scores(CASEBOOK / s, model) for s in sites["site"]], ignore_index=True)
    y, p = (frame["label"] == "toxic").to_numpy(int), frame["p"].to_numpy()
    precision, recall, _ = precision_recall_curve(y, p)
    print(f"{len(y)} links, toxic share {y.mean():.3f}")
    print(f"roc_auc {roc_auc_score(y, p):.3f}  pr_auc {average_precision_score(y, p):.3f}  "
          f"precision_at_recall_0.8 {precision[recall >= 0.8].max():.3f}  "
          f"brier {np.mean((p - y) ** 2):.3f}")
    table = frame.groupby(["label", "category"])["p"].agg(links="size", median=lambda v: float(np.median(v) * 100))
    print(table.round(1).to_string())


if __name__ == "__main__":
    main()
