"""Link features: the signals an expert auditor reads, as one scikit-learn transformer.

:class:`LinkFeatures` turns the canonical link table (:mod:`toxiclinks.schema`) into a numeric
matrix whose ``group__name`` columns are described in the registry (``features/FEATURES.md``).
Each family (anchor, domain, names, placement, profile, topic) lives in a private module with a
batch ``compute`` and, where a live request needs one, a ``compute_one`` for one link's plain
values that shares its rules; :func:`features_of` puts one link's row together from them.
"""

from __future__ import annotations

from ._anchor import CLASSES, AnchorClass
from ._context import Context, ContextBuilder
from ._lexicons import MONEY_NAMES
from ._names import NameModel
from ._pipeline import LinkFeatures
from ._placement import LINK_TYPES, REGIONS
from ._reference import is_holdout, popular_domains, spam_domains
from ._registry import CATEGORICAL, FEATURES, markdown
from ._single import features_of
from ._topic import dominant, source_vector, source_vectors

__all__ = [
    "CATEGORICAL", "CLASSES", "FEATURES", "LINK_TYPES", "MONEY_NAMES", "REGIONS", "AnchorClass", "Context",
    "ContextBuilder", "LinkFeatures", "NameModel", "dominant", "features_of", "is_holdout", "markdown",
    "popular_domains", "source_vector", "source_vectors", "spam_domains",
]

# Pickled models name these classes by their public home, so moving a private module never breaks one.
for _cls in (LinkFeatures, NameModel):
    _cls.__module__ = __name__
del _cls
