"""The report registry: every entry is complete, and OpenAPI shows what it says."""

import pytest

from sightline.stats.reports import BASE, ENTRIES, NAMES, REPORTS, split_report

PREFIX = "/api/v1/projects/{project_id}/stats/"


def test_every_entry_ends_with_the_base_tables_which_answer_anything():
    for entry in ENTRIES:
        assert list(entry.families)[-1] == BASE, entry.name
    assert set(NAMES) == set(REPORTS)


def test_report_names_resolve_to_their_entry():
    assert split_report("pages")[0] is REPORTS["pages"]
    assert split_report("properties/plan") == (REPORTS["properties"], {"key": "plan"})


@pytest.mark.parametrize("name", ["properties", "nope", "utm/nope"])
def test_unknown_report_names_are_invalid(name):
    from sightline.problems import InvalidParameter

    with pytest.raises(InvalidParameter):
        split_report(name)


async def test_openapi_lists_every_parameter_with_its_allowed_values_and_every_response(client):
    spec = (await client.get("/openapi.json")).json()
    for entry in ENTRIES:
        operation = spec["paths"][PREFIX + entry.path]["get"]
        documented = {p["name"]: p for p in operation["parameters"]}
        for param in entry.documented_params():
            assert param.name in documented, (entry.name, param.name)
            if param.read == "choice":
                assert documented[param.name]["schema"]["enum"] == list(param.allowed)
        # `format` (json or csv) is every route's, read at the response layer (sightline.exports)
        assert documented["format"]["schema"]["enum"] == ["json", "csv"]
        assert set(documented) - {"project_id", "param", "prop_key", "format"} <= entry.accepts()
        assert entry.response.__name__ in spec["components"]["schemas"]
        assert "200" in operation["responses"]
    period = spec["paths"][PREFIX + "overview"]["get"]["parameters"]
    assert any(p["name"] == "compare" for p in period)
