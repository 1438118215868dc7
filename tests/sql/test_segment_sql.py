"""Segment audiences on bqemulator: the profile view and every operator against hand-made rows.

One tenant for the whole module (registering and loading are the slow part): a handful of
customers, contacts and sales in which each row decides one rule. The comment beside each
member says what it is there for. "Now" is 08:30 local on Friday 20 Nov 2026 in São Paulo
(UTC-3), and rows either side of a local midnight share a UTC date, so only local-calendar
logic tells them apart.

A second tenant, loaded by the sample-data generator plus hand-made edge cases, checks the
view's SQL phone normalisation against ``normalize_br_mobile``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.phones import normalize_br_mobile
from shared.domain.segmentation import Segmentation, parse_segmentation
from shared.ports import QueryValue
from shared.segment_sql import audience_query
from shared.services.segments import estimate
from shared.services.tenants import register_tenant
from tests.conftest import new_tenant_id

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
"""08:30 local on 20 Nov 2026."""

Row = dict[str, Any]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cliente(
    customer_id: str,
    name: str,
    phone: str | None,
    *,
    email: str | None = None,
    born: date | None = None,
    signed_up: datetime | None = None,
) -> Row:
    return {
        "id": customer_id,
        "nome": name,
        "dataNascimento": f"{born.isoformat()} 00:00:00 UTC" if born else None,
        "cpf": f"cpf-{customer_id}",
        "telefone": phone,
        "email": email,
        "genero": "F",
        "dataCadastro": stamp(signed_up) if signed_up else None,
        "primeiraCompra": None,
    }


def sale(customer_id: str, at: datetime, valor: float, status: str = "COMPLETED") -> Row:
    return {
        "data": stamp(at),
        "cpfCliente": f"cpf-{customer_id}",
        "valor": valor,
        "status": status,
        "tipoPagamento": "PIX",
        "cupom": None,
    }


def literal(value: Any) -> str:
    """A BigQuery literal for the test's own constants (the contacts INSERT below)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{stamp(value)}'"
    if isinstance(value, dict):
        pairs = [f"STRUCT({literal(k)} AS key, {literal(v)} AS value)" for k, v in value.items()]
        return f"ARRAY<STRUCT<key STRING, value STRING>>[{', '.join(pairs)}]"
    if isinstance(value, list):
        return f"ARRAY<STRING>[{', '.join(literal(item) for item in value)}]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def contact(
    contact_id: str,
    phone: str | None,
    name: str | None,
    *,
    tags: Sequence[str] = (),
    groups: Sequence[str] = (),
    custom: Mapping[str, str] | None = None,
    timezone: str | None = None,
    opted_out: bool = False,
    blacklisted: bool = False,
    created_at: datetime | None = None,
) -> Row:
    return {
        "contact_id": contact_id,
        "phone": phone,
        "name": name,
        "email": None,
        "groups": list(groups),
        "tags": list(tags),
        "custom_fields": dict(custom or {}),
        "timezone": timezone,
        "is_opted_out": opted_out,
        "is_blacklisted": blacklisted,
        "created_at": created_at,
    }


INJECTION = "x' OR 1=1 --"

CLIENTES = [
    # Matched with k-ana through her legacy 8-digit mobile; the customer record's name wins.
    cliente(
        "ana",
        "Ana Souza",
        "(11) 8765-4321",
        email="ana@example.com",
        born=date(1990, 11, 20),
        signed_up=local(2026, 1, 10, 10, 0),
    ),
    # Customer only: no contact, so no tags, groups or custom fields; empty e-mail is unset.
    cliente(
        "bruno",
        "Bruno Lima",
        "11 98888-7777",
        email="",
        born=date(1985, 2, 28),
        signed_up=local(2025, 6, 1, 12, 0),
    ),
    # Signed up at 22:00 local on the 19th: the 20th in UTC.
    cliente(
        "carla",
        "Carla Dias",
        "+55 21 97777-6666",
        email="CARLA@Example.com",
        born=date(2000, 12, 31),
        signed_up=local(2026, 11, 19, 22, 0),
    ),
    # Customer only; the opt-out ledger test passes her phone.
    cliente(
        "gabi",
        "Gabriela Souza",
        "(11) 97654-3210",
        born=date(1995, 6, 15),
        signed_up=local(2026, 11, 20, 0, 10),
    ),
    # A landline, like k-ivo's: unusable numbers never match two people.
    cliente("ivo", "Ivo Reis", "(11) 3456-7890"),
    # Her contact opted out: the customer is left out too.
    cliente("julia", "Julia Melo", "5511955554444"),
]

