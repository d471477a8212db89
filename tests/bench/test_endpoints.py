"""The bench's floor routes exist only in servers the bench starts (SIGHTLINE_BENCH_ROUTES)."""

from httpx import ASGITransport, AsyncClient

from sightline.app import create_app


async def test_floor_routes_are_not_served_by_default(client):
    for path in ("/bench/floor", "/bench/floor-redis"):
        assert (await client.get(path)).status_code == 404


async def test_floor_routes_are_served_when_the_bench_asks(settings):
    app = create_app(settings.model_copy(update={"bench_routes": True}))
    async with app.router.lifespan_context(app):
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.get("/bench/floor")).status_code == 200
