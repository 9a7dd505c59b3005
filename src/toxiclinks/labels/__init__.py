"""Labels and retraining: the user's judgments and site rules, and a challenger that learns from them.

:class:`LabelStore` keeps every judgment (SQLite, latest per link wins) and the allow/deny rules
that apply at once; :func:`retrain` trains a challenger on them and moves the MLflow ``champion``
alias only through the gate. The store is light; retraining (which needs the model stack) is
imported on first use, so the service can open the store without loading training code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._store import LabelStore

if TYPE_CHECKING:
    from ._retrain import RetrainResult, retrain

__all__ = ["LabelStore", "RetrainResult", "retrain"]


def __getattr__(name: str) -> Any:
    if name in ("retrain", "RetrainResult"):
        from . import _retrain

        return getattr(_retrain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
