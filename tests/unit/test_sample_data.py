"""Sample data must be valid, deterministic and put people into every campaign on ``as_of``.

The checks recompute everything from the written CSVs with deliberately naive code (zoneinfo
per row, a hand-written CPF verifier) so they do not share the generator's shortcuts.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.domain.cnpj import Cnpj
from shared.sample_data import SampleSpec, tenant_cnpjs, tenant_names, write_tenant_files

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
AS_OF = date(2026, 11, 20)
CUSTOMERS = 1000

CLIENTES_HEADER = [
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
VENDAS_HEADER = ["data", "cpfCliente", "valor", "status", "tipoPagamento", "cupom"]

Rows = list[dict[str, str]]


def _read(path: Path) -> tuple[list[str], Rows]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _generate(directory: Path, spec: SampleSpec) -> tuple[dict[str, int], Rows, Rows]:
    counts = write_tenant_files(spec, directory)
    _, clientes = _read(directory / "clientes.csv")
    _, vendas = _read(directory / "vendas.csv")
    return counts, clientes, vendas


def _utc(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)


def _local(stamp: str) -> datetime:
    return _utc(stamp).astimezone(SAO_PAULO)


def _cpf_valid(cpf: str) -> bool:
    if not re.fullmatch(r"\d{11}", cpf) or len(set(cpf)) == 1:
        return False
    numbers = [int(c) for c in cpf]
    for length in (9, 10):
        total = sum(numbers[i] * (length + 1 - i) for i in range(length))
        expected = (total * 10) % 11
        if expected == 10:
            expected = 0
        if numbers[length] != expected:
            return False
    return True


def _minus_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _phone_kind(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if raw == "":
        return "empty"
    if digits.startswith("55") and len(digits) in (12, 13):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) in (11, 12):
        digits = digits[1:]
    if len(digits) == 11 and digits[2] == "9":
        return "mobile"
    if len(digits) == 10 and digits[2] in "6789":
        return "legacy"
    if len(digits) == 10 and digits[2] in "2345":
        return "landline"
    return "garbage"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], Rows, Rows]:
    directory = tmp_path_factory.mktemp("sample")
    return _generate(directory, SampleSpec(as_of=AS_OF, customers=CUSTOMERS))


def test_same_spec_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    spec = SampleSpec(as_of=AS_OF, customers=150)
    for name in ("a", "b"):
        write_tenant_files(spec, tmp_path / name)
    write_tenant_files(SampleSpec(as_of=AS_OF, customers=150, seed=8), tmp_path / "c")
    for file in ("clientes.csv", "vendas.csv"):
        first = (tmp_path / "a" / file).read_bytes()
        assert first == (tmp_path / "b" / file).read_bytes()
        assert first != (tmp_path / "c" / file).read_bytes()


def test_headers_and_counts(tmp_path: Path) -> None:
    counts = write_tenant_files(SampleSpec(as_of=AS_OF, customers=120), tmp_path)
    header, clientes = _read(tmp_path / "clientes.csv")
    assert header == CLIENTES_HEADER
    assert counts["clientes"] == len(clientes) == 120
    header, vendas = _read(tmp_path / "vendas.csv")
    assert header == VENDAS_HEADER
    assert counts["vendas"] == len(vendas)
    assert set(counts) == {"clientes", "vendas"}


def test_sales_volume_is_near_the_requested_average(
    sample: tuple[dict[str, int], Rows, Rows],
) -> None:
    counts, _, _ = sample
    assert 0.85 * CUSTOMERS * 10 <= counts["vendas"] <= 1.15 * CUSTOMERS * 10


def test_cpfs_valid_unique_and_referenced(sample: tuple[dict[str, int], Rows, Rows]) -> None:
    _, clientes, vendas = sample
    cpfs = [row["cpf"] for row in clientes]
    assert all(_cpf_valid(cpf) for cpf in cpfs)
    assert len(set(cpfs)) == len(cpfs)
    assert {row["cpfCliente"] for row in vendas} <= set(cpfs)
    assert [row["id"] for row in clientes[:2]] == ["C000001", "C000002"]


def test_cpf_verifier_rejects_bad_check_digits() -> None:
    assert _cpf_valid("52998224725")
    assert not _cpf_valid("52998224726")
    assert not _cpf_valid("11111111111")


def test_field_formats_and_ranges(sample: tuple[dict[str, int], Rows, Rows]) -> None:
    _, clientes, vendas = sample
    signup_by_cpf = {}
    for row in clientes:
        birth = _utc(row["dataNascimento"])
        assert birth.time() == datetime.min.time()
        age_days = (AS_OF - birth.date()).days
        assert 18 * 365 <= age_days <= 81 * 366
        assert row["genero"] in {"F", "M", ""}
        signup = _local(row["dataCadastro"])
        assert AS_OF - timedelta(days=3 * 366) <= signup.date() <= AS_OF
        assert 7 <= signup.hour <= 22
        signup_by_cpf[row["cpf"]] = signup
        if row["email"]:
            assert re.fullmatch(r"[a-z0-9._]+@[a-z.]+", row["email"])
    statuses: Counter[str] = Counter()
    first_completed: dict[str, datetime] = {}
    for sale in vendas:
        when = _local(sale["data"])
        assert when > signup_by_cpf[sale["cpfCliente"]]
        assert when.date() <= AS_OF
        assert 7 <= when.hour < 22
        assert re.fullmatch(r"\d+\.\d\d", sale["valor"])
        assert 12.0 <= float(sale["valor"]) <= 85.0
        assert sale["tipoPagamento"] in {"PIX", "CREDIT_CARD", "DEBIT_CARD", "CASH", "VOUCHER"}
        assert sale["cupom"] in {"", "BEMVINDO10", "ANIVER15", "VOLTE20", "FIEL10"}
        statuses[sale["status"]] += 1
        if sale["status"] == "COMPLETED":
            cpf = sale["cpfCliente"]
            first_completed[cpf] = min(first_completed.get(cpf, when), when)
    assert set(statuses) == {"COMPLETED", "CANCELLED", "PENDING", "REFUNDED"}
    assert 0.84 <= statuses["COMPLETED"] / len(vendas) <= 0.92
    coupons = sum(1 for sale in vendas if sale["cupom"])
    assert 0.05 <= coupons / len(vendas) <= 0.11
    for row in clientes:
        expected = first_completed.get(row["cpf"])
        if expected is None:
            assert row["primeiraCompra"] == ""
        else:
            assert _local(row["primeiraCompra"]) == expected


def test_names_repeat_and_carry_accents(sample: tuple[dict[str, int], Rows, Rows]) -> None:
    _, clientes, _ = sample
    firsts = Counter(row["nome"].split()[0] for row in clientes)
    assert 40 <= len(firsts) <= 70
    assert any(re.search(r"[áéíóúâêôãõç]", name) for name in firsts)


def test_phone_mix(sample: tuple[dict[str, int], Rows, Rows]) -> None:
    _, clientes, _ = sample
    kinds = Counter(_phone_kind(row["telefone"]) for row in clientes)
    assert kinds["legacy"] >= 1
    assert kinds["landline"] >= 1
    assert kinds["empty"] >= 1
    assert 0.74 <= kinds["mobile"] / CUSTOMERS <= 0.86
    formats = {re.sub(r"\d", "9", row["telefone"]) for row in clientes}
    assert {"(99) 99999-9999", "99999999999", "+99 99 99999-9999", "9999999999999"} <= formats
    assert "999 99999-9999" in formats  # trunk prefix 0 + DDD


def _check_guarantees(clientes: Rows, vendas: Rows, as_of: date) -> None:
    n = len(clientes)
    birthdays = sum(1 for row in clientes if row["dataNascimento"][5:10] == as_of.strftime("%m-%d"))
    assert birthdays >= max(3, n // 100)

    yesterday = as_of - timedelta(days=1)
    welcome = [row for row in clientes if _local(row["dataCadastro"]).date() == yesterday]
    assert len(welcome) >= max(3, n // 200)
    assert any(_utc(row["dataCadastro"]).date() == as_of for row in welcome)

    completed: dict[str, list[date]] = defaultdict(list)
    for sale in vendas:
        if sale["status"] == "COMPLETED":
            completed[sale["cpfCliente"]].append(_local(sale["data"]).date())
    inactive = sum(1 for days in completed.values() if max(days) < as_of - timedelta(days=30))
    assert inactive >= max(3, n // 20)

    start = _minus_months(as_of, 3) + timedelta(days=1)
    loyal = sum(
        1 for days in completed.values() if sum(1 for d in days if start <= d <= yesterday) >= 10
    )
    assert loyal >= max(3, n // 50)

    phones = {row["cpf"]: _phone_kind(row["telefone"]) for row in clientes}
    welcome_phones = [phones[row["cpf"]] for row in welcome]
    assert welcome_phones.count("mobile") >= len(welcome_phones) * 0.7


def test_planted_guarantees(sample: tuple[dict[str, int], Rows, Rows]) -> None:
    _, clientes, vendas = sample
    _check_guarantees(clientes, vendas, AS_OF)


@pytest.mark.parametrize(
    "as_of",
    [
        date(2028, 2, 29),  # birthday on a leap day
        date(2026, 5, 31),  # three months back is clamped to 28 Feb
        date(2027, 1, 1),  # welcome day in the previous year
        date(2018, 12, 1),  # history reaches back into Brazilian daylight saving time
    ],
)
def test_planted_guarantees_on_awkward_dates(tmp_path: Path, as_of: date) -> None:
    _, clientes, vendas = _generate(tmp_path, SampleSpec(as_of=as_of, customers=300))
    _check_guarantees(clientes, vendas, as_of)
    for sale in vendas[:500]:
        assert 7 <= _local(sale["data"]).hour < 22


def test_tiny_population_still_writes_valid_files(tmp_path: Path) -> None:
    counts, clientes, _ = _generate(tmp_path, SampleSpec(as_of=AS_OF, customers=5))
    assert counts["clientes"] == len(clientes) == 5
    empty = write_tenant_files(SampleSpec(as_of=AS_OF, customers=0), tmp_path / "empty")
    assert empty == {"clientes": 0, "vendas": 0}


def test_spec_rejects_negative_sizes() -> None:
    with pytest.raises(ValueError, match="customers"):
        SampleSpec(as_of=AS_OF, customers=-1)
    with pytest.raises(ValueError, match="sales_per_customer"):
        SampleSpec(as_of=AS_OF, sales_per_customer=-0.5)


def test_tenant_cnpjs() -> None:
    cnpjs = tenant_cnpjs(12, seed=7)
    assert len(cnpjs) == 12
    assert all(isinstance(cnpj, Cnpj) for cnpj in cnpjs)
    assert [Cnpj(cnpj.value) for cnpj in cnpjs] == cnpjs  # re-validates the check digits
    assert len({cnpj.value for cnpj in cnpjs}) == 12
    assert cnpjs == tenant_cnpjs(12, seed=7)
    assert cnpjs != tenant_cnpjs(12, seed=8)
    assert any(cnpj.is_alphanumeric for cnpj in tenant_cnpjs(3, seed=1))
    assert any(not cnpj.is_alphanumeric for cnpj in cnpjs)
    assert tenant_cnpjs(0, seed=7) == []


def test_tenant_names() -> None:
    names = tenant_names(300, seed=7)
    assert len(set(names)) == 300
    assert names == tenant_names(300, seed=7)
    assert names[:5] != tenant_names(5, seed=8)
    assert all(name.startswith(("Lav", "Espaço")) for name in names)
