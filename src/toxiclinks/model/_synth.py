"""``toxiclinks synth``: seeded, labelled link profiles written as real Ahrefs exports.

No public link-level labelled set exists, so the seed training data is generated. Each fictional
target site gets a profile of natural links (small hobby blogs, local news, forums, suppliers,
associations, a few popular sites) and toxic links following Google's link-spam categories (paid
advertorials, private blog networks, link exchanges, directories and bookmarks, widget and footer
links, comment and signature spam, hacked pages, scrapers, negative-SEO blasts).

Things the generator does on purpose, so that the model has to learn what an auditor looks at and
not the generator's quirks:

- Hard cases both ways: ``rel="sponsored"`` paid links are natural; PBN sites have clean ``.com``
  names and brand anchors sometimes; partner footer links of a real supplier are natural; a
  gambling-affiliate target legitimately receives casino anchors; natural bloggers sometimes use
  keyword anchors.
- Real domain names: toxic sources partly come from the public spam lists, sampled so that their
  TLD mix matches the natural sources' (mostly ``.com``); natural sources partly from the popular
  lists, and mostly generated small-site names over the same TLDs. Held-out reference domains
  (:func:`toxiclinks.features.is_holdout`) are never used.
- Metrics overlap (a natural hobby blog has DR 3 and no traffic too), and 3% of labels are flipped.

Output: ``links.csv`` (the 37-column Ahrefs export, UTF-8) and ``labels.csv`` (the labels format:
``source_url,target_url,label,note``; the note names the scheme, which is never a feature).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..features import popular_domains, spam_domains
from ..safeio import atomic_open
from ._synth_vocab import (
    AHREFS_HEADER,
    FIRST_NAMES,
    FOREIGN_SPAM,
    GENERIC,
    LAST_NAMES,
    NATURAL_CONTEXT,
    NATURAL_SCHEMES,
    NATURAL_TLDS,
    NICHES,
    NORMAL_NICHES,
    NOUNS,
    PLATFORMS,
    SMALL_WORDS,
    SPAM_ANCHORS,
    SPAMMY_WORDS,
    TITLE_WORDS,
    TOXIC_SCHEMES,
)


@dataclass
class Target:
    """One fictional site whose backlinks are generated."""

    site: str
    brand: str
    niche: str
    keywords: list[str]
    toxic_share: float
    attacked: bool


class Synth:
    """Seeded generator of labelled Ahrefs rows."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        spam = sorted(d for d in spam_domains("known") if not _looks_like_platform(d))
        self.popular = sorted(popular_domains("known"))
        self.spam_by_tld = _by_tld(spam)
        self.pbn_sites: list[str] = [self._small_site(tlds=["com", "net", "org"]) for _ in range(400)]
        self.directory_sites = [self._spammy_site() for _ in range(150)]
        self.exchange_sites = [self._small_site() for _ in range(200)]

    # -- names -------------------------------------------------------------------------------
    def choice(self, items):
        return items[int(self.rng.integers(len(items)))]

    def _small_site(self, tlds: list[str] | None = None) -> str:
        """A small site's name. Real names vary: words, brandable syllables, people, acronyms."""
        r = self.rng.random()
        if r < 0.25:
            parts = [self.choice(SMALL_WORDS), self.choice(NOUNS)]
        elif r < 0.40:
            parts = [self.choice(NICHES[self.choice(NORMAL_NICHES)][1]), self.choice(NOUNS)]
        elif r < 0.62:
            parts = [self._syllables(int(self.rng.integers(2, 4)))]
        elif r < 0.74:
            parts = [self.choice(FIRST_NAMES), self.choice(LAST_NAMES)]
        elif r < 0.84:
            parts = ["".join(chr(97 + int(x)) for x in self.rng.integers(0, 26, int(self.rng.integers(2, 5))))]
        elif r < 0.92:
            parts = [self.choice(SMALL_WORDS), self.choice(NICHES[self.choice(NORMAL_NICHES)][1]), self.choice(NOUNS)]
        else:
            parts = [self._syllables(2), self.choice(NOUNS)]
        sep = "-" if self.rng.random() < 0.12 else ""
        name = sep.join(parts)
        if self.rng.random() < 0.06:
            name += str(int(self.rng.integers(1, 2025)))
        sub = self.choice(["blog.", "shop.", "en.", "news."]) if self.rng.random() < 0.05 else ""
        return f"{sub}{name}.{self.choice(tlds or NATURAL_TLDS)}"

    def _syllables(self, n: int) -> str:
        """A brandable made-up word ("tavomi")."""
        consonants, vowels = "bcdfghklmnprstvzj", "aeiou"
        return "".join(consonants[int(self.rng.integers(len(consonants)))] + vowels[int(self.rng.integers(5))]
                       for _ in range(n))

    def _spammy_site(self) -> str:
        k = int(self.rng.integers(2, 4))
        words = [self.choice(SPAMMY_WORDS) for _ in range(k)]
        sep = "-" if self.rng.random() < 0.5 else ""
        return f"{sep.join(words)}.{self.choice(NATURAL_TLDS)}"

    def _spam_list_site(self) -> str:
        """A real spam-list domain, TLD-matched to natural sources (mostly .com)."""
        for _ in range(10):
            tld = self.choice(NATURAL_TLDS)
            if self.spam_by_tld.get(tld):
                return self.choice(self.spam_by_tld[tld])
        return self._spammy_site()

    def make_target(self, i: int) -> Target:
        niche = "gambling" if self.rng.random() < 0.06 else self.choice(NORMAL_NICHES)
        brand_words = [self.choice(SMALL_WORDS).title(), self.choice(NOUNS).title()]
        brand = " ".join(brand_words)
        site = f"{''.join(brand_words).lower()}{i}.{self.choice(['com', 'com', 'co.uk', 'de', 'net', 'org'])}"
        attacked = self.rng.random() < 0.25
        toxic_share = float(np.clip(self.rng.beta(1.6, 4.0) + (0.15 if attacked else 0), 0.02, 0.85))
        return Target(site, brand, niche, list(NICHES[niche][0]), toxic_share, attacked)

    # -- links -------------------------------------------------------------------------------
    def profile(self, target: Target, n_links: int) -> list[tuple[dict[str, str], int, str]]:
        rows = []
        start = np.datetime64("2021-01-01") + np.timedelta64(int(self.rng.integers(0, 700)), "D")
        blast_day = start + np.timedelta64(int(self.rng.integers(200, 1000)), "D")
        nat_names, nat_w = zip(*NATURAL_SCHEMES.items(), strict=True)
        tox_names, tox_w = zip(*TOXIC_SCHEMES.items(), strict=True)
        tox_w = np.array(tox_w, dtype=float)
        if target.attacked:
            tox_w[tox_names.index("negative_seo")] *= 4
        nat_p = np.array(nat_w, float) / sum(nat_w)
        tox_p = tox_w / tox_w.sum()
        # Links come in groups per referring site (several pages, or sitewide repeats).
        while len(rows) < n_links:
            toxic = self.rng.random() < target.toxic_share
            names, p = (tox_names, tox_p) if toxic else (nat_names, nat_p)
            scheme = names[self.rng.choice(len(names), p=p)]
            for row in self._links_of(scheme, target, start, blast_day):
                label = int(toxic)
                if self.rng.random() < 0.03:  # label noise: auditors disagree too
                    label = 1 - label
                rows.append((row, label, scheme))
        return rows[:n_links]

    def _links_of(self, scheme: str, t: Target, start, blast_day) -> list[dict[str, str]]:
        r = self.rng
        fmt = _Row(self, t, start)
        niche = t.niche
        other_niche = self.choice([n for n in NORMAL_NICHES if n != niche])
        if scheme == "editorial_blog":
            site = self._small_site()
            return fmt.make(site, niche, anchor=fmt.natural_anchor(), dr=r.gamma(2, 6), traffic=r.gamma(1, 150),
                             nofollow=r.random() < 0.25, content=True, context=True,
                             pages=int(r.integers(1, 3)))
        if scheme == "local_news":
            site = f"{self.choice(SMALL_WORDS)}{self.choice(['times', 'gazette', 'news', 'post', 'herald'])}.{self.choice(NATURAL_TLDS)}"
            return fmt.make(site, "local", anchor=fmt.natural_anchor(), dr=r.uniform(20, 60),
                             traffic=r.gamma(2, 3000), nofollow=r.random() < 0.4, content=True, context=True)
        if scheme == "association":
            site = f"{self.choice(NICHES[niche][1])}{self.choice(['club', 'society', 'association', 'guild'])}.{self.choice(['org', 'org', 'org.uk', 'de', 'com'])}"
            return fmt.make(site, niche, anchor=self.choice([t.brand, t.site, t.brand]), dr=r.uniform(5, 40),
                             traffic=r.gamma(1, 300), content=r.random() < 0.5, context=True,
                             partners=r.random() < 0.5)
        if scheme == "supplier_partner":  # legit partner links, often in the footer, sitewide
            site = self._small_site()
            return fmt.make(site, niche, anchor=self.choice([t.brand, t.site, f"Partner: {t.brand}"]),
                             dr=r.uniform(10, 45), traffic=r.gamma(1.5, 500), content=False,
                             footer=True, group=int(r.integers(5, 300)), context=True)
        if scheme == "forum_ugc":
            site = f"{self.choice(NICHES[niche][1])}{self.choice(['forum', 'talk', 'board', 'community'])}.{self.choice(NATURAL_TLDS)}"
            return fmt.make(site, niche, anchor=fmt.natural_anchor(), dr=r.uniform(5, 50),
                             traffic=r.gamma(1.2, 800), nofollow=r.random() < 0.6, ugc=r.random() < 0.6,
                             content=True, forum=True, context=True, pages=int(r.integers(1, 4)))
        if scheme == "comment_nofollow":
            site = self._small_site()
            return fmt.make(site, niche if r.random() < 0.7 else other_niche, anchor=self.choice([t.brand, t.site, "Jane", "Mark from " + t.brand]),
                             dr=r.gamma(2, 5), traffic=r.gamma(1, 100), nofollow=True, ugc=r.random() < 0.5,
                             content=False, comment=True, context=True)
        if scheme == "popular_site":
            site = self.choice(self.popular[:12000])
            return fmt.make(site, self.choice([niche, "local", "tech"]), anchor=self.choice([t.brand, t.site, fmt.natural_anchor()]),
                             dr=r.uniform(60, 95), traffic=10 ** r.uniform(5, 8), nofollow=r.random() < 0.5,
                             content=True, context=True, outbound=r.integers(20, 300))
        if scheme == "sponsored_marked":  # paid, but declared: fine by Google's rules
            site = self._small_site()
            return fmt.make(site, niche if r.random() < 0.6 else other_niche, anchor=fmt.money_anchor(),
                             dr=r.uniform(10, 50), traffic=r.gamma(1.5, 600), sponsored=True,
                             nofollow=r.random() < 0.3, content=True, context=True, paid_cue=r.random() < 0.5)
        if scheme == "foreign_relevant":
            site = self._small_site(tlds=["de", "fr", "ru", "jp", "pl", "es", "it", "com.br"])
            return fmt.make(site, niche, anchor=self.choice([t.brand, t.site, fmt.natural_anchor()]),
                             dr=r.gamma(2, 7), traffic=r.gamma(1, 300), content=True, context=True,
                             language=self.choice(["de", "fr", "ru", "ja", "pl", "es", "it", "pt"]))
        if scheme == "platform_blog":
            site = f"{self.choice(SMALL_WORDS)}{self.choice(NICHES[niche][1])}{int(r.integers(1, 999))}.{self.choice(PLATFORMS)}"
            return fmt.make(site, niche, anchor=fmt.natural_anchor(), dr=r.uniform(40, 95), ur=r.uniform(0, 10),
                             traffic=r.gamma(1, 50), nofollow=r.random() < 0.3, content=True, context=True)
        if scheme == "niche_directory":
            site = f"{self.choice(NICHES[niche][1])}{self.choice(['directory', 'guide', 'finder'])}.{self.choice(NATURAL_TLDS)}"
            return fmt.make(site, niche, anchor=self.choice([t.brand, t.site]), dr=r.uniform(10, 40),
                             traffic=r.gamma(1.5, 400), content=True, directory=True, outbound=r.integers(30, 200))
        if scheme == "scraper_nofollow":
            site = self._spammy_site()
            return fmt.make(site, niche, anchor=fmt.natural_anchor(), dr=r.uniform(0, 10), traffic=0,
                             nofollow=True, content=True, context=True, outbound=r.integers(50, 400))
        if scheme == "resource_page":
            site = self._small_site()
            return fmt.make(site, niche, anchor=self.choice([t.brand, fmt.natural_anchor(), t.keywords[0]]), dr=r.gamma(2, 8),
                             traffic=r.gamma(1, 400), content=True, partners=True, outbound=r.integers(10, 80),
                             context=True)
        # ---- toxic schemes ----
        if scheme == "paid_advertorial":
            site = self._small_site() if r.random() < 0.6 else self._spam_list_site()
            return fmt.make(site, self.choice(["business", other_niche, niche]), anchor=fmt.money_anchor(),
                             dr=r.uniform(15, 55), traffic=r.gamma(1, 200), content=True, context=True,
                             paid_cue=r.random() < 0.35, outbound=r.integers(30, 250), spam_flag=r.random() < 0.1)
        if scheme == "pbn":
            site = self.choice(self.pbn_sites)
            anchor = fmt.money_anchor() if r.random() < 0.75 else self.choice([t.brand, t.site])
            return fmt.make(site, self.choice([other_niche, niche, "business"]), anchor=anchor, dr=r.uniform(15, 45),
                             traffic=r.gamma(1, 15), content=True, context=True, outbound=r.integers(5, 40),
                             linked=r.integers(300, 3000), spam_flag=r.random() < 0.15)
        if scheme == "link_exchange":
            site = self.choice(self.exchange_sites)
            return fmt.make(site, other_niche, anchor=self.choice([t.brand, fmt.money_anchor(), t.site]), dr=r.uniform(5, 35),
                             traffic=r.gamma(1, 100), content=r.random() < 0.4, partners=True,
                             outbound=r.integers(50, 400), linked=r.integers(200, 2000))
        if scheme == "directory_spam":
            site = self.choice(self.directory_sites) if r.random() < 0.7 else self._spam_list_site()
            return fmt.make(site, "directory", anchor=self.choice([fmt.money_anchor(), t.brand, fmt.money_anchor()]),
                             dr=r.uniform(0, 30), traffic=r.gamma(0.5, 20), content=r.random() < 0.5,
                             directory=True, outbound=r.integers(100, 900), linked=r.integers(1000, 20000),
                             spam_flag=r.random() < 0.3)
        if scheme == "widget_footer":
            site = self._small_site() if r.random() < 0.5 else self._spammy_site()
            return fmt.make(site, other_niche, anchor=fmt.money_anchor() if r.random() < 0.7 else t.brand,
                             dr=r.uniform(0, 40), traffic=r.gamma(1, 200), content=False, footer=True,
                             group=int(r.integers(20, 5000)), credit=True)
        if scheme == "comment_spam":
            site = self._small_site() if r.random() < 0.6 else self._spam_list_site()
            return fmt.make(site, other_niche, anchor=fmt.money_anchor() if r.random() < 0.8 else t.site,
                             dr=r.uniform(0, 35), traffic=r.gamma(1, 80), nofollow=r.random() < 0.25,
                             ugc=r.random() < 0.15, content=False, comment=True, context=True,
                             outbound=r.integers(80, 1500), spam_flag=r.random() < 0.3,
                             pages=int(r.integers(1, 6)))
        if scheme == "hacked":
            site = self._small_site()
            cat = self.choice(["pharma", "gambling", "adult", "replicas"])
            return fmt.make(site, self.choice(NORMAL_NICHES), anchor=self.choice(SPAM_ANCHORS[cat]),
                             dr=r.uniform(10, 70), traffic=r.gamma(2, 2000), content=r.random() < 0.3,
                             footer=r.random() < 0.5, outbound=r.integers(100, 1500),
                             http=self.choice(["200", "200", "200", "404", "500"]), lost=r.random() < 0.3)
        if scheme == "scraper":
            site = self._spammy_site() if r.random() < 0.5 else self._spam_list_site()
            return fmt.make(site, niche, anchor=fmt.natural_anchor(), dr=r.uniform(0, 12), traffic=0,
                             content=True, context=True, outbound=r.integers(100, 2000),
                             linked=r.integers(2000, 50000), spam_flag=r.random() < 0.4,
                             pages=int(r.integers(1, 8)))
        if scheme == "negative_seo":
            site = self._spam_list_site() if r.random() < 0.7 else self._spammy_site()
            cat = self.choice(list(SPAM_ANCHORS))
            anchor = self.choice(SPAM_ANCHORS[cat]) if r.random() < 0.75 else self.choice(FOREIGN_SPAM)
            when = blast_day + np.timedelta64(int(r.integers(0, 21)), "D")
            return fmt.make(site, self.choice(["adult", "gambling", "pharma", "directory"]), anchor=anchor,
                             dr=r.uniform(0, 20), traffic=r.gamma(0.5, 10), content=r.random() < 0.4,
                             outbound=r.integers(200, 3000), linked=r.integers(5000, 100000),
                             spam_flag=r.random() < 0.5, first_seen=when, pages=int(r.integers(1, 5)))
        if scheme == "platform_spam":
            site = f"{self.choice(SPAMMY_WORDS)}{self.choice(SPAMMY_WORDS)}{int(r.integers(1, 9999))}.{self.choice(PLATFORMS)}"
            return fmt.make(site, self.choice(["adult", "gambling", "pharma", other_niche]), anchor=fmt.money_anchor(),
                             dr=r.uniform(40, 95), ur=r.uniform(0, 3), traffic=r.gamma(0.5, 5), content=True,
                             outbound=r.integers(50, 500), spam_flag=r.random() < 0.3, pages=int(r.integers(1, 5)))
        raise ValueError(f"unknown scheme {scheme!r}")


