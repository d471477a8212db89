"""/docs and /redoc work with no network: every asset comes from the app itself."""

import re

DOC_PAGES = ("/docs", "/redoc")


async def test_docs_pages_reference_only_same_origin_assets_that_load(client):
    for page in DOC_PAGES:
        response = await client.get(page)
        assert response.status_code == 200, page
        html = response.text
        assert "http://" not in html and "https://" not in html and "//" not in \
            html.replace("://", ""), page
        assets = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assets += re.findall(r'spec-url="([^"]+)"', html)
        assert any(a.endswith(".js") for a in assets), page
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), asset
            loaded = await client.get(asset)
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 0
    assert '"validatorUrl": null' in (await client.get("/docs")).text


async def test_openapi_declares_the_bearer_scheme_and_typed_bodies(client):
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    paths = schema["paths"]
    stats = paths["/api/v1/projects/{project_id}/stats/pages"]["get"]
    assert stats["security"] == [{"HTTPBearer": []}]
    assert "format" in [p["name"] for p in stats["parameters"]]
    assert set(stats["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert paths["/api/v1/projects"]["post"]["security"] == [{"HTTPBearer": []}]
    query = paths["/api/v1/projects/{project_id}/query"]["post"]["requestBody"]
    body = query["content"]["application/json"]["schema"]
    assert "report" in body["properties"] and body["examples"]
    components = schema["components"]["schemas"]
    for name in ("DashboardCreate", "WidgetIn", "ReportCreate", "ProjectCreate"):
        assert components[name].get("examples"), name
    assert components["WidgetIn"]["properties"]["query"]["properties"]["report"]
