"""The audit's outputs on the bundled sample and on a generated 200k-link export are the pinned ones
(``tests/pinned.py``): byte for byte, dates aside. A change meant to alter outputs updates the pins."""

from __future__ import annotations

import json

import pytest

from tests.pinned import PINS, generated_outputs, sample_outputs


@pytest.fixture(autouse=True)
def _fresh_home(tmp_path, monkeypatch):
    """A home with no recorded audit: the first audit of a site writes exactly the pinned outputs
    (it is recorded, but there is nothing to compare it with: no changes.csv, no changes section)."""
    monkeypatch.setenv("TOXICLINKS_HOME", str(tmp_path / "home"))


def _expect(kind: str) -> dict[str, str]:
    return json.loads(PINS.read_text("utf-8"))[kind]


def test_the_sample_audit_writes_the_pinned_outputs(tmp_path):
    assert sample_outputs(tmp_path) == _expect("sample")
    assert any((tmp_path / "home" / "history").glob("*/*.parquet"))  # recorded all the same


@pytest.mark.slow
def test_a_generated_200k_export_audits_to_the_pinned_outputs(tmp_path):
    assert generated_outputs(tmp_path) == _expect("generated")