class _Row:
    """Builds Ahrefs rows for one target."""

    def __init__(self, synth: Synth, target: Target, start) -> None:
        self.s, self.t, self.start = synth, target, start

    def natural_anchor(self) -> str:
        s, t = self.s, self.t
        roll = s.rng.random()
        if roll < 0.35:
            return t.brand
        if roll < 0.5:
            return s.choice([t.site, f"www.{t.site}", f"https://{t.site}/"])
        if roll < 0.65:
            return s.choice(GENERIC)
        if roll < 0.72:
            return ""  # image link
        if roll < 0.80:  # natural bloggers sometimes use the keyword
            return s.choice(t.keywords)
        return s.choice([f"this {t.keywords[0]} guide", f"{t.brand}'s post on {s.choice(t.keywords)}",
                         "their write-up", f"great {s.choice(NICHES[t.niche][1])} tips",
                         "as explained here", f"{t.brand} blog"])

    def money_anchor(self) -> str:
        s, t = self.s, self.t
        kw = s.choice(t.keywords)
        return s.choice([kw, f"best {kw}", f"cheap {kw}", f"buy {kw} online", f"{kw} near me",
                         f"top {kw} 2025", f"{kw} deals", kw])

    def make(self, site: str, topic: str, *, anchor: str, dr: float, traffic: float, ur: float | None = None,
             nofollow: bool = False, ugc: bool = False, sponsored: bool = False, content: bool = True,
             context: bool = False, footer: bool = False, comment: bool = False, forum: bool = False,
             partners: bool = False, directory: bool = False, paid_cue: bool = False, credit: bool = False,
             group: int = 1, outbound=None, linked=None, spam_flag: bool = False, http: str = "200",
             lost: bool = False, language: str = "en", first_seen=None, pages: int = 1,
             **_) -> list[dict[str, str]]:
        """``pages`` rows from one referring site, sharing its metrics."""
        traits = dict(anchor=anchor, dr=dr, traffic=traffic, ur=ur, nofollow=nofollow, ugc=ugc,
                      sponsored=sponsored, content=content, context=context, footer=footer, comment=comment,
                      forum=forum, partners=partners, directory=directory, paid_cue=paid_cue, credit=credit,
                      group=group, outbound=outbound, linked=linked, spam_flag=spam_flag, http=http, lost=lost,
                      language=language, first_seen=first_seen)
        rows = [self._row(site, topic, **traits)]
        for _ in range(pages - 1):
            extra = self._row(site, topic, **traits)
            for key in ("Domain rating", "Domain traffic", "Linked domains"):
                extra[key] = rows[0][key]
            rows.append(extra)
        return rows

    def _row(self, site: str, topic: str, *, anchor: str, dr: float, traffic: float, ur: float | None,
             nofollow: bool, ugc: bool, sponsored: bool, content: bool, context: bool, footer: bool,
             comment: bool, forum: bool, partners: bool, directory: bool, paid_cue: bool,
             credit: bool, group: int, outbound, linked, spam_flag: bool, http: str, lost: bool,
             language: str, first_seen) -> dict[str, str]:
        s, t, r = self.s, self.t, self.s.rng
        topic_words = NICHES.get(topic, (None, [topic]))[1]
        title_base = s.choice(TITLE_WORDS.get(topic, [f"{topic.title()} page", f"{topic.title()} list"]))
        slug_words = [s.choice(topic_words), s.choice(topic_words + ["notes", "guide", "update"])]
        if directory:
            path = s.choice(["/directory/", "/links/", "/submit-url/", "/dir/", "/bookmarks/"]) + "-".join(slug_words)
        elif comment:
            path = f"/{r.integers(2015, 2026)}/{r.integers(1, 12):02d}/{'-'.join(slug_words)}/" + s.choice(["#comment-" + str(r.integers(100, 9999)), "?replytocom=" + str(r.integers(100, 9999)), "comment-page-2/"])
        elif forum:
            path = s.choice(["/showthread.php?t=", "/viewtopic.php?t=", "/threads/"]) + str(r.integers(100, 99999))
        elif partners:
            path = s.choice(["/partners/", "/links/", "/resources/", "/friends/"])
        else:
            path = "/" + "-".join(slug_words) + s.choice(["/", ".html", "/"])
        if r.random() < 0.1:  # homepage links (blogrolls, sitewide, partner lists) in every scheme
            path = "/"
        scheme = "https" if r.random() < 0.8 else "http"
        www = "www." if r.random() < 0.3 and site.count(".") == 1 else ""
        url = f"{scheme}://{www}{site}{path}"
        left, right = "", ""
        if context or comment or footer or credit or paid_cue:
            x = s.choice(t.keywords)
            left = s.choice(NATURAL_CONTEXT).format(x=x)
            right = s.choice(["is worth a look.", "has more.", "for details.", "", "— highly recommended."])
            if comment:
                left = s.choice(["Great post! Check", "Thanks for sharing. Nice", "John says: I agree,", "Reply Quote Posted by"]) + " " + left
            if footer or credit:
                left = s.choice(["© 2024 All rights reserved.", "Powered by", "Designed by", "Theme by", "Copyright"])
                right = s.choice(["", "| Privacy", "| Sitemap"])
            if paid_cue:
                left = s.choice(["Sponsored post:", "This is a guest post.", "Partner content:", "Advertorial"]) + " " + left
            if forum:
                right += s.choice(["", " -- signature", " Posts: 120 Joined: 2019"])
            if language != "en" and r.random() < 0.7:
                left, right = "", ""
        if first_seen is None:
            first_seen = self.start + np.timedelta64(int(r.integers(0, 1400)), "D")
        last_seen = first_seen + np.timedelta64(int(r.integers(1, 500)), "D")
        dr = float(np.clip(dr + r.normal(0, 3), 0, 100))
        ur_value = float(np.clip(ur if ur is not None else dr * r.uniform(0.1, 0.6), 0, 100))
        traffic = max(0.0, float(traffic) * r.lognormal(0, 0.5))
        # Wide, overlapping distributions: plenty of natural pages carry 100+ outbound links too.
        ext = int(float(outbound) * r.lognormal(0, 0.6)) if outbound is not None else int(r.lognormal(np.log(25), 1.0))
        linked_domains = int(float(linked) * r.lognormal(0, 0.5)) if linked is not None else int(ext * r.lognormal(np.log(8), 1.0))
        kind = "image" if anchor == "" else "text"
        redirect = r.random() < 0.03
        row = {h: "" for h in AHREFS_HEADER}
        row.update({
            "Referring page title": f"{title_base}: {' '.join(slug_words)}" + (" - Directory" if directory else ""),
            "Referring page URL": url, "Language": language,
            "Platform": s.choice(["wordpress", "", "cms", "message-boards" if forum else "blogs"]),
            "Referring page HTTP code": http, "Domain rating": f"{dr:.0f}", "UR": f"{ur_value:.1f}",
            "Domain traffic": f"{traffic:.0f}", "Referring domains": str(int(r.gamma(1.5, 4)) + 1),
            "Linked domains": str(linked_domains), "External links": str(ext),
            "Page traffic": f"{traffic * r.uniform(0, 0.05):.0f}", "Keywords": str(int(r.gamma(1, 3))),
            "Target URL": f"https://{t.site}/" + (s.choice(["", "", f"{t.keywords[0].replace(' ', '-')}/", "blog/", "shop/"])),
            "Left context": left, "Anchor": anchor, "Right context": right,
            "Redirect Chain URLs": f"http://{t.site}/old" if redirect else "",
            "Redirect Chain status codes": "301" if redirect else "",
            "Type": kind, "Is spam": _b(spam_flag), "Content": _b(content), "Nofollow": _b(nofollow),
            "UGC": _b(ugc), "Sponsored": _b(sponsored), "Rendered": "true", "Raw": "true",
            "Lost status": "removedfromhtml" if lost else "", "Discovered status": "linkfound",
            "First seen": f"{first_seen} 10:00:00", "Last seen": f"{last_seen} 10:00:00",
            "Lost": f"{last_seen}" if lost else "", "Links in group": str(group),
        })
        return row


