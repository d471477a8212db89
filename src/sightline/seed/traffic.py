"""Deterministic, realistic traffic, drawn session by session and returned as stored event rows.

A row is exactly what ingestion stores for the same event (see `ingest/normalize.py`): the
source derived from utm_source/referrer, the visitor key, properties as canonical text values,
and the explicit session's key `s:<session_id>`. Plain Python, tuned for well over 100,000
events per second: the per-session parts of a row are built once and shared by its events.
"""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from sightline.ingest.normalize import canonical_value, visitor_key
from sightline.seed import catalog

# The stored event columns, in the order of the rows built here (project_id and session_key
# first, then the ingest's EVENT_COLUMNS; seed/queries.py checks the two agree).
ROW_COLUMNS = (
    "project_id", "session_key", "event_id", "name", "ts", "visitor_id", "visitor_key",
    "session_id", "path", "referrer", "source", "utm_source", "utm_medium", "utm_campaign",
    "utm_content", "utm_term", "country", "device", "browser", "os", "revenue", "properties",
)

RETURN_PROBABILITY = 0.45   # a session belongs to a returning visitor
LOYAL_PROBABILITY = 0.35    # a new visitor may come back later
CUSTOM_PROBABILITY = 0.2    # an event after the first is a custom event
PLANS = ("free", "pro", "team")
PLAN_PRICES = {"free": Decimal("0.00"), "pro": Decimal("29.00"), "team": Decimal("99.00")}


@dataclass(slots=True)
class Chunk:
    """Rows in ROW_COLUMNS order and the (visitor_id, session_key) of the sessions they form."""

    rows: list[tuple[Any, ...]]
    sessions: list[tuple[str, str]]


