"""``toxiclinks train``: fit features + LightGBM + calibration, measure honestly, track in MLflow.

Honesty rules built in:

- Train, calibration and test sets share no referring site (grouped split by ``source_site``).
- Every metric table puts the model beside two baselines measured on the same test rows: the
  TLD's learned spam rate alone, and a count of hand-written red flags in the spirit of Moz's
  17 spam flags.
- Profiles are shown to the model as different export tools would show them (``view_mix``): a
  Google Search Console row carries only the source URL, so the model must also work from little.
- A domain-only check scores real domain names from the held-out fifth of the reference lists
  (never seen by the membership features), matched on TLD, beside the TLD-only baseline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from . import casebook, reference, schema, validation
from .errors import InputError, LabelsError
from .features import CATEGORICAL, LinkFeatures
from .labels import join_labels, read_labels
from .model import ToxicityModel, save
from .readers import add_hosts, read_export, referring_site

DEFAULT_PARAMS = Path(__file__).with_name("data") / "params.json"  # training/params.json links here

#: Canonical fields each export tool carries (what a profile looks like through that tool).
VIEWS: dict[str, tuple[str, ...]] = {
    "ahrefs": tuple(schema.COLUMNS),
    "semrush": ("source_url", "target_url", "anchor", "source_title", "authority_score",
                "external_links", "internal_links", "nofollow", "sponsored", "ugc", "link_type",
                "sitewide", "first_seen", "last_seen", "lost"),
    "majestic": ("source_url", "target_url", "anchor", "nofollow", "link_type", "first_seen",
                 "last_seen", "trust_flow", "citation_flow", "lost"),
    "moz": ("source_url", "target_url", "anchor", "source_title", "page_authority",
            "domain_authority", "source_referring_domains", "nofollow"),
    "gsc": ("source_url", "last_seen"),
    "bing": ("source_url", "target_url", "anchor"),
}
ALWAYS_KEPT = ("source_tool", "source_file", "source_row", "source_host", "source_site", "source_domain",
           "source_suffix", "source_platform", "target_host", "target_site")


@dataclass
class TrainResult:
    """A trained model, where it was saved, and everything measured about it."""

    model: ToxicityModel
    folder: Path
    metrics: dict[str, float]
    table: pd.DataFrame  # model and baselines side by side
    per_scheme: pd.DataFrame
    per_view: pd.DataFrame
    importance: pd.DataFrame
    domain_check: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    casebook: validation.CasebookCV | None = None  # leave-sites-out results on the casebook
    run_id: str | None = None
    registered_version: str | None = None


def load_params(path: str | Path | None) -> dict[str, Any]:
    """Training parameters from JSON (the packaged ``params.json`` by default)."""
    path = Path(path) if path else DEFAULT_PARAMS
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError("no such parameters file", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None


def labelled_links(exports: list[str], label_files: list[str]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Read exports and join labels; return the labelled links, labels and notes."""
    notes: list[str] = []
    tables = []
    for path in exports:
        result = read_export(path)
        tables.append(result.links)
        if len(result.rejects):
            notes.append(f"{path}: {len(result.rejects)} rows rejected while reading")
    links = pd.concat(tables, ignore_index=True) if tables else schema.empty_table()
    labels = []
    for path in label_files:
        lab, bad = read_labels(path)
        labels.append(lab)
        if len(bad):
            notes.append(f"{path}: {len(bad)} label rows rejected (first: line {bad.iloc[0]['line']}: "
                         f"{bad.iloc[0]['reason']})")
    all_labels = pd.concat(labels, ignore_index=True) if labels else pd.DataFrame(
        columns=["source_url", "target_url", "label", "note"])
    y = join_labels(links, all_labels)
    scheme = _join_notes(links, all_labels)
    keep = ~np.isnan(y)
    if keep.sum() == 0:
        raise LabelsError("no link in the exports matches a label (labels join on the normalised "
                          "source URL, and the target URL when given)")
    if (~keep).sum():
        notes.append(f"{int((~keep).sum()):,} links have no label and were left out of training")
    links = links.loc[keep].reset_index(drop=True)
    links["scheme"] = scheme[keep]
    return links, y[keep], notes