VENDAS = [
    sale("ana", local(2026, 10, 1, 10, 0), 30.0),
    sale("ana", local(2026, 10, 15, 10, 0), 20.5),
    # 23:30 local on the 19th (the 20th in UTC): one local day before "now".
    sale("ana", local(2026, 11, 19, 23, 30), 10.0),
    sale("ana", local(2026, 11, 20, 8, 0), 99.0, status="CANCELLED"),  # not COMPLETED
    *[sale("bruno", local(2026, 8, 23 + day, 10, 0), 25.0) for day in range(9)],
    sale("bruno", local(2026, 9, 1, 10, 0), 25.0),  # 80 days before "now"
    sale("gabi", local(2026, 11, 20, 0, 30), 15.9),  # today, locally
]

CONTACTS = [
    contact(
        "k-ana",
        "+5511987654321",
        "Ana S",
        tags=["vip"],
        groups=["centro"],
        custom={"bairro": "Centro", "pontos": "120", "aniversario_loja": "2020-05-01"},
        timezone="America/Manaus",
        created_at=datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
    ),
    contact(
        "k-carla",
        "+5521977776666",
        "Carla D",
        tags=["black-friday"],
        groups=["zona-sul"],
        custom={"bairro": "Copacabana", "pontos": "abc"},
    ),
    # Contact only: its created_at is its signed_up_at.
    contact(
        "k-davi",
        "+5531966665555",
        "Davi",
        tags=["vip", "unsubscribed"],
        groups=["centro"],
        custom={"pontos": "80", "aniversario_loja": "2023-01-15"},
        created_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    ),
    contact("k-eva", "+5541955554444", "Eva", tags=["vip"], opted_out=True),  # never
    contact("k-fabio", "+5541944443333", "Fabio", tags=["vip"], blacklisted=True),  # never
    # No phone at all (still a member: the processor reports it as missing_phone).
    contact("k-hugo", None, INJECTION),
    contact("k-ivo", "(11) 3456-7890", None),
    contact("k-julia", "+5511955554444", "Julia", opted_out=True),
]

EVERYONE = {"ana", "bruno", "carla", "gabi", "ivo", "k-davi", "k-hugo", "k-ivo"}
NEVER_BOUGHT = {"carla", "ivo", "k-davi", "k-hugo", "k-ivo"}


