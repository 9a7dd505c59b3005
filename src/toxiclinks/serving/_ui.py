"""The review page at ``/ui``: an ASGI app mounted beside the service's API (``bentoml.asgi_app``).

It serves the page (``static/``: plain HTML, CSS and JavaScript, nothing from the network) and
the JSON it reads and writes under ``/ui/api/``:

- ``GET audits``, ``GET audits/{id}``, ``GET audits/{id}/sites``, ``GET audits/{id}/links?site=``:
  recorded audits, and for one the referring sites by risk and their links, with the decisions
  in the label store put over the audit's verdicts (``_review``);
- ``POST audits/{id}/decisions``: mark a site or a link toxic or natural, or always allow / always
  disavow / clear a site;
- ``GET audits/{id}/disavow`` (a summary), ``…/disavow.txt`` and ``…/disavow-overflow.txt`` (the files);
- ``POST retrain`` and ``GET retrain``: retraining through the gate (``_retrain_job``).

Writes need the service's bearer token (the service's own check) and come from the page's own
origin: a request that a browser marks as coming from another site is refused before the token is
looked at. Every answer carries a strict Content-Security-Policy (scripts from this origin only, no
inline script), and every error is a 4xx JSON ``{"error": …}`` saying what was wrong (a 500 only for
a bug of ours, without a traceback).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import anyio
from bentoml.exceptions import BentoMLException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import RequestError, ToxiclinksError
from ._http import client_status
from ._retrain_job import Backend, RetrainJob

if TYPE_CHECKING:
    from . import _review

_LOG = logging.getLogger(__name__)

#: Scripts, styles and requests from this origin only; no inline script or style, no plugins, no
#: frames, no forms posting elsewhere: exports carry hostile text, and this is the last fence.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                    (b"cross-origin-resource-policy", b"same-origin"), (b"cache-control", b"no-store")]
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8"}
#: Largest body a write of the page takes (a decision or a retrain request is a few hundred bytes).
MAX_WRITE_BYTES = 64 * 1024
MAX_PAGE = 1000
SITE_ACTIONS = ("toxic", "natural", "allow", "deny", "clear")
LINK_ACTIONS = ("toxic", "natural")


def review_app(backend: Callable[[], Backend]) -> Starlette:
    """The review page's ASGI app; ``backend`` gives the running service (its store, model, token check)."""
    files = _static_files()
    audits = _Audits()
    job = RetrainJob()

    async def page(request: Request) -> Response:
        return _file(files, "index.html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files or name == "index.html":
            raise RequestError(404, f"no such file: {name!r}")
        return _file(files, name)

    async def state(request: Request) -> Response:
        service = backend()
        return _json({"model_name": service.model.name, "model_version": service.model.version,
                      "model_location": str(service.location or "the default model")})

    async def audit_list(request: Request) -> Response:
        return _json({"audits": await _in_thread(_reviewing().audits)})

    async def audit(request: Request) -> Response:
        decided = await _in_thread(_decided, audits, backend, _audit_id(request))
        return _json(_reviewing().summary(decided))

    async def sites(request: Request) -> Response:
        offset = _int_param(request, "offset", 0, 0, 10**9)
        limit = _int_param(request, "limit", 200, 1, MAX_PAGE)
        query = request.query_params.get("q", "")[:200]
        decided = await _in_thread(_decided, audits, backend, _audit_id(request))
        return _json(_reviewing().site_rows(decided, offset, limit, query))

    async def links(request: Request) -> Response:
        site = _site_param(request.query_params.get("site"))
        limit = _int_param(request, "limit", 500, 1, MAX_PAGE)
        decided = await _in_thread(_decided, audits, backend, _audit_id(request))
        return _json(_reviewing().link_rows(decided, site, limit))

    async def decisions(request: Request) -> Response:
        service = backend()
        body = await _write_body(request, service)
        audit_id = _audit_id(request)
        author = _author(body)
        action = body.get("action")
        if "site" in body:
            _only(body, {"site", "action", "author"})
            site = _site_param(body["site"])
            if action not in SITE_ACTIONS:
                raise RequestError(400, f"action must be one of {', '.join(SITE_ACTIONS)}, not {action!r}")

            def write() -> dict[str, Any]:
                loaded = audits.get(audit_id)
                stored = _reviewing().mark_site(loaded, service.store, site, action, author)
                return _after(loaded, service, site, stored)
        elif "source_url" in body:
            _only(body, {"source_url", "target_url", "action", "author"})
            source, target = body["source_url"], body.get("target_url")
            if not isinstance(source, str) or not (target is None or isinstance(target, str)):
                raise RequestError(400, "source_url must be a string, target_url a string or null")
            if action not in LINK_ACTIONS:
                raise RequestError(400, f"action on a link must be one of {', '.join(LINK_ACTIONS)}, not {action!r}")

            def write() -> dict[str, Any]:
                loaded = audits.get(audit_id)
                stored = _reviewing().mark_link(loaded, service.store, source, target, action, author)
                where = loaded.links["source_url"].astype(object).to_numpy() == source
                return _after(loaded, service, str(loaded.sites[where][0]), stored)
        else:
            raise RequestError(400, "a decision names a site (site, action) or a link (source_url, target_url, action)")
        return _json(await _in_thread(write))

    async def disavow_summary(request: Request) -> Response:
        result = await _in_thread(_disavow, audits, backend, _audit_id(request))
        merged = result.merged
        text = merged.text
        return _json({"lines": len(merged.lines), "bytes": len(text.encode("utf-8")),
                      "added_domains": merged.added_domains, "added_urls": merged.added_urls, "kept": merged.kept,
                      "full": merged.full, "overflow": bool(merged.overflow), "notes": result.notes,
                      "preview": merged.lines[:400]})

    async def disavow_file(request: Request) -> Response:
        audit_id = _audit_id(request)
        result = await _in_thread(_disavow, audits, backend, audit_id)
        return _download(result.merged.text, f"disavow-audit-{audit_id}.txt")

    async def overflow_file(request: Request) -> Response:
        audit_id = _audit_id(request)
        result = await _in_thread(_disavow, audits, backend, audit_id)
        if not result.merged.overflow:
            raise RequestError(404, "everything fits in the disavow file: there is no overflow file")
        return _download(result.merged.overflow_text, f"disavow-overflow-audit-{audit_id}.txt")

    async def retrain_start(request: Request) -> Response:
        service = backend()
        body = await _write_body(request, service)
        _only(body, {"dry_run"})
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise RequestError(400, f"dry_run must be true or false, not {dry_run!r}")
        if not job.start(service, dry_run=dry_run):
            raise RequestError(409, "a retraining is running already; wait for it to finish")
        return _json(job.status(), 202)

    async def retrain_status(request: Request) -> Response:
        return _json(job.status())

    async def not_found(request: Request) -> Response:
        allowed = sorted({m for route in routes[:-1] if route.matches(request.scope)[0] == Match.PARTIAL
                          for m in route.methods or ()})
        if allowed:
            raise RequestError(405, f"{request.method} is not allowed here; use {', '.join(allowed)}")
        raise RequestError(404, f"no such page or endpoint: {request.url.path}")

    routes = [
        Route("/", _answered(page)),
        Route("/static/{name}", _answered(static)),
        Route("/api/state", _answered(state)),
        Route("/api/audits", _answered(audit_list)),
        Route("/api/audits/{audit_id:int}", _answered(audit)),
        Route("/api/audits/{audit_id:int}/sites", _answered(sites)),
        Route("/api/audits/{audit_id:int}/links", _answered(links)),
        Route("/api/audits/{audit_id:int}/decisions", _answered(decisions), methods=["POST"]),
        Route("/api/audits/{audit_id:int}/disavow", _answered(disavow_summary)),
        Route("/api/audits/{audit_id:int}/disavow.txt", _answered(disavow_file)),
        Route("/api/audits/{audit_id:int}/disavow-overflow.txt", _answered(overflow_file)),
        Route("/api/retrain", _answered(retrain_start), methods=["POST"]),
        Route("/api/retrain", _answered(retrain_status), methods=["GET"]),
        Route("/{rest:path}", _answered(not_found), methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.add_middleware(SecurityHeaders)
    return app


def _reviewing() -> Any:
    """The review logic, imported on first use: it loads the audit stage (and the model code
    behind it), which BentoML's supervisor process, importing the service only to read its
    settings, never needs."""
    from . import _review

    return _review


class _Audits:
    """The recorded audits read back (:class:`_review.Audits`), made on first use."""

    def __init__(self) -> None:
        self._audits: _review.Audits | None = None

    def get(self, audit_id: int) -> _review.Loaded:
        if self._audits is None:
            self._audits = _reviewing().Audits()
        return self._audits.get(audit_id)


def _answered(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The handler, its errors answered as JSON: 4xx for the client's mistakes, 500 (logged) for ours."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except RequestError as exc:
            return _error(exc.status, str(exc))
        except (ToxiclinksError, BentoMLException) as exc:
            status = getattr(exc, "status", 0) or client_status(exc)  # _review's errors carry theirs
            if status:
                return _error(status, str(exc))
            _LOG.exception("review page: %s %s failed", request.method, request.url.path)
            return _error(500, "internal error (the service's log has the details)")
        except Exception:
            _LOG.exception("review page: %s %s failed", request.method, request.url.path)
            return _error(500, "internal error (the service's log has the details)")

    endpoint.__name__ = handler.__name__
    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (a method a route does not take) as JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _error(status, str(exc.detail) if isinstance(exc, HTTPException) else "internal error")


class SecurityHeaders:
    """ASGI middleware: the page's security headers on every answer of the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured(message: Message) -> None:
            """Send ``message``, with the headers added to the answer's start."""
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in SECURITY_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*headers, *SECURITY_HEADERS]}
            await send(message)

        return await self.app(scope, receive, secured)


def _static_files() -> dict[str, tuple[bytes, str]]:
    """The page's files (package data), read once: name → (content, content type)."""
    folder = resources.files("toxiclinks.serving").joinpath("static")
    out = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else ""
        if item.is_file() and suffix in STATIC_TYPES:
            out[item.name] = (item.read_bytes(), STATIC_TYPES[suffix])
    return out


def _file(files: dict[str, tuple[bytes, str]], name: str) -> Response:
    content, kind = files[name]
    return Response(content, media_type=kind)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, allow_nan=False), status_code=status,
                    media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _download(text: str, name: str) -> Response:
    """A text file the browser saves under ``name`` (made of digits and ASCII letters only)."""
    return Response(text.encode("utf-8"), media_type="text/plain; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


async def _in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run blocking work (Parquet, SQLite, site tables) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: func(*args))


def _decided(audits: _Audits, backend: Callable[[], Backend], audit_id: int) -> _review.Decided:
    service = backend()
    return _reviewing().decide(audits.get(audit_id), service.store, service.model)


def _disavow(audits: _Audits, backend: Callable[[], Backend], audit_id: int) -> _review.Disavow:
    return _reviewing().disavow(_decided(audits, backend, audit_id))


def _after(loaded: _review.Loaded, service: Backend, site: str, stored: int) -> dict[str, Any]:
    """The answer to a decision: what was stored, the site's row and its links as they are now."""
    decided = _reviewing().decide(loaded, service.store, service.model)
    return {"stored": stored, "site": _reviewing().site_row(decided, site), "links": _reviewing().link_rows(decided, site, 500)}


def _audit_id(request: Request) -> int:
    return int(request.path_params["audit_id"])


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high]."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise RequestError(400, f"{name} must be a whole number from {low} to {high}, not {raw[:40]!r}")
    return int(raw)


