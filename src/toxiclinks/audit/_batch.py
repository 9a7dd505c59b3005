"""``toxiclinks audit-batch``: one audit per export in a folder, in parallel on a cluster (one
export per task, on the workers) or one after another here; a summary table of them all.

An export that cannot be audited (corrupt, unknown format, …) is reported in the summary with the
error's message and the others go on. Each audit writes into its own subfolder of the output
folder, as ``toxiclinks audit`` would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, ToxiclinksError
from ..safeio import write_csv_atomic
from ._inputs import guard_previous_disavow
from ._run import run_audit

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["export", "site", "links", "toxic", "new_disavow_lines", "error"]


@dataclass
class BatchResult:
    """One row per export (:data:`SUMMARY_COLUMNS`) and where the summary was written."""

    table: pd.DataFrame
    path: Path

    @property
    def failed(self) -> int:
        return int((self.table["error"] != "").sum())

    def summary(self) -> str:
        """The summary as an aligned text table, with a closing line."""
        shown = self.table.rename(columns={"new_disavow_lines": "new disavow lines"}).astype(str)
        widths = {c: max(len(c), *(shown[c].str.len().tolist() or [0])) for c in shown.columns}
        lines = ["  ".join(c.ljust(widths[c]) for c in shown.columns).rstrip()]
        lines += ["  ".join(str(v).ljust(widths[c]) for c, v in row.items()).rstrip() for _, row in shown.iterrows()]
        lines.append(f"{len(self.table) - self.failed} of {len(self.table)} exports audited"
                     + (f", {self.failed} failed (see the error column)" if self.failed else "")
                     + f"; summary in {self.path}")
        return "\n".join(lines)


def export_files(folder: str | Path) -> list[Path]:
    """The exports of a folder: its files (not hidden), in name order."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("no such folder of exports" if not root.exists() else "is not a folder", path=str(root))
    files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError("the folder holds no exports", path=str(root))
    return files


def _subfolders(files: list[Path]) -> list[str]:
    """One output subfolder name per export: its name without suffixes, or its whole name where two clash."""
    stems = [f.name.split(".")[0] or f.name for f in files]
    return [s if stems.count(s) == 1 else f.name for s, f in zip(stems, files, strict=True)]


def _audit_one(export: str, out: str, options: dict[str, Any]) -> dict[str, Any]:
    """One export's audit and its summary row; its error's message instead when it fails."""
    row: dict[str, Any] = {"export": Path(export).name, "site": "", "links": 0, "toxic": 0,
                           "new_disavow_lines": 0, "error": ""}
    try:
        result = run_audit([export], out, progress=False, **options)
    except ToxiclinksError as exc:
        row["error"] = str(exc)
        return row
    except OSError as exc:
        row["error"] = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        return row
    except Exception as exc:  # a bug of ours: the others still run, and the summary says so
        log.debug("audit of %s failed", export, exc_info=True)
        row["error"] = f"internal error: {type(exc).__name__}: {exc}"
        return row
    row.update(site=result.site or "", links=result.links, toxic=result.verdicts.get("toxic", 0),
               new_disavow_lines=result.disavow_domains + result.disavow_urls,
               error=result.full)  # a disavow file that could not hold everything needs the user too
    return row


def run_batch(folder: str | Path, out_dir: str | Path, *, cluster: str | None = None, force: bool = False,
              model: str | None = None, allowlist: str | None = None, denylist: str | None = None,
              site_topic: str | None = None, formats: str | None = None, history: bool = True) -> BatchResult:
    """Audit every export of ``folder`` into ``out_dir/<export name>/``; write ``summary.csv``.

    With ``cluster`` each export is one task (the worker reads the export and writes its outputs, so
    both folders must be seen by every worker); without, the audits run one after another here.
    """
    files = export_files(folder)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder", path=str(out))
    targets = [out / name for name in _subfolders(files)]
    for target in targets:  # refused before any audit starts, not one by one
        guard_previous_disavow(target / "disavow.txt", None, force)
    # Each audit may replace its own outputs: a task run again after its worker died finds them.
    options: dict[str, Any] = dict(model=model, allowlist=allowlist, denylist=denylist, site_topic=site_topic,
                                   formats=formats, history=history, force=True)
    rows: list[dict[str, Any]] = []
    if cluster is None:
        for export, target in zip(files, targets, strict=True):
            rows.append(_audit_one(str(export.absolute()), str(target.absolute()), options))
    else:
        from ._cluster import connect

        client, local = connect(cluster)
        try:
            futures = [client.submit(_audit_one, str(export.absolute()), str(target.absolute()), options,
                                     key=f"toxiclinks-audit-{i}-{export.name}", pure=False)
                       for i, (export, target) in enumerate(zip(files, targets, strict=True))]
            rows += [future.result() for future in futures]
        finally:
            client.close()
            if local is not None:
                local.close()
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table, out / "summary.csv")
    return BatchResult(table, out / "summary.csv")
