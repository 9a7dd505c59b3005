"""``python -m toxiclinks.features`` prints the feature catalogue (``features/FEATURES.md``)."""

from ._registry import markdown

print(markdown(), end="")
