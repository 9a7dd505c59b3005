"""The seed generator's vocabulary: the Ahrefs header it writes, niches with their keywords, anchor
and site-name words, TLD mixes, and the link schemes with their weights (data, no logic)."""

AHREFS_HEADER = (
    "Referring page title", "Referring page URL", "Language", "Platform", "Referring page HTTP code",
    "Domain rating", "UR", "Domain traffic", "Referring domains", "Linked domains",
    "External links", "Page traffic", "Keywords", "Target URL", "Left context", "Anchor",
    "Right context", "Redirect Chain URLs", "Redirect Chain status codes", "Type", "Is spam",
    "Content", "Nofollow", "UGC", "Sponsored", "Rendered", "Raw", "Lost status", "Drop reason",
    "Discovered status", "First seen", "Last seen", "Lost", "Author", "Page type",
    "Page category", "Links in group",
)

NICHES = {
    "outdoors": (["hiking boots", "camping tents", "trail running shoes", "backpacking gear",
                  "climbing ropes"], ["trail", "hiking", "camping", "mountain", "outdoor", "trek"]),
    "travel": (["cheap flights", "hotel deals", "travel insurance", "city tours", "beach resorts"],
               ["travel", "trip", "journey", "hotel", "wander", "destination"]),
    "food": (["recipe ideas", "kitchen knives", "coffee beans", "vegan recipes", "baking supplies"],
             ["kitchen", "recipe", "food", "baking", "coffee", "cook"]),
    "tech": (["web hosting", "project management software", "cloud backup", "laptop reviews",
              "password manager"], ["code", "tech", "dev", "cloud", "software", "data"]),
    "finance": (["personal loans", "credit cards", "tax software", "investment app", "budget planner"],
                ["money", "finance", "invest", "budget", "wealth", "tax"]),
    "health": (["physiotherapy clinic", "dental implants", "yoga classes", "vitamin supplements",
                "sleep tracker"], ["health", "clinic", "yoga", "fitness", "wellness", "care"]),
    "home": (["roof repair", "kitchen renovation", "garden furniture", "floor tiles", "plumber"],
             ["home", "garden", "house", "diy", "floor", "decor"]),
    "fashion": (["leather handbags", "running shoes", "wedding dresses", "silver jewelry",
                 "organic skincare"], ["style", "fashion", "dress", "beauty", "wear", "closet"]),
    "pets": (["dog food", "cat toys", "puppy training", "aquarium filters", "horse saddles"],
             ["dog", "pet", "cat", "puppy", "paws", "animal"]),
    "auto": (["car insurance", "winter tyres", "used cars", "car parts", "auto repair"],
             ["car", "auto", "motor", "drive", "garage", "engine"]),
    "education": (["online courses", "language school", "math tutoring", "coding bootcamp",
                   "study guides"], ["learn", "school", "study", "course", "academy", "teach"]),
    "gambling": (["online casino", "sports betting", "casino bonus", "free spins", "poker sites"],
                 ["casino", "bet", "slots", "poker", "jackpot", "odds"]),
}
NORMAL_NICHES = [n for n in NICHES if n != "gambling"]
TITLE_WORDS = {
    "outdoors": ["Trail report", "Gear review", "Weekend hike", "Camping checklist", "Summit diary"],
    "travel": ["Travel diary", "Two weeks in", "City guide", "Road trip notes", "Packing list"],
    "food": ["Recipe", "Kitchen notes", "Sunday baking", "Coffee tasting", "Dinner ideas"],
    "tech": ["Release notes", "How we migrated", "Developer diary", "Tooling review", "Benchmark"],
    "finance": ["Budget update", "Investing notes", "Tax season", "Savings plan", "Money diary"],
    "health": ["Wellness notes", "Yoga journal", "Clinic news", "Fitness plan", "Recovery diary"],
    "home": ["Garden update", "Renovation diary", "DIY project", "Kitchen makeover", "Home notes"],
    "fashion": ["Style notes", "Outfit of the week", "Beauty review", "Wardrobe update", "Lookbook"],
    "pets": ["Dog diary", "Pet care tips", "Puppy training log", "Cat corner", "Vet visit"],
    "auto": ["Car review", "Garage diary", "Road test", "Maintenance log", "Motor news"],
    "education": ["Study notes", "Course review", "Teaching diary", "Exam tips", "Class news"],
    "gambling": ["Casino review", "Betting tips", "Poker night", "Odds update", "Slots guide"],
}
SPAM_ANCHORS = {
    "gambling": ["online casino", "best casino bonus", "slot gacor", "judi online", "sports betting tips",
                 "casino online terpercaya", "free spins no deposit"],
    "adult": ["free porn", "sexy webcam girls", "escort service", "xxx videos", "adult dating"],
    "pharma": ["buy viagra online", "cheap cialis", "tramadol no prescription", "online pharmacy",
               "buy xanax"],
    "loans": ["payday loans", "fast cash loans", "bad credit loans", "instant loan approval"],
    "essays": ["write my essay", "cheap essay writing service", "buy dissertation"],
    "replicas": ["replica rolex", "cheap uggs outlet", "fake louboutin", "replica handbags"],
    "crypto": ["bitcoin trading signals", "crypto airdrop", "best crypto exchange", "binary options"],
}
FOREIGN_SPAM = ["купить виагру", "казино онлайн", "ставки на спорт", "网上赌场", "色情视频",
                "オンラインカジノ", "займы онлайн"]
