"""Honest measurement: held-out metrics beside simple baselines, and the domain-only check.

Every metric table puts the model beside two baselines measured on the same rows: the TLD's
learned spam rate alone, and a count of hand-written red flags in the spirit of Moz's 17 spam
flags. The domain-only check scores real domain names from the held-out fifth of the reference
lists (never seen by the membership features), matched on TLD, beside the TLD-only baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from .. import schema
from ..features import popular_domains, spam_domains
from ..reading import add_hosts
from ._artifact import ToxicityModel


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, precision at recall 0.8, Brier score."""
    if len(np.unique(y)) < 2:
        return {"roc_auc": np.nan, "pr_auc": np.nan, "precision_at_recall_0.8": np.nan,
                "brier": float(brier_score_loss(y, np.clip(p, 0, 1))) if len(y) else np.nan}
    precision, recall, _ = precision_recall_curve(y, p)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "precision_at_recall_0.8": float(precision[recall >= 0.8].max()),
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1))),
    }


SPAM_TLDS = frozenset(("xyz", "top", "shop", "store", "online", "site", "club", "info", "ru", "cn",
                       "tk", "ml", "ga", "cf", "gq", "pw", "icu", "buzz", "win", "bid", "loan", "work",
                       "click", "link", "space", "website", "fun", "vip", "live"))


def red_flag_score(links: pd.DataFrame, X: np.ndarray, names: list[str]) -> np.ndarray:
    """Share of 17 hand-written red flags a link raises (Moz Spam Score style baseline)."""
    f = {name: X[:, i] for i, name in enumerate(names)}

    def gt(name: str, value: float) -> np.ndarray:
        return np.nan_to_num(f[name], nan=-np.inf) > value

    def lt(name: str, value: float) -> np.ndarray:
        return np.nan_to_num(f[name], nan=np.inf) < value

    def eq(name: str, value: float) -> np.ndarray:
        return f[name] == value

    suffix = links["source_suffix"].fillna("").to_numpy(object)
    flags = [
        gt("anchor__money_words", 0), eq("anchor__is_exact_match", 1), lt("domain__authority", 10),
        lt("domain__traffic_log", 1), gt("domain__outbound_links_log", 2), gt("placement__links_in_group_log", 1),
        eq("placement__in_content", 0), eq("placement__cue_comment", 1), eq("placement__url_directory", 1),
        np.isin(suffix, list(SPAM_TLDS)), gt("domain__name_length", 20), gt("domain__digit_ratio", 0),
        gt("domain__hyphen_count", 1), eq("topic__similarity", 0), gt("domain__tool_spam", 0.5),
        eq("domain__in_spam_list", 1), eq("anchor__script_mismatch", 1),
    ]
    return np.mean(np.column_stack(flags), axis=1)


