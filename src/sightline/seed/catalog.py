"""What seeded traffic is made of: pages, sources, countries, agents, custom events, seasonality.

Weights are relative. Everything here is fixed data; `traffic.py` draws from it with a seeded RNG.
"""

import random
from itertools import accumulate

from sightline.ingest.normalize import source_of

CORE_PAGES = (
    "/", "/pricing", "/features", "/blog", "/docs", "/signup", "/login", "/dashboard",
    "/checkout", "/about", "/integrations", "/changelog", "/customers", "/contact", "/careers",
    "/security", "/privacy", "/terms", "/account/settings", "/account/billing",
)
BLOG_WORDS = (
    ("why", "how", "when", "what", "the-case-for", "lessons-from", "a-guide-to", "stop-ignoring",
     "rethinking", "scaling"),
    ("fast", "cheap", "honest", "privacy-first", "open-source", "self-hosted", "real-time",
     "boring", "simple"),
    ("analytics", "dashboards", "funnels", "retention", "postgres", "caching", "rollups",
     "pricing", "onboarding", "growth"),
)
DOC_SECTIONS = ("getting-started", "api", "sdk", "self-hosting", "guides")
DOC_TOPICS = ("overview", "install", "events", "sessions", "filters", "goals", "funnels",
              "retention", "dashboards", "caching", "keys", "webhooks", "migrations", "scaling",
              "troubleshooting", "faq", "limits", "exports", "graphql", "timezones")
INTEGRATIONS = ("stripe", "segment", "slack", "shopify", "wordpress", "webflow", "nextjs", "react",
                "vue", "django", "rails", "laravel", "hubspot", "zapier", "gatsby", "hugo",
                "ghost", "framer", "bubble", "intercom")

COUNTRIES = (
    ("US", 32), ("DE", 8), ("GB", 7), ("IN", 7), ("FR", 5), ("CA", 4), ("BR", 4), ("NL", 3),
    ("ES", 3), ("JP", 3), ("AU", 2.5), ("IT", 2.5), ("PL", 2), ("MX", 1.5), ("SE", 1.5),
    ("CH", 1), ("KR", 1), ("SG", 1), ("AT", 1), ("BE", 1), ("IE", 0.8), ("DK", 0.7), ("NO", 0.6),
    ("FI", 0.6), ("PT", 0.6), ("AR", 0.6), ("ZA", 0.5), ("NG", 0.4), ("ID", 0.8), ("TR", 0.6),
    ("UA", 0.5), ("IL", 0.5), ("NZ", 0.4), ("CZ", 0.4), ("RO", 0.4), ("VN", 0.4), (None, 2),
)

# (device, browser, os, weight)
AGENTS = (
    ("desktop", "Chrome", "Windows", 19), ("desktop", "Chrome", "macOS", 9.5),
    ("desktop", "Safari", "macOS", 6), ("desktop", "Edge", "Windows", 7),
    ("desktop", "Firefox", "Windows", 3.5), ("desktop", "Firefox", "Linux", 1.8),
    ("desktop", "Chrome", "Linux", 2.3), ("desktop", "Firefox", "macOS", 1.8),
    ("desktop", "Opera", "Windows", 1.2), ("desktop", "Chrome", "Chrome OS", 1.2),
    ("desktop", "Brave", "Windows", 0.6), ("desktop", None, None, 0.5),
    ("mobile", "Safari", "iOS", 16), ("mobile", "Chrome", "Android", 13.5),
    ("mobile", "Samsung Internet", "Android", 3), ("mobile", "Chrome", "iOS", 2.2),
    ("mobile", "Firefox", "Android", 1), ("mobile", "Opera", "Android", 0.5),
    ("tablet", "Safari", "iOS", 3.9), ("tablet", "Chrome", "Android", 1.8),
    ("tablet", "Samsung Internet", "Android", 0.3),
)

