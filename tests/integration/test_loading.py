"""``load_tenant_files`` against bqemulator: files replace whole tables, or nothing changes.

Every rejection test first loads a good set of files, then tries a bad one and checks that the
previously loaded rows are all still there ("a load loses nothing").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.cli.main import main
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.services.loading import LoadRejected, load_tenant_files
from shared.services.tenants import register_tenant

CLIENTES = [
    "id",
    "nome",
    "dataNascimento",
    "cpf",
    "telefone",
    "email",
    "genero",
    "dataCadastro",
    "primeiraCompra",
]
VENDAS = ["data", "cpfCliente", "valor", "status", "tipoPagamento", "cupom"]
HISTORY = [
    "user_id",
    "campaign_type",
    "sent_at",
    "status",
    "message_content",
    "phone",
    "event_id",
    "campaign_id",
    "target_id",
    "wamid",
    "template",
    "variant",
    "error_code",
    "error_reason",
    "attempt",
    "period",
    "voucher_code",
    "ab_group",
]

CLIENTE_ROWS = [
    ["c1", "Ana Souza", "1990-11-20", "11111111111", "11987654321", "ana@x.com", "F",
     "2026-01-10 12:00:00 UTC", "2026-01-11 13:00:00 UTC"],
    ["c2", "Bruno Lima", "1985-02-28 00:00:00", "22222222222", "21987654321", "", "M",
     "2026-03-05T09:30:00Z", ""],
    ["c3", "Célia Alves", "", "33333333333", "31987654321", "celia@x.com", "F",
     "2026-06-01 08:00:00-03:00", ""],
]  # fmt: skip
VENDAS_ROWS = [
    ["2026-01-11 13:00:00 UTC", "11111111111", "30.5", "COMPLETED", "PIX", ""],
    ["2026-02-11 13:00:00 UTC", "11111111111", "42", "COMPLETED", "CARTAO", "BEMVINDO10"],
    ["2026-03-06 10:00:00 UTC", "22222222222", "19.90", "CANCELLED", "PIX", ""],
    ["2026-06-02 15:45:00 UTC", "33333333333", "25.00", "COMPLETED", "DINHEIRO", ""],
]
HISTORY_ROWS = [
    [
        "c1",
        "WELCOME",
        "2026-01-11 11:00:00 UTC",
        "SENT",
        "Bem-vinda!",
        "+5511987654321",
        "e1",
        "WELCOME",
        "c1_once",
        "wamid.1",
        "boas_vindas",
        "",
        "",
        "",
        "1",
        "",
        "",
        "",
    ],
    [
        "c2",
        "BIRTHDAY",
        "2026-02-28 11:00:00 UTC",
        "SENT",
        "Parabéns!",
        "+5521987654321",
        "e2",
        "BIRTHDAY",
        "c2_2026",
        "wamid.2",
        "feliz_aniversario",
        "",
        "",
        "",
        "1",
        "",
        "",
        "",
    ],
]

Table = Sequence[Sequence[str]]


# -- helpers ----------------------------------------------------------------------------------


def write_csv(directory: Path, table: str, header: Sequence[str], rows: Table) -> Path:
    """A CSV file; values contain no commas or quotes, so joining is exact and readable."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table}.csv"
    lines = [",".join(header), *(",".join(row) for row in rows)]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def write_ndjson(directory: Path, table: str, rows: Sequence[Mapping[str, Any] | str]) -> Path:
    """One JSON object per line; a ``str`` row is written verbatim (for broken lines)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table}.ndjson"
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def good_files(
    directory: Path, clientes: Table = CLIENTE_ROWS, vendas: Table = VENDAS_ROWS
) -> Path:
    write_csv(directory, "clientes", CLIENTES, clientes)
    write_csv(directory, "vendas", VENDAS, vendas)
    return directory


def as_objects(header: Sequence[str], rows: Table) -> list[dict[str, str | None]]:
    return [
        {column: value or None for column, value in zip(header, row, strict=True)} for row in rows
    ]


def new_tenant(deps: Container, cnpj: Cnpj) -> Cnpj:
    register_tenant(
        cnpj, name="x", timezone=None, tenants=deps.tenants, warehouse=deps.warehouse, queues=None
    )
    return cnpj


def select(deps: Container, cnpj: Cnpj, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql``, naming the tenant's datasets as the ``sql/`` files do."""
    text = sql.replace("{raw_dataset}", cnpj.raw_dataset)
    text = text.replace("{campaign_dataset}", cnpj.campaign_dataset)
    return [dict(row) for row in deps.warehouse.query(text, {})]


def counts(deps: Container, cnpj: Cnpj) -> dict[str, int]:
    (row,) = select(
        deps,
        cnpj,
        "SELECT"
        " (SELECT COUNT(*) FROM `{raw_dataset}.clientes`) AS clientes,"
        " (SELECT COUNT(*) FROM `{raw_dataset}.vendas`) AS vendas,"
        " (SELECT COUNT(*) FROM `{campaign_dataset}.message_history`) AS message_history",
    )
    return {table: int(value) for table, value in row.items()}