def evaluate(model: ToxicityModel, test: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """Metrics of the model and both baselines on the same held-out rows."""
    X = model.transform(test)
    names = model.feature_names
    p = model.calibrate(model.raw_score(X))
    tld = X[:, names.index("domain__tld_spam_rate")]
    tld = np.where(np.isnan(tld), model.features.tld_prior_, tld)
    flags = red_flag_score(test, X, names)
    rows = {"model (LightGBM, calibrated)": scores(y, p), "baseline: TLD spam rate only": scores(y, tld),
            "baseline: red-flag count (17 flags)": scores(y, flags)}
    table = pd.DataFrame(rows).T
    table["links"] = len(y)
    table["toxic share"] = float(np.mean(y))
    per_scheme = (pd.DataFrame({"scheme": test["scheme"].to_numpy(), "y": y, "flagged": p >= 0.5})
                  .groupby("scheme").agg(links=("y", "size"), toxic_share=("y", "mean"),
                                         flagged_share=("flagged", "mean"))
                  .sort_values("links", ascending=False))
    per_view_rows = []
    for view, idx in pd.Series(np.arange(len(test))).groupby(test["view"].to_numpy()):
        ix = idx.to_numpy()
        per_view_rows.append({"view": view, "links": len(ix), **{f"model {k}": v for k, v in scores(y[ix], p[ix]).items()},
                              "TLD-only roc_auc": scores(y[ix], tld[ix])["roc_auc"],
                              "red-flags roc_auc": scores(y[ix], flags[ix])["roc_auc"]})
    gain = model.booster.feature_importance("gain")
    importance = (pd.DataFrame({"feature": names, "gain_share": gain / max(gain.sum(), 1e-12)})
                  .sort_values("gain_share", ascending=False).reset_index(drop=True))
    return {"table": table, "per_scheme": per_scheme, "per_view": pd.DataFrame(per_view_rows),
            "importance": importance, "p": p}


def domain_only_check(model: ToxicityModel, per_tld: int, seed: int) -> pd.DataFrame:
    """Score real domains (spam vs popular) from the source URL alone, matched on TLD.

    Two sets: the held-out fifth of the reference lists (no feature ever saw them: what names
    alone are worth) and the listed part (what list membership is worth at audit time).
    """
    rows = {}
    sets = (("holdout", "held-out names, TLD-matched", _tld_matched_domains("holdout", per_tld, seed)),
            ("holdout", "held-out names, their own TLD mix", _natural_mix_domains("holdout", seed)),
            ("known", "names on the shipped lists, TLD-matched", _tld_matched_domains("known", per_tld, seed)))
    for _, label, (y, links) in sets:
        X = model.transform(links)
        p = model.calibrate(model.raw_score(X))
        tld_rate = X[:, model.feature_names.index("domain__tld_spam_rate")]
        name_score = X[:, model.feature_names.index("domain__name_spam_score")]
        for name, values in ((f"model, source URL only: {label}", p),
                             (f"name model alone: {label}", name_score),
                             (f"baseline: TLD spam rate only: {label}", tld_rate)):
            rows[name] = {**scores(y, np.nan_to_num(values, nan=0.0)), "domains": len(y),
                          "TLDs": links["source_suffix"].nunique()}
    return pd.DataFrame(rows).T


def _natural_mix_domains(split: str, seed: int, per_list: int = 2000) -> tuple[np.ndarray, pd.DataFrame]:
    """Up to ``per_list`` spam and popular domains each, as URL-only links, TLDs as the lists have them."""
    rng = np.random.default_rng(seed)
    spam, popular = sorted(spam_domains(split)), sorted(popular_domains(split))
    spam = list(rng.choice(spam, min(per_list, len(spam)), replace=False))
    popular = list(rng.choice(popular, min(per_list, len(popular)), replace=False))
    return np.array([1] * len(spam) + [0] * len(popular)), url_only_links(spam + popular)


def url_only_links(domains: list[str]) -> pd.DataFrame:
    """A canonical table of links that carry only ``http://domain/`` as source."""
    links = schema.empty_table(len(domains))
    links["source_url"] = pd.array([f"http://{d}/" for d in domains], dtype="string")
    add_hosts(links)
    return links


def _tld_matched_domains(split: str, per_tld: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Equal numbers of spam and popular domains per TLD, as URL-only links."""
    rng = np.random.default_rng(seed)
    spam = pd.Series(sorted(spam_domains(split)))
    popular = pd.Series(sorted(popular_domains(split)))
    spam_groups = dict(tuple(spam.groupby(spam.str.rsplit(".", n=1).str[-1])))
    pop_groups = dict(tuple(popular.groupby(popular.str.rsplit(".", n=1).str[-1])))
    domains: list[str] = []
    labels: list[int] = []
    for suffix in sorted(set(spam_groups) & set(pop_groups)):
        k = min(per_tld, len(spam_groups[suffix]), len(pop_groups[suffix]))
        if k < 3:
            continue
        domains += list(rng.choice(spam_groups[suffix].to_numpy(), k, replace=False))
        domains += list(rng.choice(pop_groups[suffix].to_numpy(), k, replace=False))
        labels += [1] * k + [0] * k
    return np.array(labels), url_only_links(domains)


def markdown_table(frame: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a Markdown table, numbers to three decimals."""
    if index:
        frame = frame.reset_index(names=frame.index.name or "")
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.3f}"
        return str(v).replace("|", "\\|")
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


