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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from .. import schema
from ..errors import InputError, LabelsError
from ..features import CATEGORICAL, LinkFeatures, popular_domains, spam_domains
from ..reading import join_labels, read_export, read_labels, referring_site
from . import _casebook as casebook
from . import _validation as validation
from ._artifact import ToxicityModel, save
from ._evaluate import domain_only_check, evaluate, markdown_table, url_only_links
from ._params import TrainingParams, load_params
from ._views import apply_views

_LOG = logging.getLogger(__name__)


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
    spam = sorted(spam_domains("known") - spam_domains("partial"))
    popular = sorted(set(popular_domains("known")) - set(popular_domains("partial")))
    spam = list(rng.choice(spam, min(per_list, len(spam)), replace=False))
    popular = list(rng.choice(popular, min(per_list, len(popular)), replace=False))
    return url_only_links(spam + popular), np.array([1.0] * len(spam) + [0.0] * len(popular))


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


def split_by_site(links: pd.DataFrame, params: TrainingParams) -> list[np.ndarray]:
    """(test, calibration, train) masks with no referring site in two of them, as params say."""
    test, calib = params.test_fraction, params.calibration_fraction
    return grouped_split(referring_site(links), (test, calib, 1 - test - calib), params.seed)


def fit_model(train: pd.DataFrame, y_train: np.ndarray, calib: pd.DataFrame, y_calib: np.ndarray,
              params: TrainingParams, weights: np.ndarray | None = None) -> ToxicityModel:
    """Fit features and booster on ``train``, then isotonic calibration on ``calib``."""
    features = LinkFeatures(tld_smoothing=params.tld_smoothing,
                            reference_split=params.train_reference_split).fit(train, y_train)
    X = features.transform(train)
    names = list(features.get_feature_names_out())
    # One thread by default: on small machines OpenMP threads contend and train slower
    # (bench/RESULTS.md); params.json may say otherwise.
    lgb_params = {"objective": "binary", "verbosity": -1, "num_threads": 1,
                  "seed": params.seed, **params.lightgbm}
    monotone = params.monotone
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
    features.use_reference(params.reference_split)
    model = ToxicityModel(features, booster, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    raw = model.raw_score(model.transform(calib))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y_calib)
    model.calib_x, model.calib_y = iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)
    if len(model.calib_x) < 2:
        model.calib_x, model.calib_y = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    return model


def train(exports: list[str] | None = None, label_files: list[str] | None = None, *,
          params_path: str | None = None, out: str | Path = "models/default",
          track: bool = True, extra_params: dict[str, Any] | None = None,
          sample_weight_col: str | None = None, model_name: str = "toxiclinks",
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train on exports + labels (or fresh seed data when none are given), evaluate, save, track."""
    log = log or _LOG.info
    params = load_params(params_path, extra_params)
    seed = params.seed
    started = time.perf_counter()
    notes: list[str] = []
    if not exports:
        from . import _synth as synth

        seed_dir = Path(out) / "seed-data"
        log(f"generating seed data: {params.synth_targets} targets (seed {seed}) → {seed_dir}")
        links_csv, labels_csv, _ = synth.write(seed_dir, params.synth_targets, params.synth_links_per_target, seed)
        exports, label_files = [str(links_csv)], [str(labels_csv)]
    links, y, read_notes = labelled_links(exports, label_files or [])
    notes += read_notes
    log(f"{len(links):,} labelled links from {links['source_site'].nunique():,} referring sites; "
        f"toxic share {y.mean():.2f}")
    links = apply_views(links, params.view_mix, seed)
    test_m, calib_m, train_m = split_by_site(links, params)
    weights = links[sample_weight_col].to_numpy(float)[train_m] if sample_weight_col else np.ones(int(train_m.sum()))
    seed_train = schema.canonical_only(links[train_m]).reset_index(drop=True)
    calib = links[calib_m].reset_index(drop=True)
    case_weight = params.casebook_weight
    names, y_names = reference_names(params.reference_names, seed)
    seed_train = pd.concat([seed_train, names], ignore_index=True)
    y_train = np.concatenate([y[train_m], y_names])
    weights = np.concatenate([weights, np.full(len(names), params.reference_names_weight)])

    def fit(case_links: pd.DataFrame, y_case: np.ndarray) -> ToxicityModel:
        """Seed training links plus casebook links (weighted), calibrated on the seed's calibration sites."""
        return fit_model(pd.concat([seed_train, case_links], ignore_index=True), np.concatenate([y_train, y_case]),
                         calib, y[calib_m], params, np.concatenate([weights, np.full(len(case_links), case_weight)]))

    case_cv = None
    if case_weight > 0:
        case_links, y_case = casebook.load()
        folds = params.casebook_folds
        if folds >= 2:
            case_cv = validation.cross_validate(fit, folds, seed, log=log)
        log(f"training on the seed data and {len(case_links):,} casebook links (weight {case_weight:g})")
        model = fit(schema.canonical_only(case_links), y_case)
    else:
        model = fit(schema.canonical_only(links[:0]), np.zeros(0))
    train_seconds = time.perf_counter() - started
    test = links[test_m].reset_index(drop=True)
    ev = evaluate(model, test, y[test_m])
    check = domain_only_check(model, params.domain_check_per_tld, seed)
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
    from .. import __version__

    model.metadata.update(name=model_name, version=f"{__version__}+{time.strftime('%Y%m%d', time.gmtime())}",
                          trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          params=params.as_dict(), metrics=metrics, thresholds={"toxic": 0.6, "suspicious": 0.3})
    folder = save(model, out)
    result = TrainResult(model, folder, metrics, ev["table"], ev["per_scheme"], ev["per_view"],
                         ev["importance"], check, notes, casebook=case_cv)
    _write_report(result)
    if track:
        from . import _tracking as tracking

        try:
            import mlflow.data

            sample = links.drop(columns=["view"]).head(2000)
            dataset = mlflow.data.from_pandas(sample.astype({c: "object" for c in sample.columns}),
                                              name="toxiclinks-seed", targets=None)
        except Exception:
            dataset = None
        flat = {k: v for k, v in params.as_dict().items() if not isinstance(v, dict)}
        flat.update({f"lgb_{k}": v for k, v in params.lightgbm.items()})
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
