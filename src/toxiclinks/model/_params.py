"""Training parameters: the JSON file (``training/params.json``) read once into a typed, checked object.

A key the trainer does not know, a value of the wrong kind or out of range is an
:class:`~toxiclinks.errors.InputError` naming the file and the key, never a silent default.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._views import VIEWS

DEFAULT_PARAMS = Path(__file__).parents[1] / "data" / "params.json"  # training/params.json links here
_REFERENCE_SPLITS = ("all", "known", "partial", "holdout")


@dataclass(frozen=True)
class TrainingParams:
    """Everything ``toxiclinks train`` and ``retrain`` take from the parameters file."""

    seed: int = 0
    synth_targets: int = 400
    synth_links_per_target: int = 250
    test_fraction: float = 0.2
    calibration_fraction: float = 0.15
    #: Share of target profiles shown through each export tool's columns.
    view_mix: dict[str, float] = field(default_factory=lambda: {"ahrefs": 1.0})
    #: LightGBM parameters, passed as they are (``n_estimators`` is the number of rounds).
    lightgbm: dict[str, Any] = field(default_factory=dict)
    tld_smoothing: float = 200.0
    domain_check_per_tld: int = 40
    casebook_weight: float = 0.0
    casebook_folds: int = 0
    #: Feature name → +1 (toxicity may only rise with it) or -1.
    monotone: dict[str, int] = field(default_factory=dict)
    reference_names: int = 0
    reference_names_weight: float = 1.0
    reference_split: str = "known"
    train_reference_split: str = "partial"

    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain JSON values (for the model's metadata and MLflow)."""
        return dataclasses.asdict(self)


def load_params(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainingParams:
    """Training parameters from JSON (the packaged ``params.json`` by default), ``overrides`` on top."""
    path = Path(path) if path else DEFAULT_PARAMS
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError("no such parameters file", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file (parameters are JSON)", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    if not isinstance(raw, dict):
        raise InputError("parameters must be a JSON object of name: value", path=str(path))
    return parse_params({**raw, **(overrides or {})}, str(path))


def parse_params(raw: dict[str, Any], where: str = "parameters") -> TrainingParams:
    """Check ``raw`` against :class:`TrainingParams`; an unknown key or a bad value is an error."""
    fields = {f.name: f for f in dataclasses.fields(TrainingParams)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InputError(f"unknown parameter {unknown[0]!r} (known: {', '.join(fields)})", path=where)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        kind = fields[name].type
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise InputError(f"parameter {name!r} must be a whole number, not {value!r}", path=where)
        if kind == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError(f"parameter {name!r} must be a number, not {value!r}", path=where)
        if kind.startswith("dict") and not isinstance(value, dict):
            raise InputError(f"parameter {name!r} must be an object of name: value", path=where)
        if kind == "str" and not isinstance(value, str):
            raise InputError(f"parameter {name!r} must be a string, not {value!r}", path=where)
        values[name] = float(value) if kind == "float" else value
    params = TrainingParams(**values)
    _check_ranges(params, where)
    return params


def _check_ranges(p: TrainingParams, where: str) -> None:
    """Values the trainer cannot use, named."""
    problems = []
    for name in ("test_fraction", "calibration_fraction"):
        if not 0 < getattr(p, name) < 1:
            problems.append(f"{name} must be between 0 and 1")
    if p.test_fraction + p.calibration_fraction >= 1:
        problems.append("test_fraction + calibration_fraction must leave data to train on")
    if min(p.synth_targets, p.synth_links_per_target) < 1:
        problems.append("synth_targets and synth_links_per_target must be at least 1")
    bad_tools = sorted(set(p.view_mix) - set(VIEWS))
    if bad_tools:
        problems.append(f"view_mix names an unknown tool {bad_tools[0]!r} (tools: {', '.join(VIEWS)})")
    if not p.view_mix or any(not isinstance(v, int | float) or v < 0 for v in p.view_mix.values()) \
            or sum(p.view_mix.values()) <= 0:
        problems.append("view_mix must give each tool a share ≥ 0, with a positive total")
    if any(v not in (-1, 1) for v in p.monotone.values()):
        problems.append("monotone constraints must be 1 or -1")
    for name in ("reference_split", "train_reference_split"):
        if getattr(p, name) not in _REFERENCE_SPLITS:
            problems.append(f"{name} must be one of {', '.join(_REFERENCE_SPLITS)}")
    for name in ("casebook_weight", "reference_names_weight", "tld_smoothing", "casebook_folds",
                 "reference_names", "domain_check_per_tld"):
        if getattr(p, name) < 0:
            problems.append(f"{name} must not be negative")
    if problems:
        raise InputError("; ".join(problems), path=where)