def uuid7(unix_ms: int, random_bits: int) -> str:
    """A UUID version 7 text from a Unix time in milliseconds and 74 random bits."""
    value = (unix_ms << 80) | (0x7 << 76) | ((random_bits >> 62) << 64) | (0b10 << 62) \
        | (random_bits & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Traffic:
    """`events` events over the `days` days ending at `end`; the same seed gives the same rows."""

    def __init__(self, project_id: str, events: int, days: int, seed: int, end: datetime):
        self.project_id = project_id
        self.events = events
        self.days = max(days, 1)
        self.end = end.astimezone(UTC)
        self.rng = random.Random(seed)
        rng = self.rng
        self.paths = catalog.paths(rng)
        self.path_cw = catalog.cumulative(catalog.zipf_weights(len(self.paths)))
        self.sources = catalog.source_rows()
        self.source_cw = (catalog.cumulative(catalog.source_weights(False)),
                          catalog.cumulative(catalog.source_weights(True)))
        self.countries = [c for c, _ in catalog.COUNTRIES]
        self.country_cw = catalog.cumulative([w for _, w in catalog.COUNTRIES])
        self.agents = [a[:3] for a in catalog.AGENTS]
        self.agent_cw = catalog.cumulative([a[3] for a in catalog.AGENTS])
        self.custom_names = [name for name, _ in catalog.CUSTOM_EVENTS]
        self.custom_cw = catalog.cumulative([w for _, w in catalog.CUSTOM_EVENTS])
        self.loyal: list[tuple[str, int, tuple[Any, ...]]] = []
        self.lengths = self.session_lengths()
        self.slot_counts = self.sessions_per_hour(len(self.lengths))

    def session_lengths(self) -> list[int]:
        """Events per session, summing to exactly `events` (the last one cut to fit)."""
        rng, lengths, total = self.rng, [], 0
        cw = catalog.cumulative(catalog.SESSION_LENGTH_WEIGHTS)
        while total < self.events:
            for n in rng.choices(catalog.SESSION_LENGTHS, cum_weights=cw, k=10_000):
                if total + n >= self.events:
                    lengths.append(self.events - total)
                    total = self.events
                    break
                lengths.append(n)
                total += n
        return lengths

    def sessions_per_hour(self, sessions: int) -> list[int]:
        """Spread the sessions over the hours with daily and weekly seasonality and growth."""
        rng = self.rng
        hours = self.days * 24
        start = self.end - timedelta(hours=hours)
        day_factor = [(0.8 + 0.4 * d / self.days) * (0.9 + 0.2 * rng.random())
                      for d in range(self.days + 1)]
        weights = []
        for i in range(hours):
            at = start + timedelta(hours=i)
            weights.append(catalog.HOURLY[at.hour] * catalog.WEEKDAY[at.weekday()]
                           * day_factor[i // 24])
        total, counts, done, acc = sum(weights), [], 0, 0.0
        for weight in weights:
            acc += weight
            upto = round(sessions * acc / total)
            counts.append(upto - done)
            done = upto
        return counts

    def visitor(self, at: float) -> tuple[str, int, tuple[Any, ...], bool]:
        """A returning visitor (recent ones more likely) or a new one with its own place/agent.

        Visitor ids are UUIDv7 of the first visit, as SDKs make them (PostHog does): ids of
        the same time sort together, which keeps index writes local."""
        rng, loyal = self.rng, self.loyal
        if loyal and rng.random() < RETURN_PROBABILITY:
            index = len(loyal) - 1 - int(rng.expovariate(1.0) * len(loyal) * 0.35)
            visitor_id, key, place = loyal[index if index >= 0 else rng.randrange(len(loyal))]
            return visitor_id, key, place, True
        visitor_id = uuid7(int(at * 1000), rng.getrandbits(74))
        country = rng.choices(self.countries, cum_weights=self.country_cw)[0]
        place = (country, *rng.choices(self.agents, cum_weights=self.agent_cw)[0])
        key = visitor_key(visitor_id)
        if rng.random() < LOYAL_PROBABILITY:
            loyal.append((visitor_id, key, place))
        return visitor_id, key, place, False

    def chunks(self, size: int = 50_000) -> Iterator[Chunk]:
        rng, project_id = self.rng, self.project_id
        paths, path_cw = self.paths, self.path_cw
        custom_names, custom_cw = self.custom_names, self.custom_cw
        random_, expovariate, choices = rng.random, rng.expovariate, rng.choices
        end_ts = self.end.timestamp()
        first_slot = end_ts - self.days * 24 * 3600
        rows: list[tuple[Any, ...]] = []
        sessions: list[tuple[str, str]] = []
        lengths = iter(self.lengths)
        for slot, count in enumerate(self.slot_counts):
            slot_start = first_slot + slot * 3600
            for start in sorted(slot_start + 3600 * random_() for _ in range(count)):
                n = next(lengths)
                visitor_id, key, place, returning = self.visitor(start)
                session_id = f"{rng.getrandbits(64):016x}"
                session_key = "s:" + session_id
                source = self.sources[choices(range(len(self.sources)),
                                              cum_weights=self.source_cw[returning])[0]]
                head = (project_id, session_key, None)
                who = (visitor_id, key, session_id)
                tail = source + place
                pages = choices(paths, cum_weights=path_cw, k=n)
                offsets = [0.0] * n
                offset = 0.0
                kinds = [None] * n
                for i in range(1, n):
                    if random_() < CUSTOM_PROBABILITY:
                        kinds[i] = choices(custom_names, cum_weights=custom_cw)[0]
                        offset += 1 + expovariate(0.125)
                    else:
                        offset += min(600.0, 5 + expovariate(0.02))
                    offsets[i] = offset
                base = min(start, end_ts - offset)
                current = pages[0]
                for i in range(n):
                    ts = datetime.fromtimestamp(base + offsets[i], UTC)
                    kind = kinds[i]
                    if kind is None:
                        current = pages[i]
                        rows.append(head + ("pageview", ts) + who + (current,) + tail
                                    + (None, None))
                    else:
                        revenue, properties = self.custom(kind, current)
                        rows.append(head + (kind, ts) + who + (current,) + tail
                                    + (revenue, properties))
                sessions.append((visitor_id, session_key))
                if len(rows) >= size:
                    yield Chunk(rows, sessions)
                    rows, sessions = [], []
        if rows:
            yield Chunk(rows, sessions)

    def custom(self, name: str, path: str) -> tuple[Decimal | None, str]:
        """Revenue and stored properties (canonical text values) of a custom event."""
        rng = self.rng
        revenue: Decimal | None = None
        plan = PLANS[min(2, int(rng.expovariate(1.2)))]
        props: dict[str, str | int | float | bool]
        if name == "purchase":
            plan = "team" if rng.random() < 0.25 else "pro"
            seats = 1 + int(rng.expovariate(0.4))
            annual = rng.random() < 0.3
            revenue = PLAN_PRICES[plan] * seats * (10 if annual else 1)
            props = {"plan": plan, "seats": seats, "annual": annual,
                     "coupon": rng.random() < 0.15}
        elif name == "signup":
            props = {"plan": plan, "method": rng.choice(("email", "google", "github"))}
        elif name == "trial_started":
            props = {"plan": plan if plan != "free" else "pro", "days": rng.choice((14, 30))}
        elif name == "add_to_cart":
            props = {"product": f"sku-{int(rng.expovariate(0.15))}",
                     "quantity": 1 + int(rng.expovariate(1.5)),
                     "price": round(4.99 + int(rng.expovariate(0.08)) + 0.5, 2)}
        elif name == "search":
            props = {"query": rng.choice(catalog.DOC_TOPICS),
                     "results": int(rng.expovariate(0.1))}
        elif name == "video_play":
            props = {"video": rng.choice(("demo-tour", "quickstart", "webinar-q3")),
                     "seconds": round(rng.expovariate(0.02), 1), "autoplay": rng.random() < 0.2}
        elif name == "outbound_click":
            props = {"url": rng.choice(("https://github.com/sightline/sightline",
                                        "https://docs.stripe.com/", "https://discord.gg/sightline",
                                        "https://x.com/sightline"))}
        elif name == "cta_click":
            props = {"button": rng.choice(("hero", "nav", "footer", "pricing-card")),
                     "variant": rng.choice(("a", "b"))}
        elif name == "file_download":
            props = {"file": rng.choice(("whitepaper.pdf", "pricing.pdf", "sdk.zip"))}
        elif name == "invite_sent":
            props = {"role": rng.choice(("member", "admin")),
                     "count": 1 + int(rng.expovariate(0.7))}
        else:
            props = {"form": rng.choice(("signup", "checkout", "contact")), "page": path}
        return revenue, orjson.dumps({k: canonical_value(v) for k, v in props.items()}).decode()


NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
API_FIELDS = ("path", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
              "utm_term", "country", "device", "browser", "os")


def typed_value(text: str) -> bool | int | float | str:
    """A stored property text back to the JSON value an SDK sent (seeded texts never look like
    numbers or booleans unless they were ones)."""
    if text in ("true", "false"):
        return text == "true"
    if NUMBER.fullmatch(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text


def as_api_event(row: dict[str, Any]) -> dict[str, Any]:
    """The POST /api/v1/events body of a stored event (a mapping of ROW_COLUMNS to values)."""
    sent: dict[str, Any] = {"name": row["name"], "timestamp": row["ts"].isoformat(),
                            "visitor_id": row["visitor_id"]}
    if row["session_id"] is not None:
        sent["session_id"] = row["session_id"]
    sent.update((f, row[f]) for f in API_FIELDS if row[f] is not None)
    if row["revenue"] is not None:
        sent["revenue"] = float(row["revenue"])
    if row["properties"]:
        properties = row["properties"]
        if isinstance(properties, str):
            properties = orjson.loads(properties)
        sent["properties"] = {k: typed_value(v) for k, v in properties.items()}
    return sent
