"""Send results and WhatsApp error codes mapped to what delivery does next.

The expected actions are the table of the Cloud API notes (shared/notes/whatsapp-cloud-api.md).
"""

from __future__ import annotations

import pytest

from shared.whatsapp.outcomes import Action, SendResult, classify, classify_code

DOCUMENTED_CODES = [
    (130429, Action.RETRY),  # throughput exceeded
    (131056, Action.RETRY),  # pair rate limit
    (131000, Action.RETRY),  # internal error
    (131016, Action.RETRY),  # service unavailable
    (131049, Action.DEFER),  # per-user marketing limit
    (131050, Action.OPT_OUT),  # user stopped marketing messages
    (131026, Action.FAIL),  # undeliverable
    (131047, Action.FAIL),  # outside the 24 h window
    (368, Action.FAIL),  # policy block
    (130497, Action.FAIL),  # country restricted
    (131048, Action.FAIL_AND_PAUSE),  # spam rate limit
    (132000, Action.FAIL_AND_PAUSE),  # template parameter count mismatch
    (132001, Action.FAIL_AND_PAUSE),  # template missing
    (132012, Action.FAIL_AND_PAUSE),  # parameter format
    (132015, Action.HOLD),  # template paused by Meta
    (132016, Action.HOLD),  # template disabled by Meta
]


@pytest.mark.parametrize("http_status", [None, 400, 403, 429, 500, 503])
@pytest.mark.parametrize(("code", "action"), DOCUMENTED_CODES)
def test_documented_code_decides_whatever_the_http_status(
    code: int, action: Action, http_status: int | None
) -> None:
    """Meta: classify by ``error.code``; a webhook's ``failed`` status has no HTTP status."""
    assert classify_code(code, http_status) is action


@pytest.mark.parametrize(("code", "action"), DOCUMENTED_CODES)
def test_classify_reads_the_code_of_an_error_answer(code: int, action: Action) -> None:
    assert classify(SendResult(400, error_code=code, error_reason="boom")) is action


def test_every_template_code_pauses_and_only_a_paused_or_disabled_template_holds() -> None:
    actions = {code: classify_code(code, 400) for code in range(132000, 133000)}
    assert {code for code, action in actions.items() if action is Action.HOLD} == {132015, 132016}
    assert set(actions.values()) == {Action.FAIL_AND_PAUSE, Action.HOLD}


@pytest.mark.parametrize("code", [131999, 133000, 999999, None])
@pytest.mark.parametrize(
    ("http_status", "action"),
    [
        (500, Action.RETRY),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (429, Action.RETRY),
        (400, Action.FAIL),
        (401, Action.FAIL),
        (404, Action.FAIL),
        (None, Action.FAIL),
    ],
)
def test_unknown_code_follows_the_http_status(
    code: int | None, http_status: int | None, action: Action
) -> None:
    assert classify_code(code, http_status) is action
    if http_status is not None:
        assert classify(SendResult(http_status, error_code=code)) is action


@pytest.mark.parametrize(
    ("request_left", "action"), [(False, Action.RETRY), (True, Action.AMBIGUOUS)]
)
def test_no_http_answer_is_retried_only_if_the_request_never_left(
    request_left: bool, action: Action
) -> None:
    result = SendResult(None, error_reason="timeout", request_left=request_left)
    assert classify(result) is action


def test_request_left_by_default() -> None:
    """The safe default: an unanswered request is assumed to have reached Meta."""
    assert classify(SendResult(None)) is Action.AMBIGUOUS


@pytest.mark.parametrize("http_status", [200, 201])
def test_success_with_a_wamid_is_sent(http_status: int) -> None:
    assert classify(SendResult(http_status, wamid="wamid.HBgM")) is Action.SENT


def test_a_wamid_does_not_turn_an_error_into_a_send() -> None:
    assert classify(SendResult(400, wamid="wamid.HBgM", error_code=131026)) is Action.FAIL
