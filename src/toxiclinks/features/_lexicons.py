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
    # calls to action
    "shop now", "buy now", "order now", "book now", "book a table", "get started", "sign up",
    "try it free", "try it", "get a quote", "contact us", "visit the shop", "see the menu",
))

#: Topics a site can be about; a link between unrelated topics is "off-topic".
TOPICS: dict[str, tuple[str, ...]] = {
    "outdoors": ("hik*", "trail*", "camp*", "outdoor*", "mountain*", "climb*", "backpack*",
                 "tent*", "kayak*", "fishing", "hunting", "trek*", "gear", "boots", "ski*", "walking", "walks"),
    "travel": ("travel*", "hotel*", "flight*", "tour*", "trip*", "vacation*", "holiday*",
               "destination*", "resort*", "beach*", "cruise*", "itinerar*", "airbnb", "hostel*"),
    "food": ("recipe*", "food*", "cook*", "bak*", "restaurant*", "kitchen*", "chef*", "cuisine",
             "dinner", "vegan", "coffee", "wine*", "beer*", "meal*", "eat*", "pizza*", "pasta", "trattoria*", "bistro*", "dining", "menu*",
             "brunch", "catering", "bakery"),
    "tech": ("software", "app", "apps", "code", "coding", "developer*", "programming", "python",
             "javascript", "linux", "cloud", "server*", "computer*", "laptop*", "tech*", "api",
             "data", "ai", "gadget*", "android", "iphone", "web", "saas", "crm", "scheduling", "automation", "integration*"),
    "finance": ("financ*", "bank*", "invest*", "stock*", "money", "budget*", "tax*", "accounting",
                "retire*", "saving*", "fund*", "wealth", "bookkeep*", "accountant*", "payroll", "invoic*", "cpa", "frugal*"),
    "health": ("health*", "medical", "doctor*", "clinic*", "fitness", "diet*", "nutrition*",
               "wellness", "yoga", "therap*", "hospital*", "dental", "dentist*", "nurse*", "physio*", "orthodont*", "chiropract*", "implant*", "invisalign", "teeth", "tooth",
               "patient*", "surgeon*", "pediatric*", "paediatric*", "optometr*"),
    "home": ("home", "garden*", "diy", "furniture", "interior*", "decor*", "renovat*", "plumb*",
             "roof*", "floor*", "kitchen*", "cleaning", "house*", "gutter*", "shingle*", "drain*", "hvac", "electrician*",
             "contractor*", "remodel*", "heater*", "boiler*", "locksmith*", "landscap*", "handyman"),
    "fashion": ("fashion*", "style*", "cloth*", "dress*", "shoe*", "jewel*", "beauty", "makeup",
                "skincare", "wear", "apparel", "handbag*"),
    "sports": ("sport*", "football", "soccer", "basketball", "tennis", "golf*", "running",
               "cycling", "bike*", "team*", "league", "athlet*", "marathon*"),
    "education": ("school*", "universit*", "college*", "student*", "teach*", "learn*",
                  "course*", "education*", "academ*", "research*", "study", "library"),
    "auto": ("car", "cars", "auto*", "vehicle*", "motor*", "truck*", "tire*", "tyre*",
             "engine*", "driving", "dealer*"),
    "pets": ("pet", "pets", "dog*", "cat", "cats", "puppy", "puppies", "vet", "veterinar*",
             "animal*", "aquarium*", "horse*", "rescue*", "adopt*", "kitten*", "shelter*"),
    "business": ("business*", "marketing", "startup*", "b2b", "consult*", "management", "office",
                 "career*", "job", "jobs", "hr", "recruit*", "supplier*", "industr*", "manufactur*", "engineer*", "pump", "pumps", "valve*",
                 "machin*", "factory", "employee*", "distributor*", "warehous*", "logistic*"),
    "local": ("news", "local", "city", "town", "community", "council", "county", "events",
              "association*", "club*", "church*", "society", "charit*", "donat*", "volunteer*", "nonprofit*", "fundrais*"),
    "legal": ("law", "laws", "lawyer*", "attorney*", "solicitor*", "legal", "court*", "divorce*",
              "custody", "probate", "litigat*", "paralegal*", "barrister*", "notary", "alimony",
              "conveyanc*", "immigration", "injur*", "accident*"),
    "arts": ("art", "arts", "music*", "photo*", "film*", "movie*", "book*", "design*", "paint*",
             "craft*", "museum*", "theat*", "poetry"),
}
TOPIC_NAMES: tuple[str, ...] = tuple(TOPICS)

#: Words that join keywords without being one ("lawyer in columbus"): left out of anchor ratios.
STOPWORDS: frozenset[str] = frozenset((
    "a", "an", "the", "in", "for", "of", "on", "at", "to", "and", "or", "with", "by", "from", "my",
    "your", "our", "me", "s", "de", "la", "le", "el", "di", "der", "die", "das", "und",
))

#: Place names that make a service a local money keyword ("plumber austin"): US states and large
#: cities of the English-speaking markets most exports come from.
PLACES: frozenset[str] = frozenset((
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
    "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky",
    "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi",
    "missouri", "montana", "nebraska", "nevada", "hampshire", "jersey", "ohio", "oklahoma",
    "oregon", "pennsylvania", "tennessee", "texas", "utah", "vermont", "virginia", "wisconsin",
    "wyoming", "carolina", "dakota", "nyc", "uk", "usa", "london", "manchester", "birmingham",
    "leeds", "glasgow", "liverpool", "bristol", "sheffield", "edinburgh", "cardiff", "belfast",
    "nottingham", "leicester", "newcastle", "brighton", "oxford", "cambridge", "dublin", "toronto",
    "vancouver", "montreal", "calgary", "ottawa", "sydney", "melbourne", "brisbane", "perth",
    "adelaide", "auckland", "chicago", "houston", "phoenix", "philadelphia", "dallas", "austin",
    "jacksonville", "columbus", "charlotte", "indianapolis", "seattle", "denver", "boston",
    "nashville", "detroit", "portland", "memphis", "louisville", "baltimore", "milwaukee",
    "albuquerque", "tucson", "fresno", "sacramento", "atlanta", "miami", "tampa", "orlando",
    "raleigh", "omaha", "minneapolis", "cleveland", "pittsburgh", "cincinnati", "vegas", "diego",
    "brooklyn", "queens", "manhattan", "bronx", "riverside", "oakland", "honolulu", "boise",
    "spokane", "tacoma", "richmond", "buffalo", "rochester", "albany", "hartford", "providence",
    "england", "scotland", "wales", "ireland", "canada", "australia", "zealand", "portugal", "spain",
    "france", "italy", "germany", "greece", "netherlands", "belgium", "austria", "switzerland",
    "mexico", "brazil", "india", "japan", "thailand", "vietnam", "europe", "lisbon", "porto",
    "madrid", "barcelona", "paris", "rome", "berlin", "amsterdam",
))