def scheme_rows(seed: int, scheme: str, n_sites: int, target: Target | None = None) -> tuple[Target, list[dict[str, str]]]:
    """Rows of one link scheme for one target: for building profiles with a known quirk in tests."""
    synth = Synth(seed)
    target = target or synth.make_target(0)
    start = np.datetime64("2022-01-01")
    rows: list[dict[str, str]] = []
    for _ in range(n_sites):
        rows.extend(synth._links_of(scheme, target, start, start + np.timedelta64(400, "D")))
    return target, rows


def write_rows(path: str | Path, rows: list[dict[str, str]]) -> Path:
    """Write Ahrefs rows as an export file."""
    path = Path(path)
    with atomic_open(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(AHREFS_HEADER)
        for row in rows:
            writer.writerow([row[h] for h in AHREFS_HEADER])
    return path


def _b(value: bool) -> str:
    return "true" if value else "false"


def _by_tld(domains: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in domains:
        tld = d.split(".", 1)[1] if d.count(".") == 1 else d.rsplit(".", 2)[-2] + "." + d.rsplit(".", 1)[-1]
        out.setdefault(tld, []).append(d)
    return out


def _looks_like_platform(domain: str) -> bool:
    return domain.count(".") > 1 and any(domain.endswith(p) for p in PLATFORMS)


def generate(n_targets: int, links_per_target: int, seed: int):
    """Yield ``(ahrefs_row, label, scheme)`` for ``n_targets`` fictional sites."""
    synth = Synth(seed)
    for i in range(n_targets):
        target = synth.make_target(i)
        n = max(20, int(synth.rng.lognormal(np.log(links_per_target), 0.6)))
        yield from synth.profile(target, n)


def write(out_dir: str | Path, n_targets: int, links_per_target: int, seed: int,
          labels: bool = True) -> tuple[Path, Path | None, int]:
    """Write ``links.csv`` (Ahrefs) and ``labels.csv`` into ``out_dir``; return paths and count."""
    from ..errors import InputError

    if n_targets < 1 or links_per_target < 1:
        raise InputError(f"need at least 1 target and 1 link per target (got {n_targets} and {links_per_target})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder", path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    links_path, labels_path = out / "links.csv", out / "labels.csv"
    count = 0
    with atomic_open(links_path, newline="") as lf, atomic_open(labels_path, newline="") as bf:
        lw, bw = csv.writer(lf), csv.writer(bf)
        lw.writerow(AHREFS_HEADER)
        bw.writerow(["source_url", "target_url", "label", "note"])
        for row, label, scheme in generate(n_targets, links_per_target, seed):
            lw.writerow([row[h] for h in AHREFS_HEADER])
            bw.writerow([row["Referring page URL"], row["Target URL"],
                         "toxic" if label else "natural", scheme])
            count += 1
    if not labels:
        labels_path.unlink()
        return links_path, None, count
    return links_path, labels_path, count
