"""What an audit reads besides exports (allow/deny lists, the label store's rules), and the guards
that keep every output off the files a run reads and off disavow lines of an earlier run."""

from __future__ import annotations

from pathlib import Path

from ..errors import DisavowError, InputError
from ..safeio import decode_text, input_problem, same_file, split_lines
from ..urls import URLError, normalize_host, site_entry
from . import _disavow as disavow


def stored_rules() -> tuple[list[str], list[str]]:
    """Allow/deny rules from the label store (they apply at once, without retraining)."""
    from ..config import label_store_path
    from ..labels import LabelStore

    if not label_store_path().exists():
        return [], []
    with LabelStore() as store:
        return store.rules()


def read_site_list(path: str | Path | None, kind: str = "allowlist") -> tuple[list[str], list[str]]:
    """An allowlist/denylist: one domain, ``domain:`` line or URL per line; ``#`` comments.

    Returns the entries and a note for each line that names no domain (it would match nothing,
    and a site meant to be kept safe would not be).
    """
    if not path:
        return [], []
    path = Path(path)
    problem = input_problem(path, f"{kind} file")
    if problem:
        raise InputError(problem, path=str(path))
    try:
        text = decode_text(path.read_bytes())[0]
    except ValueError:
        raise InputError(f"binary file, not an {kind} (one domain per line)", path=str(path)) from None
    entries, notes = [], []
    for number, line in enumerate(split_lines(text), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            normalize_host(site_entry(entry))
        except URLError:
            notes.append(f"{path}: line {number}: {entry[:100]!r} names no domain; ignored")
            continue
        entries.append(entry)
    return entries, notes


#: Every file an audit may write into its output folder.
OUTPUTS = ("links.csv", "links.parquet", "domains.csv", "disavow.txt", disavow.OVERFLOW_FILE, "report.html",
           "rejects.csv", "changes.csv")


def guard_inputs(out: Path, exports: list[str], *, existing_disavow: str | None, allowlist: str | None,
                  denylist: str | None, pages: str | None) -> None:
    """Refuse to write any output over a file the run reads (an export named links.csv in the output
    folder, say). The one exception is merging into the existing disavow file in place
    (``--existing-disavow DIR/disavow.txt``): the merged file keeps every line of it, and the audit
    refuses, later, when it would not."""
    inputs = [(path, "an export") for path in exports]
    inputs += [(path, role) for path, role in ((existing_disavow, "the --existing-disavow file"),
                                               (allowlist, "the --allowlist file"), (denylist, "the --denylist file"))
               if path]
    if pages and Path(pages).is_dir():
        inputs += [(path, "a saved page (--pages)") for path in [*Path(pages).glob("*.html"), *Path(pages).glob("*.htm")]]
    for name in OUTPUTS:
        target = out / name
        for path, role in inputs:
            if name == "disavow.txt" and role == "the --existing-disavow file":
                continue
            if same_file(target, path):
                raise InputError(f"the output {target} would replace {role} of this run ({path}); an output never "
                                 "replaces an input: choose another --out folder", path=str(path))


def guard_previous_overflow(target: Path, force: bool) -> None:
    """Refuse to replace an overflow file of an earlier run: its lines are in no other file."""
    if force or not target.exists():
        return
    lines, _ = disavow.read(target)
    if any(ln.kind in ("domain", "url") for ln in lines):
        raise DisavowError(f"{target} exists: it holds disavow lines of an earlier audit that did not fit in "
                           "disavow.txt, and a new audit would replace it. Move it away first, or pass --force.")


def guard_previous_disavow(target: Path, existing: str | None, force: bool) -> None:
    """Refuse to replace a disavow.txt whose entries the new file would not keep."""
    if not target.exists() or force:
        return
    if existing and same_file(existing, target):
        return
    lines, _ = disavow.read(target)
    if any(ln.kind in ("domain", "url") for ln in lines):
        raise DisavowError(f"{target} already exists with entries; the new file would not keep them. "
                           f"Pass it as --existing-disavow {target} to merge, or --force to replace it.")
