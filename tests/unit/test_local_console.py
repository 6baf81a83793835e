"""The local front serves the built console at /console as the static site does in a deployment,
and the template's static site (bucket, origin access control, CloudFront) plans locally."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges toward httpx2 for its TestClient; httpx is what this project pins.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from signoff.local.console import NOT_BUILT
from signoff.local.front import Front
from signoff.local.functions import FunctionRunner
from signoff.local.provision import (
    CLOUDFRONT_FUNCTION,
    DISTRIBUTION,
    ORIGIN_ACCESS_CONTROL,
    plan_stack,
)

INDEX = "<!doctype html><title>console</title>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A console build: index.html, config.json and one hashed asset."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "config.json").write_text('{"apiBaseUrl": ""}')
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('hi')")
    return tmp_path


def client_for(toy_template: Path, console_directory: Path) -> TestClient:
    plan = plan_stack(toy_template)
    front = Front(plan, FunctionRunner(plan.functions), console_directory=console_directory)
    return TestClient(front.app, follow_redirects=False)


def test_given_a_build_when_a_page_of_the_app_is_asked_then_index_html_answers(toy_template, built):
    client = client_for(toy_template, built)

    for path in ("/console/", "/console/runs/3f2a", "/console/workflows/hello"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-type"].startswith("text/html")


def test_given_a_build_when_files_are_asked_then_they_are_served_and_hashed_assets_kept(
    toy_template, built
):
    client = client_for(toy_template, built)

    asset = client.get("/console/assets/index-abc123.js")
    config = client.get("/console/config.json")
    missing = client.get("/console/assets/index-gone.js")

    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert config.json() == {"apiBaseUrl": ""}
    assert config.headers["cache-control"] == "no-cache"
    # A missing file is a 404, not the app's page: a broken build must not look like a page.
    assert missing.status_code == 404


def test_given_a_path_leaving_the_build_then_nothing_outside_it_is_served(toy_template, tmp_path):
    build = tmp_path / "dist"
    build.mkdir()
    (build / "index.html").write_text(INDEX)
    (tmp_path / "secret.txt").write_text("not for the browser")
    client = client_for(toy_template, build)

    for path in ("/console/%2e%2e/secret.txt", "/console/..%2fsecret.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not for the browser" not in response.text


def test_given_console_without_slash_then_it_redirects_and_the_api_still_answers_elsewhere(
    toy_template, built
):
    client = client_for(toy_template, built)

    redirect = client.get("/console?x=1")
    api = client.get("/health")

    assert (redirect.status_code, redirect.headers["location"]) == (308, "/console/?x=1")
    assert api.status_code == 200
    assert api.json()["event"]["resource"] == "/health"


def test_given_no_build_then_the_console_says_how_to_build_it(toy_template, tmp_path):
    client = client_for(toy_template, tmp_path / "missing")

    response = client.get("/console/")

    assert (response.status_code, response.text) == (404, NOT_BUILT)


def test_given_the_real_template_then_the_static_site_plans_with_resolved_references():
    plan = plan_stack()

    kinds = {spec.logical_id: spec.kind for spec in plan.cloudfront.values()}
    assert kinds == {
        "ConsoleDistribution": DISTRIBUTION,
        "ConsoleOriginAccessControl": ORIGIN_ACCESS_CONTROL,
        "ConsoleRewriteFunction": CLOUDFRONT_FUNCTION,
    }
    distribution = plan.cloudfront["ConsoleDistribution"]
    config = distribution.properties["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    bucket = plan.buckets["ConsoleBucket"].bucket_name
    assert origins["console"]["DomainName"] == f"{bucket}.s3.us-east-1.amazonaws.com"
    assert (
        origins["console"]["OriginAccessControlId"]
        == plan.cloudfront["ConsoleOriginAccessControl"].physical_id
    )
    api = plan.api()
    assert origins["api"]["DomainName"] == f"{api.rest_api_id}.execute-api.us-east-1.amazonaws.com"
    assert origins["api"]["OriginPath"] == f"/{api.stage}"
    (console_behaviour,) = config["CacheBehaviors"]
    assert console_behaviour["PathPattern"] == "/console*"
    (association,) = console_behaviour["FunctionAssociations"]
    assert association["FunctionARN"].endswith(":function/signoff-console-pages")
    # Only this distribution may read the bucket.
    allow = plan.bucket_policies["ConsoleBucketPolicy"].document["Statement"][0]
    assert allow["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(
        f":distribution/{distribution.physical_id}"
    )
    assert plan.outputs["ConsoleUrl"].startswith("https://")
    assert plan.outputs["ConsoleUrl"].endswith(".cloudfront.net/console/")
