"""The compact per-link record a streamed audit keeps for the whole-export outputs (domain table,
disavow file, report): codes instead of strings, toxic URLs spilled to a temporary file."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np
import pandas as pd

from ..features import CLASSES, REGIONS
from ..model import PLACEMENTS, VERDICTS
from ..reading import referring_site
from ._alarms import anchor_counts
from ._merge import Recommendation
from ._sites import recommend, site_table, url_sites_of

#: The model's verdicts, and the audit's own for links its fetch found gone (codes of the first
#: four are :data:`VERDICTS`' positions, as the site table reads them).
AUDIT_VERDICTS = (*VERDICTS, "gone")
_ANCHOR_LABELS = (*CLASSES, "unknown")
_PLACEMENT_LABELS = tuple(dict.fromkeys((*PLACEMENTS, *REGIONS)))


@dataclass
class Part:
    """One scored chunk's share of the accumulator, with codes numbered within the chunk; small
    enough to come back from a cluster's worker (:meth:`Accumulator.add_part` renumbers them)."""

    sites: np.ndarray  # the chunk's referring sites, in order of first appearance
    site: np.ndarray  # per link: its position in ``sites``
    toxicity: np.ndarray  # tenths, int16
    verdict: np.ndarray
    anchor_class: np.ndarray
    placement: np.ndarray
    flagged: np.ndarray  # rows (within the chunk) with reasons
    reason_names: np.ndarray
    reasons: np.ndarray  # per flagged row: its position in ``reason_names``
    toxic: np.ndarray  # rows (within the chunk) judged toxic
    toxic_urls: np.ndarray
    anchor_counts: pd.DataFrame
    targets: list[str]  # the chunk's first three target sites
    regions_found: int = 0

    def __len__(self) -> int:
        return len(self.site)


def compact(links: pd.DataFrame, scored: pd.DataFrame) -> Part:
    """The :class:`Part` of one scored chunk."""
    verdict = scored["verdict"].to_numpy(object)
    toxic = np.flatnonzero(verdict == "toxic")
    reasons = scored["reasons"].to_numpy(object)
    flagged = np.flatnonzero(reasons != "")
    site, sites = pd.factorize(referring_site(links))
    reason, reason_names = pd.factorize(reasons[flagged])
    return Part(
        sites=np.asarray(sites, dtype=object), site=site.astype(np.int32),
        toxicity=np.rint(scored["toxicity"].to_numpy(float) * 10).astype(np.int16),  # exact tenths
        verdict=_fixed_codes(verdict, AUDIT_VERDICTS),
        anchor_class=_fixed_codes(scored["anchor_class"].to_numpy(object), _ANCHOR_LABELS),
        placement=_fixed_codes(scored["placement"].to_numpy(object), _PLACEMENT_LABELS),
        flagged=flagged, reason_names=np.asarray(reason_names, dtype=object), reasons=reason.astype(np.int32),
        toxic=toxic, toxic_urls=links["source_url"].to_numpy(object)[toxic],  # normalised URLs hold no line breaks
        anchor_counts=anchor_counts(links, scored),
        targets=[str(t) for t in links["target_site"].dropna().unique()[:3]],
        regions_found=int(links["region"].notna().sum()) if "region" in links else 0,
    )


