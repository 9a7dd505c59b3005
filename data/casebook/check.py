"""Check casebook site folders: `python data/casebook/check.py data/casebook/<site> ...`.

Each site's export must read with no rejects, every label must match exactly one link, every link
must have one label, and categories must agree with labels. Prints `ok <site>` or the problems.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from toxiclinks.errors import ToxiclinksError
from toxiclinks.reading import read_export
from toxiclinks.urls import normalize_url_series

TOXIC = {"paid_guest_post", "link_insertion", "pbn", "link_exchange", "directory_spam",
         "web20_microsite", "comment_spam", "forum_profile_spam", "widget_footer", "press_release",
         "hacked_parasite", "scraper", "negative_seo", "paid_news"}
NATURAL = {"editorial", "press_coverage", "citation", "partner_sitewide", "sponsorship",
           "resource_page", "forum_ugc", "genuine_comment", "declared_sponsored",
           "foreign_relevant", "platform_blog"}
FORMATS = {"ahrefs": "ahrefs", "semrush": "semrush", "majestic": "majestic", "gsc": "gsc_latest"}


def check(folder: Path) -> list[str]:
    problems: list[str] = []
    export, labels_path = folder / "export.csv", folder / "labels.csv"
    for p in (export, labels_path):
        if not p.is_file():
            return [f"missing {p}"]
    try:
        result = read_export(export)
    except ToxiclinksError as exc:
        return [f"export: {exc}"]
    if len(result.rejects):
        problems.append(f"{len(result.rejects)} rejected rows:\n{result.rejects.head(10).to_string()}")
    problems += [f"reader: {p}" for p in result.problems]
    links = result.links
    try:
        with labels_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        return problems + [f"labels.csv is not UTF-8 (byte {exc.start}): save it as UTF-8"]
    if not rows or reader.fieldnames != ["source_url", "target_url", "label", "category", "note"]:
        return problems + ["labels.csv header must be source_url,target_url,label,category,note"]
    short = [i + 2 for i, r in enumerate(rows) if None in r.values() or None in r]
    if short:
        return problems + [f"labels lines {short[:10]}: not five fields (source_url,target_url,label,category,note)"]
    lab = pd.DataFrame(rows)
    for i, r in lab.iterrows():
        line = i + 2
        if r["label"] not in ("toxic", "natural"):
            problems.append(f"labels line {line}: label {r['label']!r}")
        elif r["category"] not in (TOXIC if r["label"] == "toxic" else NATURAL):
            problems.append(f"labels line {line}: category {r['category']!r} is not a {r['label']} category")
        if not r["note"].strip():
            problems.append(f"labels line {line}: empty note")
    src, err = normalize_url_series(lab["source_url"])
    if err.notna().any():
        problems.append(f"labels: bad source URLs {list(lab['source_url'][err.notna()])[:5]}")
    tgt = lab["target_url"].where(lab["target_url"].str.strip() != "")
    tgt_norm = pd.Series([None] * len(lab), dtype=object)
    if tgt.notna().any():
        t, _ = normalize_url_series(tgt.fillna(""))
        tgt_norm = t.where(tgt.notna())
    link_keys = Counter(zip(links["source_url"].astype(object), links["target_url"].astype(object).where(links["target_url"].notna(), None), strict=False))
    label_keys = Counter(zip(src.astype(object), tgt_norm.astype(object).where(tgt_norm.notna(), None), strict=False))
    for key, n in label_keys.items():
        if n > 1:
            problems.append(f"labels: {key} labelled {n} times")
        if key not in link_keys:
            problems.append(f"labels: {key} matches no link in the export")
    for key, n in link_keys.items():
        if n > 1:
            problems.append(f"export: link {key} appears {n} times")
        if key not in label_keys:
            problems.append(f"export: link {key} has no label")
    n, toxic = len(lab), int((lab["label"] == "toxic").sum())
    sites = links["source_site"].nunique()
    if not 45 <= n <= 80:
        problems.append(f"{n} links (want 50-60)")
    if not 0.3 <= toxic / max(n, 1) <= 0.55:
        problems.append(f"toxic share {toxic / max(n, 1):.2f} (want about 0.40-0.45)")
    if sites < 30:
        problems.append(f"{sites} distinct referring sites (want at least 35)")
    cats = Counter(lab["category"])
    print(f"{folder.name}: {n} links, {toxic} toxic, {sites} referring sites, format {result.detected.format.name}")
    print("  " + ", ".join(f"{c} {k}" for c, k in sorted(cats.items())))
    return problems


def main(argv: list[str]) -> int:
    bad = 0
    for arg in argv:
        problems = check(Path(arg))
        if problems:
            bad += 1
            print(f"PROBLEMS in {arg}:\n  " + "\n  ".join(problems))
        else:
            print(f"ok {Path(arg).name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
