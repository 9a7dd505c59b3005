"""DOM placement from saved pages: which region of the page holds the link."""

from __future__ import annotations

import pandas as pd

from tests.exports import canonical
from toxiclinks.audit import add_regions, page_regions, run_audit
from toxiclinks.features import REGIONS, LinkFeatures

PAGE = """<!doctype html><html><head><link rel="canonical" href="https://blog.example.org/post">
<script>document.write('<a href="https://evil.example/">x</a>')</script></head><body>
<header class="site-header"><a href="/">Home</a></header>
<nav><ul><li><a href="https://menu-link.example.com/">Menu</a></li></ul></nav>
<main><article class="entry-content"><p>We tried <a href="https://gear.example.com/boots">GearCo boots</a>.
<img src=x><br></p></article>
<div id="comments"><div class="comment-body"><p>Nice! <a href="https://casino.example.net/">best casino</a></p></div></div>
</main>
<aside class="sidebar"><a href="https://partner.example.com/">Partner</a></aside>
<footer><p>&copy; 2024 <a href="https://webdesign.example.com/?ref=footer">Designed by WebCo</a></p></footer>
<div class="author-bio"><a href="https://twitter.example.com/anna">Anna</a></div>
</body></html>"""


def test_page_regions_reads_the_dom():
    canonical_url, links = page_regions(PAGE)
    regions = dict(links)
    assert canonical_url == "https://blog.example.org/post"
    assert regions["https://blog.example.org/"] == "header"
    assert regions["https://menu-link.example.com/"] == "nav"
    assert regions["https://gear.example.com/boots"] == "body"
    assert regions["https://casino.example.net/"] == "comments"
    assert regions["https://partner.example.com/"] == "sidebar"
    assert regions["https://webdesign.example.com/?ref=footer"] == "footer"
    assert regions["https://twitter.example.com/anna"] == "author"
    assert "https://evil.example/" not in regions  # script text is not markup


def test_broken_and_hostile_pages_do_not_fail():
    assert page_regions("<div><a href='javascript:alert(1)'>x</a><footer><a href=//ok.example.com/>y")[1] == [
        ("http://ok.example.com/", "footer")]
    assert page_regions("\x00\x01 not html at all")[1] == []


def test_regions_feed_the_placement_feature_and_the_audit(tmp_path, small_model):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "post.html").write_text(PAGE)
    (folder / "no-canonical.html").write_text("<a href='https://x.example.com/'>x</a>")
    links = canonical([
        {"source_url": "https://blog.example.org/post", "target_url": "https://casino.example.net/", "anchor": "best casino"},
        {"source_url": "https://blog.example.org/post", "target_url": "https://gear.example.com/boots", "anchor": "GearCo boots"},
        {"source_url": "https://other.example.org/", "target_url": "https://gear.example.com/", "anchor": "GearCo"},
    ])
    notes = add_regions(links, folder)
    assert list(links["region"].fillna("-")) == ["comments", "body", "-"]
    assert any("no canonical" in n for n in notes) and any("region found for 2 of 3" in n for n in notes)
    feats = LinkFeatures().fit(links)
    X = pd.DataFrame(feats.transform(links), columns=feats.get_feature_names_out())
    assert X["placement__region"].tolist()[:2] == [REGIONS.index("comments"), REGIONS.index("body")]
    assert pd.isna(X["placement__region"].iloc[2])
    # The audit accepts --pages and reports the placement.
    export = tmp_path / "links.txt"
    export.write_text("https://blog.example.org/post\n")
    result = run_audit([str(export)], tmp_path / "out", model=small_model.folder, pages=str(folder), progress=False)
    assert any("saved pages" in n for n in result.notes)


def test_index_csv_maps_pages_without_canonical(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text("<footer><a href='https://me.example.com/'>me</a></footer>")
    (folder / "index.csv").write_text("url,file\nhttps://src.example.org/a,a.html\nnot a url,b.html\n")
    links = canonical([{"source_url": "https://src.example.org/a", "target_url": "https://me.example.com/x"}])
    notes = add_regions(links, folder)
    assert links["region"].iloc[0] == "footer"  # matched by the target's host
    assert any("line 3" in n for n in notes)
