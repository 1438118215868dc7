"""Each processor's dedup period and query parameters for one known "now", worked out by hand.

Tenant in America/Sao_Paulo (UTC-3), tick at 2026-11-20T11:30Z = 08:30 local on 20 Nov 2026,
so every local midnight below is 03:00Z.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pydantic
import pytest

from shared.campaigns import (
    BirthdayProcessor,
    LoyaltyProcessor,
    ReactivationProcessor,
    RunContext,
    WelcomeProcessor,
    registered_processors,
)
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign, built_in_campaign
from shared.domain.campaign_settings import LoyaltySettings
from shared.domain.errors import PermanentError
from shared.domain.periods import Period
from shared.domain.tenant import Tenant

CNPJ = "11222333000181"
INSTANT = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def context(instant: datetime = INSTANT, timezone: str = "America/Sao_Paulo") -> RunContext:
    tenant = Tenant(cnpj=CNPJ, timezone=timezone)
    tz = zone(tenant.timezone)
    return RunContext(
        tenant=tenant, zone=tz, instant=instant, today=local_date(instant, tz), run_id="tick-1"
    )


def record(kind: str, **thresholds: Any) -> Campaign:
    """The kind's stored campaign with these thresholds set (the others keep their defaults)."""
    stored = built_in_campaign(kind, now=INSTANT)
    return stored.model_copy(update={"thresholds": {**stored.thresholds, **thresholds}})


def test_context_today_is_the_local_date() -> None:
    assert context().today == date(2026, 11, 20)
    # 02:30Z on the 21st is still the 20th in São Paulo.
    assert context(utc(2026, 11, 21, 2)).today == date(2026, 11, 20)


def test_all_four_processors_are_registered() -> None:
    types = {processor.kind for processor in registered_processors()}
    assert {"WELCOME", "REACTIVATION", "LOYALTY", "BIRTHDAY"} <= types


@pytest.mark.parametrize(
    ("processor", "sql_file"),
    [
        (WelcomeProcessor, "targeting/welcome.sql"),
        (ReactivationProcessor, "targeting/reactivation.sql"),
        (LoyaltyProcessor, "targeting/loyalty.sql"),
        (BirthdayProcessor, "targeting/birthday.sql"),
    ],
)
def test_sql_file(processor: type[WelcomeProcessor], sql_file: str) -> None:
    assert processor(None, None).sql_file == sql_file  # type: ignore[arg-type]


def test_a_processor_reads_its_kind_s_record_or_the_kind_s_defaults() -> None:
    processor = LoyaltyProcessor(None, None)  # type: ignore[arg-type]
    stored, unstored = processor.settings(record("LOYALTY")), processor.settings(None)
    assert stored.model_copy(update={"template": None}) == unstored
    assert stored.sent_template == unstored.sent_template == LoyaltySettings.default_template
    with pytest.raises(PermanentError):
        processor.settings(record("BIRTHDAY"))


# --- WELCOME ---------------------------------------------------------------------------------


def test_welcome() -> None:
    ctx = context()
    processor = WelcomeProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    assert processor.period(ctx, settings) == Period("once", utc(1970, 1, 1))
    assert processor.parameters(ctx, settings) == {
        "signup_from": utc(2026, 11, 19, 3),
        "signup_until": utc(2026, 11, 20, 3),
    }
    assert processor.not_due_reason(ctx, settings) is None


def test_welcome_days_after_signup_override() -> None:
    ctx = context()
    processor = WelcomeProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(record("WELCOME", days_after_signup=3))
    assert processor.parameters(ctx, settings) == {
        "signup_from": utc(2026, 11, 17, 3),
        "signup_until": utc(2026, 11, 18, 3),
    }


def test_welcome_in_manaus() -> None:
    ctx = context(timezone="America/Manaus")
    processor = WelcomeProcessor(None, None)  # type: ignore[arg-type]
    assert processor.parameters(ctx, processor.settings(None)) == {
        "signup_from": utc(2026, 11, 19, 4),
        "signup_until": utc(2026, 11, 20, 4),
    }


def test_welcome_target_data() -> None:
    processor = WelcomeProcessor(None, None)  # type: ignore[arg-type]
    signed_up = utc(2026, 11, 19, 14)
    settings = processor.settings(record("WELCOME", voucher_code="BEMVINDO"))
    assert processor.target_data({"signed_up_at": signed_up}, settings) == {
        "signedUpAt": "2026-11-19T14:00:00+00:00",
        "voucherCode": "BEMVINDO",
    }


# --- REACTIVATION ----------------------------------------------------------------------------


def test_reactivation() -> None:
    ctx = context()
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    assert processor.period(ctx, settings) == Period("2026-11", utc(2026, 11, 1, 3))
    # 20 Nov - 30 days = 21 Oct, whose local midnight is 03:00Z.
    # 20 Nov 2026 - (30 + 365) days = 21 Oct 2025: sales before it are not read.
    assert processor.parameters(ctx, settings) == {
        "inactive_before": utc(2026, 10, 21, 3),
        "active_since": utc(2025, 10, 21, 3),
    }


def test_reactivation_longest_inactivity_keeps_a_year_of_look_back() -> None:
    ctx = context()
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(record("REACTIVATION", inactive_days=365))
    # 20 Nov 2026 - 365 days = 20 Nov 2025; - 730 days = 20 Nov 2024.
    assert processor.parameters(ctx, settings) == {
        "inactive_before": utc(2025, 11, 20, 3),
        "active_since": utc(2024, 11, 20, 3),
    }


