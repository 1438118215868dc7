"""The consent ledger's pure rules: event ids, the state by timestamps, what lifts an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.consent import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    blocks_sending,
    event_id,
    keys_of,
    kind_of,
    state_after,
    state_document,
)
from shared.domain.errors import FieldError
from shared.domain.identity import Identity
from shared.domain.optout import is_stop_button

T0 = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
ANA = Identity("+5511987654321", "BR.1502576394655843")
KEY = "+5511987654321"


def event(source: str, minutes: int = 0, message_id: str = "") -> ConsentEvent:
    return ConsentEvent(
        ANA, source, T0 + timedelta(minutes=minutes), message_id or f"wamid.{source}{minutes}"
    )


def replay(events: list[ConsentEvent], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The state document after ``events`` arrive in this order (as the adapter applies them)."""
    for each in events:
        current = state_document(KEY, current, each) or current
    assert current is not None
    return current


def test_an_event_id_depends_on_the_message_and_the_kind_only() -> None:
    first = event(ConsentSource.INBOUND_KEYWORD, 0, "wamid.A")
    again = event(ConsentSource.INBOUND_KEYWORD, 5, "wamid.A")
    assert first.id == again.id == event_id("wamid.A", ConsentKind.OPT_OUT)
    assert event(ConsentSource.USER_PREFERENCES_RESUME, 0, "wamid.A").id != first.id


def test_a_person_needs_a_phone_or_a_bsuid() -> None:
    with pytest.raises(FieldError):
        ConsentEvent(Identity(), ConsentSource.INBOUND_KEYWORD, T0, "wamid.X")
    assert keys_of(ANA) == (ANA.phone, ANA.bsuid)
    assert keys_of(Identity(bsuid="BR.1")) == ("BR.1",)


@pytest.mark.parametrize("source", list(ConsentSource))
def test_only_a_resume_or_an_explicit_opt_in_lifts(source: ConsentSource) -> None:
    explicit = {ConsentSource.IMPORT_OPT_IN, ConsentSource.API_OPT_IN}
    lifts = source in {ConsentSource.USER_PREFERENCES_RESUME, *explicit}
    assert (kind_of(source) is ConsentKind.OPT_IN) is lifts
    assert kind_of("some_future_source") is ConsentKind.OPT_OUT  # unknown: when in doubt, stop


def test_the_later_event_decides_whatever_the_arrival_order() -> None:
    stop = event(ConsentSource.USER_PREFERENCES_STOP, 0)
    resume = event(ConsentSource.USER_PREFERENCES_RESUME, 1)
    for order in ([stop, resume], [resume, stop], [resume, stop, resume, stop]):
        document = replay(order)
        assert document["state"] == ConsentState.OPTED_IN and not blocks_sending(document)
        assert document["source"] == ConsentSource.USER_PREFERENCES_RESUME
    assert state_after([resume, stop]) is ConsentState.OPTED_IN


def test_on_the_same_instant_an_opt_out_wins() -> None:
    stop = event(ConsentSource.USER_PREFERENCES_STOP, 0)
    resume = event(ConsentSource.USER_PREFERENCES_RESUME, 0)
    assert blocks_sending(replay([stop, resume])) and blocks_sending(replay([resume, stop]))


def test_an_older_or_duplicate_event_leaves_the_document() -> None:
    current = replay([event(ConsentSource.INBOUND_KEYWORD, 5)])
    assert state_document(KEY, current, event(ConsentSource.USER_PREFERENCES_RESUME, 1)) is None
    assert state_document(KEY, current, event(ConsentSource.INBOUND_KEYWORD, 5)) is None


def test_a_legacy_document_is_an_opt_out_that_a_later_resume_lifts() -> None:
    legacy = {"phone": KEY, "at": T0, "source": "inbound_keyword", "messageId": "wamid.OLD"}
    assert blocks_sending(legacy)
    assert state_document(KEY, legacy, event(ConsentSource.USER_PREFERENCES_RESUME, -1)) is None
    lifted = replay([event(ConsentSource.USER_PREFERENCES_RESUME, 1)], legacy)
    assert not blocks_sending(lifted)


def test_an_erasure_is_never_lifted() -> None:
    erased = {"phone": KEY, "at": T0, "source": ConsentSource.ERASURE, "by": "dpo"}
    after = replay([event(ConsentSource.IMPORT_OPT_IN, 60)], erased)
    assert blocks_sending(after) and after["erasedAt"] == T0
    assert (
        state_after([event(ConsentSource.ERASURE, 0), event(ConsentSource.IMPORT_OPT_IN, 1)])
        is ConsentState.OPTED_OUT
    )


def test_no_event_no_opt_out() -> None:
    assert state_after([]) is None and not blocks_sending(None)


_SOURCES = st.sampled_from(
    [
        ConsentSource.INBOUND_KEYWORD,
        ConsentSource.USER_PREFERENCES_STOP,
        ConsentSource.USER_PREFERENCES_RESUME,
        ConsentSource.QUICK_REPLY_STOP,
        ConsentSource.IMPORT_OPT_IN,
    ]
)


@given(
    st.lists(st.tuples(_SOURCES, st.integers(0, 20)), min_size=1, max_size=8, unique=True),
    st.randoms(use_true_random=False),
)
def test_any_arrival_order_with_duplicates_ends_in_the_same_state(
    raw: list[tuple[ConsentSource, int]], rng: Any
) -> None:
    events = [event(source, minutes, f"wamid.{source}{minutes}") for source, minutes in raw]
    shuffled = events + rng.sample(events, len(events))  # each one redelivered, in any order
    rng.shuffle(shuffled)
    expected = state_after(events)
    assert replay(shuffled)["state"] == (expected.value if expected else None)


@pytest.mark.parametrize(
    ("labels", "stops"),
    [
        (("STOP_PROMOTIONS", "Parar promoções"), True),
        (("", "Stop promotions"), True),
        (("payload-1", "SAIR"), True),
        (("QUERO_O_CUPOM", "Quero o cupom"), False),
        (("", "Parar de receber? Não"), False),
    ],
)
def test_the_stop_button_rule(labels: tuple[str, str], stops: bool) -> None:
    assert is_stop_button(*labels) is stops
