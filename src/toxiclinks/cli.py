"""The ``toxiclinks`` command line: inspect, audit, audit-batch, disavow, synth, train, serve, label, retrain.

Every command turns :class:`~toxiclinks.errors.ToxiclinksError` into a one-line message on stderr
and exit status 2; a traceback means a bug. Ctrl-C (SIGINT) and SIGTERM stop a command the same
way: temporary files removed, no output half-written, one line saying so (status 130 and 143).
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from collections.abc import Sequence

from .config import debug, quiet_third_parties, settings
from .errors import ToxiclinksError


def _cmd_inspect(args: argparse.Namespace) -> int:
    """Print what each export is and what it carries."""
    from .reading import inspect_file

    status = 0
    for path in args.files:
        try:
            print(inspect_file(path, format=args.format, rejects_dir=args.rejects_dir))
        except ToxiclinksError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


def _cmd_synth(args: argparse.Namespace) -> int:
    """Write seeded, labelled link profiles."""
    from .model import write_seed_data

    links, labels, count = write_seed_data(args.out, args.targets, args.links_per_target, args.seed,
                                           labels=not args.no_labels)
    print(f"wrote {count:,} links to {links}" + (f" and labels to {labels}" if labels else ""))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    """Train, evaluate against baselines, save, and track in MLflow."""
    from .model import markdown_table, train

    result = train(args.export, args.labels, params_path=args.config, out=args.out,
                   track=not args.no_track)
    print(f"\nmodel saved to {result.folder} (metrics in {result.folder / 'metrics.md'})")
    if result.casebook is not None:
        print("casebook, leave-sites-out:")
        print(markdown_table(result.casebook.table()))
    print("seed data, held-out referring sites:")
    print(markdown_table(result.table))
    print("\ndomain-only check (real domains, source URL only):")
    print(markdown_table(result.domain_check))
    if result.run_id:
        print(f"\nMLflow run {result.run_id}; registered as toxiclinks version "
              f"{result.registered_version} (alias 'challenger')")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    """Score exports and write links, domains, disavow file and report."""
    from .audit import run_audit

    options = None
    if args.fetch:
        from .fetch import FetchOptions

        options = FetchOptions(delay=args.fetch_delay, refetch_after_days=args.refetch_after,
                               allow_private=args.allow_private)
    result = run_audit(args.exports, args.out, existing_disavow=args.existing_disavow,
                       allowlist=args.allowlist, denylist=args.denylist, site_topic=args.site_topic,
                       model=args.model, force=args.force, formats=args.format, pages=args.pages,
                       site=args.site, fetch=args.fetch, fetch_options=options, history=not args.no_history,
                       cluster=args.cluster)
    print(result.summary())
    if result.full:  # the disavow file could not hold everything: the user must decide what goes
        print(f"error: {result.full}", file=sys.stderr)
        return 1
    return 0


def _cmd_audit_batch(args: argparse.Namespace) -> int:
    """Audit every export of a folder (in parallel on a cluster); print and write a summary."""
    from .audit import run_batch

    result = run_batch(args.folder, args.out, cluster=args.cluster, force=args.force, model=args.model,
                       allowlist=args.allowlist, denylist=args.denylist, site_topic=args.site_topic,
                       formats=args.format, history=not args.no_history)
    print(result.summary())
    return 2 if result.failed else 0


def _cmd_disavow_validate(args: argparse.Namespace) -> int:
    """Check disavow files against Google's rules."""
    from .audit import validate

    status = 0
    for path in args.files:
        problems = validate(path)
        errors = [p for p in problems if "redundant" not in p]
        for p in problems:
            print(p)
        print(f"{path}: {'valid' if not errors else f'{len(errors)} problem(s)'}"
              + (f", {len(problems) - len(errors)} redundant line(s)" if len(problems) > len(errors) else ""))
        status = status or (1 if errors else 0)
    return status


def _cmd_serve(args: argparse.Namespace) -> int:
    """Start the HTTP service (bentoml serve) on 127.0.0.1 unless told otherwise."""
    from .model import load

    settings()  # a setting the service cannot use fails here, in one line, not inside the server
    load(args.model)
    from .serving.service import run

    return run(args.model, args.port, args.host)


