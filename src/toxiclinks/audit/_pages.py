"""Link placement from saved HTML pages: the region of the page that holds each link.

Give ``toxiclinks audit --pages DIR`` a folder of saved source pages (``*.html``/``*.htm``).
Each page is matched to its URL by an ``index.csv`` (``url,file``) in the folder when there is one,
else by the page's ``<link rel="canonical">`` or ``og:url``. For every link, the region is read
from the DOM around the ``<a>`` that points at the target: body, header, nav, sidebar, footer,
comments or author box. Nothing is fetched: pages are only read from disk, and never executed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..fetch import link_regions
from ..urls import URLError, host_of, normalize_url

MAX_PAGE_BYTES = 20 * 1024 * 1024
def page_regions(html: str, page_url: str | None = None) -> tuple[str | None, list[tuple[str, str]]]:
    """The page's canonical URL and (normalised link URL, region) for each link on it (the
    fetcher's page reader: one set of region rules for saved and fetched pages)."""
    return link_regions(html, page_url)


def load_folder(folder: str | Path) -> tuple[dict[str, Path], list[str]]:
    """Map normalised page URL → saved file; notes about files that could not be matched."""
    folder = Path(folder)
    if not folder.is_dir():
        from ..errors import InputError

        raise InputError("is a file; --pages takes the folder of saved pages (*.html)" if folder.exists()
                         else "no such folder of saved pages", path=str(folder))
    pages: dict[str, Path] = {}
    notes: list[str] = []
    index = folder / "index.csv"
    if index.exists():
        with index.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    pages[normalize_url(row.get("url") or "")] = folder / (row.get("file") or "")
                except URLError as exc:
                    notes.append(f"{index}: line {line}: {exc}")
        return pages, notes
    for path in sorted([*folder.glob("*.html"), *folder.glob("*.htm")]):
        canonical, _ = page_regions(_read(path)[:200_000])
        try:
            pages[normalize_url(canonical or "")] = path
        except URLError:
            notes.append(f"{path}: no canonical or og:url to tell which page it is; add an index.csv (url,file)")
    return pages, notes


def _read(path: Path) -> str:
    """A saved page as text (capped; undecodable bytes replaced)."""
    with path.open("rb") as fh:
        return fh.read(MAX_PAGE_BYTES).decode("utf-8", errors="replace")


def add_regions(links: pd.DataFrame, folder: str | Path,
                loaded: tuple[dict[str, Path], list[str]] | None = None) -> list[str]:
    """Fill ``links['region']`` from saved pages; rows without a page (or link on it) stay NA.

    ``loaded`` is :func:`load_folder`'s result, when a streamed audit calls this once per chunk.
    """
    pages, notes = loaded if loaded is not None else load_folder(folder)
    notes = list(notes)
    regions = pd.Series(pd.NA, index=links.index, dtype="string")
    for source, rows in links.groupby(links["source_url"].astype(object), sort=False).groups.items():
        path = pages.get(source)
        if path is None or not path.is_file():
            continue
        _, found = page_regions(_read(path), source)
        exact = dict(reversed(found))  # first occurrence wins
        by_host: dict[str, str] = {}
        for url, region in found:
            by_host.setdefault(host_of(url), region)
        for row in rows:
            target = links.at[row, "target_url"]
            if isinstance(target, str):
                regions.at[row] = exact.get(target) or by_host.get(host_of(target), pd.NA)
    links["region"] = regions
    matched = int(regions.notna().sum())
    notes.append(f"{len(pages):,} saved pages; region found for {matched:,} of {len(links):,} links")
    return notes