def ids(deps: Container, cnpj: Cnpj) -> set[str]:
    return {str(row["id"]) for row in select(deps, cnpj, "SELECT id FROM `{raw_dataset}.clientes`")}


@pytest.fixture
def loaded(deps: Container, new_cnpj: Cnpj, tmp_path: Path) -> Cnpj:
    """A tenant whose tables hold the good files (3 clientes, 4 vendas, 2 messages)."""
    cnpj = new_tenant(deps, new_cnpj)
    directory = good_files(tmp_path / "first")
    write_csv(directory, "message_history", HISTORY, HISTORY_ROWS)
    assert load_tenant_files(cnpj, directory, deps.warehouse) == {
        "clientes": 3,
        "vendas": 4,
        "message_history": 2,
    }
    return cnpj


BEFORE = {"clientes": 3, "vendas": 4, "message_history": 2}


def rejected(deps: Container, cnpj: Cnpj, directory: Path) -> list[str]:
    """The problems of a rejected load, after checking it changed nothing."""
    with pytest.raises(LoadRejected) as caught:
        load_tenant_files(cnpj, directory, deps.warehouse)
    assert isinstance(caught.value, FieldError)
    assert caught.value.problems, "a rejection must say why"
    assert counts(deps, cnpj) == BEFORE
    assert ids(deps, cnpj) == {"c1", "c2", "c3"}
    return caught.value.problems


# -- loading ----------------------------------------------------------------------------------


def test_loads_csv_files_and_returns_row_counts(
    deps: Container, new_cnpj: Cnpj, tmp_path: Path
) -> None:
    cnpj = new_tenant(deps, new_cnpj)

    loaded = load_tenant_files(cnpj, good_files(tmp_path), deps.warehouse)

    assert loaded == {"clientes": 3, "vendas": 4}  # no message_history file, no entry
    assert counts(deps, cnpj) == {"clientes": 3, "vendas": 4, "message_history": 0}
    (summary,) = select(
        deps,
        cnpj,
        "SELECT COUNT(*) AS n, ROUND(SUM(valor), 2) AS total, MIN(data) AS first_sale"
        " FROM `{raw_dataset}.vendas` WHERE status = 'COMPLETED'",
    )
    assert summary["n"] == 3
    assert summary["total"] == 97.5  # 30.5 + 42 + 25.00
    assert summary["first_sale"].isoformat() == "2026-01-11T13:00:00+00:00"
    (celia,) = select(
        deps, cnpj, "SELECT email, dataCadastro FROM `{raw_dataset}.clientes` WHERE id = 'c3'"
    )
    assert celia["email"] == "celia@x.com"
    assert celia["dataCadastro"].isoformat() == "2026-06-01T11:00:00+00:00"  # -03:00 applied


def test_loads_ndjson_files(deps: Container, new_cnpj: Cnpj, tmp_path: Path) -> None:
    cnpj = new_tenant(deps, new_cnpj)
    write_ndjson(tmp_path, "clientes", as_objects(CLIENTES, CLIENTE_ROWS))
    vendas = as_objects(VENDAS, VENDAS_ROWS)
    vendas[0]["valor"] = None  # a JSON null is a NULL
    write_ndjson(tmp_path, "vendas", [*vendas, {**vendas[3], "valor": 7.25}, ""])  # blank skipped
    write_ndjson(tmp_path, "message_history", as_objects(HISTORY, HISTORY_ROWS))

    loaded = load_tenant_files(cnpj, tmp_path, deps.warehouse)

    assert loaded == {"clientes": 3, "vendas": 5, "message_history": 2}
    assert counts(deps, cnpj) == loaded
    assert ids(deps, cnpj) == {"c1", "c2", "c3"}
    (vendas_total,) = select(
        deps, cnpj, "SELECT ROUND(SUM(valor), 2) AS t FROM `{raw_dataset}.vendas`"
    )
    assert vendas_total["t"] == 94.15  # NULL + 42 + 19.90 + 25.00 + 7.25


def test_a_second_load_replaces_the_tables(loaded: Cnpj, deps: Container, tmp_path: Path) -> None:
    second = good_files(
        tmp_path / "second",
        clientes=[["c9", "Zé", "", "99999999999", "", "", "", "", ""]],
        vendas=VENDAS_ROWS[:2],
    )

    result = load_tenant_files(loaded, second, deps.warehouse)

    assert result == {"clientes": 1, "vendas": 2}
    # No message_history file this time: that table keeps its rows.
    assert counts(deps, loaded) == {"clientes": 1, "vendas": 2, "message_history": 2}
    assert ids(deps, loaded) == {"c9"}


def test_message_history_is_loaded_into_the_campaign_dataset(loaded: Cnpj, deps: Container) -> None:
    rows = select(
        deps,
        loaded,
        "SELECT user_id, campaign_type FROM `{campaign_dataset}.message_history` ORDER BY user_id",
    )
    assert rows == [
        {"user_id": "c1", "campaign_type": "WELCOME"},
        {"user_id": "c2", "campaign_type": "BIRTHDAY"},
    ]


# -- rejections: nothing changes --------------------------------------------------------------