@pytest.fixture(scope="module")
def tenant(deps: Container) -> Cnpj:
    cnpj = new_tenant_id()
    register_tenant(
        cnpj,
        name="segments",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    project = deps.settings.google_cloud_project
    for table, rows in (("clientes", CLIENTES), ("vendas", VENDAS)):
        errors = deps.bigquery_client.insert_rows_json(
            f"{project}.{cnpj.raw_dataset}.{table}", rows
        )
        assert errors == [], errors
    columns = list(CONTACTS[0])
    values = ",\n".join(
        f"({', '.join(literal(row[column]) for column in columns)})" for row in CONTACTS
    )
    deps.warehouse.run_ddl(
        f"INSERT INTO `{cnpj.campaign_dataset}.contacts` ({', '.join(columns)}) VALUES\n{values}"
    )
    return cnpj


Audience = Callable[..., dict[str, Mapping[str, Any]]]


def select(deps: Container, table: str, columns: str) -> list[dict[str, Any]]:
    sql = f"SELECT {columns} FROM {table}"  # noqa: S608 (the test's own names)
    return [dict(row) for row in deps.warehouse.query(sql, {})]


@pytest.fixture(scope="module")
def audience(deps: Container, tenant: Cnpj) -> Audience:
    """The audience rows by customer id for a segmentation given as the API would receive it."""

    def run(data: Mapping[str, Any], opted_out_phones: Sequence[str] = ()) -> dict[str, Any]:
        segmentation = parse_segmentation(data)
        sql, params = audience_query(
            tenant, segmentation, as_of=NOW, opted_out_phones=list(opted_out_phones)
        )
        rows = [dict(row) for row in deps.warehouse.query(sql, params)]
        by_id = {str(row["customer_id"]): row for row in rows}
        assert len(by_id) == len(rows), f"a member appears twice: {rows}"
        return by_id

    return run


def filtered(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    custom: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        custom["value"] = value
    return {"include_all": True, "custom_filters": [custom]}


# -- the profile view ----------------------------------------------------------------------


def test_customers_and_contacts_match_by_normalised_phone(audience: Audience) -> None:
    rows = audience({"include_all": True})

    assert set(rows) == EVERYONE
    ana = rows["ana"]
    assert ana["contact_id"] == "k-ana"
    assert ana["name"] == "Ana S"  # the contact's own, what the business set there
    assert rows["gabi"]["name"] == "Gabriela Souza"  # no contact: the customer record
    assert ana["phone"] == "+5511987654321"  # legacy mobile, ninth digit added
    assert ana["timezone"] == "America/Manaus"
    assert ana["tags"] == ["vip"]
    assert rows["carla"]["contact_id"] == "k-carla"
    assert rows["bruno"]["contact_id"] is None
    assert rows["bruno"]["phone"] == "+5511988887777"
    assert rows["bruno"]["tags"] == []
    assert rows["k-davi"]["contact_id"] == "k-davi"  # contact only: its id is the member's
    # The two landlines stay two members, each with the number as stored.
    assert rows["ivo"]["contact_id"] is None
    assert rows["ivo"]["phone"] == "(11) 3456-7890"
    assert rows["k-ivo"]["contact_id"] == "k-ivo"
    assert rows["k-hugo"]["phone"] is None


def test_profile_behaviour_counts_completed_sales_only(deps: Container, tenant: Cnpj) -> None:
    rows = {
        row["customer_id"]: dict(row)
        for row in select(deps, f"`{tenant.campaign_dataset}.customer_profile`", "*")
    }

    assert rows["ana"]["visit_count"] == 3
    assert rows["ana"]["total_spent"] == 60.5
    assert rows["ana"]["last_purchase"] == local(2026, 11, 19, 23, 30)
    assert rows["bruno"]["visit_count"] == 10
    assert rows["carla"]["visit_count"] == 0
    assert rows["carla"]["last_purchase"] is None
    assert rows["ana"]["birth_date"] == date(1990, 11, 20)
    assert rows["k-davi"]["signed_up_at"] == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert rows["ana"]["custom_fields"] == [
        {"key": "bairro", "value": "Centro"},
        {"key": "pontos", "value": "120"},
        {"key": "aniversario_loja", "value": "2020-05-01"},
    ]
    assert rows["k-eva"]["is_opted_out"] is True
    assert rows["julia"]["is_opted_out"] is True  # the matched contact's flag
    assert rows["bruno"]["is_opted_out"] is False
    assert rows["bruno"]["email"] is None


# -- always left out -------------------------------------------------------------------------


def test_opted_out_blacklisted_and_ledger_phones_are_always_left_out(
    audience: Audience,
) -> None:
    vip = audience({"include_all": False, "included_tags": ["vip"]})
    assert set(vip) == {"ana", "k-davi"}  # not k-eva (opted out) nor k-fabio (blacklisted)

    # The ledger holds E.164 phones; Ana's customer record has a legacy 8-digit number.
    rows = audience({"include_all": True}, opted_out_phones=["+5511976543210", "+5511987654321"])
    assert set(rows) == EVERYONE - {"gabi", "ana"}


# -- tags, groups and every operator on every field type: one emulator query -------------

TAG_CASES = [
    pytest.param(
        {
            "include_all": False,
            "included_tags": ["vip", "black-friday"],
            "excluded_tags": ["unsubscribed"],
            "custom_filters": [
                {"field": "last_purchase", "operator": "greater_than", "value": "2024-01-01"}
            ],
        },
        {"ana"},
        id="seed-example",
    ),
    pytest.param({"included_tags": ["vip"]}, {"ana", "k-davi"}, id="any-tag"),
    pytest.param({"included_tags": ["VIP"]}, {"ana", "k-davi"}, id="tags-ignore-case"),
    pytest.param(
        {"included_tags": ["vip", "black-friday"]}, {"ana", "carla", "k-davi"}, id="tag-union"
    ),
    pytest.param({"included_groups": ["zona-sul"]}, {"carla"}, id="group"),
    pytest.param(
        {"included_tags": ["vip"], "included_groups": ["zona-sul"]},
        {"ana", "carla", "k-davi"},
        id="tags-or-groups",
    ),
    pytest.param(
        {"include_all": True, "excluded_tags": ["vip"]},
        EVERYONE - {"ana", "k-davi"},
        id="exclude-tag",
    ),
    pytest.param(
        {"include_all": True, "excluded_groups": ["Centro", "zona-sul"]},
        EVERYONE - {"ana", "carla", "k-davi"},
        id="exclude-groups",
    ),
    pytest.param(
        {"included_tags": ["vip"], "excluded_groups": ["centro"]},
        set(),
        id="exclusion-wins",
    ),
    pytest.param(
        {
            "included_tags": ["vip"],
            "custom_filters": [{"field": "visit_count", "operator": "greater_than", "value": 0}],
        },
        {"ana"},
        id="include-and-filter",
    ),
    pytest.param({"included_tags": [INJECTION]}, set(), id="injection-looking-tag"),
]

OPERATOR_CASES = [
    # text: case-insensitive; not_* also select members without a value
    ("name", "equals", "ana s", {"ana"}),  # the contact's name over the customer record's
    ("name", "not_equals", "Ana S", EVERYONE - {"ana"}),
    ("name", "contains", "SOUZA", {"gabi"}),
    ("name", "not_contains", "souza", EVERYONE - {"gabi"}),
    ("name", "starts_with", "iv", {"ivo"}),
    ("name", "in", ["bruno lima", "DAVI"], {"bruno", "k-davi"}),
    ("name", "not_in", ["bruno lima", "DAVI"], EVERYONE - {"bruno", "k-davi"}),
    ("name", "is_set", None, EVERYONE - {"k-ivo"}),
    ("name", "is_not_set", None, {"k-ivo"}),
    ("email", "equals", "carla@example.com", {"carla"}),
    ("email", "is_set", None, {"ana", "carla"}),  # Bruno's is empty
    ("phone", "equals", "(11) 8765-4321", {"ana"}),  # normalised like the profile
    ("phone", "in", ["11 98888-7777", "+5521977776666"], {"bruno", "carla"}),
    ("phone", "starts_with", "+5521", {"carla"}),
    ("phone", "is_not_set", None, {"k-hugo"}),
    ("phone_number", "equals", "(11) 8765-4321", {"ana"}),  # the seed's name for phone
    ("cpf", "equals", "cpf-bruno", {"bruno"}),
    ("timezone", "equals", "america/manaus", {"ana"}),
    # numbers
    ("visit_count", "equals", 3, {"ana"}),
    ("visit_count", "not_equals", 0, {"ana", "bruno", "gabi"}),
    ("visit_count", "greater_than", 3, {"bruno"}),
    ("visit_count", "greater_or_equal", 3, {"ana", "bruno"}),
    ("visit_count", "less_than", 1, NEVER_BOUGHT),
    ("visit_count", "less_or_equal", 1, NEVER_BOUGHT | {"gabi"}),
    ("visit_count", "between", [1, 3], {"ana", "gabi"}),
    ("visit_count", "in", [1, 10], {"bruno", "gabi"}),
    ("visit_count", "not_in", [0], {"ana", "bruno", "gabi"}),
    ("visit_count", "is_set", None, EVERYONE),
    ("visit_count", "is_not_set", None, set()),
    ("total_spent", "greater_than", 60.4, {"ana", "bruno"}),
    ("total_spent", "between", [15.9, 60.5], {"ana", "gabi"}),
    ("total_spent", "equals", "60.5", {"ana"}),  # numeric text
    # local calendar days: Ana's last sale was 23:30 yesterday (UTC: today)
    ("days_since_last_purchase", "equals", 0, {"gabi"}),
    ("days_since_last_purchase", "equals", 1, {"ana"}),
    ("days_since_last_purchase", "greater_than", 1, {"bruno"}),
    ("days_since_last_purchase", "less_or_equal", 1, {"ana", "gabi"}),
    ("days_since_last_purchase", "between", [1, 80], {"ana", "bruno"}),
    ("days_since_last_purchase", "in", [0, 80], {"bruno", "gabi"}),
    ("days_since_last_purchase", "not_in", [0], EVERYONE - {"gabi"}),
    ("days_since_last_purchase", "is_not_set", None, NEVER_BOUGHT),
    # a date
    ("birth_date", "equals", "1990-11-20", {"ana"}),
    ("birth_date", "not_equals", "1990-11-20", EVERYONE - {"ana"}),
    ("birth_date", "greater_than", "1990-11-20", {"carla", "gabi"}),
    ("birth_date", "greater_or_equal", "1990-11-20", {"ana", "carla", "gabi"}),
    ("birth_date", "less_than", "1990-11-20", {"bruno"}),
    ("birth_date", "less_or_equal", "1990-11-20", {"ana", "bruno"}),
    ("birth_date", "between", ["1985-02-28", "1990-11-20"], {"ana", "bruno"}),
    ("birth_date", "is_set", None, {"ana", "bruno", "carla", "gabi"}),
    # timestamps: a date compares the local calendar date, an instant compares instants
    ("signed_up_at", "equals", "2026-11-19", {"carla"}),
    ("signed_up_at", "greater_or_equal", "2026-11-20", {"gabi"}),
    ("signed_up_at", "less_than", "2026-01-10", {"bruno"}),
    ("signed_up_at", "between", ["2026-01-10", "2026-03-01"], {"ana", "k-davi"}),
    ("signed_up_at", "greater_than", "2026-11-20T00:00:00-03:00", {"gabi"}),
    ("signed_up_at", "less_than", "2026-11-20T01:00:00Z", {"ana", "bruno", "k-davi"}),
    ("signed_up_at", "equals", "2026-11-20T01:00:00+00:00", {"carla"}),
    ("signed_up_at", "is_not_set", None, {"ivo", "k-hugo", "k-ivo"}),
    ("last_purchase", "less_or_equal", "2026-11-19", {"ana", "bruno"}),
    ("last_purchase", "greater_than", "2026-11-19", {"gabi"}),
    ("last_purchase", "is_set", None, {"ana", "bruno", "gabi"}),
    # custom fields: text, or SAFE_CAST numbers and dates
    ("custom_fields.bairro", "equals", "centro", {"ana"}),
    ("custom_fields.bairro", "not_equals", "Centro", EVERYONE - {"ana"}),
    ("custom_fields.bairro", "contains", "cabana", {"carla"}),
    ("custom_fields.bairro", "not_contains", "cabana", EVERYONE - {"carla"}),
    ("custom_fields.bairro", "starts_with", "CEN", {"ana"}),
    ("custom_fields.bairro", "in", ["centro", "copacabana"], {"ana", "carla"}),
    ("custom_fields.bairro", "not_in", ["centro"], EVERYONE - {"ana"}),
    ("custom_fields.bairro", "is_set", None, {"ana", "carla"}),
    ("custom_fields.bairro", "is_not_set", None, EVERYONE - {"ana", "carla"}),
    ("custom_fields.pontos", "greater_than", 100, {"ana"}),  # "abc" is no number
    ("custom_fields.pontos", "greater_or_equal", 80, {"ana", "k-davi"}),
    ("custom_fields.pontos", "less_than", "100", {"k-davi"}),
    ("custom_fields.pontos", "less_or_equal", 120, {"ana", "k-davi"}),
    ("custom_fields.pontos", "between", [80, 120], {"ana", "k-davi"}),
    ("custom_fields.pontos", "equals", 80, {"k-davi"}),
    ("custom_fields.pontos", "equals", "abc", {"carla"}),
    ("custom_fields.pontos", "in", [80, 120], {"ana", "k-davi"}),
    ("custom_fields.pontos", "not_in", [80], EVERYONE - {"k-davi"}),
    ("custom_fields.aniversario_loja", "greater_than", "2021-01-01", {"k-davi"}),
    ("custom_fields.aniversario_loja", "less_or_equal", "2020-05-01", {"ana"}),
    # labels: the contact's own tags and groups, case-insensitive
    ("tags", "contains", "VIP", {"ana", "k-davi"}),
    ("tags", "not_contains", "vip", EVERYONE - {"ana", "k-davi"}),
    ("tags", "is_set", None, {"ana", "carla", "k-davi"}),
    ("tags", "is_not_set", None, EVERYONE - {"ana", "carla", "k-davi"}),
    ("groups", "contains", "Zona-Sul", {"carla"}),
    ("groups", "not_contains", "centro", EVERYONE - {"ana", "k-davi"}),
    ("groups", "is_set", None, {"ana", "carla", "k-davi"}),
    ("tags", "contains", INJECTION, set()),
    # values that look like SQL are just values
    ("name", "equals", "' OR ''='", set()),
    ("custom_fields.bairro", "in", [INJECTION, "centro"], {"ana"}),
    ("custom_fields.bairro", "equals", INJECTION, set()),
]


def tag_case(segmentation: Mapping[str, Any]) -> dict[str, Any]:
    return {"include_all": False, **segmentation}


BATCHED = [
    *[tag_case(case.values[0]) for case in TAG_CASES],  # type: ignore[arg-type]
    *[filtered(field, operator, value) for field, operator, value, _ in OPERATOR_CASES],
]


def key(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)


@pytest.fixture(scope="module")
def batched(deps: Container, tenant: Cnpj) -> dict[str, set[str]]:
    """The audience of every segmentation in BATCHED, from ONE emulator query.

    The emulator re-translates the profile view for each query (about 0.3 s), which would
    make this module's hundred cases slow. So each case's SQL is exactly what audience_query
    returns, except that its parameters get a per-case prefix and the view's name points at
    one shared CTE; the cases are then UNION ALLed and told apart by their index.
    """
    view = f"`{tenant.campaign_dataset}.customer_profile`"
    parts: list[str] = []
    params: dict[str, QueryValue] = {}
    for index, data in enumerate(BATCHED):
        sql, case_params = audience_query(
            tenant, parse_segmentation(data), as_of=NOW, opted_out_phones=[]
        )
        assert sql.count(view) == 1
        sql = re.sub(r"@(\w+)", rf"@c{index}_\1", sql.replace(view, "profile"))
        params.update({f"c{index}_{name}": value for name, value in case_params.items()})
        parts.append(f"SELECT {index} AS case_index, customer_id FROM (\n{sql}\n)")  # noqa: S608
    shared_view = f"WITH profile AS (SELECT * FROM {view})\n"  # noqa: S608 (a Cnpj's dataset)
    combined = shared_view + "\nUNION ALL\n".join(parts)
    found: dict[str, list[str]] = {key(data): [] for data in BATCHED}
    for row in deps.warehouse.query(combined, params):
        found[key(BATCHED[row["case_index"]])].append(str(row["customer_id"]))
    for members in found.values():
        assert len(members) == len(set(members)), f"a member appears twice: {members}"
    return {case: set(members) for case, members in found.items()}


@pytest.mark.parametrize(("segmentation", "expected"), TAG_CASES)
def test_tags_and_groups(
    batched: dict[str, set[str]], segmentation: dict[str, Any], expected: set[str]
) -> None:
    assert batched[key(tag_case(segmentation))] == expected


@pytest.mark.parametrize(("field", "operator", "value", "expected"), OPERATOR_CASES)
def test_operator(
    batched: dict[str, set[str]], field: str, operator: str, value: Any, expected: set[str]
) -> None:
    assert batched[key(filtered(field, operator, value))] == expected


def test_a_case_on_its_own_selects_what_the_batch_did(
    audience: Audience, batched: dict[str, set[str]]
) -> None:
    # The batch's rewriting (prefixes, shared CTE) changes nothing: spot-check one of each kind.
    for data in (BATCHED[0], filtered("days_since_last_purchase", "equals", 1)):
        assert set(audience(data)) == batched[key(data)]


def test_filters_all_hold(audience: Audience) -> None:
    rows = audience(
        {
            "include_all": False,
            "custom_filters": [
                {"field": "visit_count", "operator": "greater_or_equal", "value": 1},
                {"field": "name", "operator": "contains", "value": "souza"},
                {"field": "days_since_last_purchase", "operator": "less_than", "value": 1},
            ],
        }
    )
    assert set(rows) == {"gabi"}


def test_an_injection_looking_value_is_just_a_value(audience: Audience) -> None:
    # k-hugo's name IS the injection-looking text: equality selects exactly that member.
    assert set(audience(filtered("name", "equals", INJECTION))) == {"k-hugo"}


# -- the estimate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "ledger", "expected"),
    [
        ({"include_all": True}, ["+5511976543210"], EVERYONE - {"gabi"}),
        (tag_case({"included_tags": ["vip", "black-friday"]}), [], {"ana", "carla", "k-davi"}),
    ],
)
def test_estimate_counts_the_audience_query(
    deps: Container,
    tenant: Cnpj,
    batched: dict[str, set[str]],
    data: dict[str, Any],
    ledger: list[str],
    expected: set[str],
) -> None:
    segmentation: Segmentation = parse_segmentation(data)
    count = estimate(deps.warehouse, tenant, segmentation, as_of=NOW, opted_out_phones=ledger)
    assert count == len(expected)
    if not ledger:
        assert batched[key(data)] == expected


# -- phone normalisation in SQL agrees with normalize_br_mobile --------------------------------

EDGE_PHONES = [
    "(11) 98765-4321",
    "11987654321",
    "+55 11 98765-4321",
    "5511987654321",
    "011 98765-4321",
    "0xx11 98765-4321",
    "+55 (11) 98765 4321",
    "11 9 8765-4321",
    "015 11 98765-4321",
    " (11) 98765-4321 ",
    "+5511987654321",
    "(11) 8765-4321",
    "1187654321",
    "+55 11 8765-4321",
    "5511 8765-4321",
    "551187654321",
    "0 21 8765-4321",
    "041 11 8765-4321",
    "(21) 7654-3210",
    "(61) 8765-4321",
    "(11) 6765-4321",
    "(11) 9876-5432",
    "55 98765-4321",  # area code 55 (Santa Maria), not the country code
    "5598765432",
    "(85) 99876-5432",
    "(11) 3456-7890",
    "+55 11 3456-7890",
    "1145678901",
    "(20) 98765-4321",  # no such area code
    "(11) 58765-4321",
    "(11) 98765-43210",
    "98765-4321",
    "+55 1",
    "123",
    "0",
    "999999",
    "0000-0000",
    "sem telefone",
    "(61) 9abc-1234",  # a letter typed for a digit: never keypad digits
    "11 9876S-4321",
    "0xx11 98765-4321",  # the long-distance placeholder is the one letter pair allowed
    "１１ ９８７６５-４３２１",  # another script's digits
    "11 9",
    "abc",
    "",
    "   ",
    "+1 415 555 2671",
    "+44 7911 123456",
    "+351 912 345 678",
]


def test_sql_phone_normalisation_agrees_with_python(
    deps: Container, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=300)
    project = deps.settings.google_cloud_project
    edge_rows = [cliente(f"edge-{index}", "Edge", phone) for index, phone in enumerate(EDGE_PHONES)]
    errors = deps.bigquery_client.insert_rows_json(
        f"{project}.{cnpj.raw_dataset}.clientes", edge_rows
    )
    assert errors == [], errors

    raw = {
        row["id"]: row["telefone"]
        for row in select(deps, f"`{cnpj.raw_dataset}.clientes`", "id, telefone")
    }
    profile = {
        row["customer_id"]: row["phone"]
        for row in select(deps, f"`{cnpj.campaign_dataset}.customer_profile`", "customer_id, phone")
    }

    assert set(profile) == set(raw)
    assert len(raw) > 300
    disagreements = {}
    for customer_id, phone in raw.items():
        expected = normalize_br_mobile(phone).e164 or ((phone or "").strip() or None)
        if profile[customer_id] != expected:
            disagreements[phone] = (profile[customer_id], expected)
    assert disagreements == {}
    kinds = {normalize_br_mobile(phone).problem for phone in raw.values()}
    assert None in kinds and len(kinds) >= 4  # the sample had valid and unusable numbers alike
