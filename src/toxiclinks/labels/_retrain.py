"""``toxiclinks retrain``: a challenger that learns from the user's labels, judged against the champion.

1. Seed data (regenerated from the seeded recipe in the parameters) with the same grouped split
   as ``toxiclinks train``: its held-out sites are the fixed seed holdout.
2. The user's latest judgments (label store) joined to the link rows the store keeps (from
   recorded audits, or exports given now), across every site and export ever labelled.
3. Grouped cross-validation over the user's labels (folds by referring site): each fold trains a
   challenger on seed data + the other folds (user labels weighted up) and scores the held-out
   fold; the champion scores the same links.
   The same folds hold out casebook sites (``data/casebook``): each fold's challenger
   and a model of the same recipe without the user's labels score them.
4. The final challenger trains on seed data, the casebook and all user labels. Both models are
   scored on the seed holdout. The ``champion`` alias moves only when the challenger is at least
   as good on the user's links (Brier score) and loses no more than ``gate`` ROC-AUC on the seed
   holdout, nor on the casebook (against the same recipe without the user's labels): a user's
   labels cannot quietly unlearn the real world.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config, schema
from ..errors import LabelsError, ModelError
from ..model import (
    ToxicityModel,
    TrainingParams,
    apply_views,
    fit_model,
    labelled_links,
    load,
    load_casebook,
    load_params,
    log_model,
    save,
    scores,
    set_alias,
    site_folds,
    split_by_site,
    write_seed_data,
)
from ..reading import join_labels, read_export, referring_site
from ._store import LabelStore

_LOG = logging.getLogger(__name__)


@dataclass
class RetrainResult:
    """What retraining measured and decided."""

    decision: str  # "promote", "keep" (gate failed) or "dry run: would promote/keep"
    table: pd.DataFrame  # champion vs challenger, on the user's links and on the seed holdout
    user_links: int
    champion_version: str
    challenger_version: str | None = None
    folder: Path | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        from ..model import markdown_table

        return "\n".join([f"decision: {self.decision}",
                          f"user-labelled links: {self.user_links:,}; champion: version {self.champion_version}"
                          + (f"; challenger: version {self.challenger_version}" if self.challenger_version else ""),
                          markdown_table(self.table), *[f"note: {n}" for n in self.notes]])


def seed_data(params: TrainingParams) -> tuple[pd.DataFrame, np.ndarray]:
    """The seeded training data (cached in TOXICLINKS_HOME), shown through the export views."""

    folder = config.home() / "seed-data" / f"seed{params.seed}-t{params.synth_targets}-l{params.synth_links_per_target}"
    links_csv, labels_csv = folder / "links.csv", folder / "labels.csv"
    if not (links_csv.exists() and labels_csv.exists()):
        write_seed_data(folder, params.synth_targets, params.synth_links_per_target, params.seed)
    links, y, _ = labelled_links([str(links_csv)], [str(labels_csv)])
    return apply_views(links, params.view_mix, params.seed), y


def user_data(exports: list[str], store: LabelStore, seen: pd.DataFrame | None = None, *,
              keep: bool = True) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Every labelled link the store keeps a row of, with its latest judgment.

    ``exports`` and ``seen`` (rows found elsewhere, e.g. in recorded audits) add rows for
    judgments the store has none for yet; with ``keep`` they are kept in the store for next time.
    """
    labels = store.latest()
    if len(labels) == 0:
        raise LabelsError("the label store is empty: import labels with 'toxiclinks label import' "
                          "or POST /feedback first", path=str(store.path))
    notes: list[str] = []
    added: list[pd.DataFrame] = []
    for path in exports:
        links = read_export(path).links
        labelled = ~np.isnan(join_labels(links, labels))
        notes.append(f"{path}: {int(labelled.sum()):,} of {len(links):,} links carry a label")
        added.append(links.loc[labelled])
    if seen is not None and len(seen):
        added.append(seen)
    if added:
        extra = schema.conform(pd.concat(added, ignore_index=True))
        if keep:
            store.keep_rows(extra, origin=", ".join(map(str, exports)) or "recorded audits")
    stored = store.rows()
    if added and not keep:  # a dry run changes nothing: the rows are used, not kept
        stored = pd.concat([stored, extra], ignore_index=True)
    links = stored.drop_duplicates(["source_url", "target_url"], keep="last", ignore_index=True)
    pages = set(links["source_url"].astype(object))
    pairs = set(zip(links["source_url"].astype(object), links["target_url"].astype(object), strict=True))
    missing = sum(1 for s, t in zip(labels["source_url"], labels["target_url"], strict=True)
                  if (s not in pages if pd.isna(t) else (s, t) not in pairs))
    y = join_labels(links, labels)
    labelled = ~np.isnan(y)
    links = links.loc[labelled].reset_index(drop=True)
    sites = links["target_site"].dropna().nunique()
    notes.append(f"{len(links):,} labelled links with their rows, linking to {sites:,} target site(s)")
    if missing:
        notes.append(f"{missing:,} judgments have no link row (no recorded audit and no --export saw the link) "
                     "and were not used")
    links["view"], links["scheme"] = "user", "user"
    return links, y[labelled], notes