def _cmd_label(args: argparse.Namespace) -> int:
    """Import judgments, or allow/deny/clear a site, in the label store."""
    from .labels import LabelStore
    from .reading import read_labels

    store = LabelStore(args.db)
    if args.label_command == "import":
        from .audit import seen_rows

        total = 0
        for path in args.files:
            labels, rejects = read_labels(path)
            total += store.add(labels, author=args.author, origin=str(path))
            rows = store.keep_rows(seen_rows(labels), origin="recorded audits")
            for r in rejects.itertuples():
                print(f"{r.file}: line {r.line}: {r.reason}", file=sys.stderr)
            print(f"{path}: {len(labels):,} judgments stored, {len(rejects):,} rows rejected; "
                  f"{rows:,} link rows from recorded audits")
        unlinked = len(store.unlinked())
        print(f"label store {store.path}: {len(store.latest()):,} labelled links"
              + (f"; {unlinked:,} without a link row (no recorded audit saw them: give retrain --export)"
                 if unlinked else ""))
        return 0
    for site in args.sites:
        store.set_rule(site, args.label_command, author=args.author, note=args.note or "")
    with store:
        allowed, denied = store.rules()
    print(f"allowlist: {len(allowed):,} sites; denylist: {len(denied):,} sites (they apply to the next audit "
          "and the next request, no retraining needed)")
    return 0


def _cmd_retrain(args: argparse.Namespace) -> int:
    """Train a challenger on seed data + the label store; promote it if it passes the gate."""
    from .audit import seen_rows
    from .labels import LabelStore, retrain

    store = LabelStore(args.db)
    seen = seen_rows(store.unlinked())  # judgments stored before their audit was recorded, or via the API
    result = retrain(args.export, store=store, seen=seen, params_path=args.config, gate=args.gate,
                     user_weight=args.user_weight, folds=args.folds, dry_run=args.dry_run)
    print(result.summary())
    return 0


