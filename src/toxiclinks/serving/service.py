"""Real-time scoring over HTTP with BentoML 1.4: the same pipeline and scoring code as the audit.

Run it with ``toxiclinks serve`` (binds 127.0.0.1) or ``bentoml serve toxiclinks.serving.service:Toxiclinks``.
Endpoints: ``POST /score``, ``POST /score_export``, ``POST /disavow``; with a token
(``TOXICLINKS_API_TOKEN``) ``POST /feedback`` and ``POST /reload``; BentoML's own ``/livez``,
``/readyz``, ``/healthz``, ``/metrics`` (Prometheus) and ``/docs.json`` (OpenAPI); the review page
at ``/ui`` (``_ui``, mounted beside the API). The request and response bodies are in ``_schemas``,
the answers to errors in ``_http``.

Why no adaptive batching: profile features (anchor shares, links per referring site) are computed
over the links of one request, so merging unrelated requests into one batch would change their
scores. A request is the batch; send a list of links to score them together. A request of one
link skips the table altogether (:func:`toxiclinks.model.score_one`, same numbers) and is answered
on the event loop; bigger requests run one at a time in a worker thread.
"""

from __future__ import annotations

import functools
import gc
import hmac
import logging
import os
import threading
from collections.abc import Callable
from http import HTTPStatus
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from ..config import quiet_third_parties, settings, tune_memory

# BentoML reads its telemetry and home settings when it is imported, so they go first.
quiet_third_parties()

import anyio  # noqa: E402
import bentoml  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bentoml.exceptions import BentoMLException  # noqa: E402
from pydantic import Field  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..labels import LabelStore  # noqa: E402
from ..reading import canonical_links, read_export  # noqa: E402
from ..urls import UNKNOWN_SUFFIX, URLError, normalize_url, normalize_urls  # noqa: E402
from ._http import CLIENT_ERRORS, BodyLimit, answered  # noqa: E402
from ._schemas import (  # noqa: E402
    DisavowResponse,
    FeedbackResponse,
    Judgment,
    Link,
    Rejected,
    ReloadResponse,
    ScoredLink,
    ScoreResponse,
    scored_link,
)
from ._ui import review_app  # noqa: E402

_LOG = logging.getLogger(__name__)

# The model and the scoring code (LightGBM, scikit-learn: slow to import) are imported where they
# are used, in the worker: BentoML's supervisor imports this module too, only to read the settings.
if TYPE_CHECKING:
    from ..model import ToxicityModel

MAX_LINKS = 100_000
T = TypeVar("T")