def test_rejects_a_missing_vendas_file(loaded: Cnpj, deps: Container, tmp_path: Path) -> None:
    write_csv(tmp_path, "clientes", CLIENTES, CLIENTE_ROWS[:1])

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 1
    assert "vendas" in problems[0]
    assert "required" in problems[0]


def test_rejects_a_header_with_a_missing_column(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    good_files(tmp_path)
    header = [column for column in CLIENTES if column != "email"]
    write_csv(tmp_path, "clientes", header, [row[:5] + row[6:] for row in CLIENTE_ROWS])

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 1
    assert problems[0].startswith("clientes.csv:1:")
    assert "missing ['email']" in problems[0]


def test_rejects_a_header_with_an_unexpected_column(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    good_files(tmp_path)
    write_csv(tmp_path, "vendas", [*VENDAS, "loja"], [[*row, "centro"] for row in VENDAS_ROWS])

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 1
    assert problems[0].startswith("vendas.csv:1:")
    assert "unexpected ['loja']" in problems[0]
    assert "missing" not in problems[0]


def test_rejects_bad_values_naming_file_line_and_column(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    clientes = [list(row) for row in CLIENTE_ROWS]
    clientes[1][7] = "2026-02-30 10:00:00"  # line 3 (after the header): no 30 Feb
    vendas = [list(row) for row in VENDAS_ROWS]
    vendas[3][2] = "25.00 BRL"  # line 5: a currency is not part of a FLOAT
    good_files(tmp_path, clientes=clientes, vendas=vendas)

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 2
    assert problems[0].startswith("clientes.csv:3:")
    assert "'dataCadastro'" in problems[0]
    assert "TIMESTAMP" in problems[0]
    assert problems[1].startswith("vendas.csv:5:")
    assert "'valor'" in problems[1]
    assert "FLOAT" in problems[1]


def test_one_bad_file_keeps_the_good_ones_from_loading(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    # clientes.csv alone would load fine (and replace 3 rows by 1); message_history is bad.
    good_files(tmp_path, clientes=[["c9", "Zé", "", "99999999999", "", "", "", "", ""]])
    bad_row = ["c1", "WELCOME", "ontem", *[""] * (len(HISTORY) - 3)]
    write_csv(tmp_path, "message_history", HISTORY, [bad_row])

    problems = rejected(deps, loaded, tmp_path)

    assert problems == ["message_history.csv:2: column 'sent_at': 'ontem' is not a valid TIMESTAMP"]


def test_rejects_a_row_with_the_wrong_field_count(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    good_files(tmp_path, vendas=[*VENDAS_ROWS, ["2026-07-01 10:00:00 UTC", "11111111111", "9"]])

    problems = rejected(deps, loaded, tmp_path)

    assert problems == ["vendas.csv:6: 3 fields, expected 6"]


def test_rejects_an_invalid_json_line(loaded: Cnpj, deps: Container, tmp_path: Path) -> None:
    write_csv(tmp_path, "clientes", CLIENTES, CLIENTE_ROWS)
    objects = as_objects(VENDAS, VENDAS_ROWS)
    write_ndjson(tmp_path, "vendas", [objects[0], '{"data": "2026-07-01", "valor": 9', objects[1]])

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 1
    assert problems[0].startswith("vendas.ndjson:2: invalid JSON")


def test_rejects_both_csv_and_ndjson_for_one_table(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    good_files(tmp_path)
    write_ndjson(tmp_path, "vendas", as_objects(VENDAS, VENDAS_ROWS))

    problems = rejected(deps, loaded, tmp_path)

    assert len(problems) == 1
    assert "vendas.csv" in problems[0]
    assert "vendas.ndjson" in problems[0]


def test_a_value_bigquery_cannot_read_is_rejected_before_anything_loads(
    loaded: Cnpj, deps: Container, tmp_path: Path
) -> None:
    vendas = [list(row) for row in VENDAS_ROWS]
    vendas[1][2] = "١٢"  # Arabic-Indic digits "12"
    good_files(tmp_path, clientes=CLIENTE_ROWS[:1], vendas=vendas)

    problems = rejected(deps, loaded, tmp_path)

    assert problems[0].startswith("vendas.csv:3: column 'valor'")


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_load_reports_problems_and_exits_2_then_loads_and_exits_0(
    loaded: Cnpj, deps: Container, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vendas = [list(row) for row in VENDAS_ROWS]
    vendas[0][0] = "amanhã"
    bad = good_files(tmp_path / "bad", vendas=vendas)

    assert main(["load", loaded.value, "--dir", str(bad)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert "nothing was loaded" in err
    assert "vendas.csv:2: column 'data': 'amanhã' is not a valid TIMESTAMP" in err
    assert counts(deps, loaded) == BEFORE

    good = good_files(tmp_path / "good", clientes=CLIENTE_ROWS[:2], vendas=VENDAS_ROWS[:1])

    assert main(["load", loaded.value, "--dir", str(good)]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    assert "clientes: 2 rows loaded" in out
    assert "vendas: 1 rows loaded" in out
    assert counts(deps, loaded) == {"clientes": 2, "vendas": 1, "message_history": 2}
