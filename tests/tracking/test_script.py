"""GET /js/sightline.js: small, cached by content hash, revalidated by ETag."""

from sightline.tracking.endpoints import TRACKER, TRACKER_DIGEST, TRACKER_PATH


async def test_the_tracker_is_small_and_revalidates(client):
    response = await client.get("/js/sightline.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == TRACKER and len(TRACKER) < 8_000
    etag = response.headers["etag"]
    assert etag == f'"{TRACKER_DIGEST}"'
    assert "max-age" in response.headers["cache-control"]
    again = await client.get("/js/sightline.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


async def test_the_hashed_address_is_immutable(client):
    response = await client.get(TRACKER_PATH)
    assert response.status_code == 200 and response.content == TRACKER
    assert "immutable" in response.headers["cache-control"]
    assert (await client.get("/js/sightline.0123456789ab.js")).status_code == 404


def test_the_tracker_uses_beacons_history_and_vitals():
    script = TRACKER.decode()
    for needle in ("sendBeacon", "keepalive", "pushState", "replaceState", "popstate",
                   "largest-contentful-paint", "layout-shift", "web_vitals", "pagehide",
                   "visibilitychange", "data-outbound", ".q"):
        assert needle in script, needle
