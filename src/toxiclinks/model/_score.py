"""Scoring: calibrated toxicity 0-100, a verdict, and the reasons in plain words.

The same functions serve the batch audit and the HTTP service, so they cannot disagree. The
reasons come from the model's per-feature contributions (:mod:`._explain` words them); the
contributions are expensive, so they are computed only for the links whose reasons are shown
(toxic and suspicious).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..features import CLASSES, REGIONS, Context, LinkFeatures, features_of
from ..urls import site_entries, under_sites
from ._artifact import ToxicityModel
from ._explain import EXPLAIN_COLUMNS, explain_one, explain_rows, target_topic_names

VERDICTS = ("toxic", "suspicious", "ok", "unknown")
# Evidence groups: a link whose export carries none of these cannot be judged from the URL alone.
_EVIDENCE = ("anchor__class", "placement__in_content", "placement__qualified", "placement__link_type",
             "domain__authority", "domain__traffic_log", "topic__similarity", "domain__outbound_links_log")


def thresholds(model: ToxicityModel) -> tuple[float, float]:
    """(toxic, suspicious) probability thresholds stored with the model."""
    t = model.metadata.get("thresholds") or {}
    return float(t.get("toxic", 0.6)), float(t.get("suspicious", 0.3))


def score(model: ToxicityModel, links: pd.DataFrame, *, allow: Iterable[str] = (),
          deny: Iterable[str] = (), site_topic: str | None = None, explain: str = "flagged",
          top_k: int = 3, context: Context | None = None) -> pd.DataFrame:
    """Score canonical links; return ``toxicity``, ``verdict`` and ``reasons`` per link.

    ``allow``/``deny`` are site names that override the model (``verdict`` ok / toxic).
    ``explain`` is ``"flagged"`` (reasons for toxic and suspicious links), ``"all"`` or ``"none"``.
    ``context`` is the profile-level context when ``links`` is a chunk of a larger export
    (:meth:`scoring_features` builds it); without it the table is scored as one batch.

    Three stages, which a batch audit overlaps across chunks: the features (:func:`featurize`),
    the model's numbers (:func:`judge`; LightGBM releases the GIL) and the words
    (:func:`scored_table`).
    """
    X, context, allowed, denied = featurize(model, links, allow=allow, deny=deny, site_topic=site_topic,
                                            context=context)
    return scored_table(model, links, X, context, judge(model, X, allowed, denied, explain), top_k=top_k)


@dataclass
class Judgment:
    """The model's numbers for a batch: probabilities, verdicts, and contributions where explained."""

    proba: np.ndarray
    verdict: np.ndarray  # before the allow/deny overrides
    allowed: np.ndarray
    denied: np.ndarray
    explained: np.ndarray  # rows whose reasons are written
    contrib: np.ndarray  # per-feature contributions of those rows (bias column dropped)


def featurize(model: ToxicityModel, links: pd.DataFrame, *, allow: Iterable[str] = (), deny: Iterable[str] = (),
              site_topic: str | None = None, context: Context | None = None,
              anchors: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, Context, np.ndarray, np.ndarray]:
    """Feature matrix and context of ``links``, and which links the allow/deny lists override
    (``anchors``: the links' anchor features from the batch's first pass, if kept)."""
    X, context = scoring_features(model, site_topic).transform_with_context(links, context, anchors)
    allowed = _in_sites(links, site_entries(allow))
    denied = _in_sites(links, site_entries(deny)) & ~allowed
    return X, context, allowed, denied


def judge(model: ToxicityModel, X: np.ndarray, allowed: np.ndarray, denied: np.ndarray,
          explain: str = "flagged", threads: int | None = None) -> Judgment:
    """Calibrated probabilities, verdicts, and the contributions of the rows to explain."""
    if explain != "all" and model.scores_compiled(X):
        # The compiled forest scores every row; the trees are walked only for the rows explained
        # (when all are, one pass through the trees gives both, as below).
        leaves = None
        proba = model.calibrate(model.raw_score(X, threads))
    else:
        leaves = model.leaves(X, threads)  # one pass through the trees for the scores and the contributions
        proba = model.calibrate(model.leaf_score(leaves))
    names = model.feature_names
    toxic_t, suspicious_t = thresholds(model)
    verdict = np.where(proba >= toxic_t, "toxic", np.where(proba >= suspicious_t, "suspicious", "ok")).astype(object)
    evidence = np.zeros(len(X), dtype=int)
    for name in _EVIDENCE:
        evidence += ~np.isnan(X[:, names.index(name)])
    listed = X[:, names.index("domain__in_spam_list")] == 1
    # Without anything the link itself shows, and off the lists, the export carries too little
    # to judge ("unknown"); a strongly spam-like name is a reason to look, never to disavow:
    # "suspicious" (small legitimate sites can have names the name model finds spam-like).
    bare = (evidence == 0) & ~listed
    verdict[bare] = np.where(proba[bare] >= toxic_t, "suspicious", "unknown")
    if explain == "none":
        rows = np.empty(0, dtype=np.int64)
    elif explain == "flagged":
        rows = np.flatnonzero(np.isin(verdict, ("toxic", "suspicious")) & ~allowed & ~denied)
    else:
        rows = np.arange(len(X))
    if not len(rows):
        contrib = np.empty((0, len(names)))
    else:
        contrib = model.leaf_contributions(model.leaves(X[rows], threads) if leaves is None else leaves[rows])[:, :-1]
    return Judgment(proba, verdict, allowed, denied, rows, contrib)


