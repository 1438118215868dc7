"""The audit trail: what ``record_write`` stores is what ``GET /api/v1/audit`` shows its tenant's
admins, newest first, filtered and paged; nobody else sees it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.api.audit import record_write
from shared.api.auth import Principal, Role
from shared.api.routes.audit import _token
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

PROBLEM = "application/problem+json"


def _write(deps: Container, cnpj: Cnpj, action: str, resource: str, **kw: Any) -> None:
    principal = Principal(cnpj=cnpj, subject=kw.pop("subject", "maria"), role=Role.EDITOR)
    record_write(deps, principal, action, resource, kw.get("before"), kw.get("after"))


def test_a_write_shows_up_with_who_what_when_and_json_safe_snapshots(
    deps: Container, api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    started = datetime.now(UTC)
    after = {
        "name": "Black Friday",
        "starts": date(2026, 11, 27),
        "at": datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        "budget": Decimal("12.50"),
        "status": Status.QUEUED,
        "matrix": [[1, 2], [3]],  # arrays of arrays: valid JSON, refused by Firestore maps
        "tags": {"vip"},
        "ratio": float("nan"),
        7: "int key",
    }
    _write(deps, new_cnpj, "campaign.create", "campaigns/c1", before=None, after=after)

    answer = api_as(new_cnpj, Role.ADMIN).get("/api/v1/audit")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["next_page_token"] is None
    [entry] = page["items"]
    assert (entry["subject"], entry["role"]) == ("maria", "editor")
    assert (entry["action"], entry["resource"]) == ("campaign.create", "campaigns/c1")
    assert entry["before"] is None
    assert entry["after"] == {
        "name": "Black Friday",
        "starts": "2026-11-27",
        "at": "2026-11-27T09:00:00+00:00",
        "budget": "12.50",
        "status": "QUEUED",
        "matrix": [[1, 2], [3]],
        "tags": ["vip"],
        "ratio": "nan",
        "7": "int key",
    }
    at = datetime.fromisoformat(entry["at"])
    assert started - timedelta(seconds=5) <= at <= datetime.now(UTC) + timedelta(seconds=5)


def test_newest_first_filters_and_pages(
    deps: Container, api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    for index in range(7):
        resource = f"campaigns/c{index % 2}"
        action = "campaign.update" if index else "campaign.create"
        _write(deps, new_cnpj, action, resource, before={"n": index - 1}, after={"n": index})
    admin = api_as(new_cnpj, Role.ADMIN)

    seen: list[int] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"page_size": 3, **({"page_token": token} if token else {})}
        answer = admin.get("/api/v1/audit", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= 3
        seen += [item["after"]["n"] for item in page["items"]]
        pages += 1
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [6, 5, 4, 3, 2, 1, 0]
    assert pages == 3

    only_c1 = admin.get("/api/v1/audit", params={"resource": "campaigns/c1"}).json()["items"]
    assert [item["after"]["n"] for item in only_c1] == [5, 3, 1]
    created = admin.get("/api/v1/audit", params={"action": "campaign.create"}).json()["items"]
    assert [item["after"]["n"] for item in created] == [0]

    everything = admin.get("/api/v1/audit").json()["items"]
    times = [datetime.fromisoformat(item["at"]) for item in everything]
    middle = times[3]  # the entry n=3
    window = admin.get(
        "/api/v1/audit",
        params={"since": middle.isoformat(), "until": times[1].isoformat()},
    ).json()["items"]
    assert [item["after"]["n"] for item in window] == [4, 3]


def test_bad_queries_are_422_naming_the_parameter(
    api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    admin = api_as(new_cnpj, Role.ADMIN)
    cases = [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page_token": "not-a-token"}, "page_token"),
        # well-formed, but names no entry of this tenant
        ({"page_token": "YTE6QUJDREVGR0hJSktMTU5PUFFSU1Q="}, "page_token"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
    ]
    for params, field in cases:
        answer = admin.get("/api/v1/audit", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["Content-Type"] == PROBLEM
        assert [error["field"] for error in answer.json()["errors"]] == [field], params


def test_only_admins_read_the_trail(
    deps: Container, api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    _write(deps, new_cnpj, "campaign.create", "campaigns/c1", after={"n": 1})
    for role in (Role.VIEWER, Role.EDITOR):
        answer = api_as(new_cnpj, role).get("/api/v1/audit")
        assert answer.status_code == 403, answer.text
        assert answer.headers["Content-Type"] == PROBLEM
        assert "admin" in answer.json()["detail"]


def test_another_tenant_s_trail_is_never_visible(
    deps: Container, api_as: Callable[..., ApiClient], new_cnpj: Cnpj
) -> None:
    other = Cnpj.from_base(f"{(int(new_cnpj.value[:12]) + 1) % 10**12:012d}")
    _write(deps, other, "campaign.create", "campaigns/secret", after={"n": 1}, subject="rival")
    _write(deps, new_cnpj, "campaign.create", "campaigns/mine", after={"n": 2})

    mine = api_as(new_cnpj, Role.ADMIN).get("/api/v1/audit").json()["items"]
    assert [item["resource"] for item in mine] == ["campaigns/mine"]
    theirs = api_as(other, Role.ADMIN).get("/api/v1/audit").json()
    assert [item["resource"] for item in theirs["items"]] == ["campaigns/secret"]

    # A page token of the other tenant's trail does not open it either.
    token = _token(theirs["items"][0]["id"])
    answer = api_as(new_cnpj, Role.ADMIN).get("/api/v1/audit", params={"page_token": token})
    assert answer.status_code == 422, answer.text


def test_a_write_through_the_api_is_audited_with_the_caller(
    api_as: Callable[..., ApiClient], sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    body = {
        "name": "Audited promo",
        "objective": "promotional",
        "segmentation": {"include_all": True},
        "templates": [
            {
                "name": "Oferta",
                "content": "Olá {{1}}, 20% de desconto!",
                "whatsapp_template": {"name": "oferta", "language": "pt_BR"},
            }
        ],
    }
    created = api_as(cnpj, Role.EDITOR, "editor-eva").post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    resource = f"campaigns/{created.json()['id']}"

    answer = api_as(cnpj, Role.ADMIN).get("/api/v1/audit", params={"resource": resource})
    assert answer.status_code == 200, answer.text
    [entry] = answer.json()["items"]
    assert (entry["subject"], entry["role"], entry["action"]) == (
        "editor-eva",
        "editor",
        "campaign.create",
    )
    assert entry["before"] is None
    assert entry["after"]["name"] == "Audited promo"
