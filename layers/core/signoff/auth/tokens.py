"""Short-lived tokens: a key exchanged for a signed, scoped JWT a browser may hold.

A token is an HS256 JWT signed with a secret kept in Secrets Manager (by reference, read through
Powertools' parameters utility and cached for a few minutes). It names its tenant, the key that
issued it, its holder (`sub`: who decides with it), its scopes and its end (`exp`, minutes away).
The authorizer accepts it as `Bearer <token>`; the api grants it the routes its scopes name.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from signoff.auth.principal import APP, TOKEN, Principal
from signoff.auth.scopes import Scope, parse_scopes
from signoff.errors import ConfigurationError, Forbidden, InvalidInput, Unauthorized

ISSUER = "signoff"
_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32
_SECRET_MAX_AGE_SECONDS = 300
_LEEWAY_SECONDS = 5
MAX_SUBJECT_LENGTH = 200


def looks_like_token(credential: str) -> bool:
    """A JWT (three base64url parts, the first a JSON object), not an `sk_` key."""
    return credential.startswith("eyJ") and credential.count(".") == 2


class ScopeTargets(Protocol):
    """Finds what scopes name, within one tenant (NotFound for anything else)."""

    def workflow_of_run(self, tenant_id: str, run_id: str) -> str: ...

    def check_workflow(self, tenant_id: str, workflow_id: str) -> None: ...


class SecretSource:
    """The signing secret, from a `secretsmanager:<secret id>` reference."""

    def __init__(self, reference: str | None, client: Any = None) -> None:
        self._reference = reference
        self._client = client
        self._provider: SecretsProvider | None = None

    def __call__(self) -> bytes:
        scheme, _, name = (self._reference or "").partition(":")
        if scheme != "secretsmanager" or not name:
            raise ConfigurationError(
                "setting token_secret_ref is missing or not 'secretsmanager:<secret id>'"
            )
        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=self._client)
        try:
            value = self._provider.get(name, max_age=_SECRET_MAX_AGE_SECONDS)
        except GetParameterError as error:
            raise ConfigurationError("the token signing secret could not be read") from error
        secret = value.encode() if isinstance(value, str) else bytes(value or b"")
        if len(secret) < _MIN_SECRET_BYTES:
            raise ConfigurationError("the token signing secret is shorter than 32 bytes")
        return secret


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    subject: str
    scopes: list[str]
    expires_at: int
    """Unix seconds."""


class TokenService:
    def __init__(
        self,
        secret: Callable[[], bytes],
        *,
        targets: ScopeTargets | None = None,
        default_ttl_seconds: int = 900,
        max_ttl_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._targets = targets
        self._default_ttl = default_ttl_seconds
        self._max_ttl = max_ttl_seconds
        self._clock = clock

    def issue(
        self,
        principal: Principal,
        scopes: list[str],
        subject: str,
        ttl_seconds: int | None = None,
    ) -> IssuedToken:
        """A token for `subject` with `scopes`, which the issuing key must itself hold."""
        if principal.role == TOKEN:
            raise Forbidden("a token cannot issue tokens: exchange a key")
        if not principal.has_tenant:
            raise Forbidden("the operator key has no tenant: exchange a tenant's key")
        if not subject or len(subject) > MAX_SUBJECT_LENGTH:
            raise InvalidInput(
                f"subject (who holds the token) is 1 to {MAX_SUBJECT_LENGTH} characters",
                field="subject",
            )
        ttl = self._default_ttl if ttl_seconds is None else ttl_seconds
        if not 1 <= ttl <= self._max_ttl:
            raise InvalidInput(f"ttl_seconds is 1 to {self._max_ttl}", field="ttl_seconds")
        parsed = parse_scopes(scopes)
        for scope in parsed:
            self._check_reach(principal, scope)
        now = int(self._clock())
        expires_at = now + ttl
        if principal.expires_at is not None:
            # A token never outlives the key that issued it.
            expires_at = min(expires_at, principal.expires_at)
        token_id = f"tok_{uuid.uuid4().hex}"
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "tid": principal.tenant_id,
            "kid": principal.key_id,
            "scope": " ".join(str(scope) for scope in parsed),
            "jti": token_id,
            "iat": now,
            "exp": expires_at,
        }
        token = jwt.encode(claims, self._secret(), algorithm=_ALGORITHM)
        return IssuedToken(
            token=token,
            token_id=token_id,
            subject=subject,
            scopes=[str(scope) for scope in parsed],
            expires_at=expires_at,
        )

    def verify(self, token: str) -> Principal:
        """The principal a token stands for; Unauthorized when it is forged, expired or odd."""
        try:
            claims = jwt.decode(
                token,
                self._secret(),
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against this service's clock.
                options={
                    "require": ["exp", "iat", "sub", "jti", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized("the token is not valid") from error
        expires_at = claims["exp"]
        if not isinstance(expires_at, int) or expires_at + _LEEWAY_SECONDS <= self._clock():
            raise Unauthorized("the token has expired")
        tenant_id, key_id, scope = claims.get("tid"), claims.get("kid"), claims.get("scope")
        if not all(isinstance(value, str) and value for value in (tenant_id, key_id, scope)):
            raise Unauthorized("the token is not valid")
        return Principal(
            tenant_id=tenant_id,
            key_id=key_id,
            role=TOKEN,
            scopes=tuple(scope.split()),
            subject=str(claims["sub"]),
            token_id=str(claims["jti"]),
            expires_at=expires_at,
        )

    def _check_reach(self, principal: Principal, scope: Scope) -> None:
        """The issuing key must reach what the scope names (404 outside its tenant)."""
        if self._targets is None:
            return
        if scope.resource == "runs":
            workflow_id = self._targets.workflow_of_run(principal.tenant_id, scope.id)
        else:
            self._targets.check_workflow(principal.tenant_id, scope.id)
            workflow_id = scope.id
        if principal.role == APP and workflow_id != principal.workflow_id:
            raise Forbidden(f"this app key acts for workflow {principal.workflow_id} only")