# (referrer, utm_source, utm_medium, utm_campaign, utm_content, utm_term), weight for a new
# visitor, weight for a returning one.
SOURCES = (
    (("https://www.google.com/", None, None, None, None, None), 30, 18),
    ((None, None, None, None, None, None), 20, 45),
    (("https://www.bing.com/", None, None, None, None, None), 3, 2),
    (("https://duckduckgo.com/", None, None, None, None, None), 2, 1.5),
    (("https://search.brave.com/", None, None, None, None, None), 0.6, 0.4),
    (("https://chatgpt.com/", None, None, None, None, None), 2, 1),
    ((None, "newsletter", "email", "weekly-digest", None, None), 3.5, 6),
    ((None, "newsletter", "email", "product-update", "header-link", None), 2, 4),
    ((None, "newsletter", "email", "product-update", "footer-link", None), 0.6, 1.2),
    ((None, "newsletter", "email", "black-friday", None, None), 1, 1.5),
    ((None, "newsletter", "email", "onboarding-day-3", None, None), 0.5, 2),
    (("https://t.co/", None, None, None, None, None), 3, 2),
    (("https://t.co/", "twitter", "social", "launch-week", None, None), 1.5, 0.8),
    (("https://www.linkedin.com/", None, None, None, None, None), 2.5, 1.5),
    (("https://www.linkedin.com/", "linkedin", "social", "launch-week", "carousel", None), 1, 0.5),
    (("https://www.reddit.com/r/SaaS/", None, None, None, None, None), 1.2, 0.5),
    (("https://www.reddit.com/r/selfhosted/", None, None, None, None, None), 1.5, 0.6),
    (("https://www.reddit.com/r/webdev/", None, None, None, None, None), 0.8, 0.3),
    (("https://news.ycombinator.com/", None, None, None, None, None), 3, 1.2),
    (("https://news.ycombinator.com/item", None, None, None, None, None), 1, 0.4),
    (("https://github.com/sightline/sightline", None, None, None, None, None), 2, 1.5),
    (("https://github.com/topics/analytics", None, None, None, None, None), 0.5, 0.2),
    (("https://m.facebook.com/", None, None, None, None, None), 1.5, 0.8),
    (("https://www.facebook.com/", "facebook", "paid-social", "retargeting", "video", None),
     0.8, 1),
    (("https://www.producthunt.com/", "producthunt", "referral", "launch-week", None, None),
     1, 0.3),
    (("https://www.google.com/", "google", "cpc", "brand", "ad-a", "sightline analytics"),
     1.5, 0.8),
    (("https://www.google.com/", "google", "cpc", "competitors", "ad-b", "plausible alternative"),
     1.5, 0.4),
    (("https://www.google.com/", "google", "cpc", "generic", "ad-c", "fast dashboard api"),
     1, 0.3),
    (("https://dev.to/", None, None, None, None, None), 1, 0.4),
    (("https://medium.com/", None, None, None, None, None), 0.8, 0.3),
    (("https://stackoverflow.com/questions", None, None, None, None, None), 1.2, 0.8),
    (("https://www.youtube.com/", None, None, None, None, None), 0.8, 0.3),
    (("https://lobste.rs/", None, None, None, None, None), 0.4, 0.2),
    (("https://www.indiehackers.com/", None, None, None, None, None), 0.5, 0.2),
    (("https://alternativeto.net/software/plausible-analytics/", None, None, None, None, None),
     0.7, 0.2),
    (("https://www.g2.com/products/sightline/reviews", None, None, None, None, None), 0.4, 0.2),
    (("https://blog.example-partner.io/", "partner", "referral", "co-marketing", None, None),
     0.5, 0.3),
)
OTHER_REFERRERS = tuple(
    f"https://{host}/" for host in (
        "www.baidu.com", "yandex.ru", "www.ecosia.org", "news.google.com", "slack.com",
        "teams.microsoft.com", "app.hubspot.com", "mail.google.com", "outlook.live.com",
        "www.notion.so", "substack.com", "hashnode.com", "www.quora.com", "flipboard.com",
        "feedly.com", "www.techmeme.com", "daily.dev", "tldr.tech", "css-tricks.com",
        "smashingmagazine.com", "www.freecodecamp.org", "thenewstack.io", "www.infoq.com",
        "changelog.com", "console.dev", "bestofjs.org", "awesome-selfhosted.net",
        "www.saashub.com", "stackshare.io", "www.capterra.com",
    )
)

# Custom events: name, weight, and how their properties and revenue are drawn (traffic.py).
CUSTOM_EVENTS = (
    ("cta_click", 16), ("outbound_click", 14), ("search", 14), ("signup", 11),
    ("add_to_cart", 9), ("video_play", 9), ("file_download", 7), ("trial_started", 5),
    ("purchase", 5), ("invite_sent", 3), ("form_error", 2),
)

# Seasonality: relative traffic by UTC hour and by ISO weekday (Monday first).
HOURLY = (0.35, 0.30, 0.28, 0.27, 0.30, 0.38, 0.50, 0.65, 0.80, 0.92, 1.00, 1.05,
          1.08, 1.10, 1.12, 1.10, 1.05, 1.00, 0.95, 0.90, 0.82, 0.70, 0.55, 0.42)
WEEKDAY = (1.08, 1.10, 1.10, 1.06, 0.98, 0.70, 0.68)

# Events per session: 1 (a bounce) to 15.
SESSION_LENGTHS = tuple(range(1, 16))
SESSION_LENGTH_WEIGHTS = (40, 15, 11, 8, 6, 5, 4, 3, 2.5, 2, 1.5, 1.2, 1, 0.8, 0.6)


def cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    return list(accumulate(weights))


def paths(rng: random.Random) -> list[str]:
    """A few hundred paths, most popular first (the order is drawn, the core pages lead)."""
    words_a, words_b, words_c = BLOG_WORDS
    blog = [f"/blog/{a}-{b}-{c}" for a in words_a for b in words_b for c in words_c]
    rng.shuffle(blog)
    docs = [f"/docs/{section}/{topic}" for section in DOC_SECTIONS for topic in DOC_TOPICS]
    rng.shuffle(docs)
    tail = blog[:160] + docs + [f"/integrations/{name}" for name in INTEGRATIONS]
    rng.shuffle(tail)
    rest = list(CORE_PAGES[3:])
    rng.shuffle(rest)
    return list(CORE_PAGES[:3]) + rest + tail


def zipf_weights(n: int, exponent: float = 1.1) -> list[float]:
    return [1 / (rank ** exponent) for rank in range(1, n + 1)]


def source_rows() -> list[tuple[str | None, ...]]:
    """Each source variant as the stored columns: referrer, source, utm_source … utm_term."""
    variants = [variant for variant, _, _ in SOURCES]
    variants += [(referrer, None, None, None, None, None) for referrer in OTHER_REFERRERS]
    return [(referrer, source_of(utm_source, referrer), utm_source, *rest)
            for referrer, utm_source, *rest in variants]


def source_weights(returning: bool) -> list[float]:
    weights = [back if returning else new for _, new, back in SOURCES]
    other = 6.0 if not returning else 3.0
    return weights + [other / len(OTHER_REFERRERS)] * len(OTHER_REFERRERS)
