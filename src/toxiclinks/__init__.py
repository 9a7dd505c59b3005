"""toxiclinks: find toxic backlinks in backlink exports, explain why, write a disavow file.

The public API is small; everything else lives in modules named for what they do::

    from toxiclinks import read_export
    result = read_export("ahrefs_backlinks.csv")
    result.links      # the canonical link table (toxiclinks.schema)
    result.rejects    # rows that could not be used, with file, line, column and reason
"""

from __future__ import annotations

from .errors import (
    ConfigError,
    DisavowError,
    EmptyInputError,
    EncodingError,
    InputError,
    LabelsError,
    ModelError,
    ModelIntegrityError,
    ToxiclinksError,
    UnknownFormatError,
)
from .reading import ReadResult, detect, iter_export, read_export

__version__ = "0.1.0"

__all__ = [
    "ConfigError", "DisavowError", "EmptyInputError", "EncodingError", "InputError",
    "LabelsError", "ModelError", "ModelIntegrityError", "ReadResult", "ToxiclinksError",
    "UnknownFormatError", "__version__", "detect", "iter_export", "read_export",
]
