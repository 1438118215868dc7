"""Who may call the API: every untrusted token is a 401 problem, a role too low is a 403, and a
caller above its rate is a 429 — through the real functions host. The production path (RS256
keys from the identity provider's JWKS) is checked against a real local HTTP server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter

from shared.api.app import create_app
from shared.api.auth import AuthenticationError, Principal, Role, Verifier, mint
from shared.api.deps import Admin, Writer
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError, TransientError
from shared.localstack.stack import LOCAL_WHATSAPP
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

SECRET = LOCAL_WHATSAPP["API_JWT_SECRET"]
PROBLEM = "application/problem+json"
ISSUER = "https://issuer.example.test"
AUDIENCE = "campaigns-api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token built by hand, for what PyJWT refuses to produce."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hmac_by_hand(claims: dict[str, Any], key: bytes, header: dict[str, Any]) -> str:
    """An HMAC-signed token PyJWT would not sign (a PEM as key, or a short HS512 key)."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[header["alg"]]
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(tenant: Cnpj, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "tester",
        "cnpj": tenant.value,
        "role": "admin",
        "iat": now,
        "exp": now + 600,
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


# -- 401 through the functions host ---------------------------------------------------------------


def _untrusted_tokens(cnpj: Cnpj) -> dict[str, str]:
    other_secret = "another-secret-of-at-least-thirty-two-bytes!"
    return {
        "garbage": "not-a-jwt",
        "empty segments": "..",
        "expired": mint(SECRET, cnpj, ttl_seconds=-120),  # beyond the 30 s leeway
        "wrong signature": mint(other_secret, cnpj),
        "tampered claims": _tamper(mint(SECRET, cnpj, Role.VIEWER)),
        "alg none": _unsigned(_claims(cnpj), {"alg": "none", "typ": "JWT"}),
        "alg HS512 with the right secret": _hmac_by_hand(
            _claims(cnpj), SECRET.encode(), {"alg": "HS512", "typ": "JWT"}
        ),
        "no cnpj": jwt.encode(_claims(cnpj, cnpj=None), SECRET, algorithm="HS256"),
        "bad cnpj": jwt.encode(_claims(cnpj, cnpj="11222333000182"), SECRET, algorithm="HS256"),
        "numeric cnpj": jwt.encode(_claims(cnpj, cnpj=11222333000181), SECRET, algorithm="HS256"),
        "unknown role": jwt.encode(_claims(cnpj, role="owner"), SECRET, algorithm="HS256"),
        "no role": jwt.encode(_claims(cnpj, role=None), SECRET, algorithm="HS256"),
        "no subject": jwt.encode(_claims(cnpj, sub=None), SECRET, algorithm="HS256"),
        "blank subject": jwt.encode(_claims(cnpj, sub="  "), SECRET, algorithm="HS256"),
        "huge subject": jwt.encode(_claims(cnpj, sub="x" * 300), SECRET, algorithm="HS256"),
        "no expiry": jwt.encode(_claims(cnpj, exp=None), SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode(
            _claims(cnpj, nbf=int(time.time()) + 600), SECRET, algorithm="HS256"
        ),
        "unexpected audience": mint(SECRET, cnpj, audience="some-other-api"),
    }


def _tamper(token: str) -> str:
    """The same signature over claims that now say admin."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _assert_401(answer: requests.Response, case: str) -> None:
    assert answer.status_code == 401, (case, answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == PROBLEM, case
    assert answer.headers["WWW-Authenticate"] == "Bearer", case
    body = answer.json()
    assert body["status"] == 401 and body["title"] == "Unauthenticated", case


def test_every_untrusted_token_is_a_401_problem(api_url: str, new_cnpj: Cnpj) -> None:
    valid = ApiClient(api_url, mint(SECRET, new_cnpj)).get("/api/v1/whoami")
    assert valid.status_code == 200, valid.text  # the same path does answer a good token
    for case, token in _untrusted_tokens(new_cnpj).items():
        _assert_401(ApiClient(api_url, token).get("/api/v1/whoami"), case)
        _assert_401(ApiClient(api_url, token).get("/api/v1/audit"), case)


def test_missing_or_non_bearer_credentials_are_a_401(api_url: str, new_cnpj: Cnpj) -> None:
    _assert_401(ApiClient(api_url, None).get("/api/v1/whoami"), "no header")
    token = mint(SECRET, new_cnpj)
    for header in (f"Basic {token}", token, "Bearer", "Bearer "):
        answer = ApiClient(api_url, None).get("/api/v1/whoami", headers={"Authorization": header})
        _assert_401(answer, header[:12])


# -- 403 ----------------------------------------------------------------------------------------


def test_a_viewer_may_not_write_and_only_an_admin_reads_the_audit(
    api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    viewer = api_as(new_cnpj, Role.VIEWER)
    answer = viewer.post("/api/v1/campaigns", json={})
    assert answer.status_code == 403, answer.text  # the role is checked before the body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["detail"] == "role viewer may not do this; needs editor"
    answer = api_as(new_cnpj, Role.EDITOR).get("/api/v1/audit")
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"] == "role editor may not do this; needs admin"
    assert api_as(new_cnpj, Role.ADMIN).get("/api/v1/audit").status_code == 200


def test_role_dependencies_allow_exactly_the_roles_at_or_above(new_cnpj: Cnpj) -> None:
    """In process, on a router of its own, so the rule is checked whatever routes exist."""
    app = create_app()
    router = APIRouter()

    @router.post("/write")
    def write(principal: Writer) -> dict[str, str]:
        return {"role": principal.role.value}

    @router.post("/administer")
    def administer(principal: Admin) -> dict[str, str]:
        return {"role": principal.role.value}

    app.include_router(router)
    expected = {
        ("/write", Role.VIEWER): 403,
        ("/write", Role.EDITOR): 200,
        ("/write", Role.ADMIN): 200,
        ("/administer", Role.VIEWER): 403,
        ("/administer", Role.EDITOR): 403,
        ("/administer", Role.ADMIN): 200,
    }

    async def call(path: str, role: Role) -> httpx.Response:
        token = mint(SECRET, new_cnpj, role, subject=f"roles-{role.value}")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            return await client.post(path, headers={"Authorization": f"Bearer {token}"})

    for (path, role), status in expected.items():
        answer = asyncio.run(call(path, role))
        assert answer.status_code == status, (path, role, answer.text)
        if status == 403:
            assert answer.headers["Content-Type"] == PROBLEM
        else:
            assert answer.json() == {"role": role.value}


# -- 429 ----------------------------------------------------------------------------------------


def test_a_user_above_its_rate_gets_429_with_retry_after(deps: Container, new_cnpj: Cnpj) -> None:
    """The rule over HTTP, on a clock the test moves: a minute's requests at once, then 429 with
    the advertised wait, which is just enough; other callers keep their own budget."""
    moved = [0.0]
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    app = create_app(Container(deps.settings, lambda: start + timedelta(seconds=moved[0])))
    limit = deps.settings.api_requests_per_minute

    async def whoami(cnpj: Cnpj, subject: str, times: int = 1) -> list[httpx.Response]:
        token = mint(SECRET, cnpj, subject=subject)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            headers = {"Authorization": f"Bearer {token}"}
            return [await client.get("/api/v1/whoami", headers=headers) for _ in range(times)]

    *allowed, refused = asyncio.run(whoami(new_cnpj, "hammer", limit + 1))
    assert [answer.status_code for answer in allowed] == [200] * limit
    assert refused.status_code == 429, refused.text
    assert refused.headers["Content-Type"] == PROBLEM
    assert refused.json()["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after == math.ceil(60 / limit)  # one request's refill, in whole seconds

    # Another user of the tenant, and the same subject in another tenant, have their own budget.
    other = Cnpj.from_base(f"{(int(new_cnpj.value[:12]) + 7) % 10**12:012d}")
    assert asyncio.run(whoami(new_cnpj, "colleague"))[0].status_code == 200
    assert asyncio.run(whoami(other, "hammer"))[0].status_code == 200

    moved[0] = 60 / limit * 0.9  # not yet a whole request's refill
    assert asyncio.run(whoami(new_cnpj, "hammer"))[0].status_code == 429
    moved[0] = retry_after  # the advertised wait is enough
    assert asyncio.run(whoami(new_cnpj, "hammer"))[0].status_code == 200


def test_the_served_api_limits_a_user_in_real_time(api_url: str, new_cnpj: Cnpj) -> None:
    """Smoke test: the functions host's app has the limiter, on the real clock."""
    limit = Settings().api_requests_per_minute  # the functions host reads the same environment
    hammer = ApiClient(api_url, mint(SECRET, new_cnpj, subject="rate-limit-hammer"))
    answers = 0
    refused: requests.Response | None = None
    while refused is None and answers < limit * 2:
        answer = hammer.get("/api/v1/whoami")
        answers += 1
        if answer.status_code == 429:
            refused = answer
        else:
            assert answer.status_code == 200, answer.text
    assert refused is not None, f"{answers} requests, none refused"
    assert answers > limit  # a minute's burst first
    assert refused.headers["Content-Type"] == PROBLEM
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


# -- RS256 / JWKS, unit level over real HTTP ----------------------------------------------------


@dataclass
class Jwks:
    url: str
    key: rsa.RSAPrivateKey
    kid: str
    hits: list[str]

    def token(self, tenant: Cnpj, key: rsa.RSAPrivateKey | None = None, **changes: Any) -> str:
        kid = changes.pop("kid", self.kid)
        claims = _claims(tenant, **{"iss": ISSUER, "aud": AUDIENCE, **changes})
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@contextmanager
def _jwks_server(document: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps(document).encode()
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(rsa_key: rsa.RSAPrivateKey) -> Iterator[Jwks]:
    kid = "key-2026"
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    document = {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}
    with _jwks_server(document) as (url, hits):
        yield Jwks(url, rsa_key, kid, hits)


def _verifier(url: str, issuer: str | None = ISSUER, audience: str | None = AUDIENCE) -> Verifier:
    return Verifier(Settings(API_JWKS_URL=url, API_JWT_ISSUER=issuer, API_JWT_AUDIENCE=audience))


def test_jwks_accepts_the_identity_provider_s_token(jwks: Jwks, new_cnpj: Cnpj) -> None:
    verifier = _verifier(jwks.url)
    principal = verifier.verify(jwks.token(new_cnpj, role="editor", sub="uid-123"))
    assert principal == Principal(cnpj=new_cnpj, subject="uid-123", role=Role.EDITOR)
    verifier.verify(jwks.token(new_cnpj))
    assert jwks.hits == ["/jwks.json"]  # the key set is fetched once, then cached


def test_jwks_enforces_issuer_audience_key_and_algorithm(
    jwks: Jwks, rsa_key: rsa.RSAPrivateKey, new_cnpj: Cnpj
) -> None:
    verifier = _verifier(jwks.url)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "other issuer": jwks.token(new_cnpj, iss="https://evil.example.test"),
        "no issuer": jwks.token(new_cnpj, iss=None),
        "other audience": jwks.token(new_cnpj, aud="another-app"),
        "no audience": jwks.token(new_cnpj, aud=None),
        "audience list without ours": jwks.token(new_cnpj, aud=["a", "b"]),
        "expired": jwks.token(new_cnpj, exp=int(time.time()) - 120),
        "signed by another key under our kid": jwks.token(new_cnpj, key=stranger),
        "unknown kid": jwks.token(new_cnpj, kid="rotated-away"),
        "HS256 with the local secret": jwt.encode(
            _claims(new_cnpj, iss=ISSUER, aud=AUDIENCE), SECRET, algorithm="HS256"
        ),
        "HS256 keyed with our public key": _hmac_by_hand(
            _claims(new_cnpj, iss=ISSUER, aud=AUDIENCE),
            jwks.public_pem(),
            {"alg": "HS256", "typ": "JWT", "kid": jwks.kid},
        ),
        "alg none": _unsigned(
            _claims(new_cnpj, iss=ISSUER, aud=AUDIENCE), {"alg": "none", "kid": jwks.kid}
        ),
        "bad cnpj": jwks.token(new_cnpj, cnpj="00000000000000"),
        "unknown role": jwks.token(new_cnpj, role="superuser"),
    }
    assert [case for case, token in refused.items() if _accepts(verifier, token)] == []
    assert verifier.verify(jwks.token(new_cnpj, aud=["another-app", AUDIENCE])).cnpj == new_cnpj


def _accepts(verifier: Verifier, token: str) -> bool:
    try:
        verifier.verify(token)
    except AuthenticationError:
        return False
    return True


def test_jwks_without_issuer_and_audience_is_a_configuration_error(jwks: Jwks) -> None:
    for issuer, audience in ((None, AUDIENCE), (ISSUER, None), (None, None)):
        with pytest.raises(PermanentError, match="API_JWT_ISSUER and API_JWT_AUDIENCE"):
            _verifier(jwks.url, issuer, audience)


def test_an_unreachable_jwks_is_transient_not_the_caller_s_fault(
    jwks: Jwks, new_cnpj: Cnpj
) -> None:
    with _jwks_server({}) as (url, _):
        down = url  # the port is closed once the server is gone
    with pytest.raises(TransientError, match="identity provider keys unavailable"):
        _verifier(down).verify(jwks.token(new_cnpj))


def test_local_audience_and_issuer_are_enforced_when_configured(new_cnpj: Cnpj) -> None:
    verifier = Verifier(
        Settings(API_JWT_SECRET=SECRET, API_JWT_AUDIENCE="local-api", API_JWT_ISSUER="me")
    )
    token = mint(SECRET, new_cnpj, audience="local-api", issuer="me")
    assert verifier.verify(token).cnpj == new_cnpj
    for other in (
        mint(SECRET, new_cnpj),
        mint(SECRET, new_cnpj, audience="other"),
        mint(SECRET, new_cnpj, audience="local-api", issuer="you"),
    ):
        with pytest.raises(AuthenticationError):
            verifier.verify(other)