class Accumulator:
    """What the whole-export outputs need from each scored chunk, kept compact: codes instead of
    strings, and the URLs of toxic links spilled to a temporary file until the disavow file needs them."""

    def __init__(self, spill: IO[str]) -> None:
        self.site_codes: dict[str, int] = {}
        self.reason_codes: dict[str, int] = {}
        self.parts: list[dict[str, np.ndarray]] = []
        self.counts: list[pd.DataFrame] = []
        self.targets: dict[str, None] = {}  # the first three target sites, for the report title
        self.regions_found = 0
        self.toxic_urls = spill  # one URL per line
        self._cached: dict[str, np.ndarray] = {}  # the names of the codes, built once parts stop coming

    def add(self, links: pd.DataFrame, scored: pd.DataFrame, start: int) -> None:
        self.add_part(compact(links, scored), start)

    def add_part(self, part: Part, start: int) -> None:
        """Add one chunk's :class:`Part` (the links ``start:start + len(part)`` of the export)."""
        self._cached.clear()
        self.parts.append({
            "site": _recode(part.site, part.sites, self.site_codes),
            "toxicity": part.toxicity, "verdict": part.verdict, "anchor_class": part.anchor_class,
            "placement": part.placement, "flagged": part.flagged + start,
            "reasons": _recode(part.reasons, part.reason_names, self.reason_codes), "toxic": part.toxic + start,
        })
        self.toxic_urls.write("".join(f"{u}\n" for u in part.toxic_urls))
        self.counts.append(part.anchor_counts)
        if len(self.counts) >= 20:  # keep the partial counts small
            self.counts = [self.anchor_counts()]
        for target in part.targets:
            if len(self.targets) < 3:
                self.targets.setdefault(target)
        self.regions_found += part.regions_found

    def _column(self, name: str) -> np.ndarray:
        """A per-link (or per-flagged, per-toxic) column over the whole export."""
        if len(self.parts) > 1:  # parts have stopped coming: join them once, keeping no second copy
            self.parts = [{key: np.concatenate([p[key] for p in self.parts]) for key in self.parts[0]}]
        column = self.parts[0][name] if self.parts else np.empty(0, dtype=np.int64)
        column.flags.writeable = False  # shared by every caller
        return column

    def _names(self, kind: Literal["site", "reason"]) -> np.ndarray:
        """The strings numbered by ``site_codes`` or ``reason_codes``, indexable by their numbers."""
        key = f"{kind} names"
        if key not in self._cached:
            names = _names(self.site_codes if kind == "site" else self.reason_codes)
            names.flags.writeable = False
            self._cached[key] = names
        return self._cached[key]

    def toxicity(self) -> np.ndarray:
        """Toxicity 0-100 of every link, as the scores gave it."""
        return self._column("toxicity") / 10.0

    def verdicts(self) -> dict[str, int]:
        codes = np.bincount(self._column("verdict").astype(np.int64), minlength=len(AUDIT_VERDICTS))
        return {v: int(c) for v, c in zip(AUDIT_VERDICTS, codes, strict=True) if c}

    def site_table(self, allow: list[str]) -> pd.DataFrame:
        return site_table(self._names("site"), self._column("site"), self.toxicity(),
                          self._column("verdict"), self._column("flagged"), self._column("reasons"),
                          self._names("reason"), allow)

    def recommendation(self, domains: pd.DataFrame) -> Recommendation:
        """:func:`recommend` with the toxic links' URLs read back from the spill file where needed."""
        toxic = self._column("toxic")
        site_names = self._names("site")
        # Only the toxic links of sites whose URLs are disavowed one by one matter here: only
        # their URLs are read back (the spill file holds one line per toxic link, in order).
        wanted = np.zeros(len(site_names), dtype=bool)
        wanted[[self.site_codes[s] for s in url_sites_of(domains)]] = True
        keep = wanted[self._column("site")[toxic]] if len(toxic) else np.zeros(0, dtype=bool)
        self.toxic_urls.seek(0)
        urls = np.array([line.rstrip("\n") for line in itertools.compress(self.toxic_urls, keep)], dtype=object)
        toxic = toxic[keep]
        flagged, names = self._column("flagged"), np.append(self._names("reason"), "")
        pos = np.minimum(np.searchsorted(flagged, toxic), max(len(flagged) - 1, 0))
        has_reason = (flagged[pos] == toxic) if len(flagged) else np.zeros(len(toxic), dtype=bool)
        codes = np.where(has_reason, self._column("reasons")[pos] if len(flagged) else -1, len(names) - 1)
        return recommend(domains, site_names[self._column("site")[toxic]], urls, self.toxicity()[toxic],
                         names[codes])

    def anchor_counts(self) -> pd.DataFrame:
        if not self.counts:
            return pd.DataFrame(columns=["target", "anchor", "cls", "n"])
        return pd.concat(self.counts, ignore_index=True).groupby(
            ["target", "anchor", "cls"], sort=False)["n"].sum().reset_index()

    def report_frame(self) -> pd.DataFrame:
        """The per-link columns the report charts."""
        return pd.DataFrame({
            "toxicity": self.toxicity(),
            "verdict": pd.Categorical.from_codes(self._column("verdict").astype(np.int8), AUDIT_VERDICTS),
            "anchor_class": pd.Categorical.from_codes(self._column("anchor_class").astype(np.int8), _ANCHOR_LABELS),
            "placement": pd.Categorical.from_codes(self._column("placement").astype(np.int8), _PLACEMENT_LABELS),
            "source_site": self._column("site"),
        })


def _recode(local: np.ndarray, uniques: np.ndarray, known: dict[str, int]) -> np.ndarray:
    """Numbers for a chunk's strings (``uniques[local]``), stable across chunks (new ones are added
    to ``known`` in order of first appearance)."""
    mapping = np.array([known.setdefault(v, len(known)) for v in uniques], dtype=np.int32)
    return mapping[local] if len(local) else np.empty(0, dtype=np.int32)


def _fixed_codes(values: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Positions of ``values`` in a small fixed vocabulary ``labels`` (every value is one of them);
    one dictionary lookup per value, cheaper than building a ``pd.Categorical``."""
    index = {label: i for i, label in enumerate(labels)}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int8, count=len(values))


def _names(known: dict[str, int]) -> np.ndarray:
    """The strings of :func:`_codes`, indexable by their numbers."""
    return np.array(list(known), dtype=object)