def _site_param(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        raise RequestError(400, "site must be the name of a referring site (at most 300 characters)")
    return value.strip()


def _author(body: dict[str, Any]) -> str:
    author = body.get("author", "review page")
    if not isinstance(author, str) or not author.strip() or len(author) > 200:
        raise RequestError(400, "author must be a name of 1 to 200 characters")
    return author.strip()


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    """Refuse fields the endpoint does not take (a typo must not pass for a default)."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r} (this endpoint takes {', '.join(sorted(allowed))})")


def _same_origin(request: Request) -> None:
    """Refuse a write that a browser says comes from another site or origin."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise RequestError(403, f"requests from another origin are refused (Sec-Fetch-Site: {fetch_site[:40]})")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise RequestError(403, f"requests from another origin are refused (Origin: {origin[:100]})")


async def _write_body(request: Request, service: Backend) -> dict[str, Any]:
    """A write's JSON object, once the request is known to come from the page with the token."""
    _same_origin(request)
    service.check_token(request.headers.get("authorization", ""))
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise RequestError(415, f"send JSON (Content-Type: application/json), not {kind[:60] or 'no content type'}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WRITE_BYTES:
            raise RequestError(413, f"request body is larger than {MAX_WRITE_BYTES // 1024} KB")
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets
        raise RequestError(400, "request body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestError(400, "request body must be a JSON object")
    return data
