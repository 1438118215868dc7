"""Deterministic, realistic laundromat data for one tenant, written as the CSVs tenants upload.

Demos and load tests need data that looks like a real point-of-sale export (repeated names,
messy phone formats, cancelled sales, a loyal tail) *and* that is guaranteed to put people into
every campaign on the chosen ``as_of`` day; otherwise a demo can come up empty by chance. The
guarantees are planted explicitly rather than hoped for, and everything comes from seeded
``random.Random`` instances so the same spec always yields byte-identical files.

The output columns match the BigQuery schemas of the ``clientes`` and ``vendas`` raw tables.
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import pathlib
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain.cnpj import Cnpj

__all__ = ["SampleSpec", "tenant_cnpjs", "tenant_names", "write_tenant_files"]

CLIENTES_HEADER = (
    "id",
    "nome",
    "dataNascimento",
    "cpf",
    "telefone",
    "email",
    "genero",
    "dataCadastro",
    "primeiraCompra",
)
VENDAS_HEADER = ("data", "cpfCliente", "valor", "status", "tipoPagamento", "cupom")

_DAY = 86_400
_OPEN = 7 * 3600  # shops open 07:00 local ...
_CLOSE = 22 * 3600  # ... and the last sale starts before 22:00 local
_OPEN_SPAN = _CLOSE - _OPEN
_HISTORY_DAYS = 3 * 365  # sign-ups reach this far back before as_of
_WELCOME_LATE = 22 * 3600 + 30 * 60  # 22:30 local is already the next day in UTC

_COMPLETED = "COMPLETED"

# (first name, gender, relative frequency). Frequencies are rough Brazilian popularity so that
# "Maria" and "José" repeat the way they do in real customer lists.
_FIRST_NAMES: tuple[tuple[str, str, int], ...] = (
    ("Maria", "F", 12), ("Ana", "F", 8), ("Francisca", "F", 3), ("Antônia", "F", 2),
    ("Adriana", "F", 3), ("Juliana", "F", 4), ("Márcia", "F", 3), ("Fernanda", "F", 4),
    ("Patrícia", "F", 3), ("Aline", "F", 3), ("Sandra", "F", 2), ("Camila", "F", 4),
    ("Amanda", "F", 3), ("Bruna", "F", 3), ("Jéssica", "F", 3), ("Letícia", "F", 3),
    ("Júlia", "F", 4), ("Luciana", "F", 2), ("Vanessa", "F", 2), ("Mariana", "F", 4),
    ("Gabriela", "F", 3), ("Beatriz", "F", 3), ("Larissa", "F", 3), ("Conceição", "F", 1),
    ("Raimunda", "F", 1), ("Débora", "F", 2), ("Cláudia", "F", 2), ("Lúcia", "F", 2),
    ("Tânia", "F", 1), ("Sônia", "F", 1), ("Isabela", "F", 2),
    ("José", "M", 11), ("João", "M", 8), ("Antônio", "M", 5), ("Francisco", "M", 4),
    ("Carlos", "M", 5), ("Paulo", "M", 4), ("Pedro", "M", 5), ("Lucas", "M", 5),
    ("Luiz", "M", 4), ("Marcos", "M", 3), ("Gabriel", "M", 4), ("Rafael", "M", 4),
    ("Daniel", "M", 3), ("Marcelo", "M", 3), ("Bruno", "M", 3), ("Eduardo", "M", 2),
    ("Felipe", "M", 3), ("Raimundo", "M", 1), ("Rodrigo", "M", 3), ("Sebastião", "M", 1),
    ("Fábio", "M", 2), ("André", "M", 2), ("Márcio", "M", 2), ("Vinícius", "M", 2),
    ("Thiago", "M", 3), ("Matheus", "M", 3), ("Gustavo", "M", 2), ("Leonardo", "M", 2),
    ("Caio", "M", 1), ("Otávio", "M", 1),
)  # fmt: skip

_SURNAMES: tuple[tuple[str, int], ...] = (
    ("Silva", 14), ("Santos", 10), ("Oliveira", 8), ("Souza", 7), ("Rodrigues", 5),
    ("Ferreira", 5), ("Alves", 5), ("Pereira", 5), ("Lima", 4), ("Gomes", 4), ("Costa", 4),
    ("Ribeiro", 3), ("Martins", 3), ("Carvalho", 3), ("Almeida", 3), ("Lopes", 2),
    ("Soares", 2), ("Fernandes", 2), ("Vieira", 2), ("Barbosa", 2), ("Rocha", 2), ("Dias", 2),
    ("Nascimento", 2), ("Andrade", 2), ("Moreira", 2), ("Nunes", 2), ("Marques", 2),
    ("Machado", 2), ("Mendes", 2), ("Freitas", 2), ("Cardoso", 2), ("Ramos", 1),
    ("Gonçalves", 2), ("Santana", 1), ("Teixeira", 1), ("Araújo", 2), ("Conceição", 1),
    ("Magalhães", 1), ("Brandão", 1), ("Simões", 1), ("Assunção", 1),
)  # fmt: skip

_EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 50), ("hotmail.com", 18), ("yahoo.com.br", 8), ("outlook.com", 9),
    ("uol.com.br", 5), ("bol.com.br", 4), ("icloud.com", 6),
)  # fmt: skip

# São Paulo carries most of the volume; the rest are real DDDs from every region.
_DDDS: tuple[tuple[int, int], ...] = (
    (11, 30), (21, 10), (31, 6), (41, 4), (47, 3), (48, 3), (51, 5), (61, 4), (62, 3),
    (71, 4), (81, 4), (85, 4), (91, 3), (19, 4), (27, 2), (13, 2), (12, 2), (15, 2), (16, 2),
    (17, 1), (24, 1), (34, 2), (43, 1), (44, 1), (65, 1), (67, 1), (79, 1), (82, 1), (83, 1),
    (84, 1), (86, 1), (92, 2), (98, 1),
)  # fmt: skip

# What a self-service laundromat actually sells, in BRL. Weighted towards single cycles.
_PRICES: tuple[tuple[float, int], ...] = (
    (18.00, 30),  # lavagem
    (16.00, 18),  # secagem
    (34.00, 26),  # lavagem + secagem
    (12.00, 4),  # lavagem expressa
    (21.50, 3),  # lavagem + amaciante
    (36.00, 5),  # 2 lavagens
    (38.00, 4),  # lavagem + secagem + amaciante
    (45.00, 3),  # edredom, lavagem
    (68.00, 5),  # 2x lavagem + secagem
    (85.00, 2),  # edredom, lavagem + secagem
)
_MIN_PRICE = 12.00

_STATUSES: tuple[tuple[str, int], ...] = (
    ("COMPLETED", 88), ("CANCELLED", 5), ("PENDING", 4), ("REFUNDED", 3),
)  # fmt: skip
_PAYMENTS: tuple[tuple[str, int], ...] = (
    ("PIX", 40), ("CREDIT_CARD", 24), ("DEBIT_CARD", 18), ("CASH", 11), ("VOUCHER", 7),
)  # fmt: skip
_COUPONS: tuple[tuple[str, float, int], ...] = (
    ("BEMVINDO10", 0.10, 3), ("ANIVER15", 0.15, 2), ("VOLTE20", 0.20, 2), ("FIEL10", 0.10, 3),
)  # fmt: skip
_COUPON_RATE = 0.08

_GARBAGE_PHONES = ("123", "0", "999999", "0000-0000", "sem telefone", "11 9")

_TENANT_PREFIXES = (
    "Lavanderia", "Lava Rápido", "Lavateria", "Lavanderia Self-Service", "Lave e Leve",
    "Lavô", "Espaço Lavar",
)  # fmt: skip
_TENANT_SUFFIXES = (
    "Bolha Azul", "Centro", "Espuma Branca", "Sol Nascente", "Vila Madalena", "Roupa Limpa",
    "Varal Feliz", "Água Viva", "Cheirinho Bom", "Jardim América", "Pinheiros", "Boa Vista",
    "Copacabana", "Savassi", "Batel", "Moinhos", "Asa Sul", "Pituba", "Boa Viagem", "Meireles",
    "Nazaré", "Trindade", "Do Bairro", "Estrela",
)  # fmt: skip
_T = TypeVar("_T")

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class SampleSpec:
    """What to generate. ``as_of`` is required because the planted campaign guarantees are
    relative to it, and defaulting it to "today" would make the output depend on the clock."""

    as_of: datetime.date
    customers: int = 200
    sales_per_customer: float = 10.0
    seed: int = 7

    def __post_init__(self) -> None:
        if self.customers < 0:
            raise ValueError("customers must be >= 0")
        if self.sales_per_customer < 0:
            raise ValueError("sales_per_customer must be >= 0")


def _rng(seed: int, purpose: str) -> random.Random:
    """Independent streams per purpose, so e.g. changing the sales volume leaves the customer
    list unchanged. SHA-256 rather than ``hash()`` because str hashing is salted per process."""
    digest = hashlib.sha256(f"{purpose}:{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _table(weighted: tuple[tuple[_T, int], ...]) -> list[_T]:
    """Expand weights into a flat list so the hot loops pick with one ``random()`` call
    (``random.choices`` is several times slower per draw)."""
    return [item for item, weight in weighted for _ in range(weight)]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 Feb in a non-leap target year
        return day.replace(year=day.year - years, day=28)


def _cpf_from_base(base: int) -> str:
    digits = [int(c) for c in f"{base:09d}"]
    first = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) * 10 % 11 % 10
    digits.append(first)
    second = sum(d * w for d, w in zip(digits, range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return "".join(map(str, digits)) + str(second)


def tenant_cnpjs(count: int, seed: int) -> list[Cnpj]:
    """Tenants for demos. Every third one is alphanumeric (issued since July 2026) so that
    dataset naming and parsing are exercised with both formats, not just the familiar one."""
    rng = _rng(seed, "cnpj")
    result: list[Cnpj] = []
    seen: set[str] = set()
    while len(result) < count:
        if len(result) % 3 == 2:
            chars = [rng.choice(_ALNUM) for _ in range(8)]
            chars[rng.randrange(8)] = rng.choice(_LETTERS)  # make sure it really is alphanumeric
            root = "".join(chars)
        else:
            root = f"{rng.randrange(1, 100_000_000):08d}"
        if root in seen or len(set(root)) == 1:
            continue
        seen.add(root)
        result.append(Cnpj.from_base(root + "0001"))
    return result


def tenant_names(count: int, seed: int) -> list[str]:
    """Plausible trading names; unique so demo tenants can be told apart in logs and UIs."""
    rng = _rng(seed, "tenant-names")
    combos = [f"{prefix} {suffix}" for prefix in _TENANT_PREFIXES for suffix in _TENANT_SUFFIXES]
    rng.shuffle(combos)
    names = combos[:count]
    unit = 2
    while len(names) < count:  # more tenants than combinations: number the branches
        names.extend(f"{name} {unit}" for name in combos[: count - len(names)])
        unit += 1
    return names


@functools.cache
def _time_texts() -> list[str]:
    """`` HH:MM:SS UTC`` for every second of a day; built once because it is 86,400 strings."""
    return [
        f" {h:02d}:{m:02d}:{s:02d} UTC" for h in range(24) for m in range(60) for s in range(60)
    ]


class _Clock:
    """Formats local instants (seconds since the start of day 0, São Paulo wall time) as the
    UTC ``YYYY-MM-DD HH:MM:SS UTC`` strings BigQuery's CSV loader accepts, without a zoneinfo
    conversion per row.

    São Paulo has used a fixed -03:00 offset since DST was abolished in 2019, but instead of
    hard-coding that, the offset is looked up once per *day* at local noon. That is exact for
    every instant we generate: Brazilian DST switched at local midnight, and all generated times
    lie between 07:00 and 22:30. If the tz database is missing we fall back to -03:00.
    """

    def __init__(self, first_day: datetime.date, days: int) -> None:
        try:
            zone: datetime.tzinfo = ZoneInfo("America/Sao_Paulo")
        except ZoneInfoNotFoundError:
            zone = datetime.timezone(datetime.timedelta(hours=-3))
        self.first_day = first_day
        self.to_utc: list[int] = []
        self.day_text: list[str] = []
        # One spare day on each side: UTC can spill over local midnight in either direction.
        for index in range(-1, days + 2):
            day = first_day + datetime.timedelta(days=index)
            self.day_text.append(day.isoformat())
            if index >= 0:
                noon = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
                offset = noon.utcoffset()
                assert offset is not None
                self.to_utc.append(-int(offset.total_seconds()) + _DAY)  # +1 day: spare slot
        self.time_text = _time_texts()

    def format(self, local: int) -> str:
        utc = local + self.to_utc[local // _DAY]
        return self.day_text[utc // _DAY] + self.time_text[utc % _DAY]


def _spread(
    rand: Callable[[], float], count: int, first_day: int, last_day: int, signup: int
) -> list[int]:
    """``count`` sale instants on local days first_day..last_day during opening hours, all
    strictly after the sign-up instant (nobody buys before they are registered)."""
    span = last_day - first_day + 1
    out: list[int] = []
    append = out.append
    for _ in range(count):
        moment = (first_day + int(rand() * span)) * _DAY + _OPEN + int(rand() * _OPEN_SPAN)
        if moment <= signup:
            signup_day = signup // _DAY
            rest = signup_day * _DAY + _CLOSE - signup - 1
            if rest > 0:
                moment = signup + 1 + int(rand() * rest)
            elif signup_day < last_day:
                moment = (signup_day + 1) * _DAY + _OPEN + int(rand() * _OPEN_SPAN)
            else:
                continue
        append(moment)
    return out


def _plan(spec: SampleSpec) -> tuple[dict[int, int], set[int]]:
    """Choose who carries each campaign guarantee. Welcome, reactivation and loyalty exclude
    each other (you cannot be new and lapsed at once); birthdays can overlap with anything, which
    only matters when the population is too small to keep them apart."""
    n = spec.customers
    wanted = (max(3, n // 200), max(3, n // 20), max(3, n // 50))  # welcome, reactivation, loyal
    birthdays = max(3, n // 100)
    chosen = _rng(spec.seed, "plan").sample(range(n), min(n, sum(wanted) + birthdays))
    roles: dict[int, int] = {}
    position = 0
    for role, amount in enumerate(wanted, start=1):
        for index in chosen[position : position + amount]:
            roles[index] = role
        position += amount
    rest = chosen[position:]
    birthday = set(rest[:birthdays])
    birthday.update(chosen[: birthdays - len(birthday)])  # small populations: overlap
    return roles, birthday


_ROLE_WELCOME, _ROLE_REACTIVATION, _ROLE_LOYALTY = 1, 2, 3


def write_tenant_files(spec: SampleSpec, directory: pathlib.Path) -> dict[str, int]:
    """Write ``clientes.csv`` and ``vendas.csv`` into ``directory`` and return the row counts.

    Both files are streamed in a single pass over customers, so memory stays flat for a million
    sales, and ``primeiraCompra`` (the first COMPLETED sale) is known before the customer row is
    written. Guarantees are capped by the population: a spec with 5 customers cannot contain
    3 + 3 + 3 mutually exclusive campaign members.
    """
    directory.mkdir(parents=True, exist_ok=True)
    as_of = spec.as_of
    first_day = as_of - datetime.timedelta(days=_HISTORY_DAYS)
    today = _HISTORY_DAYS  # day index of as_of
    clock = _Clock(first_day, _HISTORY_DAYS)
    to_utc, day_text, time_text = clock.to_utc, clock.day_text, clock.time_text
    roles, birthday_people = _plan(spec)

    people = _rng(spec.seed, "people")
    prand = people.random
    sales_rng = _rng(spec.seed, "sales")
    rand = sales_rng.random

    first_names = _table(tuple(((name, g), w) for name, g, w in _FIRST_NAMES))
    first_ascii = {name: _ascii(name) for name, _, _ in _FIRST_NAMES}
    surnames = _table(_SURNAMES)
    surname_ascii = {name: _ascii(name) for name, _ in _SURNAMES}
    domains = _table(_EMAIL_DOMAINS)
    ddds = [str(d) for d in _table(_DDDS)]
    statuses = _table(_STATUSES)
    payments = _table(_PAYMENTS)
    coupons = _table(tuple(((code, off), w) for code, off, w in _COUPONS))
    prices = _table(_PRICES)
    price_text = [f"{p:.2f}" for p in prices]
    coupon_price_text = {
        (p, off): f"{max(_MIN_PRICE, round(p * (1 - off), 2)):.2f}"
        for p, _ in _PRICES
        for _, off, _ in _COUPONS
    }
    n_first, n_sur, n_dom, n_ddd = len(first_names), len(surnames), len(domains), len(ddds)
    n_status, n_pay, n_coupon, n_price = len(statuses), len(payments), len(coupons), len(prices)

    youngest = _years_before(as_of, 18).toordinal()
    oldest = _years_before(as_of, 81).toordinal() + 1
    birth_span = youngest - oldest + 1
    leap_feb29 = [
        datetime.date(y, 2, 29)
        for y in range(as_of.year - 81, as_of.year - 17)
        if y % 4 == 0
        and (y % 100 != 0 or y % 400 == 0)
        and oldest <= datetime.date(y, 2, 29).toordinal() <= youngest
    ]
    birthday_dates: list[datetime.date] = []
    for year in range(as_of.year - 81, as_of.year - 17):
        try:
            candidate = datetime.date(year, as_of.month, as_of.day)
        except ValueError:  # as_of is 29 Feb: only leap years qualify
            continue
        if oldest <= candidate.toordinal() <= youngest:
            birthday_dates.append(candidate)

    avg = spec.sales_per_customer
    # Count mix: 10% never buy, 8% loyal tail at 2-4x the average, the rest a skewed
    # (geometric) count whose mean makes the overall average come out at ``avg``.
    regular_mean = max(avg * (1 - 0.08 * 3) / 0.82 - 1.0, 0.05)
    regular_lambda = 1.0 / (regular_mean + 0.5)
    expovariate = sales_rng.expovariate
    regular_cap = max(1, round(avg * 4))  # nobody but the loyal tail beats 4x the average

    used_cpfs: set[int] = set()
    n_clientes = n_vendas = 0

    with (
        (directory / "clientes.csv").open("w", newline="", encoding="utf-8") as clientes_file,
        (directory / "vendas.csv").open("w", newline="", encoding="utf-8") as vendas_file,
    ):
        clientes = csv.writer(clientes_file, lineterminator="\n")
        vendas = csv.writer(vendas_file, lineterminator="\n")
        clientes.writerow(CLIENTES_HEADER)
        vendas.writerow(VENDAS_HEADER)
        write_sales = vendas.writerows
        welcome_late_done = False

        for index in range(spec.customers):
            role = roles.get(index, 0)

            # --- identity -------------------------------------------------------------
            first, gender = first_names[int(prand() * n_first)]
            last = surnames[int(prand() * n_sur)]
            if prand() < 0.35:
                middle = surnames[int(prand() * n_sur)]
                name = f"{first} {middle} {last}" if middle != last else f"{first} {last}"
            else:
                name = f"{first} {last}"
            genero = gender if prand() >= 0.07 else ""

            while True:
                base = int(prand() * 1_000_000_000)
                if base not in used_cpfs and base % 111_111_111 != 0:
                    break
            used_cpfs.add(base)
            cpf = _cpf_from_base(base)

            # --- birth date -------------------------------------------------------------
            if index in birthday_people and birthday_dates:
                birth = birthday_dates[int(prand() * len(birthday_dates))]
            elif prand() < 0.004 and leap_feb29:
                birth = leap_feb29[int(prand() * len(leap_feb29))]
            else:
                birth = datetime.date.fromordinal(oldest + int(prand() * birth_span))

            # --- phone ------------------------------------------------------------------
            ddd = ddds[int(prand() * n_ddd)]
            kind = prand() if role == 0 else prand() * 0.80  # planted people: valid mobiles
            number = f"{(6 + int(prand() * 4)) * 10_000_000 + int(prand() * 10_000_000):08d}"
            if kind < 0.80:
                fmt = prand()
                if fmt < 0.35:
                    phone = f"({ddd}) 9{number[:4]}-{number[4:]}"
                elif fmt < 0.60:
                    phone = f"{ddd}9{number}"
                elif fmt < 0.75:
                    phone = f"+55 {ddd} 9{number[:4]}-{number[4:]}"
                elif fmt < 0.85:
                    phone = f"55{ddd}9{number}"
                elif fmt < 0.95:
                    phone = f"0{ddd} 9{number[:4]}-{number[4:]}"
                else:
                    phone = f"{ddd} 9{number[:4]}-{number[4:]}"
            elif kind < 0.88:  # pre-2016 export still carrying the 8-digit mobile
                phone = f"({ddd}) {number[:4]}-{number[4:]}" if prand() < 0.6 else f"{ddd}{number}"
            elif kind < 0.94:  # landline: WhatsApp cannot reach it
                land = f"{2 + int(prand() * 4)}{int(prand() * 10_000_000):07d}"
                phone = f"({ddd}) {land[:4]}-{land[4:]}"
            elif kind < 0.98:
                phone = ""
            else:
                phone = _GARBAGE_PHONES[int(prand() * len(_GARBAGE_PHONES))]

            # --- email ------------------------------------------------------------------
            if prand() < 0.15:
                email = ""
            else:
                f_ascii, l_ascii = first_ascii[first], surname_ascii[last]
                style = prand()
                if style < 0.35:
                    local_part = f"{f_ascii}.{l_ascii}"
                elif style < 0.55:
                    local_part = f"{f_ascii}{l_ascii}"
                elif style < 0.70:
                    local_part = f"{f_ascii}_{l_ascii}{int(prand() * 100):02d}"
                elif style < 0.85:
                    local_part = f"{f_ascii}{birth.year}"
                else:
                    local_part = f"{f_ascii[0]}{l_ascii}{int(prand() * 1000)}"
                email = f"{local_part}@{domains[int(prand() * n_dom)]}"

            # --- sign-up and sales ------------------------------------------------------
            forced: list[int] = []  # instants whose status must be COMPLETED
            if role == _ROLE_WELCOME:
                signup_day = today - 1
                if not welcome_late_done:
                    signup_secs = _WELCOME_LATE
                    welcome_late_done = True
                else:
                    signup_secs = _OPEN + int(rand() * _OPEN_SPAN)
                signup = signup_day * _DAY + signup_secs
                moments = _spread(rand, 1 if rand() < 0.5 else 0, signup_day, today, signup)
            elif role == _ROLE_REACTIVATION:
                signup_day = today - 200 - int(rand() * (_HISTORY_DAYS - 199))
                signup = signup_day * _DAY + _OPEN + int(rand() * _OPEN_SPAN)
                last_day = today - 31 - int(rand() * 150)
                moments = _spread(rand, 2 + int(rand() * 9), signup_day, last_day, signup)
                forced = moments[:1]
            elif role == _ROLE_LOYALTY:
                signup_day = today - 100 - int(rand() * (_HISTORY_DAYS - 99))
                signup = signup_day * _DAY + _OPEN + int(rand() * _OPEN_SPAN)
                # [as_of-85, as_of-1] lies inside [as_of - 3 months + 1 day, as_of - 1] for
                # every as_of, whatever the month lengths.
                forced = _spread(rand, 10 + int(rand() * 7), today - 85, today - 1, signup)
                moments = forced + _spread(rand, int(rand() * 8), signup_day, today, signup)
            else:
                signup_day = today - int(rand() * (_HISTORY_DAYS + 1))
                signup = signup_day * _DAY + _OPEN + int(rand() * _OPEN_SPAN)
                last_day = today
                if rand() < 0.3:  # churned at some point after signing up
                    last_day = signup_day + int(rand() * (today - signup_day + 1))
                mix = rand()
                if mix < 0.10:
                    count = 0
                elif mix < 0.18:
                    count = round(avg * (2 + 2 * rand()))
                else:
                    count = min(1 + int(expovariate(regular_lambda)), regular_cap)
                count = min(count, 2 * (last_day - signup_day + 1))
                moments = _spread(rand, count, signup_day, last_day, signup)

            forced_set = set(forced)
            moments.sort()
            first_purchase = ""
            rows: list[tuple[str, str, str, str, str, str]] = []
            for moment in moments:
                status = _COMPLETED if moment in forced_set else statuses[int(rand() * n_status)]
                utc = moment + to_utc[moment // _DAY]
                stamp = day_text[utc // _DAY] + time_text[utc % _DAY]
                if not first_purchase and status == _COMPLETED:
                    first_purchase = stamp
                pick = int(rand() * n_price)
                if rand() < _COUPON_RATE:
                    code, off = coupons[int(rand() * n_coupon)]
                    valor = coupon_price_text[(prices[pick], off)]
                else:
                    code, valor = "", price_text[pick]
                rows.append((stamp, cpf, valor, status, payments[int(rand() * n_pay)], code))
            write_sales(rows)
            n_vendas += len(rows)

            clientes.writerow(
                (
                    f"C{index + 1:06d}",
                    name,
                    f"{birth.isoformat()} 00:00:00 UTC",
                    cpf,
                    phone,
                    email,
                    genero,
                    clock.format(signup),
                    first_purchase,
                )
            )
            n_clientes += 1

    return {"clientes": n_clientes, "vendas": n_vendas}
