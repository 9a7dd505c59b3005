"""The one-link path (what the service scores a one-link request with) gives the batch's numbers.

Every link is scored twice: as a one-link table through the batch pipeline (``links_frame`` +
``score``), and from plain values (``link_values`` + ``score_one``). Features, scores, verdicts,
reasons and labels must be identical, and so must the rejections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_service import FIELDS, as_json
from toxiclinks.features import _single as single
from toxiclinks.model import featurize, load, score, score_one
from toxiclinks.model import write_seed_data as synth_write
from toxiclinks.reading import read_export
from toxiclinks.serving.service import Link, link_values, links_frame

REPO_SAMPLE = "data/sample/ahrefs_sample.csv"
BASE = {"source_url": "https://www.best-casino-links.example.xyz/partners",
        "target_url": "https://trailgear.example.com/boots/hiking", "anchor": "best online casino"}
# Values chosen for the edges of each feature family: missing and empty values, scripts other
# than Latin, hosts on platforms, IPs and punycode, every placement cue, counts around 1.
EDGES = [
    {}, {"anchor": None}, {"anchor": ""}, {"anchor": "  cheap  hiking boots  "}, {"anchor": "Trail Gear"},
    {"anchor": "trailgear.example.com"}, {"anchor": "click here"}, {"anchor": "купить виагру"},
    {"anchor": "İstanbul PARTNERS ©"}, {"anchor": "中文 链接"}, {"anchor": "🎰 casino 🎰"},
    {"target_url": None}, {"target_url": ""}, {"target_url": "https://trailgear.example.com"},
    {"target_url": "https://магазин.рф/товары"}, {"source_url": "http://1.2.3.4/page"},
    {"source_url": "http://[2001:db8::1]:8080/x"}, {"source_url": "https://myblog.blogspot.com/2020/01/post.html"},
    {"source_url": "https://blogspot.com/"}, {"source_url": "https://xn--80ak6aa92e.com/"},
    {"source_url": "https://a.b.c.deep.example.co.uk/u/member.php?id=1"},
    {"source_url": "https://seo-links-24-7.example.com:8443/links.php"},
    {"source_url": "https://forum.example.org/showthread.php?t=1#comment-12"},
    {"left_context": "Posted by admin. Reply", "right_context": None},
    {"left_context": None, "right_context": "© 2020 powered by WordPress"},
    {"left_context": "", "right_context": ""}, {"left_context": "Sponsored guest post", "right_context": "partners"},
    {"left_context": "İ partners ÇAĞ", "right_context": "Ünïcödé cömment"},
    {"source_title": "Best Web Directory - submit url"}, {"source_title": "Форум казино"}, {"source_title": ""},
    {"nofollow": True}, {"nofollow": False, "ugc": False, "sponsored": True}, {"ugc": True},
    {"sitewide": True}, {"sitewide": False, "links_in_group": 40}, {"links_in_group": 0.5}, {"links_in_group": 1},
    {"link_type": "image", "anchor": None}, {"link_type": "redirect"}, {"region": "footer"}, {"region": "comments"},
    {"in_content": True}, {"in_content": False},
    {"first_seen": "2024-03-04T10:00:00"}, {"first_seen": "2024-03-04T10:00:00+09:00", "last_seen": "2025-01-01"},
    {"domain_rating": 0, "url_rating": 3, "domain_traffic": 0, "source_referring_domains": 5000},
    {"trust_flow": 5, "citation_flow": 40}, {"trust_flow": 5, "citation_flow": 0}, {"domain_authority": 80},
    {"page_authority": 12, "external_links": 900, "linked_domains": 12000, "internal_links": 3},
    {"tool_spam_flag": True}, {"tool_spam_flag": False, "tool_spam_score": 85}, {"http_code": 404},
    {"http_code": 200, "lost": True}, {"language": "ru", "authority_score": 7},
    # Rejected: not a URL, no public suffix, a bad target.
    {"source_url": "not a url"}, {"source_url": ""}, {"source_url": "https://intranet.localdomain/x"},
    {"target_url": "javascript:alert(1)"}, {"source_url": "https://exa mple.com/"},
]


@pytest.fixture(scope="module")
def model():
    return load(None)  # the shipped default model


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> list[dict]:
    """Links as an export carries them: a synthetic export, and a third of the bundled sample."""
    links, _, _ = synth_write(tmp_path_factory.mktemp("single"), 1, 150, seed=11)
    sample = read_export(REPO_SAMPLE).links.iloc[::3]
    return as_json(read_export(links).links) + as_json(sample[FIELDS])


def _batch(model, link: Link, **options) -> tuple[np.ndarray | None, dict | None, list]:
    table, _, rejected = links_frame([link])
    if not len(table):
        return None, None, [r.model_dump() for r in rejected]
    X = featurize(model, table, site_topic=options.get("site_topic"))[0]
    scored = score(model, table, **options).iloc[0]
    return X, {k: scored[k] for k in ("toxicity", "verdict", "reasons", "anchor_class", "placement")}, []


def _single(model, link: Link, **options) -> tuple[np.ndarray | None, dict | None, list]:
    values, rejected = link_values(link)
    if values is None:
        return None, None, [r.model_dump() for r in rejected]
    from toxiclinks.model import scoring_features

    X, _ = single.features_of(values, scoring_features(model, options.get("site_topic")))
    return X, score_one(model, values, **options), []


def _check(model, records: list[dict], **options) -> int:
    """Score each record both ways; return how many were scored (not rejected)."""
    scored = 0
    for record in records:
        link = Link(**record)
        (X_batch, batch, rej_batch), (X_one, one, rej_one) = _batch(model, link, **options), _single(model, link, **options)
        assert rej_one == rej_batch, record
        if X_batch is None:
            continue
        scored += 1
        same = (X_one == X_batch) | (np.isnan(X_one) & np.isnan(X_batch))
        assert same.all(), (record, [n for n, ok in zip(model.feature_names, same[0], strict=True) if not ok],
                            X_batch[~same], X_one[~same])
        assert one == batch, record
    return scored


def test_edge_links_score_as_in_the_batch(model):
    scored = _check(model, [{**BASE, **edge} for edge in EDGES])
    assert scored == len(EDGES) - 5  # the last five are rejected, with the batch's reasons


def test_exported_links_score_as_in_the_batch(model, exported):
    assert _check(model, exported) == len(exported)


def test_site_topic_and_lists_apply_as_in_the_batch(model, exported):
    records = exported[:40] + [{**BASE, **edge} for edge in EDGES[:12]]
    _check(model, records, site_topic="outdoor gear, hiking boots")
    sites = [Link(**r).source_url.split("/")[2] for r in records[::4]]
    _check(model, records, allow=sites[: len(sites) // 2], deny=sites[len(sites) // 2:])


def test_out_of_range_dates_are_refused_by_the_schema():
    for value in ("3000-01-01T00:00:00", "1600-01-01T00:00:00", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(ValueError, match="dates must lie between"):
            Link(source_url="https://a.example.com/", first_seen=value)
    assert Link(source_url="https://a.example.com/", last_seen="2262-04-10T00:00:00").last_seen is not None


def test_labels_are_the_batch_labels_for_every_verdict(model, exported):
    """The comparison above is only as good as its spread: it covers every verdict."""
    verdicts = {score(model, links_frame([Link(**r)])[0])["verdict"].iloc[0] for r in exported}
    assert {"toxic", "ok"} <= verdicts and pd.notna(list(verdicts)).all()


def test_contributions_of_a_few_rows_equal_those_of_many(model):
    """Few rows sum the dense credits tree by tree (a live request), many take a sparse indicator's
    product with them: same numbers."""
    X = model.transform(read_export(REPO_SAMPLE).links)
    many = model.contributions(X)
    for k in (1, 5, 16):
        few = np.vstack([model.contributions(X[i:i + k]) for i in range(0, len(X), k)])
        assert np.array_equal(few, many), k
    assert np.allclose(many.sum(axis=1), np.log(model.raw_score(X) / (1 - model.raw_score(X))), atol=1e-6)


def test_scores_from_the_leaves_are_the_boosters_own(model):
    """``judge`` scores from the leaves it needs for the contributions anyway: the raw scores must be
    LightGBM's bit for bit, on both summing routes (small and tree by tree) and across chunk edges."""
    X = model.transform(read_export(REPO_SAMPLE).links)
    expected = model.raw_score(X)  # the booster's raw score through the same link function
    leaves = model.leaves(X)
    assert np.array_equal(model.leaves(X, chunk=100), leaves)
    for chunk in (7, 999, 1000, 10_000):
        assert np.array_equal(model.leaf_score(leaves, chunk=chunk), expected), chunk
    assert np.allclose(expected, model.booster.predict(X), rtol=0, atol=1e-15)


def test_reasons_reuse_the_features_source_topics(model):
    """Reasons quoting the source's topic read the vectors the features computed; they must say
    what a fresh lexicon pass over the source's title and URL says."""
    from toxiclinks.model import judge, scored_table
    from toxiclinks.model._explain import explain_rows, target_topic_names

    links = read_export(REPO_SAMPLE).links
    X, context, allowed, denied = featurize(model, links)
    assert context.source_vectors is not None and len(context.source_vectors) == len(links)
    judgment = judge(model, X, allowed, denied)
    reused = scored_table(model, links, X, context, judgment)["reasons"].to_numpy()[judgment.explained]
    rows = judgment.explained
    fresh = explain_rows(model, links.iloc[rows], X[rows], contrib=judgment.contrib,
                         target_topics=target_topic_names(context)[rows])
    assert any("off-topic source" in r or "source page (" in r for r in reused)
    assert list(reused) == fresh
