"""The casebook: hand-written, labelled backlinks of ordinary businesses, the stand-in for the web.

``data/casebook/`` (shipped as package data) holds one folder per target site: its export in the
tool's own format, and a labels file naming each link's Google link-spam category (or natural
kind) and the reason an auditor would give. ``data/casebook/README.md`` says how it was written.
Training learns from it beside the seed data and reports leave-sites-out cross-validation on it;
retraining holds every challenger to it.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from .. import schema
from ..errors import LabelsError
from ..reading import join_labels, read_export
from ..urls import normalize_url_series
from ._views import ALWAYS_KEPT, VIEWS

TOXIC_CATEGORIES = ("paid_guest_post", "link_insertion", "pbn", "link_exchange", "directory_spam",
                    "web20_microsite", "comment_spam", "forum_profile_spam", "widget_footer",
                    "press_release", "hacked_parasite", "scraper", "negative_seo", "paid_news")
NATURAL_CATEGORIES = ("editorial", "press_coverage", "citation", "partner_sitewide", "sponsorship",
                      "resource_page", "forum_ugc", "genuine_comment", "declared_sponsored",
                      "foreign_relevant", "platform_blog")
#: The export view each reader format stands for.
_VIEW_OF_FORMAT = {"ahrefs": "ahrefs", "semrush": "semrush", "majestic": "majestic",
                   "gsc_latest": "gsc", "gsc_sample": "gsc", "moz": "moz", "bing_links": "bing"}


def _folder():
    """The casebook's folder (package data)."""
    return resources.files("toxiclinks").joinpath("data/casebook")


def sites() -> pd.DataFrame:
    """One row per casebook site: site, target, niche, brand, site_topic, format, author (each
    author wrote two sites; cross-validation holds out an author's sites together)."""
    text = _folder().joinpath("sites.csv").read_text("utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


@cache
def _load() -> pd.DataFrame:
    """The whole casebook as one canonical table (see :func:`load`), read once per process."""
    tables = []
    for row in sites().itertuples(index=False):
        folder = _folder().joinpath(row.site)
        with resources.as_file(folder.joinpath("export.csv")) as export:
            result = read_export(export)
        if len(result.rejects):
            raise LabelsError(f"{len(result.rejects)} rows of the casebook export were rejected",
                              path=f"data/casebook/{row.site}/export.csv")
        links = result.links
        labels = _labels(folder.joinpath("labels.csv").read_text("utf-8"), row.site)
        y = join_labels(links, labels)
        if np.isnan(y).any():
            raise LabelsError(f"{int(np.isnan(y).sum())} links have no label", path=f"data/casebook/{row.site}/labels.csv")
        key = _keys(links["source_url"], links["target_url"])
        by_key = dict(zip(_keys(labels["source_url"], labels["target_url"]), labels.index, strict=True))
        page_only = dict(zip(labels["source_url"], labels.index, strict=False))
        at = np.array([by_key.get(k, page_only.get(s, -1)) for k, s in zip(key, links["source_url"], strict=True)])
        links = links.copy()
        links["label"] = y.astype(int)
        links["category"] = labels["category"].to_numpy(object)[at]
        links["note"] = labels["note"].to_numpy(object)[at]
        links["case_site"], links["niche"], links["site_topic"] = row.site, row.niche, row.site_topic
        links["case_author"] = row.author
        links["view"] = _VIEW_OF_FORMAT.get(result.detected.format.name, result.detected.format.name)
        tables.append(links)
    return pd.concat(tables, ignore_index=True)


def load() -> tuple[pd.DataFrame, np.ndarray]:
    """The casebook's links (canonical columns plus ``label``, ``category``, ``note``,
    ``case_site``, ``niche``, ``site_topic``, ``case_author`` and ``view``) and their labels (1 = toxic)."""
    links = _load().copy()
    return links, links["label"].to_numpy(dtype=float)


def _keys(source: pd.Series, target: pd.Series) -> list[str]:
    """``source target`` join keys (normalised URLs contain no spaces)."""
    return (source.astype(object) + " " + target.astype(object).fillna("")).tolist()


def _labels(text: str, site: str) -> pd.DataFrame:
    """A casebook labels file: normalised URLs, label 0/1, category and note."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    frame = pd.DataFrame(rows, columns=["source_url", "target_url", "label", "category", "note"])
    bad = frame[~(((frame["label"] == "toxic") & frame["category"].isin(TOXIC_CATEGORIES))
                  | ((frame["label"] == "natural") & frame["category"].isin(NATURAL_CATEGORIES)))]
    if len(bad):
        raise LabelsError(f"label {bad.iloc[0]['label']!r} with category {bad.iloc[0]['category']!r}",
                          path=f"data/casebook/{site}/labels.csv", line=int(bad.index[0]) + 2)
    source, _ = normalize_url_series(frame["source_url"])
    target = frame["target_url"].where(frame["target_url"].str.strip() != "")
    if target.notna().any():
        normalised, _ = normalize_url_series(target.fillna(""))
        target = normalised.where(target.notna())
    return pd.DataFrame({"source_url": source.astype(object), "target_url": target.astype(object),
                         "label": (frame["label"] == "toxic").astype(int), "category": frame["category"],
                         "note": frame["note"]})


def project(links: pd.DataFrame, view: str) -> pd.DataFrame:
    """The links as export tool ``view`` would show them: the fields it lacks blanked.

    Only rows whose own export carries more than ``view`` change; rows read from a thinner
    export keep what they have.
    """

    out = links.copy()
    keep = set(VIEWS[view]) | set(ALWAYS_KEPT)
    for column in schema.COLUMNS:
        if column not in keep:
            out[column] = schema.missing_array(column, len(out))
    out["view"] = view
    return out
