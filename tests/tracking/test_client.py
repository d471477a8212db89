"""Client address behind trusted proxies, country lookup, bot detection."""

from sightline.settings import Settings
from sightline.tracking.client import Countries, client_address, is_bot

PROXIES = Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8, ::1").trusted_proxies


def test_forwarded_for_is_believed_only_from_a_trusted_peer():
    assert client_address("203.0.113.9", "81.2.69.160", PROXIES) == "203.0.113.9"
    assert client_address("127.0.0.1", None, PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", "81.2.69.160", PROXIES) == "81.2.69.160"
    assert client_address("::1", "2001:db8::7", PROXIES) == "2001:db8::7"


def test_the_nearest_untrusted_hop_is_the_client():
    # the client may send any X-Forwarded-For of its own: hops left of it are never believed
    assert client_address("127.0.0.1", "1.1.1.1, 81.2.69.160, 10.0.0.5", PROXIES) == "81.2.69.160"
    assert client_address("127.0.0.1", "10.0.0.6, 10.0.0.5", PROXIES) == "10.0.0.6"
    assert client_address("127.0.0.1", "garbage, 81.2.69.160", PROXIES) == "81.2.69.160"
    assert client_address("127.0.0.1", "81.2.69.160, garbage", PROXIES) == "127.0.0.1"


def test_trusted_proxies_setting_reads_a_comma_separated_list():
    assert [str(n) for n in PROXIES] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Settings().trusted_proxies == []


def test_countries_from_the_shipped_database():
    countries = Countries(None)
    assert countries("81.2.69.160") == "GB"
    assert countries("8.8.8.8") == "US"
    assert countries("127.0.0.1") is None
    assert countries("not an address") is None


def test_bots():
    assert is_bot("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")
    assert is_bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "HeadlessChrome/131.0.0.0 Safari/537.36")
    assert is_bot("python-requests/2.32.3")
    assert is_bot("")
    assert not is_bot("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                      "(KHTML, like Gecko) Version/17.5 Safari/605.1.15")
    assert not is_bot("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, "
                      "like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
