"""When a tenant's template library is due for its scheduled sync (pure, on given instants)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.ports import SyncState
from shared.services.template_schedule import RETRY_AFTER, SYNC_EVERY, is_due

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_never_synced_is_due_then_every_six_hours_and_an_hour_after_a_failure() -> None:
    synced, failed = SyncState(T0, succeeded=True), SyncState(T0, succeeded=False)
    assert is_due(None, T0)
    assert not is_due(synced, T0 + SYNC_EVERY - timedelta(seconds=1))
    assert is_due(synced, T0 + SYNC_EVERY)
    assert not is_due(failed, T0 + RETRY_AFTER - timedelta(seconds=1))
    assert is_due(failed, T0 + RETRY_AFTER)
