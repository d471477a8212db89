"""Who sent a beacon: the client address (trusted proxies), its country, and whether it is a bot."""

from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any

import iptocc
import maxminddb
from crawlerdetect import CrawlerDetect
from ua_parser import parse_device

Networks = Sequence[IPv4Network | IPv6Network]
CRAWLERS = CrawlerDetect()


def is_trusted(address: str, proxies: Networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Networks) -> str:
    """The socket's peer; behind trusted proxies, the nearest X-Forwarded-For hop that is not
    one of them (hops further left are the client's own claims, so they are never believed)."""
    address = peer or ""
    if not forwarded_for or not is_trusted(address, proxies):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ip_address(hop)
        except ValueError:
            return address
        address = hop
        if not is_trusted(hop, proxies):
            return hop
    return address


class Countries:
    """Country of an address: a MaxMind-format database when one is configured, else the
    offline database shipped in the `iptocc` package."""

    def __init__(self, database: Path | None):
        self.reader = maxminddb.open_database(database) if database else None

    def __call__(self, address: str) -> str | None:
        try:
            if self.reader is None:
                return iptocc.country_code(address)
            record: Any = self.reader.get(address)
        except ValueError:
            return None
        country = (record or {}).get("country") or {}
        return country.get("iso_code")

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


TYPICAL_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/131.0.0.0 Safari/537.36")


@lru_cache(maxsize=8192)
def is_bot(user_agent: str) -> bool:
    """Crawlers, monitors, headless browsers and HTTP libraries (CrawlerDetect's list), and
    what ua-parser calls a spider; no user agent at all counts as a bot too."""
    if not user_agent.strip():
        return True
    device = parse_device(user_agent)
    return CRAWLERS.isCrawler(user_agent) or (device is not None and device.family == "Spider")
