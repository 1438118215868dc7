"""Send-by rules and priorities by campaign kind, on fixed instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import FINAL, Status
from shared.domain.pacing import Planner, SendByMissed, SendWindow, Throttle
from shared.domain.send_by import Priority, default_priority, lower_ranks, send_by

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")
RUN = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 in São Paulo
TODAY = date(2026, 11, 21)


def _send_by(
    kind: str, contact_zone: ZoneInfo = SAO_PAULO, validity: int | None = None
) -> datetime:
    return send_by(
        kind,
        instant=RUN,
        today=TODAY,
        tenant_zone=SAO_PAULO,
        contact_zone=contact_zone,
        validity_days=validity,
    )


def test_a_birthday_goes_by_the_end_of_the_customers_local_day() -> None:
    assert _send_by("BIRTHDAY") == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 00:00 BRT
    assert _send_by("BIRTHDAY", MANAUS) == datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 00:00 AMT


@pytest.mark.parametrize(
    ("kind", "after"),
    [
        ("WELCOME", timedelta(days=2)),
        ("LOYALTY", timedelta(days=7)),
        ("SEGMENT", timedelta(days=3)),
    ],
)
def test_kinds_with_a_validity_go_within_it(kind: str, after: timedelta) -> None:
    assert _send_by(kind) == RUN + after


def test_a_reactivation_goes_within_its_month() -> None:
    assert _send_by("REACTIVATION") == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_a_december_reactivation_ends_with_the_year() -> None:
    by = send_by(
        "REACTIVATION",
        instant=datetime(2026, 12, 20, 11, 0, tzinfo=UTC),
        today=date(2026, 12, 20),
        tenant_zone=SAO_PAULO,
        contact_zone=SAO_PAULO,
    )
    assert by == datetime(2027, 1, 1, 3, 0, tzinfo=UTC)


def test_a_campaigns_validity_overrides_its_kinds_rule() -> None:
    assert _send_by("BIRTHDAY", validity=5) == RUN + timedelta(days=5)
    assert _send_by("SEGMENT", validity=1) == RUN + timedelta(days=1)


def test_time_critical_kinds_go_first_and_bulk_last() -> None:
    assert default_priority("BIRTHDAY") is Priority.TIME_CRITICAL
    assert default_priority("WELCOME") is Priority.TIME_CRITICAL
    assert default_priority("SEGMENT") is Priority.NORMAL
    assert default_priority("REACTIVATION") is Priority.BULK
    assert default_priority("LOYALTY") is Priority.BULK
    assert Priority.TIME_CRITICAL.rank < Priority.NORMAL.rank < Priority.BULK.rank


def test_only_lower_priorities_yield() -> None:
    assert lower_ranks(Priority.TIME_CRITICAL.rank) == [Priority.NORMAL.rank, Priority.BULK.rank]
    assert lower_ranks(Priority.NORMAL.rank) == [Priority.BULK.rank]
    assert lower_ranks(Priority.BULK.rank) == []


def test_expired_is_a_final_state() -> None:
    assert Status.EXPIRED in FINAL


def test_a_record_is_expired_from_its_send_by_on() -> None:
    ref = TargetRef(Cnpj.parse("11222333000181"), "BIRTHDAY", "c1_2026")
    deadline = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    record = TargetRecord(ref, Status.QUEUED, "c1", "Ana", "+5511987654321", {}, send_by=deadline)
    assert not record.expired(deadline - timedelta(microseconds=1))
    assert record.expired(deadline)
    legacy = TargetRecord(ref, Status.QUEUED, "c1", "Ana", "+5511987654321", {})
    assert not legacy.expired(datetime(2100, 1, 1, tzinfo=UTC))


def _planner(per_day: int) -> Planner:
    throttle = Throttle(messages_per_day=per_day, shards=1)
    return Planner(throttle, SendWindow(), SAO_PAULO, SAO_PAULO)


def test_the_planner_never_plans_at_or_after_the_send_by() -> None:
    planner = _planner(per_day=2)
    state: dict[str, int | list[int]] = {}
    deadline = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    for _ in range(2):
        slot = planner.plan(RUN, 0, state, before=deadline)
        assert slot.send_at < deadline
        state = slot.state
    with pytest.raises(SendByMissed):
        planner.plan(RUN, 0, state, before=deadline)
    assert planner.plan(RUN, 0, state).send_at >= deadline  # without one it plans tomorrow


def test_a_send_by_before_the_window_opens_is_missed() -> None:
    opens = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 09:00 BRT
    with pytest.raises(SendByMissed):
        _planner(per_day=250).plan(RUN, 0, {}, before=opens)