def test_reactivation_inactive_days_override() -> None:
    ctx = context()
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(record("REACTIVATION", inactive_days=60, lookback_days=90))
    # 20 Nov - 60 days = 21 Sep; 20 Nov - 90 days = 22 Aug.
    assert processor.parameters(ctx, settings) == {
        "inactive_before": utc(2026, 9, 21, 3),
        "active_since": utc(2026, 8, 22, 3),
    }


def test_reactivation_lookback_must_cover_the_inactivity() -> None:
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="lookback_days must be greater"):
        processor.settings(record("REACTIVATION", inactive_days=60, lookback_days=60))


@pytest.mark.parametrize(
    ("instant", "thresholds", "due"),
    [
        (INSTANT, None, True),  # day 20, default min day 20 (no record: the kind's defaults)
        (utc(2026, 11, 19, 12), None, False),  # day 19
        (utc(2026, 11, 1, 12), None, False),
        (utc(2026, 11, 30, 12), None, True),
        # 02:30Z on the 20th is still the 19th in São Paulo.
        (utc(2026, 11, 20, 2), None, False),
        (utc(2026, 11, 19, 12), {"min_day_of_month": 15}, True),
        (utc(2026, 11, 15, 12), {"min_day_of_month": 15}, True),
        (utc(2026, 11, 14, 12), {"min_day_of_month": 15}, False),
        (INSTANT, {"min_day_of_month": 25}, False),
        (utc(2026, 11, 1, 12), {"min_day_of_month": 1}, True),
    ],
)
def test_reactivation_not_due_reason(
    instant: datetime, thresholds: dict[str, Any] | None, due: bool
) -> None:
    ctx = context(instant)
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    stored = record("REACTIVATION", **thresholds) if thresholds is not None else None
    reason = processor.not_due_reason(ctx, processor.settings(stored))
    if due:
        assert reason is None
    else:
        assert isinstance(reason, str)
        assert reason


def test_reactivation_target_data() -> None:
    processor = ReactivationProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    row = {"last_purchase_at": utc(2026, 9, 1, 15)}
    assert processor.target_data(row, settings) == {"lastPurchaseAt": "2026-09-01T15:00:00+00:00"}


# --- LOYALTY ---------------------------------------------------------------------------------


def test_loyalty() -> None:
    ctx = context()
    processor = LoyaltyProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    assert processor.period(ctx, settings) == Period(
        "2026-11-20", utc(2026, 8, 20, 3), rolling_since="2026-08-20"
    )  # the same window as the visits': both ends inclusive
    assert processor.parameters(ctx, settings) == {
        "window_start": utc(2026, 8, 20, 3),
        "min_visits": 10,
    }


def test_loyalty_overrides() -> None:
    ctx = context()
    processor = LoyaltyProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(record("LOYALTY", window_months=6, min_visits=4))
    assert isinstance(settings, LoyaltySettings)
    assert processor.period(ctx, settings) == Period(
        "2026-11-20", utc(2026, 5, 20, 3), rolling_since="2026-05-20"
    )
    assert processor.parameters(ctx, settings) == {
        "window_start": utc(2026, 5, 20, 3),
        "min_visits": 4,
    }


def test_loyalty_window_clamps_to_month_end() -> None:
    ctx = context(utc(2026, 5, 31, 15))
    processor = LoyaltyProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    # 31 May - 3 months = 28 Feb.
    assert processor.parameters(ctx, settings)["window_start"] == utc(2026, 2, 28, 3)
    assert processor.period(ctx, settings).rolling_since == "2026-02-28"


@pytest.mark.parametrize(
    ("visits", "spent", "expected"),
    [
        (12, 123.456, {"visit_count": 12, "total_spent": 123.46, "tier": "BRONZE"}),
        ("15", "99.994", {"visit_count": 15, "total_spent": 99.99, "tier": "PRATA"}),
        (21, 0, {"visit_count": 21, "total_spent": 0.0, "tier": "OURO"}),
    ],
)
def test_loyalty_target_data(visits: object, spent: object, expected: dict[str, Any]) -> None:
    processor = LoyaltyProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    row = {"visit_count": visits, "total_spent": spent}
    assert processor.target_data(row, settings) == expected


# --- BIRTHDAY --------------------------------------------------------------------------------


def test_birthday() -> None:
    ctx = context()
    processor = BirthdayProcessor(None, None)  # type: ignore[arg-type]
    settings = processor.settings(None)
    assert processor.period(ctx, settings) == Period("2026", utc(2026, 1, 1, 3))
    assert processor.parameters(ctx, settings) == {"birthday_keys": ["11-20"]}


@pytest.mark.parametrize(
    ("instant", "keys"),
    [
        (utc(2027, 2, 28, 12), ["02-28", "02-29"]),
        (utc(2028, 2, 28, 12), ["02-28"]),
        (utc(2028, 2, 29, 12), ["02-29"]),
        # 01:00Z on 1 Mar 2027 is still 28 Feb in São Paulo.
        (utc(2027, 3, 1, 1), ["02-28", "02-29"]),
    ],
)
def test_birthday_keys_follow_the_local_date(instant: datetime, keys: list[str]) -> None:
    ctx = context(instant)
    processor = BirthdayProcessor(None, None)  # type: ignore[arg-type]
    assert processor.parameters(ctx, processor.settings(None)) == {"birthday_keys": keys}


def test_birthday_target_data() -> None:
    processor = BirthdayProcessor(None, None)  # type: ignore[arg-type]
    plain = processor.settings(None)
    with_voucher = processor.settings(record("BIRTHDAY", voucher_code="NIVER"))
    row = {"birth_date": date(1990, 11, 20)}
    assert processor.target_data(row, plain) == {"birthDate": "1990-11-20"}
    assert processor.target_data(row, with_voucher) == {
        "birthDate": "1990-11-20",
        "voucherCode": "NIVER",
    }
