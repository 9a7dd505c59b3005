"""Leave-sites-out cross-validation on the casebook: how the model does on links it could not learn.

Every fold holds out whole casebook target sites, all the sites one author wrote (an author's
habits could otherwise leak from one of their sites into the other): the model of that fold
trains on the seed data and the other authors' casebook links, then scores the held-out sites' links, as their own export
shows them and as thinner exports (GSC, Bing, Semrush, Majestic) would. Beside it, on the same
links: the red-flag count (no ML) and, when given, an earlier model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema
from . import _casebook as casebook
from ._artifact import ToxicityModel
from ._evaluate import red_flag_score, scores

#: Thinner views each held-out casebook link is also scored through.
PROJECTED_VIEWS = ("semrush", "majestic", "bing", "gsc")

_LOG = logging.getLogger(__name__)


@dataclass
class CasebookCV:
    """Out-of-fold probabilities of every casebook link, per view, and the tables built from them."""

    links: pd.DataFrame  # the casebook links (native view), with label, category, case_site, fold
    p: np.ndarray  # out-of-fold probability of each link, native view
    p_views: dict[str, np.ndarray]  # out-of-fold probability of each link seen through a thinner view
    red_flags: np.ndarray
    previous: np.ndarray | None = None

    @property
    def y(self) -> np.ndarray:
        return self.links["label"].to_numpy(dtype=float)

    def table(self) -> pd.DataFrame:
        """The model beside the baselines, on all casebook links."""
        rows = {"model (leave-sites-out)": scores(self.y, self.p),
                "baseline: red-flag count (17 flags)": scores(self.y, self.red_flags)}
        if self.previous is not None:
            rows["previous model"] = scores(self.y, self.previous)
        table = pd.DataFrame(rows).T
        table["links"], table["toxic share"] = len(self.y), float(self.y.mean())
        return table

    def per_category(self) -> pd.DataFrame:
        """Median toxicity (0-100) and share flagged per category, model and previous model."""
        frame = pd.DataFrame({"label": np.where(self.y == 1, "toxic", "natural"),
                              "category": self.links["category"].to_numpy(object), "toxicity": self.p * 100})
        if self.previous is not None:
            frame["previous"] = self.previous * 100
        agg = {"links": ("toxicity", "size"), "median toxicity": ("toxicity", "median"),
               "share ≥ 60": ("toxicity", lambda t: float(np.mean(t >= 60))),
               "share ≥ 30": ("toxicity", lambda t: float(np.mean(t >= 30)))}
        if self.previous is not None:
            agg["previous median"] = ("previous", "median")
        out = frame.groupby(["label", "category"]).agg(**agg).reset_index()
        target = np.where(out["label"] == "toxic", out["median toxicity"] >= 60, out["median toxicity"] <= 30)
        out["meets target"] = np.where(target, "yes", "no")
        return out.sort_values(["label", "median toxicity"], ascending=[False, True], ignore_index=True)

    def per_view(self) -> pd.DataFrame:
        """Model and red flags per export view: each site's own, then every link through thinner ones."""
        rows = []
        native = self.links["view"].to_numpy(object)
        for view in pd.unique(native):
            rows.append({"view": f"{view} (own export)", "links": int((native == view).sum()),
                         **scores(self.y[native == view], self.p[native == view])})
        for view, p in self.p_views.items():
            rows.append({"view": f"{view} (every link projected)", "links": len(p), **scores(self.y, p)})
        return pd.DataFrame(rows)

    def per_site(self) -> pd.DataFrame:
        """ROC-AUC and the share of natural links flagged, per held-out site."""
        rows = []
        for site, idx in pd.Series(np.arange(len(self.y))).groupby(self.links["case_site"].to_numpy()):
            ix = idx.to_numpy()
            natural = ix[self.y[ix] == 0]
            rows.append({"site": site, "niche": self.links["niche"].iloc[ix[0]], "links": len(ix),
                         "roc_auc": scores(self.y[ix], self.p[ix])["roc_auc"],
                         "natural flagged ≥ 60": float(np.mean(self.p[natural] >= 0.6)) if len(natural) else np.nan})
        return pd.DataFrame(rows)


def folds(sites: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold number per link, whole groups (casebook authors or sites) per fold."""
    rng = np.random.default_rng(seed)
    unique = np.array(sorted(pd.unique(sites)))
    order = rng.permutation(len(unique))
    fold_of_site = dict(zip(unique[order], np.arange(len(unique)) % k, strict=True))
    return np.array([fold_of_site[s] for s in sites])


def cross_validate(fit: Callable[[pd.DataFrame, np.ndarray], ToxicityModel], k: int, seed: int,
                   previous: ToxicityModel | None = None, log: Callable[[str], None] | None = None) -> CasebookCV:
    """Leave-sites-out CV: ``fit(casebook_train_links, y)`` must return a model trained on the
    seed data plus those casebook links; it is called once per fold."""
    log = log or _LOG.info
    links, y = casebook.load()
    fold_of = folds(links["case_author"].to_numpy(object), k, seed)
    links["fold"] = fold_of
    p = np.full(len(links), np.nan)
    p_views = {view: np.full(len(links), np.nan) for view in PROJECTED_VIEWS}
    flags = np.full(len(links), np.nan)
    for fold in range(k):
        test = fold_of == fold
        held = links[test].reset_index(drop=True)
        log(f"casebook fold {fold + 1}/{k}: holding out {', '.join(sorted(held['case_site'].unique()))}")
        model = fit(schema.canonical_only(links[~test]).reset_index(drop=True), y[~test])
        X = model.transform(schema.canonical_only(held))
        p[test] = model.calibrate(model.raw_score(X))
        flags[test] = red_flag_score(held, X, model.feature_names)
        for view in PROJECTED_VIEWS:
            p_views[view][test] = model.predict_proba(schema.canonical_only(casebook.project(held, view)))
    prev = previous.predict_proba(schema.canonical_only(links)) if previous is not None else None
    return CasebookCV(links, p, p_views, flags, prev)