GENERIC = ["click here", "here", "website", "this site", "read more", "source", "this article",
           "link", "visit site", "more info", "this post"]
NATURAL_CONTEXT = ["We tried {x} last month and", "As the team at", "A good overview of {x} is at",
                   "I found this guide on {x} from", "Recommended by our readers:", "According to",
                   "Thanks to", "Photos courtesy of", "Our friends at", "More on {x} from"]
SMALL_WORDS = ["green", "little", "north", "river", "oak", "stone", "maple", "blue", "happy",
               "wild", "quiet", "sunny", "old", "bright", "cedar", "harbor", "valley", "meadow",
               "urban", "simple", "honest", "daily", "local", "family", "kind", "the", "my", "our"]
NOUNS = ["house", "notes", "journal", "diary", "corner", "lab", "studio", "works", "collective",
         "club", "guild", "press", "times", "gazette", "forum", "society", "crew", "kitchen",
         "trail", "garden", "shop", "supply", "co", "place", "life", "path", "world", "post"]
FIRST_NAMES = ["anna", "john", "maria", "peter", "lucy", "tom", "sara", "mike", "eva", "jan", "li", "omar"]
LAST_NAMES = ["smith", "miller", "garcia", "nowak", "rossi", "muller", "chen", "khan", "dubois", "berg"]
SPAMMY_WORDS = ["best", "top", "cheap", "seo", "links", "free", "online", "directory", "bookmark",
                "submit", "web", "list", "rank", "traffic", "buy", "mega", "pro", "hub", "4u", "24"]
NATURAL_TLDS = (["com"] * 50 + ["org"] * 8 + ["net"] * 6 + ["co.uk"] * 5 + ["de"] * 5 + ["fr"] * 3
                + ["ca"] * 3 + ["com.au"] * 3 + ["nl"] * 2 + ["it"] * 2 + ["es"] * 2 + ["pl"] * 2
                + ["io"] * 2 + ["blog"] * 1 + ["info"] * 1 + ["xyz"] * 1 + ["online"] * 1
                + ["ru"] * 1 + ["jp"] * 1 + ["in"] * 1)
PLATFORMS = ["blogspot.com", "wordpress.com", "tumblr.com", "github.io", "wixsite.com", "weebly.com",
             "netlify.app", "medium.com"]
NATURAL_SCHEMES = {  # scheme: weight
    "editorial_blog": 30, "local_news": 8, "association": 5, "supplier_partner": 6, "forum_ugc": 10,
    "comment_nofollow": 6, "popular_site": 6, "sponsored_marked": 5, "foreign_relevant": 4,
    "platform_blog": 8, "niche_directory": 3, "scraper_nofollow": 2, "resource_page": 7,
}
TOXIC_SCHEMES = {
    "paid_advertorial": 14, "pbn": 14, "link_exchange": 8, "directory_spam": 10, "widget_footer": 8,
    "comment_spam": 12, "hacked": 8, "scraper": 8, "negative_seo": 14, "platform_spam": 4,
}