def scored_table(model: ToxicityModel, links: pd.DataFrame, X: np.ndarray, context: Context,
                 judgment: Judgment, top_k: int = 3) -> pd.DataFrame:
    """The scored links: toxicity, verdict, reasons in words, anchor class and placement."""
    names = model.feature_names
    verdict, rows = judgment.verdict.copy(), judgment.explained
    reasons = np.full(len(links), "", dtype=object)
    if len(rows):
        source_vectors = None if context.source_vectors is None else context.source_vectors[rows]
        reasons[rows] = explain_rows(model, links[list(EXPLAIN_COLUMNS)].iloc[rows], X[rows], top_k=top_k,
                                     target_topics=target_topic_names(context)[rows], contrib=judgment.contrib,
                                     source_vectors=source_vectors)
    return pd.DataFrame(_columns(X, names, judgment, verdict, reasons), index=links.index)


def _columns(X: np.ndarray, names: list[str], judgment: Judgment, verdict: np.ndarray, reasons: np.ndarray,
             ) -> dict[str, np.ndarray]:
    """The scored columns, with the allow and deny lists' verdicts put over the model's."""
    verdict[judgment.allowed] = "ok"
    reasons[judgment.allowed] = "on your allowlist"
    verdict[judgment.denied] = "toxic"
    reasons[judgment.denied] = "on your denylist"
    return {"toxicity": np.round(judgment.proba * 100, 1), "verdict": verdict, "reasons": reasons,
            "anchor_class": _anchor_class_names(X, names), "placement": placement_label(X, names)}


def score_one(model: ToxicityModel, link: Mapping[str, Any], *, allow: Iterable[str] = (), deny: Iterable[str] = (),
              site_topic: str | None = None, top_k: int = 3) -> dict[str, Any]:
    """:func:`score` of a one-link table, from the link's plain values (no table is built).

    ``link`` maps canonical fields, host columns included, to plain values (``None`` when
    missing), as :func:`toxiclinks.serving.service.link_values` gives them. Returns the columns of
    :func:`score` as plain values. The numbers are the batch's (``tests/test_single.py``).
    """
    X, target = features_of(link, scoring_features(model, site_topic))
    host = link.get("source_host") or ""
    allowed = np.array([under_sites(host, site_entries(allow))])
    denied = np.array([under_sites(host, site_entries(deny))]) & ~allowed
    judgment = judge(model, X, allowed, denied, threads=1)
    names = model.feature_names
    reasons = np.array([""], dtype=object)
    if len(judgment.explained):
        reasons[0] = explain_one(names, X, judgment.contrib, link, target, top_k)
    columns = _columns(X, names, judgment, judgment.verdict.copy(), reasons)
    return {name: values[0] for name, values in columns.items()}


def _anchor_class_names(X: np.ndarray, names: list[str]) -> np.ndarray:
    """Anchor class codes as names ("unknown" when the export has no anchors)."""
    codes = X[:, names.index("anchor__class")]
    labels = np.array([*CLASSES, "unknown"], dtype=object)
    return labels[np.where(np.isnan(codes), len(CLASSES), codes).astype(int)]


#: The words :func:`placement_label` uses besides the page regions of saved HTML.
PLACEMENTS = ("unknown", "outside content", "in content", "links/partners page", "directory", "footer",
              "sitewide", "comment/forum")


def placement_label(X: np.ndarray, names: list[str]) -> np.ndarray:
    """One placement word per link for reports: comment, sitewide, footer, in content, …"""
    def col(name: str) -> np.ndarray:
        return X[:, names.index(name)]

    region = col("placement__region")
    out = np.full(len(X), "unknown", dtype=object)
    out[col("placement__in_content") == 0] = "outside content"
    out[col("placement__in_content") == 1] = "in content"
    out[col("placement__cue_partners") == 1] = "links/partners page"
    out[col("placement__url_directory") == 1] = "directory"
    out[col("placement__cue_footer") == 1] = "footer"
    out[(col("placement__sitewide") == 1) | (col("placement__links_in_group_log") >= 0.5)] = "sitewide"
    out[col("placement__cue_comment") == 1] = "comment/forum"
    known_region = ~np.isnan(region)
    out[known_region] = np.array(REGIONS, dtype=object)[region[known_region].astype(int)]
    return out


def scoring_features(model: ToxicityModel, site_topic: str | None = None) -> LinkFeatures:
    """The model's fitted features, as a copy with the user's site topic set when one is given."""
    if not site_topic:
        return model.features
    import copy

    features = copy.copy(model.features)
    features.site_topic = site_topic
    return features


def _in_sites(links: pd.DataFrame, sites: frozenset[str]) -> np.ndarray:
    """Links whose source host is one of ``sites`` or under one (checked once per distinct host)."""
    if not sites:
        return np.zeros(len(links), dtype=bool)
    codes, hosts = pd.factorize(links["source_host"].fillna(""))
    hit = np.array([under_sites(h, sites) for h in hosts], dtype=bool)
    return hit[codes] if len(hosts) else np.zeros(len(links), dtype=bool)
