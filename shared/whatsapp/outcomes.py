"""What a send attempt's result means for the target: WhatsApp's error codes, classified.

Meta says to classify by ``error.code``, not by HTTP status. The one distinction that no code
carries is whether the request reached Meta at all: a refused connection means it did not
(safe to retry), a timeout after the request left means it may have been delivered, and
since /messages has no idempotency key that outcome must never be retried automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    SENT = "SENT"
    RETRY = "RETRY"
    """Back off and try again, up to the attempt limit."""
    DEFER = "DEFER"
    """WhatsApp's per-user marketing limit: do not try again for at least 24 h."""
    OPT_OUT = "OPT_OUT"
    """The user stopped marketing from this business: record the opt-out, skip the target."""
    FAIL = "FAIL"
    """Permanent for this message."""
    FAIL_AND_PAUSE = "FAIL_AND_PAUSE"
    """Permanent, and the campaign itself is broken (template, spam limit): pause it, alert."""
    HOLD = "HOLD"
    """Meta paused or disabled the template: nothing went out, and the message is still good
    once it is approved again. Pause the campaign and keep the message for its resume."""
    AMBIGUOUS = "AMBIGUOUS"
    """The request left and no answer came: it may have been delivered. Never re-sent."""


RETRYABLE_CODES = frozenset({130429, 131056, 131000, 131016, 2, 4, 80007})
"""Throughput, pair rate, internal/unavailable, and Graph's generic temporary errors."""
PERMANENT_CODES = frozenset({131026, 131047, 131051, 131052, 131053, 368, 130497, 100})
PAUSE_CODES = frozenset({131048})
"""Spam rate limit; every other 132xxx (template configuration) code pauses too."""
HOLD_CODES = frozenset({132015, 132016})
"""Template paused (132015) and disabled (132016): Meta's codes as the sandbox answers them;
a second source for both is still to be found (see the providers notes)."""
DEFER_CODE = 131049
OPT_OUT_CODE = 131050


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one call to /messages produced, before any decision is taken."""

    http_status: int | None
    """None when no HTTP answer arrived."""
    wamid: str = ""
    error_code: int | None = None
    error_reason: str = ""
    request_left: bool = True
    """False only when the connection was refused before a byte of the request was sent."""


def classify(result: SendResult) -> Action:
    if result.http_status is None:
        return Action.AMBIGUOUS if result.request_left else Action.RETRY
    if 200 <= result.http_status < 300:  # accepted; without a wamid we cannot track it
        return Action.SENT if result.wamid else Action.AMBIGUOUS
    return classify_code(result.error_code, result.http_status)


def classify_code(code: int | None, http_status: int | None = None) -> Action:
    """The action for a WhatsApp error code (from an API answer or a ``failed`` webhook)."""
    if code == DEFER_CODE:
        return Action.DEFER
    if code == OPT_OUT_CODE:
        return Action.OPT_OUT
    if code in HOLD_CODES:
        return Action.HOLD
    if code in PAUSE_CODES or (code is not None and 132000 <= code <= 132999):
        return Action.FAIL_AND_PAUSE
    if code in RETRYABLE_CODES:
        return Action.RETRY
    if code in PERMANENT_CODES:
        return Action.FAIL
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return Action.RETRY  # an unlisted code on a server-side status: the seed retries these
    return Action.FAIL