def champion_model(model_name: str) -> tuple[ToxicityModel, str, bool]:
    """The registered champion, or the shipped default when the registry has none."""
    try:
        model = load(f"models:/{model_name}@champion")
        return model, model.version, True
    except ModelError:
        model = load(None)
        return model, f"default ({model.version})", False


def retrain(exports: list[str] | None = None, *, store: LabelStore | None = None, seen: pd.DataFrame | None = None,
            params_path: str | None = None,
            extra_params: dict | None = None, gate: float = 0.01, user_weight: float = 5.0,
            folds: int = 3, dry_run: bool = False, model_name: str = config.MODEL_NAME,
            out: str | Path | None = None, log: Callable[[str], None] | None = None) -> RetrainResult:
    """Train and evaluate a challenger; move the champion alias if it passes the gate.

    Learns from every judgment the store keeps a link row of, whatever site or export it came
    from; ``exports`` and ``seen`` add rows (kept in the store unless ``dry_run``).
    """
    log = log or _LOG.info
    params = load_params(params_path, extra_params)
    seed = params.seed
    store = store or LabelStore()
    user, y_user, notes = user_data(list(exports or []), store, seen, keep=not dry_run)
    if len(user) < 10:
        raise LabelsError(f"only {len(user)} labelled links match a kept or exported link; retraining needs "
                          "at least 10 (label links from an audit's links.csv, or give --export)")
    log(f"{len(user):,} user-labelled links ({y_user.mean():.0%} toxic); regenerating seed data")
    seed_links, y_seed = seed_data(params)
    test_m, calib_m, train_m = split_by_site(seed_links, params)
    seed_train, seed_calib = seed_links[train_m].reset_index(drop=True), seed_links[calib_m].reset_index(drop=True)
    seed_test = seed_links[test_m].reset_index(drop=True)
    champion, champion_version, registered = champion_model(model_name)

    case_weight = params.casebook_weight
    case, y_case = load_casebook() if case_weight > 0 else (seed_train[:0], np.zeros(0))
    case = schema.canonical_only(case)

    def fit(user_part: pd.DataFrame, y_part: np.ndarray, case_part: pd.DataFrame, y_case_part: np.ndarray,
            ) -> ToxicityModel:
        train = pd.concat([schema.canonical_only(seed_train), case_part, schema.canonical_only(user_part)],
                          ignore_index=True)
        y = np.concatenate([y_seed[train_m], y_case_part, y_part])
        weights = np.concatenate([np.ones(len(seed_train)), np.full(len(case_part), case_weight),
                                  np.full(len(user_part), user_weight)])
        return fit_model(train, y, seed_calib, y_seed[calib_m], params, weights)

    # Grouped cross-validation over the user's labels (no referring site in train and test) and
    # over the casebook's sites: each fold's challenger scores its held-out user links and
    # casebook sites; a model of the same recipe without the user's labels scores the same
    # casebook sites, so the gate sees what the user's labels cost on the casebook.
    groups = referring_site(user)
    k = max(2, min(folds, len(pd.unique(groups))))
    fold_of = _fold_ids(groups, k, seed)
    case_fold = site_folds(load_casebook()[0]["case_author"].to_numpy(object), k, seed) if len(case) else np.zeros(0, int)
    challenger_cv = np.full(len(user), np.nan)
    case_challenger, case_without = np.full(len(case), np.nan), np.full(len(case), np.nan)
    for fold in range(k):
        test, case_test = fold_of == fold, case_fold == fold
        log(f"cross-validation fold {fold + 1}/{k}: {int(test.sum()):,} held-out user links, "
            f"{int(case_test.sum()):,} casebook links")
        case_train = case[~case_test].reset_index(drop=True)
        model = fit(user[~test].reset_index(drop=True), y_user[~test], case_train, y_case[~case_test])
        challenger_cv[test] = model.predict_proba(user[test].reset_index(drop=True))
        if case_test.any():
            held = case[case_test].reset_index(drop=True)
            case_challenger[case_test] = model.predict_proba(held)
            without = fit(user[:0], y_user[:0], case_train, y_case[~case_test])
            case_without[case_test] = without.predict_proba(held)
    champion_user = champion.predict_proba(user)
    log("training the final challenger on seed data, the casebook and all user labels")
    challenger = fit(user, y_user, case, y_case)
    y_test = y_seed[test_m]
    rows = {
        "champion": _row(y_user, champion_user, y_test, champion.predict_proba(seed_test), y_case, case_without),
        "challenger": _row(y_user, challenger_cv, y_test, challenger.predict_proba(seed_test), y_case, case_challenger),
    }
    table = pd.DataFrame(rows).T
    better_on_user = table.loc["challenger", "user_brier"] <= table.loc["champion", "user_brier"]
    keeps_seed = table.loc["challenger", "seed_roc_auc"] >= table.loc["champion", "seed_roc_auc"] - gate
    keeps_case = not len(case) or table.loc["challenger", "casebook_roc_auc"] >= table.loc["champion", "casebook_roc_auc"] - gate
    promote = bool(better_on_user and keeps_seed and keeps_case)
    failed = [why for ok, why in ((better_on_user, "worse on your links"),
                                  (keeps_seed, f"seed-holdout ROC-AUC fell by more than {gate}"),
                                  (keeps_case, f"casebook ROC-AUC fell by more than {gate}")) if not ok]
    why = "; ".join(failed) or "better or equal on your links and within the gate on the seed holdout and the casebook"
    result = RetrainResult(("dry run: would " if dry_run else "") + ("promote" if promote else "keep") + f" ({why})",
                           table, len(user), champion_version, notes=notes)
    if dry_run:
        return result
    challenger.metadata.update(name=model_name, trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               params=params.as_dict(), thresholds=champion.metadata.get("thresholds", {"toxic": 0.6, "suspicious": 0.3}),
                               user_labels=len(user), user_weight=user_weight)
    folder = Path(out) if out else config.home() / "models" / time.strftime("challenger-%Y%m%d-%H%M%S")
    save(challenger, folder)
    result.folder = folder

    metrics = {f"{who}_{k}": float(v) for who, row in table.iterrows() for k, v in row.items()}
    run_id, version = log_model(
        folder, {"user_weight": user_weight, "gate": gate, "folds": k, "seed": seed, "decision": result.decision,
                 "champion_version": champion_version},
        metrics, user.drop(columns=["view", "scheme"]).head(3), model_name=model_name,
        aliases=("challenger",), run_name="retrain", tags={"decision": result.decision})
    result.challenger_version = version
    if promote:
        set_alias(model_name, "champion", version)
    elif not registered:
        notes.append("the registry had no champion; the shipped default stays in use")
    return result


def _row(y_user: np.ndarray, p_user: np.ndarray, y_seed: np.ndarray, p_seed: np.ndarray,
         y_case: np.ndarray, p_case: np.ndarray) -> dict[str, float]:
    """Metrics on the user's links (cross-validated for the challenger), on the seed holdout and on
    the casebook's held-out sites."""
    user = scores(y_user, p_user)
    seed = scores(y_seed, p_seed)
    case = scores(y_case, p_case) if len(y_case) else {"roc_auc": np.nan}
    return {"user_error_rate": float(np.mean((p_user >= 0.5) != (y_user == 1))), "user_brier": user["brier"],
            "user_roc_auc": user["roc_auc"], "seed_roc_auc": seed["roc_auc"], "seed_brier": seed["brier"],
            "casebook_roc_auc": case["roc_auc"]}


def _fold_ids(groups: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold number per row, whole groups per fold, folds of similar size."""
    rng = np.random.default_rng(seed)
    unique, inverse = np.unique(groups.astype(str), return_inverse=True)
    order = rng.permutation(len(unique))
    fold_of_group = np.empty(len(unique), dtype=int)
    fold_of_group[order] = np.arange(len(unique)) % k
    return fold_of_group[inverse]
