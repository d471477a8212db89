"""Derive the stored form of an event: source, device/browser/os, canonical properties."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlsplit

import orjson
from ua_parser import parse

from sightline.ingest.schemas import EventIn, PropertyValue

DIRECT = "Direct / None"
BROWSER_NAMES = {
    "Mobile Safari": "Safari", "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome", "Chrome Mobile WebView": "Chrome",
    "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox", "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet", "Opera Mobile": "Opera",
}
OS_NAMES = {"Mac OS X": "macOS"}
TABLETS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10")


@dataclass(frozen=True, slots=True)
class Agent:
    device: str | None
    browser: str | None
    os: str | None


def source_of(utm_source: str | None, referrer: str | None) -> str:
    if utm_source:
        return utm_source
    if referrer:
        host = (urlsplit(referrer).hostname or "").lower()
        host = host.removeprefix("www.")
        if host:
            return host
    return DIRECT


@lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> Agent:
    result = parse(user_agent)
    browser = result.user_agent.family if result.user_agent else None
    os = result.os.family if result.os else None
    device_family = result.device.family if result.device else ""
    if any(marker in device_family for marker in TABLETS) or (
        os == "Android" and "Mobile" not in user_agent
    ):
        device = "tablet"
    elif os in ("iOS", "Android") or "Mobile" in user_agent or device_family == "iPhone":
        device = "mobile"
    else:
        device = "desktop"
    return Agent(
        device=device,
        browser=None if browser in (None, "Other") else BROWSER_NAMES.get(browser, browser),
        os=None if os in (None, "Other") else OS_NAMES.get(os, os),
    )


def canonical_value(value: PropertyValue) -> str:
    """The canonical JSON text of a property value: true, 2.5 for 2.50, 12 for 12.0, text as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return json.dumps(value)


def visitor_key(visitor_id: str) -> int:
    """A 64-bit key for fast distinct counting; collisions are negligible below billions."""
    return int.from_bytes(hashlib.blake2b(visitor_id.encode(), digest_size=8).digest(), "big",
                          signed=True)


@dataclass(slots=True)
class StoredEvent:
    event_id: str | None
    name: str
    ts: datetime
    visitor_id: str
    visitor_key: int
    session_id: str | None
    path: str | None
    referrer: str | None
    source: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    country: str | None
    device: str | None
    browser: str | None
    os: str | None
    revenue: Decimal | None
    properties: str | None


def to_stored(event: EventIn, now: datetime) -> StoredEvent:
    agent = parse_agent(event.user_agent) if event.user_agent else Agent(None, None, None)
    properties = (
        orjson.dumps({k: canonical_value(v) for k, v in event.properties.items()}).decode()
        if event.properties else None
    )
    return StoredEvent(
        event_id=event.id, name=event.name, ts=event.timestamp or now,
        visitor_id=event.visitor_id, visitor_key=visitor_key(event.visitor_id),
        session_id=event.session_id, path=event.path, referrer=event.referrer,
        source=source_of(event.utm_source, event.referrer),
        utm_source=event.utm_source, utm_medium=event.utm_medium,
        utm_campaign=event.utm_campaign, utm_content=event.utm_content, utm_term=event.utm_term,
        country=event.country, device=event.device or agent.device,
        browser=event.browser or agent.browser, os=event.os or agent.os,
        revenue=event.revenue, properties=properties,
    )
