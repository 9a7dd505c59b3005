"""Word lists an auditor carries in their head: money niches, generic anchors, topics, cues.

Lower-case ASCII stems matched against tokens (``token.startswith(stem)`` for stems ending in
``*``, otherwise exact). Kept deliberately broad and real, not tuned to the synthetic generator.
"""

from __future__ import annotations

#: Niches that attract link spam, negative SEO and paid links.
MONEY: dict[str, tuple[str, ...]] = {
    "gambling": ("casino*", "poker*", "slot", "slots", "betting", "bet", "bets", "sportsbook*",
                 "roulette", "blackjack", "jackpot*", "bingo", "gambl*", "baccarat", "wager*",
                 "togel", "judi", "slot88", "gacor", "1xbet", "bookmaker*", "freespin*", "lottery"),
    "adult": ("porn*", "sex", "sexy", "xxx", "nude*", "naked", "escort*", "camgirl*", "webcam*",
              "milf*", "hentai", "erotic*", "dating", "hookup*", "adult", "fetish*", "onlyfans"),
    "pharma": ("viagra", "cialis", "levitra", "pharmacy", "pharma*", "pills", "pill", "tramadol",
               "xanax", "valium", "kamagra", "sildenafil", "tadalafil", "steroid*", "cbd",
               "kratom", "phentermine", "oxycodone", "ambien", "modafinil", "prescription"),
    "loans": ("loan", "loans", "payday", "lender*", "credit", "debt", "mortgage*", "cash",
              "forex", "insurance", "refinanc*"),
    "essays": ("essay*", "dissertation*", "homework", "coursework", "assignment*", "thesis",
               "paper*", "term-paper"),
    "replicas": ("replica*", "fake", "knockoff*", "counterfeit", "rolex", "louboutin", "ugg",
                 "uggs", "outlet", "jordans", "yeezy", "moncler"),
    "crypto": ("crypto*", "bitcoin*", "btc", "nft", "nfts", "airdrop*", "token", "tokens",
               "blockchain", "ethereum", "binance", "trading", "binary", "signals"),
    "seo": ("seo", "backlink*", "pbn", "traffic", "followers", "likes", "ranking", "serp"),
}
MONEY_NAMES: tuple[str, ...] = tuple(MONEY)

#: Commercial modifiers that make a keyword anchor "money".
COMMERCIAL: frozenset[str] = frozenset((
    "buy", "cheap", "cheapest", "best", "top", "price", "prices", "discount", "deal", "deals",
    "sale", "online", "order", "free", "review", "reviews", "near", "service", "services",
    "company", "shop", "store", "hire", "cost", "quote", "quotes", "affordable", "professional",
    "agency", "2024", "2025", "2026", "coupon", "coupons", "promo", "code", "wholesale",
))

#: Anchors that name nothing: "click here", "website", "read more".
GENERIC: frozenset[str] = frozenset((
    "click here", "here", "this", "this site", "this website", "this link", "link", "website",
    "web site", "site", "homepage", "home page", "home", "read more", "more", "learn more",
    "more info", "more information", "info", "source", "visit", "visit site", "visit website",
    "go", "go to site", "see more", "details", "check it out", "check this out", "this article",
    "this post", "article", "blog", "page", "this page", "official site", "official website",
    "click", "continue reading", "find out more", "view", "download", "url", "via", "here.",
    "hier", "ici", "aquí", "qui", "tutaj", "здесь", "тут", "сайт", "ссылка", "这里", "点击",
))

#: Topics a site can be about; a link between unrelated topics is "off-topic".
TOPICS: dict[str, tuple[str, ...]] = {
    "outdoors": ("hik*", "trail*", "camp*", "outdoor*", "mountain*", "climb*", "backpack*",
                 "tent*", "kayak*", "fishing", "hunting", "trek*", "gear", "boots", "ski*"),
    "travel": ("travel*", "hotel*", "flight*", "tour*", "trip*", "vacation*", "holiday*",
               "destination*", "resort*", "beach*", "cruise*", "itinerar*", "airbnb", "hostel*"),
    "food": ("recipe*", "food*", "cook*", "bak*", "restaurant*", "kitchen*", "chef*", "cuisine",
             "dinner", "vegan", "coffee", "wine*", "beer*", "meal*", "eat*"),
    "tech": ("software", "app", "apps", "code", "coding", "developer*", "programming", "python",
             "javascript", "linux", "cloud", "server*", "computer*", "laptop*", "tech*", "api",
             "data", "ai", "gadget*", "android", "iphone", "web"),
    "finance": ("financ*", "bank*", "invest*", "stock*", "money", "budget*", "tax*", "accounting",
                "retire*", "saving*", "fund*", "wealth"),
    "health": ("health*", "medical", "doctor*", "clinic*", "fitness", "diet*", "nutrition*",
               "wellness", "yoga", "therap*", "hospital*", "dental", "dentist*", "nurse*"),
    "home": ("home", "garden*", "diy", "furniture", "interior*", "decor*", "renovat*", "plumb*",
             "roof*", "floor*", "kitchen*", "cleaning", "house*"),
    "fashion": ("fashion*", "style*", "cloth*", "dress*", "shoe*", "jewel*", "beauty", "makeup",
                "skincare", "wear", "apparel", "handbag*"),
    "sports": ("sport*", "football", "soccer", "basketball", "tennis", "golf*", "running",
               "cycling", "bike*", "team*", "league", "athlet*", "marathon*"),
    "education": ("school*", "universit*", "college*", "student*", "teach*", "learn*",
                  "course*", "education*", "academ*", "research*", "study", "library"),
    "auto": ("car", "cars", "auto*", "vehicle*", "motor*", "truck*", "tire*", "tyre*",
             "engine*", "driving", "dealer*"),
    "pets": ("pet", "pets", "dog*", "cat", "cats", "puppy", "puppies", "vet", "veterinar*",
             "animal*", "aquarium*", "horse*"),
    "business": ("business*", "marketing", "startup*", "b2b", "consult*", "management", "office",
                 "career*", "job", "jobs", "hr", "recruit*", "supplier*", "industr*"),
    "local": ("news", "local", "city", "town", "community", "council", "county", "events",
              "association*", "club*", "church*", "society"),
    "arts": ("art", "arts", "music*", "photo*", "film*", "movie*", "book*", "design*", "paint*",
             "craft*", "museum*", "theat*", "poetry"),
}
TOPIC_NAMES: tuple[str, ...] = tuple(TOPICS)
