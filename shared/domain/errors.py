"""The error vocabulary shared by all layers.

Entry points map these to the platform's retry semantics: a :class:`TransientError` makes the
function fail so Pub/Sub redelivers; anything else is recorded and acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pydantic


class CampaignError(Exception):
    """Base class of every error this project raises on purpose."""


class FieldError(CampaignError, ValueError):
    """Bad input. Names the field and the reason so the caller can fix it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFoundError(CampaignError):
    """The thing asked for does not exist for this tenant (never says whether another has it)."""


class ConflictError(CampaignError):
    """The request is valid but the resource's state forbids it (an illegal status change)."""


class TransientError(CampaignError):
    """A failure worth retrying later (network, quota, a service briefly unavailable)."""


class PermanentError(CampaignError):
    """A failure that a retry would only repeat (missing dataset, malformed query, bad data)."""


class CorruptDocument(PermanentError):
    """A stored document that does not validate: the server's fault, never the caller's.

    Raised where a document is read (:func:`reading_document`), so that a validation error
    about stored data never reaches the API as a 422 blaming the request: the API answers 500
    and logs this at ERROR. Names the document and the fields at fault, never their values
    (documents hold customers' personal data, and this message goes to the logs).
    """

    def __init__(self, path: str, fields: Sequence[str] = ()) -> None:
        where = f" at {', '.join(fields)}" if fields else ""
        super().__init__(f"stored document {path} does not validate{where}")
        self.path = path
        self.fields = tuple(fields)


@contextmanager
def reading_document(path: str) -> Iterator[None]:
    """Turn a failure to interpret the stored document ``path`` into :class:`CorruptDocument`.

    Wrap only the conversion of the document's fields (e.g. ``Tenant.model_validate``): inside,
    a ValueError (pydantic's ValidationError and :class:`FieldError` are ones), KeyError or
    TypeError can only mean the stored data is wrong. The original error is dropped (``from
    None``), because its message quotes the stored values and a traceback would log them.
    """
    try:
        yield
    except pydantic.ValidationError as error:
        fields = [_location(detail["loc"]) for detail in error.errors(include_input=False)]
        raise CorruptDocument(path, list(dict.fromkeys(fields))) from None
    except FieldError as error:
        raise CorruptDocument(path, [error.field]) from None
    except KeyError as error:
        raise CorruptDocument(path, [str(error.args[0]) if error.args else "?"]) from None
    except (ValueError, TypeError):
        raise CorruptDocument(path) from None


def _location(loc: Sequence[int | str]) -> str:
    """``("delivery", "windows", 0, "start")`` -> ``delivery.windows[0].start``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "?"
