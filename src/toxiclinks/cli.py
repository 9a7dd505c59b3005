"""The ``toxiclinks`` command line: inspect, audit, disavow, synth, train, serve, label, retrain.

Every command turns :class:`~toxiclinks.errors.ToxiclinksError` into a one-line message on stderr
and exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import ToxiclinksError


def _cmd_inspect(args: argparse.Namespace) -> int:
    """Print what each export is and what it carries."""
    from .inspect import inspect_file

    status = 0
    for path in args.files:
        try:
            print(inspect_file(path, format=args.format, rejects_dir=args.rejects_dir))
        except ToxiclinksError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="toxiclinks", description="Find toxic backlinks in backlink exports and explain why.")
    parser.add_argument("--version", action="version", version=f"toxiclinks {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="show the format, columns and problems of exports")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", help="force a format instead of detecting it")
    p.add_argument("--rejects-dir", help="write each file's rejected rows as CSV into this folder")
    p.set_defaults(func=_cmd_inspect)
    for register in _REGISTRARS:
        register(sub)
    return parser


_REGISTRARS: list = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``toxiclinks`` console script."""
    from .config import quiet_third_parties

    quiet_third_parties()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ToxiclinksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
