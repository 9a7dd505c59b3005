"""The one exception hierarchy of toxiclinks.

Raised at the edges (file import, model loading, HTTP) with messages that say what was wrong,
where, and what to do::

    ToxiclinksError
    ├── InputError            bad user input
    │   ├── UnknownFormatError    header matches no known export
    │   ├── EncodingError         bytes that are not text in any encoding we accept
    │   ├── EmptyInputError       nothing to read
    │   ├── LabelsError           a labels file that cannot be used
    │   ├── URLError              a URL or host that names no web page (toxiclinks.urls)
    │   └── FetchError            pages that cannot be fetched as asked (toxiclinks.fetch)
    ├── RequestError          a request to the service's review page refused (4xx, its status)
    ├── DisavowError          a disavow file that breaks Google's rules
    ├── ModelError            a model artifact that cannot be used
    │   └── ModelIntegrityError   corrupt, truncated or from an incompatible version
    └── ConfigError           bad settings (paths, tokens, tracking URI)

``URLError`` and ``FetchError`` live beside the code that raises them; every other class is here.
Exceptions of other types mean a bug (the CLI says so in one line, exit status 3) or a misuse of
the Python API (a wrong argument type), never bad input.
"""

from __future__ import annotations


class ToxiclinksError(Exception):
    """Base class of every error toxiclinks raises on purpose."""


class InputError(ToxiclinksError):
    """Bad input: the message names the file and, where known, line and column."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: str | None = None) -> None:
        where = ", ".join(
            part for part in (
                path and f"{path}",
                line is not None and f"line {line}" or "",
                column and f"column {column!r}" or "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.column = path, line, column


class UnknownFormatError(InputError):
    """The header matches none of the supported export formats."""


class EncodingError(InputError):
    """The file is binary or in an encoding that cannot be decoded."""


class EmptyInputError(InputError):
    """The file holds no header or no rows."""


class LabelsError(InputError):
    """A labels file that cannot be joined or understood."""


class RequestError(ToxiclinksError):
    """A request to the service answered with a 4xx ``status``: the message says what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DisavowError(ToxiclinksError):
    """A disavow file that breaks Google's rules or would lose existing entries."""


class ModelError(ToxiclinksError):
    """A model that cannot be loaded or used."""


class ModelIntegrityError(ModelError):
    """A model artifact that is corrupt, truncated or made by an incompatible version."""


class ConfigError(ToxiclinksError):
    """Settings that cannot work (paths, tokens, tracking URIs)."""