def _user() -> str:
    """The login name, for the author of judgments."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "unknown"


_CLUSTER_HELP = ("run on a Dask cluster: a scheduler's address (tcp://HOST:8786; exports and DIR on a folder "
                 "every worker sees) or local:N for N worker processes on this machine")



def _audit_options(p: argparse.ArgumentParser, topic_help: str) -> None:
    """The options ``audit`` and ``audit-batch`` share: lists, topic, model and format."""
    p.add_argument("--allowlist", metavar="FILE", help="domains never to disavow, one per line")
    p.add_argument("--denylist", metavar="FILE", help="domains always treated as toxic")
    p.add_argument("--site-topic", metavar="WORDS", help=topic_help)
    p.add_argument("--model", metavar="PATH|models:/NAME@ALIAS", help="model folder or MLflow model URI")
    p.add_argument("--format", help="force an export format instead of detecting it")

def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="toxiclinks", description="Find toxic backlinks in backlink exports and explain why.")
    parser.add_argument("--version", action="version", version=f"toxiclinks {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show progress (-v) and details (-vv) on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="show the format, columns and problems of exports")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", help="force a format instead of detecting it")
    p.add_argument("--rejects-dir", help="write each file's rejected rows as CSV into this folder")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("audit", help="score exports; write links, domains, disavow file and report")
    p.add_argument("exports", nargs="+", metavar="EXPORT")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--existing-disavow", metavar="FILE", help="the disavow file already uploaded (kept whole)")
    _audit_options(p, 'what the audited site is about ("outdoor gear")')
    p.add_argument("--pages", metavar="DIR", help="folder of saved source pages (*.html) for DOM placement")
    p.add_argument("--force", action="store_true", help="replace an existing DIR/disavow.txt")
    p.add_argument("--site", metavar="DOMAIN", help="the audited site, for exports that do not name it (Search Console)")
    p.add_argument("--fetch", nargs="?", const="missing", choices=("missing", "all"),
                   help="fetch referring pages: of thin rows (GSC, Bing, URL lists, rows without anchors), "
                        "or of every link with 'all' to check each is still there. Off by default")
    p.add_argument("--refetch-after", type=float, default=30.0, metavar="DAYS",
                   help="reuse fetched pages younger than this (cache in $TOXICLINKS_HOME; default 30)")
    p.add_argument("--fetch-delay", type=float, default=1.0, metavar="SECONDS",
                   help="pause between two requests to the same host (default 1)")
    p.add_argument("--allow-private", action="store_true",
                   help="let --fetch reach private and loopback addresses (off: only the public web)")
    p.add_argument("--no-history", action="store_true",
                   help="do not record this audit in $TOXICLINKS_HOME/history (nor compare it with the last one)")
    p.add_argument("--cluster", metavar="ADDRESS|local:N", help=_CLUSTER_HELP)
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("audit-batch", help="audit every export of a folder (in parallel on a cluster), with a summary")
    p.add_argument("folder", metavar="EXPORTS_DIR")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: one subfolder per export, and summary.csv")
    p.add_argument("--cluster", metavar="ADDRESS|local:N", help=_CLUSTER_HELP)
    _audit_options(p, "what the audited sites are about")
    p.add_argument("--force", action="store_true", help="replace existing DIR/*/disavow.txt files")
    p.add_argument("--no-history", action="store_true", help="do not record the audits in $TOXICLINKS_HOME/history")
    p.set_defaults(func=_cmd_audit_batch)

    p = sub.add_parser("serve", help="serve real-time scoring over HTTP (BentoML)")
    p.add_argument("--model", metavar="PATH|models:/NAME@ALIAS", help="model folder or MLflow model URI")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("disavow", help="disavow file tools")
    dsub = p.add_subparsers(dest="disavow_command", required=True)
    v = dsub.add_parser("validate", help="check disavow files against Google's rules, line by line")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(func=_cmd_disavow_validate)

    p = sub.add_parser("label", help="store your judgments and site rules")
    lsub = p.add_subparsers(dest="label_command", required=True)
    imp = lsub.add_parser("import", help="import a labels CSV or an audit's links.csv with a filled label column")
    imp.add_argument("files", nargs="+", metavar="FILE")
    for name, what in (("allow", "never disavow these sites"), ("deny", "always treat these sites as toxic"),
                       ("clear", "remove a site's allow/deny rule")):
        rule = lsub.add_parser(name, help=what)
        rule.add_argument("sites", nargs="+", metavar="DOMAIN")
        rule.add_argument("--note")
    for sp in (imp, *[lsub.choices[n] for n in ("allow", "deny", "clear")]):
        sp.add_argument("--db", help="label store (default $TOXICLINKS_HOME/labels.sqlite)")
        sp.add_argument("--author", default=_user(), help="who judged (default: your login name)")
    p.set_defaults(func=_cmd_label)

    p = sub.add_parser("retrain", help="train a challenger on your labels; promote it if it is better")
    p.add_argument("--export", action="append", default=[],
                   help="an export your labels refer to, adding its labelled rows (repeatable; optional: the "
                        "label store keeps the rows of links that recorded audits saw)")
    p.add_argument("--db", help="label store (default $TOXICLINKS_HOME/labels.sqlite)")
    p.add_argument("--config", help="parameters JSON (default training/params.json)")
    p.add_argument("--gate", type=float, default=0.01, help="largest seed-holdout ROC-AUC loss allowed")
    p.add_argument("--user-weight", type=float, default=5.0, help="weight of a user label vs a seed label")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--dry-run", action="store_true", help="measure and decide, change nothing")
    p.set_defaults(func=_cmd_retrain)

    p = sub.add_parser("synth", help="write seeded, labelled link profiles (Ahrefs format)")
    p.add_argument("--out", required=True, help="folder for links.csv and labels.csv")
    p.add_argument("--targets", type=int, default=20, help="fictional target sites")
    p.add_argument("--links-per-target", type=int, default=250, help="median links per target")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-labels", action="store_true", help="write only the export")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("train", help="train a model on labelled exports (seed data by default)")
    p.add_argument("--export", action="append", default=[], help="export file (repeatable)")
    p.add_argument("--labels", action="append", default=[], help="labels CSV (repeatable)")
    p.add_argument("--config", help="parameters JSON (default training/params.json)")
    p.add_argument("--out", default="models/default", help="model folder to write")
    p.add_argument("--no-track", action="store_true", help="do not log to MLflow")
    p.set_defaults(func=_cmd_train)
    return parser


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt, so that the same
    clean-up runs (temporary output files removed)."""


def _terminate(signum: int, frame: object) -> None:
    """The SIGTERM handler."""
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``toxiclinks`` console script."""
    from .config import setup_logging, tune_memory

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    tune_memory()
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        return _run(args)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(args: argparse.Namespace) -> int:
    """Run a parsed command; every way it can end is one line and an exit status."""
    try:
        quiet_third_parties()  # before any command: it also checks that TOXICLINKS_HOME can be used
        return int(args.func(args) or 0)
    except ToxiclinksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output was piped into a program that stopped reading (head)
        return 0
    except OSError as exc:  # unwritable folder, disk full, a file where a folder should be
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was half-written", file=sys.stderr)
        return 130
    except _Terminated:
        print("terminated (SIGTERM); no output was half-written", file=sys.stderr)
        return 143
    except Exception as exc:  # a bug of ours: one line that says so; the traceback on request
        if debug():
            raise
        print(f"internal error: {type(exc).__name__}: {exc}. This is a bug in toxiclinks, not in your input "
              "files (no output was half-written); run again with TOXICLINKS_DEBUG=1 to see where, and report it",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
