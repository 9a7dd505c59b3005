"""The anchor table: how an auditor classes anchors, across ordinary businesses' niches.

Each row: anchor text, the target URL it points to, and the class an expert would give it.
Classes: empty, brand (the brand, its variants, or a person named with it), naked URL, generic,
exact-match commercial, partial match, compound (brand + keyword), other text.
"""

from __future__ import annotations

import pytest

from toxiclinks.features import AnchorClass
from toxiclinks.features import _anchor as anchor
from toxiclinks.urls import split_host

CLASS = {"empty": AnchorClass.EMPTY, "brand": AnchorClass.BRAND, "url": AnchorClass.NAKED_URL,
         "generic": AnchorClass.GENERIC, "exact": AnchorClass.EXACT, "partial": AnchorClass.PARTIAL,
         "compound": AnchorClass.COMPOUND, "other": AnchorClass.OTHER}

TABLE = [
    # law: a family-law firm, a personal-injury firm
    ("Whitmore & Lane", "https://www.whitmorelane.com/", "brand"),
    ("Whitmore & Lane LLP", "https://www.whitmorelane.com/", "brand"),
    ("Whitmore Lane's divorce team", "https://www.whitmorelane.com/divorce/", "compound"),
    ("Susan Whitmore", "https://www.whitmorelane.com/attorneys/", "brand"),
    ("attorney Susan Whitmore", "https://www.whitmorelane.com/attorneys/", "compound"),
    ("Raj Patel", "https://www.whitmorelane.com/attorneys/raj-patel/", "brand"),
    ("divorce lawyer columbus", "https://www.whitmorelane.com/", "exact"),
    ("Columbus divorce lawyer", "https://www.whitmorelane.com/", "exact"),
    ("divorce lawyer in Columbus", "https://www.whitmorelane.com/", "exact"),
    ("best divorce attorney near me", "https://www.whitmorelane.com/", "exact"),
    ("child custody lawyer", "https://www.whitmorelane.com/child-custody/", "exact"),
    ("car accident lawyer", "https://www.greerinjurylaw.com/", "exact"),
    ("Houston car accident lawyer", "https://www.greerinjurylaw.com/", "exact"),
    ("personal injury attorney houston", "https://www.greerinjurylaw.com/", "exact"),
    ("Greer Injury Law", "https://www.greerinjurylaw.com/", "brand"),
    ("a lawyer who explained the custody process patiently", "https://www.whitmorelane.com/", "partial"),
    ("greerinjurylaw.com", "https://www.greerinjurylaw.com/", "url"),
    ("https://www.greerinjurylaw.com/", "https://www.greerinjurylaw.com/", "url"),
    ("click here", "https://www.greerinjurylaw.com/", "generic"),
    # dentistry
    ("Bayview Dental", "https://www.bayviewdental.co.uk/", "brand"),
    ("Dr. Helen Marsh", "https://www.bayviewdental.co.uk/team/", "brand"),
    ("Dr Helen Marsh", "https://www.bayviewdental.co.uk/team/", "brand"),
    ("dental implants leeds", "https://www.bayviewdental.co.uk/implants/", "exact"),
    ("emergency dentist", "https://www.bayviewdental.co.uk/", "partial"),
    ("emergency dentist near me", "https://www.bayviewdental.co.uk/emergency-dentist/", "exact"),
    ("cheap dental implants", "https://www.bayviewdental.co.uk/", "exact"),
    ("invisalign", "https://www.bayviewdental.co.uk/invisalign/", "partial"),
    ("Bayview Dental invisalign", "https://www.bayviewdental.co.uk/invisalign/", "compound"),
    ("the practice", "https://www.bayviewdental.co.uk/", "other"),
    # roofing
    ("Redline Roofing", "https://www.redlineroofing.com/", "brand"),
    ("roof repair denver", "https://www.redlineroofing.com/", "exact"),
    ("Denver roofing contractor", "https://www.redlineroofing.com/", "exact"),
    ("hail damage roof repair", "https://www.redlineroofing.com/hail-damage/", "exact"),
    ("best roofers in Denver", "https://www.redlineroofing.com/", "exact"),
    ("Redline", "https://www.redlineroofing.com/", "brand"),
    ("Mike Duran", "https://www.redlineroofing.com/about/", "brand"),
    ("www.redlineroofing.com", "https://www.redlineroofing.com/", "url"),
    ("learn more", "https://www.redlineroofing.com/", "generic"),
    # SaaS
    ("Tallyo", "https://tallyo.io/", "brand"),
    ("tallyo.io", "https://tallyo.io/", "url"),
    ("invoicing software for small business", "https://tallyo.io/", "exact"),
    ("best invoicing software", "https://tallyo.io/", "exact"),
    ("invoicing app", "https://tallyo.io/features/", "exact"),
    ("Tallyo invoicing software", "https://tallyo.io/", "compound"),
    ("Tallyo's pricing page", "https://tallyo.io/pricing/", "compound"),
    ("their documentation", "https://tallyo.io/docs/api/", "other"),
    ("this tool", "https://tallyo.io/", "other"),
    # fashion shop
    ("Maren & Co", "https://www.marenandco.com/", "brand"),
    ("linen dresses", "https://www.marenandco.com/collections/linen-dresses/", "exact"),
    ("buy linen dresses online", "https://www.marenandco.com/", "exact"),
    ("sustainable clothing brand", "https://www.marenandco.com/", "partial"),
    ("this gorgeous wrap dress", "https://www.marenandco.com/products/wrap-dress/", "partial"),
    ("shop now", "https://www.marenandco.com/", "generic"),
    # travel agency
    ("Northtrail Tours", "https://www.northtrailtours.com/", "brand"),
    ("walking tours portugal", "https://www.northtrailtours.com/", "exact"),
    ("guided walking holidays", "https://www.northtrailtours.com/", "exact"),
    ("cheap tours", "https://www.northtrailtours.com/", "exact"),
    ("Ana Sousa", "https://www.northtrailtours.com/about/", "brand"),
    # restaurant
    ("Osteria Lucca", "https://www.osterialucca.com/", "brand"),
    ("Chef Paolo Ricci", "https://www.osterialucca.com/", "partial"),
    ("Paolo Ricci", "https://www.osterialucca.com/", "brand"),
    ("best italian restaurant in chicago", "https://www.osterialucca.com/", "exact"),
    ("their menu", "https://www.osterialucca.com/menu/", "partial"),
    ("book a table", "https://www.osterialucca.com/reservations/", "generic"),
    # charity
    ("Hope Hounds Rescue", "https://www.hopehounds.org/", "compound"),
    ("donate", "https://www.hopehounds.org/donate/", "partial"),
    ("dog rescue", "https://www.hopehounds.org/", "exact"),
    ("Hope Hounds", "https://www.hopehounds.org/", "brand"),
    # B2B manufacturer
    ("Brandt Hydraulik GmbH", "https://www.brandt-hydraulik.com/", "brand"),
    ("Brandt", "https://www.brandt-hydraulik.com/", "brand"),
    ("industrial centrifugal pumps", "https://www.brandt-hydraulik.com/", "exact"),
    ("pump manufacturer", "https://www.brandt-hydraulik.com/", "exact"),
    ("Dr. Eva Brandt", "https://www.brandt-hydraulik.com/", "brand"),
    # clinic
    ("Coastline Physio", "https://www.coastlinephysio.com.au/", "brand"),
    ("sports physio melbourne", "https://www.coastlinephysio.com.au/", "exact"),
    ("physiotherapy clinic near me", "https://www.coastlinephysio.com.au/", "exact"),
    ("dry needling", "https://www.coastlinephysio.com.au/dry-needling/", "exact"),
    # local news
    ("Valley Courier", "https://www.valleycourier.com/", "brand"),
    ("reported", "https://www.valleycourier.com/news/2025/flood/", "other"),
    ("the Courier", "https://www.valleycourier.com/", "brand"),
    # personal finance blog
    ("The Penny Pantry", "https://pennypantry.blog/", "brand"),
    ("Penny Pantry's emergency fund guide", "https://pennypantry.blog/emergency-fund/", "compound"),
    ("how to build an emergency fund", "https://pennypantry.blog/emergency-fund/", "partial"),
    ("best budgeting apps", "https://pennypantry.blog/best-budgeting-apps/", "exact"),
    ("Jess Moreno", "https://pennypantry.blog/about/", "brand"),
    # money niches still read as money
    ("online casino bonus", "https://pennypantry.blog/", "exact"),
    ("buy cheap viagra", "https://www.whitmorelane.com/", "exact"),
    ("payday loans", "https://www.redlineroofing.com/", "exact"),
    ("", "https://www.redlineroofing.com/", "empty"),
]


def test_the_table_is_large_and_covers_every_class():
    assert len(TABLE) >= 80
    assert {expected for _, _, expected in TABLE} == set(CLASS)


@pytest.mark.parametrize(("text", "target", "expected"), TABLE, ids=[f"{t}→{e}" for t, _, e in TABLE])
def test_anchor_class(text: str, target: str, expected: str) -> None:
    host = target.split("/")[2]
    site = split_host(host).site
    path_words = anchor.target_info(target, site)[1]
    code = anchor.classify(text, site, path_words)[0]
    assert anchor.CLASSES[code] == anchor.CLASSES[CLASS[expected]], f"{text!r}: got {anchor.CLASSES[code]}"