def _join_notes(links: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """The labels' note (the generator's scheme for seed data) per link, for per-scheme results."""
    if len(labels) == 0:
        return np.full(len(links), "", dtype=object)
    key = links["source_url"].astype(object) + " " + links["target_url"].astype(object).fillna("")
    notes = dict(zip(labels["source_url"] + " " + labels["target_url"].fillna(""), labels["note"], strict=True))
    return key.map(notes).fillna("").to_numpy(dtype=object)


def apply_views(links: pd.DataFrame, mix: dict[str, float], seed: int) -> pd.DataFrame:
    """Show each target's profile as one export tool would: blank the fields that tool lacks."""
    rng = np.random.default_rng(seed)
    names = list(mix)
    p = np.array([mix[n] for n in names], dtype=float)
    targets = links["target_site"].fillna("").unique()
    view_of = dict(zip(targets, rng.choice(names, size=len(targets), p=p / p.sum()), strict=True))
    view = links["target_site"].fillna("").map(view_of).to_numpy(dtype=object)
    out = links.copy()
    dr = out["domain_rating"].to_numpy(dtype=float, na_value=np.nan)
    traffic = out["domain_traffic"].to_numpy(dtype=float, na_value=np.nan)
    noise = rng.normal(0, 4, len(out))
    # Other tools' metrics, derived from the source's own traits only (never from the label).
    derived = {
        "authority_score": np.clip(dr * 0.9 + noise, 0, 100),
        "trust_flow": np.clip(dr * 0.35 + np.log10(traffic + 1) * 6 + noise, 0, 100),
        "citation_flow": np.clip(dr * 0.8 + rng.normal(0, 5, len(out)), 0, 100),
        "domain_authority": np.clip(dr * 0.85 + rng.normal(0, 6, len(out)), 0, 100),
        "page_authority": np.clip(out["url_rating"].to_numpy(dtype=float, na_value=np.nan) * 1.2 + 10, 0, 100),
    }
    for name, values in derived.items():
        col = out[name].to_numpy(dtype=float, na_value=np.nan)
        out[name] = pd.array(np.where(np.isnan(col), values, col), dtype="Float64")
    group = out["links_in_group"].to_numpy(dtype=float, na_value=np.nan)
    out["sitewide"] = pd.array(np.where(np.isnan(group), np.nan, group > 3), dtype="Float64").astype("boolean")
    for name in names:
        rows = view == name
        if not rows.any():
            continue
        keep = set(VIEWS[name]) | set(ALWAYS_KEPT)
        for column in schema.COLUMNS:
            if column not in keep:
                out.loc[rows, column] = pd.NA
    out["view"] = view
    return out


def reference_names(per_list: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """URL-only links of real list domains (spam: toxic, popular: natural), ``per_list`` of each.

    They teach the booster what a site's name is worth when an export (GSC, a URL list) carries
    nothing else. Drawn from the part of the known lists that neither the name model nor the
    membership features see during training (``known`` minus ``partial``), so the scores they
    get are out-of-sample; the held-out fifth stays untouched.
    """
    if per_list <= 0:
        return schema.empty_table(0), np.zeros(0)
    rng = np.random.default_rng(seed)
    spam = sorted(reference.spam_domains("known") - reference.spam_domains("partial"))
    popular = sorted(set(reference.popular_domains("known")) - set(reference.popular_domains("partial")))
    spam = list(rng.choice(spam, min(per_list, len(spam)), replace=False))
    popular = list(rng.choice(popular, min(per_list, len(popular)), replace=False))
    return _url_only_links(spam + popular), np.array([1.0] * len(spam) + [0.0] * len(popular))


def grouped_split(groups: np.ndarray, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Boolean masks, one per fraction, with every group wholly inside one mask."""
    rng = np.random.default_rng(seed)
    unique = pd.unique(groups)
    order = rng.permutation(len(unique))
    bounds = np.cumsum([0, *fractions])
    bounds = np.round(bounds / bounds[-1] * len(unique)).astype(int)
    masks = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        chosen = set(unique[order[lo:hi]])
        masks.append(np.array([g in chosen for g in groups]))
    return masks


def split_by_site(links: pd.DataFrame, params: dict[str, Any]) -> list[np.ndarray]:
    """(test, calibration, train) masks with no referring site in two of them, as params say."""
    test, calib = params["test_fraction"], params["calibration_fraction"]
    return grouped_split(referring_site(links), (test, calib, 1 - test - calib), int(params.get("seed", 0)))


def fit_model(train: pd.DataFrame, y_train: np.ndarray, calib: pd.DataFrame, y_calib: np.ndarray,
              params: dict[str, Any], weights: np.ndarray | None = None) -> ToxicityModel:
    """Fit features and booster on ``train``, then isotonic calibration on ``calib``."""
    features = LinkFeatures(tld_smoothing=params.get("tld_smoothing", 200.0),
                            reference_split=params.get("train_reference_split", "partial")).fit(train, y_train)
    X = features.transform(train)
    names = list(features.get_feature_names_out())
    # One thread by default: on these 2-core machines two OpenMP threads train 5× slower
    # (measured in bench/RESULTS.md); params.json may say otherwise.
    lgb_params = {"objective": "binary", "verbosity": -1, "num_threads": 1,
                  "seed": params.get("seed", 0), **params.get("lightgbm", {})}
    monotone = params.get("monotone", {})
    if monotone:
        unknown = sorted(set(monotone) - set(names))
        if unknown:
            raise InputError(f"monotone constraints name unknown features: {', '.join(unknown)}")
        lgb_params["monotone_constraints"] = [int(monotone.get(n, 0)) for n in names]
        lgb_params.setdefault("monotone_constraints_method", "advanced")
    rounds = int(lgb_params.pop("n_estimators", 300))
    data = lgb.Dataset(X, label=y_train, weight=weights, feature_name=names,
                       categorical_feature=[c for c in CATEGORICAL if c in names], free_raw_data=True)
    booster = lgb.train(lgb_params, data, num_boost_round=rounds)
    # Shipped models use the full known lists; training saw only part of them on purpose.
    features.use_reference(params.get("reference_split", "known"))
    model = ToxicityModel(features, booster, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    raw = model.raw_score(model.transform(calib))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y_calib)
    model.calib_x, model.calib_y = iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)
    if len(model.calib_x) < 2:
        model.calib_x, model.calib_y = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    return model


# -- metrics -----------------------------------------------------------------------------------
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
    spam, popular = sorted(reference.spam_domains(split)), sorted(reference.popular_domains(split))
    spam = list(rng.choice(spam, min(per_list, len(spam)), replace=False))
    popular = list(rng.choice(popular, min(per_list, len(popular)), replace=False))
    return np.array([1] * len(spam) + [0] * len(popular)), _url_only_links(spam + popular)


def _url_only_links(domains: list[str]) -> pd.DataFrame:
    """A canonical table of links that carry only ``http://domain/`` as source."""
    links = schema.empty_table(len(domains))
    links["source_url"] = pd.array([f"http://{d}/" for d in domains], dtype="string")
    add_hosts(links)
    return links


def _tld_matched_domains(split: str, per_tld: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Equal numbers of spam and popular domains per TLD, as URL-only links."""
    rng = np.random.default_rng(seed)
    spam = pd.Series(sorted(reference.spam_domains(split)))
    popular = pd.Series(sorted(reference.popular_domains(split)))
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
    return np.array(labels), _url_only_links(domains)


def train(exports: list[str] | None = None, label_files: list[str] | None = None, *,
          params_path: str | None = None, out: str | Path = "models/default",
          track: bool = True, extra_params: dict[str, Any] | None = None,
          sample_weight_col: str | None = None, model_name: str = "toxiclinks", log=print) -> TrainResult:
    """Train on exports + labels (or fresh seed data when none are given), evaluate, save, track."""
    params = {**load_params(params_path), **(extra_params or {})}
    seed = int(params.get("seed", 0))
    started = time.perf_counter()
    notes: list[str] = []
    if not exports:
        from . import synth

        seed_dir = Path(out) / "seed-data"
        log(f"generating seed data: {params['synth_targets']} targets (seed {seed}) → {seed_dir}")
        links_csv, labels_csv, _ = synth.write(seed_dir, params["synth_targets"],
                                               params["synth_links_per_target"], seed)
        exports, label_files = [str(links_csv)], [str(labels_csv)]
    links, y, read_notes = labelled_links(exports, label_files or [])
    notes += read_notes
    log(f"{len(links):,} labelled links from {links['source_site'].nunique():,} referring sites; "
        f"toxic share {y.mean():.2f}")
    links = apply_views(links, params.get("view_mix", {"ahrefs": 1.0}), seed)
    test_m, calib_m, train_m = split_by_site(links, params)
    weights = links[sample_weight_col].to_numpy(float)[train_m] if sample_weight_col else np.ones(int(train_m.sum()))
    seed_train = validation.canonical(links[train_m]).reset_index(drop=True)
    calib = links[calib_m].reset_index(drop=True)
    case_weight = float(params.get("casebook_weight", 0.0))
    names, y_names = reference_names(int(params.get("reference_names", 0)), seed)
    seed_train = pd.concat([seed_train, names], ignore_index=True)
    y_train = np.concatenate([y[train_m], y_names])
    weights = np.concatenate([weights, np.full(len(names), float(params.get("reference_names_weight", 1.0)))])

    def fit(case_links: pd.DataFrame, y_case: np.ndarray) -> ToxicityModel:
        """Seed training links plus casebook links (weighted), calibrated on the seed's calibration sites."""
        return fit_model(pd.concat([seed_train, case_links], ignore_index=True), np.concatenate([y_train, y_case]),
                         calib, y[calib_m], params, np.concatenate([weights, np.full(len(case_links), case_weight)]))

    case_cv = None
    if case_weight > 0:
        case_links, y_case = casebook.load()
        folds = int(params.get("casebook_folds", 0))
        if folds >= 2:
            case_cv = validation.cross_validate(fit, folds, seed, log=log)
        log(f"training on the seed data and {len(case_links):,} casebook links (weight {case_weight:g})")
        model = fit(validation.canonical(case_links), y_case)
    else:
        model = fit(validation.canonical(links[:0]), np.zeros(0))
    train_seconds = time.perf_counter() - started
    test = links[test_m].reset_index(drop=True)
    ev = evaluate(model, test, y[test_m])
    check = domain_only_check(model, int(params.get("domain_check_per_tld", 40)), seed)
    metrics = {f"test_{k}": v for k, v in ev["table"].iloc[0].items() if k in ("roc_auc", "pr_auc", "precision_at_recall_0.8", "brier")}
    for label, row in list(ev["table"].iterrows())[1:]:
        short = "tld" if "TLD" in label else "redflags"
        metrics.update({f"baseline_{short}_{k}": row[k] for k in ("roc_auc", "pr_auc", "brier")})
    for index, row in check.iterrows():
        who = "model" if index.startswith("model") else "names" if index.startswith("name") else "tld"
        which = ("heldout_mix" if "own TLD mix" in index else "heldout" if "held-out" in index else "listed")
        metrics[f"domain_check_{which}_{who}_roc_auc"] = row["roc_auc"]
    if case_cv is not None:
        for k, v in case_cv.table().iloc[0].items():
            if k in ("roc_auc", "pr_auc", "precision_at_recall_0.8", "brier"):
                metrics[f"casebook_{k}"] = v
        metrics["casebook_redflags_roc_auc"] = case_cv.table().iloc[1]["roc_auc"]
    metrics.update(train_links=int(train_m.sum()), test_links=int(test_m.sum()), train_seconds=train_seconds)
    from . import __version__

    model.metadata.update(name=model_name, version=f"{__version__}+{time.strftime('%Y%m%d', time.gmtime())}",
                          trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          params=params, metrics=metrics, thresholds={"toxic": 0.6, "suspicious": 0.3})
    folder = save(model, out)
    result = TrainResult(model, folder, metrics, ev["table"], ev["per_scheme"], ev["per_view"],
                         ev["importance"], check, notes, casebook=case_cv)
    _write_report(result)
    if track:
        from . import tracking

        try:
            import mlflow.data

            sample = links.drop(columns=["view"]).head(2000)
            dataset = mlflow.data.from_pandas(sample.astype({c: "object" for c in sample.columns}),
                                              name="toxiclinks-seed", targets=None)
        except Exception:
            dataset = None
        flat = {k: v for k, v in params.items() if not isinstance(v, dict)}
        flat.update({f"lgb_{k}": v for k, v in params.get("lightgbm", {}).items()})
        example = links.drop(columns=["view", "scheme"]).head(3)
        example = example[[c for c in schema.COLUMNS if c in example]]
        result.run_id, result.registered_version = tracking.log_model(
            folder, flat, metrics, example, dataset=dataset,
            model_name=model_name,
            tables={"metrics_table": ev["table"].reset_index(names="method"),
                    "per_scheme": ev["per_scheme"].reset_index(),
                    "feature_importance": ev["importance"].head(30)})
        model.metadata["version"] = result.registered_version
    return result


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


def _write_report(result: TrainResult) -> None:
    """metrics.md beside the model: every table, for the model card and for humans."""
    text = ["# Training metrics", ""]
    if result.casebook is not None:
        cv = result.casebook
        text += ["## Casebook, leave-sites-out (every fold holds out one author's two target sites)", "",
                 markdown_table(cv.table()), "",
                 "### Per category (toxicity 0-100 of the held-out links)", "",
                 markdown_table(cv.per_category(), index=False), "",
                 "### Per export view", "", markdown_table(cv.per_view(), index=False), "",
                 "### Per site", "", markdown_table(cv.per_site(), index=False), ""]
    text += ["## Seed data: held-out referring sites never seen in training or calibration", "",
            markdown_table(result.table), "",
            "## By export view (what each tool's columns let the model see)", "",
            markdown_table(result.per_view, index=False), "",
            "## Per scheme (share flagged at P(toxic) ≥ 0.5)", "",
            markdown_table(result.per_scheme), "",
            "## Domain-only check on held-out real domains (spam vs popular, TLD-matched)", "",
            markdown_table(result.domain_check), "",
            "## Feature importance (share of total gain, top 25)", "",
            markdown_table(result.importance.head(25), index=False), ""]
    if result.notes:
        text += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    (result.folder / "metrics.md").write_text("\n".join(text), "utf-8")
