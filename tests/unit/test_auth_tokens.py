"""Short-lived tokens: signed, scoped, expiring, and issued only within the issuing key's reach."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from signoff.auth.principal import Principal
from signoff.auth.scopes import granted, parse_scopes
from signoff.auth.tokens import TokenService, looks_like_token
from signoff.errors import Forbidden, InvalidInput, NotFound, Unauthorized

SECRET = b"s" * 48
NOW = 1_700_000_000.0

ADMIN = Principal(tenant_id="tenant-a", key_id="key_admin", role="admin")
APP = Principal(tenant_id="tenant-a", key_id="key_app", role="app", workflow_id="wf-1")


class Resources:
    """Tenant a has workflows wf-1 and wf-2, with runs r-1 (of wf-1) and r-2 (of wf-2)."""

    def __init__(self) -> None:
        self.runs = {("tenant-a", "r-1"): "wf-1", ("tenant-a", "r-2"): "wf-2"}
        self.workflows = {("tenant-a", "wf-1"), ("tenant-a", "wf-2")}

    def workflow_of_run(self, tenant_id: str, run_id: str) -> str:
        if (tenant_id, run_id) not in self.runs:
            raise NotFound(f"run {run_id} not found")
        return self.runs[(tenant_id, run_id)]

    def check_workflow(self, tenant_id: str, workflow_id: str) -> None:
        if (tenant_id, workflow_id) not in self.workflows:
            raise NotFound(f"workflow {workflow_id} not found")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> TokenService:
    return TokenService(lambda: SECRET, targets=Resources(), default_ttl_seconds=600, clock=clock)


def test_given_an_admin_key_when_it_issues_a_review_token_then_the_token_names_scope_and_subject(
    tokens,
):
    issued = tokens.issue(ADMIN, ["runs:r-1:reviews"], "alice@example.com")

    principal = tokens.verify(issued.token)

    assert looks_like_token(issued.token)
    assert issued.expires_at == NOW + 600
    assert principal.role == "token"
    assert principal.tenant_id == "tenant-a"
    assert principal.key_id == "key_admin"
    assert principal.subject == "alice@example.com"
    assert principal.scopes == ("runs:r-1:reviews",)
    assert principal.token_id == issued.token_id
    assert principal.expires_at == issued.expires_at


def test_given_a_token_when_its_time_is_up_then_it_is_refused(tokens, clock):
    issued = tokens.issue(ADMIN, ["runs:r-1:read"], "alice", ttl_seconds=60)

    clock.now += 3600

    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(issued.token)


@pytest.mark.parametrize("forgery", ["other-secret", "tampered-claims", "none-algorithm"])
def test_given_a_forged_token_then_it_is_refused(tokens, forgery):
    issued = tokens.issue(ADMIN, ["runs:r-1:read"], "alice")
    claims = jwt.decode(issued.token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    if forgery == "other-secret":
        forged = jwt.encode(claims, b"o" * 48, algorithm="HS256")
    elif forgery == "tampered-claims":
        header, _, signature = issued.token.split(".")
        widened = {**claims, "scope": "runs:r-2:reviews", "tid": "tenant-b"}
        body = base64.urlsafe_b64encode(json.dumps(widened).encode()).rstrip(b"=").decode()
        forged = f"{header}.{body}.{signature}"
    else:
        forged = jwt.encode(claims, None, algorithm="none")

    with pytest.raises(Unauthorized):
        tokens.verify(forged)


def test_given_an_app_key_then_it_issues_tokens_for_its_own_workflow_only(tokens):
    assert tokens.issue(APP, ["runs:r-1:reviews", "workflows:wf-1:runs"], "bob").scopes == [
        "runs:r-1:reviews",
        "workflows:wf-1:runs",
    ]
    with pytest.raises(Forbidden):
        tokens.issue(APP, ["runs:r-2:read"], "bob")
    with pytest.raises(Forbidden):
        tokens.issue(APP, ["workflows:wf-2:runs"], "bob")


def test_given_a_scope_naming_another_tenants_run_then_404(tokens):
    other = Principal(tenant_id="tenant-b", key_id="key_b", role="admin")

    with pytest.raises(NotFound):
        tokens.issue(other, ["runs:r-1:reviews"], "mallory")


def test_given_a_token_when_it_asks_for_a_token_then_403(tokens):
    token = tokens.verify(tokens.issue(ADMIN, ["runs:r-1:read"], "alice").token)

    with pytest.raises(Forbidden):
        tokens.issue(token, ["runs:r-1:read"], "alice")


def test_given_the_operator_alone_when_it_asks_for_a_token_then_403(tokens):
    operator = Principal(tenant_id="", key_id="operator", role="operator", operator=True)

    with pytest.raises(Forbidden):
        tokens.issue(operator, ["runs:r-1:read"], "ops")


def test_given_a_key_that_expires_soon_then_its_tokens_expire_with_it(tokens):
    expiring = Principal(tenant_id="tenant-a", key_id="k", role="admin", expires_at=int(NOW) + 30)

    assert tokens.issue(expiring, ["runs:r-1:read"], "alice").expires_at == NOW + 30


@pytest.mark.parametrize(
    ("scopes", "ttl"),
    [([], None), (["runs:r-1:write"], None), (["runs:r 1:read"], None), (["runs:r-1:read"], 0)],
)
def test_given_bad_scopes_or_lifetime_then_400(tokens, scopes, ttl):
    with pytest.raises(InvalidInput):
        tokens.issue(ADMIN, scopes, "alice", ttl_seconds=ttl)


def test_given_scopes_then_reviews_imply_read_and_nothing_else():
    scopes = tuple(str(scope) for scope in parse_scopes(["runs:r-1:reviews"]))

    assert granted(scopes, "runs", "r-1", "reviews")
    assert granted(scopes, "runs", "r-1", "read")
    assert not granted(scopes, "runs", "r-2", "read")
    assert not granted(scopes, "workflows", "r-1", "runs")
    assert not granted(("runs:r-1:read",), "runs", "r-1", "reviews")
