"""The audit's outputs on the bundled sample and on a generated 200k-link export are the pinned ones
(``tests/pinned.py``): byte for byte, dates aside. A change meant to alter outputs updates the pins."""

from __future__ import annotations

import json

import pytest

from tests.pinned import PINS, generated_outputs, sample_outputs


def _expect(kind: str) -> dict[str, str]:
    return json.loads(PINS.read_text("utf-8"))[kind]


def test_the_sample_audit_writes_the_pinned_outputs(tmp_path):
    assert sample_outputs(tmp_path) == _expect("sample")


@pytest.mark.slow
def test_a_generated_200k_export_audits_to_the_pinned_outputs(tmp_path):
    assert generated_outputs(tmp_path) == _expect("generated")
