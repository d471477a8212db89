"""The request gate. Bodies are limited before they are read and read only after the key is
checked: against a real
`sightline serve` process, a 300 MB upload without a key is refused before it is read, and the
server's memory does not grow with it."""

import socket
import time

import pytest

from tests import services
from tests.factories import auth, make_event, make_project

MB = 1_000_000


def open_request(base_port: int, path: str, headers: dict[str, str]) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", base_port), timeout=30)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             *(f"{name}: {value}" for name, value in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def status_of(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before a status line"
        head += chunk
    return int(head.split(b" ", 2)[1])


def push(sock: socket.socket, total: int, chunked: bool) -> int:
    """Send up to `total` bytes of body; return how many the server took before closing."""
    piece = b"[" + b" " * (MB - 1)
    sent = 0
    try:
        while sent < total:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
    except OSError:
        pass
    return sent


@pytest.fixture(scope="module")
def server(database_url, redis_url, settings):
    secret = settings.webhook_secret.get_secret_value()
    with services.served(database_url, redis_url, webhook_secret=secret) as running:
        yield running


@pytest.mark.parametrize("path", ["/api/v1/projects/x/query", "/api/v1/events", "/graphql",
                                  "/api/v1/hooks/invalidate"])
def test_300_mb_without_a_key_is_refused_before_it_is_read(server, path):
    before = services.rss_bytes(server.process.pid)
    for headers, chunked in (({"Content-Length": str(300 * MB)}, False),
                             ({"Transfer-Encoding": "chunked"}, True)):
        sock = open_request(server.port, path, headers)
        with sock:
            sock.sendall(b"%x\r\n[\r\n" % 1 if chunked else b"[")
            started = time.monotonic()
            status = status_of(sock)  # answered before the body was sent
            assert status in (401, 413), status
            assert time.monotonic() - started < 10
            push(sock, 300 * MB, chunked)
    grown = services.rss_bytes(server.process.pid) - before
    assert grown < 20 * MB, f"server grew {grown / MB:.1f} MB"


async def test_a_keyed_body_is_cut_at_the_limit_whatever_it_declares(server, db):
    project = await make_project(db)
    for path, key, limit in (("/api/v1/events", project.keys.ingest, 5 * MB),
                             (f"/api/v1/projects/{project.id}/query", project.keys.read, MB)):
        headers = {**auth(key), "Transfer-Encoding": "chunked"}
        with open_request(server.port, path, headers) as sock:
            push(sock, limit + 2 * MB, chunked=True)
            assert status_of(sock) == 413
        declared = {**auth(key), "Content-Length": str(limit + 1)}
        with open_request(server.port, path, declared) as sock:
            assert status_of(sock) == 413


async def test_bodies_under_the_limit_still_work(server, db):
    import httpx

    project = await make_project(db)
    async with httpx.AsyncClient(base_url=server.base) as http:
        response = await http.post("/api/v1/events", json=[make_event()] * 2000,
                                   headers=auth(project.keys.ingest))
        assert response.status_code == 202, response.text
        response = await http.post(f"/api/v1/projects/{project.id}/query",
                                   json={"report": "overview"}, headers=auth(project.keys.read))
        assert response.status_code in (200, 400), response.text
        response = await http.post(f"/api/v1/projects/{project.id}/query", json={},
                                   headers={"Authorization": "Bearer sl_read_forged"})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    log = server.log_path.read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log


async def test_nul_characters_are_400_in_parameters_and_422_in_bodies(client, db):
    project = await make_project(db)
    read = auth(project.keys.read)
    base = f"/api/v1/projects/{project.id}/stats"
    for url in (f"{base}/pages?period=7d&filters=page%3D%3D%2Fa%00b",
                f"{base}/properties/pl%00an?period=7d", f"{base}/pages?period=7d%00",
                f"{base}/pages?peri%00od=7d"):
        response = await client.get(url, headers=read)
        assert response.status_code == 400, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    for body in (b'[{"name":"pageview","visitor_id":"v\\u0000","path":"/"}]',
                 b'[{"name":"pageview","visitor_id":"v","path":"/","properties":{"\\u0000":1}}]'):
        response = await client.post("/api/v1/events", content=body,
                                     headers=auth(project.keys.ingest))
        assert response.status_code == 422, response.text
    escaped = b'[{"name":"pageview","visitor_id":"v\\\\u0000","path":"/"}]'  # text "\u0000"
    response = await client.post("/api/v1/events", content=escaped,
                                 headers=auth(project.keys.ingest))
    assert response.status_code == 202, response.text
    response = await client.post(f"/api/v1/projects/{project.id}/query", headers=read,
                                 content=b'{"report": "pages", "filters": "page==/\\u0000"}')
    assert response.status_code == 422, response.text


async def test_the_longest_accepted_values_still_build_rollups(client, db):
    """Multibyte text at every limit fits the rollup's keys (b-tree rows of ~2,700 bytes)."""
    from sightline.rollups.tasks import build_stale_days

    project = await make_project(db)
    longest = make_event(
        path="/" + "\u20ac" * 682, referrer="https://example.com/" + "\u00e9" * 590,
        utm_source="\U0001F600" * 256, browser="\U0001F600" * 64,
        properties={"\U0001F600" * 64: "\U0001F600" * 256})
    response = await client.post("/api/v1/events", json=[longest],
                                 headers=auth(project.keys.ingest))
    assert response.status_code == 202, response.text
    assert await build_stale_days(db, project.id, project.timezone)
