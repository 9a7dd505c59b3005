"""Fingerprints of the audit's outputs on two fixed inputs, so that a change meant to keep behaviour
(a refactor, a faster code path) is shown to keep every byte, and one that changes outputs says so.

The inputs: the bundled sample with its existing disavow file (what ``make audit`` runs), and a
generated 200,000-link export (seed 2024, the benchmarks' recipe). ``python tests/pinned.py
--update`` rewrites ``tests/pinned_outputs.json`` after a change that is meant to alter outputs
(a retrained model, say); the diff of that file then shows which outputs changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
PINS = Path(__file__).with_name("pinned_outputs.json")
GENERATED_LINKS = 200_000
_DATED = re.compile(rb"\d{4}-\d{2}-\d{2}")  # the disavow file says when lines were added


def fingerprint(out: Path, inputs: dict[str, str]) -> dict[str, str]:
    """SHA-256 of every output in ``out``: dates blanked, the input paths (keys of ``inputs``, which
    outputs quote) replaced by their names, links.parquet by its rows rather than its bytes (the file
    also records the writing library's version)."""
    prints = {}
    for path in sorted(out.iterdir()):
        data = path.read_bytes()
        if path.suffix == ".parquet":
            frame = pq.read_table(io.BytesIO(data)).to_pandas()
            data = frame.to_csv(index=False).encode("utf-8") + str(list(frame.dtypes)).encode()
        for given, name in sorted(inputs.items(), key=lambda kv: -len(kv[0])):
            data = data.replace(given.encode("utf-8"), name.encode("utf-8"))
        prints[path.name] = hashlib.sha256(_DATED.sub(b"YYYY-MM-DD", data)).hexdigest()
    return prints


def sample_outputs(tmp: Path) -> dict[str, str]:
    """Audit the bundled sample as ``make audit`` does; the outputs' fingerprints."""
    from toxiclinks.audit import run_audit

    out, export, existing = tmp / "sample", ROOT / "data/sample/ahrefs_sample.csv", ROOT / "data/sample/existing_disavow.txt"
    run_audit([str(export)], out, existing_disavow=str(existing), progress=False)
    return fingerprint(out, {str(export): "EXPORT", str(existing): "EXISTING"})


def generated_outputs(tmp: Path) -> dict[str, str]:
    """Audit a generated 200k-link export (the benchmarks' recipe); the outputs' fingerprints."""
    from toxiclinks.audit import run_audit
    from toxiclinks.model import write_seed_data

    links, _, _ = write_seed_data(tmp / "export", max(1, GENERATED_LINKS // 300), 300, seed=2024, labels=False)
    out = tmp / "generated"
    run_audit([str(links)], out, progress=False)
    return fingerprint(out, {str(links): "EXPORT"})


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pins = {"sample": sample_outputs(Path(tmp)), "generated": generated_outputs(Path(tmp))}
    PINS.write_text(json.dumps(pins, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {PINS}")
