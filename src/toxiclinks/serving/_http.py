"""The HTTP edges of the service: the one mapping from errors to HTTP answers, ASGI middleware
that limits request bodies and gives every error answer the same ``{"error": …}`` shape, and a log
filter that keeps client errors out of the error log. Imported by :mod:`toxiclinks.serving.service`
after BentoML's settings are in place."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from http import HTTPStatus

from bentoml.exceptions import BentoMLException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import settings
from ..errors import ToxiclinksError


class BodyLimit:
    """ASGI middleware: 413 for bodies over the limit (never buffered), 400 for broken multipart."""

    def __init__(self, app: ASGIApp, limit: int | None = None) -> None:
        self.app, self.limit = app, settings().max_body_bytes if limit is None else limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._reject(send)
        content_type = headers.get(b"content-type", b"").lower()
        if content_type.startswith(b"multipart/") and b"boundary=" not in content_type:
            # BentoML answers 500 to this; it is the client's mistake.
            return await json_error(send, 400, "multipart/form-data request without a boundary")
        seen = 0

        async def limited_receive() -> Message:
            """The next message of the request, counting its body."""
            # A body without a Content-Length (chunked) is counted as it comes. The error raised is
            # one BentoML answers with its status; it is read inside BentoML's request handling.
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge(self._message(), error_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            """Send ``message``, noting whether the answer has started."""
            nonlocal started
            started = started or message["type"] == "http.response.start"
            return await send(message)

        try:
            return await self.app(scope, limited_receive, unwrap_errors(tracked_send))
        except TooLarge:  # read outside BentoML's handling (none known): answer here if still possible
            if not started:
                return await self._reject(send)

    def _message(self) -> str:
        """What a client whose body is too large is told."""
        return f"request body is larger than {self.limit // (1024 * 1024)} MB; send fewer links per request"

    async def _reject(self, send: Send) -> None:
        """Answer 413."""
        await json_error(send, 413, self._message())


def unwrap_errors(send: Send) -> Send:
    """BentoML 1.4 sends its 4xx errors as ``[{"error": …}]``; send ``{"error": …}`` like the rest."""
    state: dict[str, Message | bytes] = {}

    async def wrapped(message: Message) -> None:
        """Send ``message``, holding a 4xx answer until its body is complete."""
        if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
            state["start"], state["body"] = message, b""
            return None
        if "start" in state and message["type"] == "http.response.body":
            state["body"] += message.get("body", b"")
            if message.get("more_body"):
                return None
            body = state["body"]
            try:
                data = json.loads(body)
                if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
                    body = json.dumps(data[0]).encode()
            except ValueError:
                pass
            headers = [(k, v) for k, v in state["start"]["headers"] if k.lower() != b"content-length"]
            await send({**state["start"], "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            return await send({"type": "http.response.body", "body": body})
        return await send(message)

    return wrapped


async def json_error(send: Send, status: int, message: str) -> None:
    """Send a JSON error response from ASGI middleware."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class TooLarge(BentoMLException):
    """A request body over the limit (HTTP 413)."""


class ClientErrors(logging.Filter):
    """BentoML logs every error answer with a traceback at ERROR, a 400 for a missing field or a 401
    for a wrong token too. Those are the client's mistakes, answered as such: they are logged as
    one INFO line saying what was wrong; server errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote a client error's record; let every record through."""
        with contextlib.suppress(Exception):  # a filter must never stop a record, nor the request logging it
            self._demote(record)
        return True

    @staticmethod
    def _demote(record: logging.LogRecord) -> None:
        """Make a client error's record one INFO line (everything computed before anything changes)."""
        exc = record.exc_info[1] if record.exc_info else None
        status = client_status(exc) if exc is not None and record.levelno >= logging.ERROR else 0
        if not status:
            return
        text = str(exc).strip()
        args = (record.getMessage().replace("Exception on", "Client error on", 1), status,
                (text.splitlines()[0] if text else type(exc).__name__)[:300])
        record.msg, record.args = "%s: answered %d, %s", args
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"


@contextlib.contextmanager
def answered(*, prefix: str = "", hide: str = "") -> Iterator[None]:
    """Answer the errors of toxiclinks raised inside (bad input, a disavow file or model that cannot
    be used) as client errors: status from :func:`client_status`, a JSON body ``{"error": message}``.

    Every endpoint runs in one. ``prefix`` starts the message; ``hide`` is a server path that the
    message must not show (an upload's temporary file), named "uploaded file" instead.
    """
    try:
        yield
    except ToxiclinksError as exc:
        message = str(exc).replace(hide, "uploaded file") if hide else str(exc)
        raise BentoMLException(prefix + message, error_code=HTTPStatus(client_status(exc))) from None


def client_status(exc: BaseException) -> int:
    """The 4xx status an error is answered with, 0 if it is not a client error."""
    from pydantic import ValidationError
    from starlette.requests import ClientDisconnect

    if isinstance(exc, ValidationError | ToxiclinksError):  # the request, its file or its settings
        return 400
    if isinstance(exc, ClientDisconnect):
        return 499  # nobody is left to answer; nginx's name for it
    if isinstance(exc, BentoMLException):
        status = int(exc.error_code)
        return status if 400 <= status < 500 else 0
    return 0


CLIENT_ERRORS = ClientErrors()
