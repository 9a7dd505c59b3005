"""Retraining started from the review page: one job at a time, in a thread of the service.

The job calls :func:`toxiclinks.labels.retrain`, the same gate as ``toxiclinks retrain``: the
challenger is measured against the champion and the ``champion`` alias moves only when it passes.
When the service follows that alias (``--model models:/…@champion``) it then loads the new
champion, as ``POST /reload`` does. The challenger is trained with the recipe (training
parameters) of the model being served, so that the figures measure the labels, not a change of
recipe; a model that records none gets the packaged parameters.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ToxiclinksError

if TYPE_CHECKING:
    from ..labels import LabelStore
    from ..model import ToxicityModel

_LOG = logging.getLogger(__name__)
#: Log lines of a job kept for the page (the last ones).
KEEP_LOG = 200


class Backend(Protocol):
    """What the review page needs of the service."""

    location: str | None
    model: ToxicityModel

    @property
    def store(self) -> LabelStore: ...

    def check_token(self, authorization: str) -> None: ...

    def reload_model(self) -> bool: ...


def recipe(model: ToxicityModel) -> dict[str, Any] | None:
    """The training parameters a model records, those this version knows; None when it records none."""
    from ..model import TrainingParams

    params = model.metadata.get("params")
    if not isinstance(params, dict):
        return None
    known = {f.name for f in dataclasses.fields(TrainingParams)}
    return {k: v for k, v in params.items() if k in known}


class RetrainJob:
    """The page's retraining: its state, log lines and result, one run at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"state": "idle", "log": [], "result": None, "error": ""}

    def start(self, backend: Backend, *, dry_run: bool) -> bool:
        """Start a run in a thread; False when one is running already."""
        with self._lock:
            if self._state["state"] == "running":
                return False
            self._state = {"state": "running", "dry_run": dry_run, "log": [], "result": None, "error": "",
                           "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        threading.Thread(target=self._run, args=(backend, dry_run), daemon=True, name="review-retrain").start()
        return True

    def status(self) -> dict[str, Any]:
        """A copy of the job's state for the page."""
        with self._lock:
            return {**self._state, "log": list(self._state["log"])}

    def _log(self, line: str) -> None:
        """Keep a progress line for the page (and log it)."""
        _LOG.info("retrain: %s", line)
        with self._lock:
            log = self._state["log"]
            log.append(line)
            del log[:-KEEP_LOG]

    def _finish(self, **values: Any) -> None:
        with self._lock:
            self._state.update(values, finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def _run(self, backend: Backend, dry_run: bool) -> None:
        """Retrain through the gate; reload the served model when it follows the alias that moved."""
        from ..audit import seen_rows
        from ..labels import retrain

        try:
            store = backend.store
            seen = seen_rows(store.unlinked())  # judgments stored before their audit was recorded
            result = retrain(store=store, seen=seen, extra_params=recipe(backend.model), dry_run=dry_run,
                             log=self._log)
            promoted = result.decision.startswith("promote")
            follows = str(backend.location or "").startswith("models:/")
            reloaded = False
            if promoted and follows:
                self._log("the champion alias moved: loading the new champion")
                reloaded = backend.reload_model()
            elif promoted:
                self._log(f"the champion alias moved; this service serves {backend.location or 'the default model'} "
                          "and keeps serving it (serve --model models:/toxiclinks@champion to follow the champion)")
            table = result.table
            rows = {who: {k: _number(v) for k, v in table.loc[who].items()} for who in table.index}
            self._finish(state="done", result={
                "decision": result.decision, "promoted": promoted and not dry_run, "dry_run": dry_run,
                "user_links": result.user_links, "champion_version": result.champion_version,
                "challenger_version": result.challenger_version, "metrics": list(table.columns), "rows": rows,
                "notes": result.notes, "reloaded": reloaded, "serving_version": backend.model.version})
        except ToxiclinksError as exc:  # the labels cannot train a challenger (too few, none): say why
            self._finish(state="failed", error=str(exc))
        except Exception:
            _LOG.exception("retraining from the review page failed")
            self._finish(state="failed", error="retraining failed with an internal error (the service's log "
                                               "has the details)")


def _number(value: Any) -> float | None:
    """A metric as JSON can carry it (NaN, for a metric that could not be computed, as null)."""
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number