def _settle() -> None:
    """Put the objects alive now (model, reference lists, caches) out of the cyclic collector's
    reach, so that a full collection over them does not pause a request. Refcounting still frees
    them; unfreezing first lets a reload's collection find the old model's cycles."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def links_frame(links: list[Link]) -> tuple[pd.DataFrame, list[int], list[Rejected]]:
    """Canonical table of the valid links, their request indices, and the rejected ones."""
    # Field by field rather than model_dump() link by link: far cheaper for many links.
    names = list(Link.model_fields)
    columns = [list(values) for values in zip(*map(attrgetter(*names), links), strict=True)] or [[] for _ in names]
    given = dict(zip(names, columns, strict=True))
    sources, source_errors = normalize_urls(given["source_url"])
    targets, target_errors = normalize_urls([url or None for url in given["target_url"]])
    given["source_url"], given["target_url"] = sources, targets
    kept, rejected = [], []
    for i, (source_error, target_error) in enumerate(zip(source_errors, target_errors, strict=True)):
        if source_error is None and target_error is None:
            kept.append(i)
        else:
            field, error = ("source_url", source_error) if source_error is not None else ("target_url", target_error)
            rejected.append(Rejected(index=i, field=field, reason=error))
    if rejected:
        given = {name: [values[i] for i in kept] for name, values in given.items()}
    table, missing_suffix = canonical_links(given, pd.RangeIndex(len(kept)))
    for pos in np.flatnonzero(missing_suffix):
        rejected.append(Rejected(index=kept[pos], field="source_url",
                                 reason=UNKNOWN_SUFFIX.format(table["source_host"].iat[pos])))
    if missing_suffix.any():
        keep = ~missing_suffix
        table = table.loc[keep].reset_index(drop=True)
        kept = [k for k, ok in zip(kept, keep, strict=True) if ok]
    return table, kept, sorted(rejected, key=lambda r: r.index)


def link_values(link: Link) -> tuple[dict[str, Any] | None, list[Rejected]]:
    """What :func:`links_frame` gives for a request of this one link, as plain values: its
    canonical fields and host columns (``None`` when missing), or why it is rejected."""
    values = link.model_dump()
    for field in ("source_url", "target_url"):
        if values[field] is None or (field == "target_url" and not values[field]):
            values[field] = None
            continue
        try:
            values[field] = normalize_url(values[field])
        except URLError as exc:
            return None, [Rejected(index=0, field=field, reason=str(exc))]
    values, missing_suffix = canonical_links(values)
    if missing_suffix:
        return None, [Rejected(index=0, field="source_url", reason=UNKNOWN_SUFFIX.format(values["source_host"]))]
    return values, []


@bentoml.asgi_app(review_app(bentoml.get_current_service), path="/ui")
@bentoml.service(name="toxiclinks", traffic={"timeout": 120, "concurrency": 32},
                 http={"host": "127.0.0.1", "port": 3000}, workers=1)
class Toxiclinks:
    """Scores backlinks with the toxiclinks model named by ``TOXICLINKS_MODEL`` (or the default)."""

    def __init__(self) -> None:
        tune_memory()
        for name in ("bentoml._internal.server.http_app", "bentoml.serve"):
            if CLIENT_ERRORS not in logging.getLogger(name).filters:
                logging.getLogger(name).addFilter(CLIENT_ERRORS)
        config = settings()
        self.location = config.model
        self.model = self._load()
        self._token = config.api_token
        self._store = LabelStore()
        self._limiter: anyio.CapacityLimiter | None = None
        watch = config.watch_seconds
        if watch > 0 and str(self.location or "").startswith("models:/"):
            threading.Thread(target=self._watch, args=(watch,), daemon=True, name="alias-watch").start()
        _settle()

    @bentoml.on_shutdown
    def _close(self) -> None:
        """Release the label store's kept connection when the server stops."""
        self._store.close()

    def _load(self) -> ToxicityModel:
        from ..model import load, score, score_one

        model = load(self.location)
        # Warm up caches and lazy structures so the first request is as fast as the rest.
        warm = Link(source_url="https://warm-up.example.com/", anchor="warm up", target_url="https://example.org/")
        score(model, links_frame([warm, warm])[0])
        score_one(model, link_values(warm)[0])
        return model

    def _score(self, model: ToxicityModel, table: pd.DataFrame, allowlist: list[str],
               site_topic: str | None) -> pd.DataFrame:
        """Score a table with ``model``: the caller's one reference, so a reload mid-request cannot
        mix one model's scores with another's name and version."""
        from ..model import score

        allow, deny = self._lists(allowlist)
        return score(model, table, allow=allow, deny=deny, site_topic=site_topic)

    def _lists(self, allowlist: list[str]) -> tuple[list[str], list[str]]:
        """The sites a request allows (its own allowlist and the stored allow rules) and denies."""
        allowed, denied = self._store.rules()
        return [*allowlist, *allowed], denied

    def _watch(self, seconds: float) -> None:
        """Reload when the registry alias the service follows points at a new version."""
        import time

        while True:
            time.sleep(seconds)
            try:
                self._reload()
            except Exception as exc:  # keep serving the current model; say why
                _LOG.warning("alias watch could not reload %s: %s", self.location, exc)

    def _reload(self) -> bool:
        """Load the model location again; swap it in if its version changed."""
        fresh = self._load()
        changed = fresh.version != self.model.version
        if changed:
            self.model = fresh  # an attribute swap: requests in flight keep the model they started with
            _settle()
        return changed

    def _authorize(self, ctx: bentoml.Context) -> None:
        """Write endpoints need ``Authorization: Bearer $TOXICLINKS_API_TOKEN``; no token, no writes."""
        self.check_token(ctx.request.headers.get("authorization", ""))

    def check_token(self, authorization: str) -> None:
        """Refuse an ``Authorization`` header that is not ``Bearer $TOXICLINKS_API_TOKEN`` (also the review page's writes)."""
        if not self._token:
            raise BentoMLException("write endpoints are disabled: set TOXICLINKS_API_TOKEN", error_code=HTTPStatus.FORBIDDEN)
        if not hmac.compare_digest(authorization.encode(), f"Bearer {self._token}".encode()):
            raise BentoMLException("missing or wrong bearer token", error_code=HTTPStatus.UNAUTHORIZED)

    @property
    def store(self) -> LabelStore:
        """The label store the service writes judgments to and reads site rules from."""
        return self._store

    def reload_model(self) -> bool:
        """Load the model location again, as ``POST /reload`` does (the review page's retraining)."""
        return self._reload()

    def _response(self, table: pd.DataFrame, kept: list[int], rejected: list[Rejected],
                  allowlist: list[str], site_topic: str | None) -> ScoreResponse:
        links: list[ScoredLink] = []
        model = self.model
        if len(table):
            scored = self._score(model, table, allowlist, site_topic)
            # Whole columns as Python lists: reading cells one by one costs far more per link.
            columns = zip(kept, table["source_url"].tolist(), table["target_url"].to_numpy(object, na_value=None).tolist(),
                          scored["toxicity"].astype(float).tolist(), scored["verdict"].astype(str).tolist(),
                          scored["reasons"].astype(str).tolist(), scored["anchor_class"].astype(str).tolist(),
                          scored["placement"].astype(str).tolist(), strict=True)
            links = [scored_link(*values) for values in columns]
        return ScoreResponse(model_name=model.name, model_version=model.version, links=links, rejected=rejected)

    def _score_one(self, link: Link, allowlist: list[str], site_topic: str | None) -> ScoreResponse:
        """A one-link request: the same numbers as :meth:`_response`, from plain values, without a table."""
        from ..model import score_one

        model = self.model
        values, rejected = link_values(link)
        links: list[ScoredLink] = []
        if values is not None:
            allow, deny = self._lists(allowlist)
            scored = score_one(model, values, allow=allow, deny=deny, site_topic=site_topic)
            links = [scored_link(0, values["source_url"], values["target_url"], float(scored["toxicity"]),
                                 *(str(scored[k]) for k in ("verdict", "reasons", "anchor_class", "placement")))]
        return ScoreResponse(model_name=model.name, model_version=model.version, links=links, rejected=rejected)

    @bentoml.api
    async def score(self, links: Annotated[list[Link], Field(min_length=1, max_length=MAX_LINKS)],
                    site_topic: Annotated[str, Field(max_length=500)] | None = None,
                    allowlist: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=10_000)] = [],  # noqa: B006
                    ) -> ScoreResponse:
        """Score links given in the canonical schema (only source_url is required)."""
        with answered():
            if len(links) == 1:
                # Little work, answered on the event loop: handing it to a worker thread and back
                # would cost about as much again.
                return self._score_one(links[0], allowlist, site_topic)
            return await self._in_worker(self._score_many, links, allowlist, site_topic)

    def _score_many(self, links: list[Link], allowlist: list[str], site_topic: str | None) -> ScoreResponse:
        table, kept, rejected = links_frame(links)
        return self._response(table, kept, rejected, allowlist, site_topic)

    async def _in_worker(self, func: Callable[..., T], *args: Any) -> T:
        """Run ``func`` in a worker thread, one request at a time (as BentoML runs sync APIs), so a
        few big requests cannot hold several tables in memory at once; the event loop keeps
        answering health checks and one-link requests meanwhile."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=self._limiter)

    @bentoml.api
    async def score_export(self, file: Path, format: Annotated[str, Field(max_length=40)] | None = None,
                           site_topic: Annotated[str, Field(max_length=500)] | None = None) -> ScoreResponse:
        """Score an uploaded export file in any supported format (Ahrefs, Semrush, GSC, …)."""
        with answered(hide=str(file)):
            return await self._in_worker(self._score_export, file, format, site_topic)

    def _score_export(self, file: Path, format: str | None, site_topic: str | None) -> ScoreResponse:
        result = read_export(file, format)
        if len(result.links) > MAX_LINKS * 10:
            raise InputError(f"the export has {len(result.links):,} links; the service scores at most "
                             f"{MAX_LINKS * 10:,} per upload: use 'toxiclinks audit' for larger files")
        rejected = [Rejected(index=int(r.line), field=str(r.column) or "row", reason=str(r.reason))
                    for r in result.rejects.itertuples()]
        kept = [int(x) for x in result.links["source_row"].to_numpy(dtype=float, na_value=0)]
        return self._response(result.links, kept, rejected, [], site_topic)

    @bentoml.api
    def feedback(self, labels: Annotated[list[Judgment], Field(min_length=1, max_length=MAX_LINKS)],
                 ctx: bentoml.Context, author: Annotated[str, Field(min_length=1, max_length=200)] = "api",
                 ) -> FeedbackResponse:
        """Store reviewers' judgments in the label store (token required); used by the next retrain."""
        self._authorize(ctx)
        with answered():
            rows, rejected = [], []
            for i, j in enumerate(labels):
                try:
                    source = normalize_url(j.source_url)
                    target = normalize_url(j.target_url) if j.target_url else None
                except URLError as exc:
                    rejected.append(Rejected(index=i, field="source_url/target_url", reason=str(exc)))
                    continue
                rows.append((source, target, 1 if j.label == "toxic" else 0, j.note or ""))
            stored = self._store.add(pd.DataFrame(rows, columns=["source_url", "target_url", "label", "note"]),
                                     author=author, origin="POST /feedback") if rows else 0
            return FeedbackResponse(stored=stored, rejected=rejected)

    @bentoml.api
    def reload(self, ctx: bentoml.Context) -> ReloadResponse:
        """Load the configured model again (e.g. after retraining moved the champion alias)."""
        self._authorize(ctx)
        with answered(prefix=f"reload failed, still serving version {self.model.version}: "):
            changed = self._reload()
        return ReloadResponse(model_name=self.model.name, model_version=self.model.version, changed=changed)

    @bentoml.api
    async def disavow(self, links: Annotated[list[Link], Field(max_length=MAX_LINKS)] = [],  # noqa: B006
                      existing_disavow: Annotated[str, Field(max_length=2 * 1024 * 1024 + 1000)] | None = None,
                      allowlist: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=10_000)] = [],  # noqa: B006
                      site_topic: Annotated[str, Field(max_length=500)] | None = None) -> DisavowResponse:
        """Score links and merge the recommendations into an existing disavow file (the audit's rules)."""
        with answered():
            return await self._in_worker(self._disavow, links, existing_disavow, allowlist, site_topic)

    def _disavow(self, links: list[Link], existing_disavow: str | None, allowlist: list[str],
                 site_topic: str | None) -> DisavowResponse:
        from ..audit import Recommendation, domain_table, merge, parse, recommendation

        model = self.model
        table, _, _ = links_frame(links)
        existing = parse(existing_disavow or "")
        if len(table):
            scored = self._score(model, table, allowlist, site_topic)
            domains = domain_table(table, scored, allowlist)
            rec = recommendation(table, scored, domains)
        else:
            rec = Recommendation()
        merged = merge(existing, rec, allow=allowlist, source="existing_disavow",
                       overflow_name="the response's overflow field")
        return DisavowResponse(disavow=merged.text, added_domains=merged.added_domains,
                               added_urls=merged.added_urls, kept_entries=merged.kept,
                               marked=merged.marked, notes=merged.notes, model_version=model.version,
                               overflow=merged.overflow_text, full=merged.full)


Toxiclinks.add_asgi_middleware(BodyLimit)


def run(model: str | None, port: int, host: str = "127.0.0.1", extra: list[str] | None = None) -> int:
    """``toxiclinks serve``: run ``bentoml serve`` for this service (replaces the process)."""
    import shutil
    import sys

    env = dict(os.environ)
    if model:
        env["TOXICLINKS_MODEL"] = model
    bentoml_bin = shutil.which("bentoml", path=str(Path(sys.executable).parent)) or "bentoml"
    args = [bentoml_bin, "serve", "toxiclinks.serving.service:Toxiclinks", "--host", host, "--port", str(port),
            *(extra or [])]
    os.execvpe(args[0], args, env)
    return 0  # not reached

