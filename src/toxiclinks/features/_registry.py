"""The feature registry: every feature's name and one-line description, in output order.

``python -m toxiclinks.features`` prints ``features/FEATURES.md``; CI checks that the
checked-in file is current.
"""

from __future__ import annotations

from . import _anchor as anchor
from . import _domain as domain
from . import _placement as placement
from . import _profile as profile
from . import _topic as topic

FAMILIES = {
    "domain": ("Traits of the referring site, its metrics, and the public reference lists.", domain.FEATURES),
    "anchor": ("What the anchor text says, and how over-optimised the target's anchor profile is.", anchor.FEATURES),
    "placement": ("Where the link sits on the page, how it is marked, and what surrounds it.", placement.FEATURES),
    "topic": ("Whether the source talks about what the target site is about.", topic.FEATURES),
    "profile": ("How the referring site links to the target, and link velocity.", profile.FEATURES),
}
FEATURES: dict[str, str] = {name: desc for _, feats in FAMILIES.values() for name, desc in feats.items()}
#: Each feature's column in the feature matrix.
COLUMN: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
#: Features that are codes of categories, not quantities (LightGBM treats them as categorical).
CATEGORICAL: tuple[str, ...] = ("anchor__class", "anchor__money_category", "placement__link_type",
                                "placement__region")


def markdown() -> str:
    """The feature catalogue as Markdown."""
    lines = ["# Feature catalogue", "",
             "Generated from the feature registry by `make features`; do not edit by hand.",
             "Every feature is missing (NaN) when the export does not carry what it needs.", ""]
    for family, (intro, feats) in FAMILIES.items():
        lines += [f"## {family}", "", intro, "", "| feature | meaning |", "| --- | --- |"]
        lines += [f"| `{name}` | {desc}{' (categorical)' if name in CATEGORICAL else ''} |"
                  for name, desc in feats.items()]
        lines.append("")
    return "\n".join(lines)

