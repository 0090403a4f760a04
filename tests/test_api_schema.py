"""Schemathesis against the API's own OpenAPI document, on the demo data.

Every operation gets generated requests, ones that fit the document and ones that do not;
every answer must be free of server errors and match the document (status, content type,
body schema), and requests that break the document must be refused.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from confmgr.demo.loader import SLUG
from tests.helpers import ORGANISER, bearer

#: Enough to reach every branch of our validation, few enough for CI's time.
EXAMPLES = 15


def test_the_api_keeps_to_its_document(demo):
    headers = bearer(demo, ORGANISER[0])
    # A request the document allows may still break a rule the document cannot state
    # (a delegate of another point, a phone number's shape): 422 is the right answer then;
    # an If-Match it makes up names no version of the resource: 412.
    config = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "304", "401", "403", "404", "409", "412", "422"]}}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo, config=config)
    # Generated slugs and codes only ever meet 404s; the demo's reach the real data.
    demo_places = {"slug": SLUG, "code": "22"}
    tested = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        known = {name: value for name, value in demo_places.items()
                 if "{" + name + "}" in operation.path}
        for mode in GenerationMode:
            for places in ({}, known) if known else ({},):
                strategy = operation.as_strategy(generation_mode=mode,
                                                 path_parameters=places or None)

                @given(case=strategy)
                @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=list(HealthCheck))
                def check(case):
                    case.call_and_validate(headers=headers)

                check()
        tested.add(operation.label)
    document = demo.test_client().get("/api/v1/openapi.json").get_json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item}
    # Schemathesis leaves out the document's own address; every other operation ran.
    assert tested == operations - {"GET /openapi.json"} and len(tested) == 19
