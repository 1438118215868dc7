"""Contacts as a client sends them: the limits of an import, a contact's id, tag and group
names, and the request bodies of ``POST /contacts/import`` and ``POST /contacts/tags``.

Reading an import's rows (JSON, CSV, Excel) is :mod:`shared.domain.contact_parsing`; merging
them into the contacts a tenant already has is :mod:`shared.domain.contact_merge`.

Tags are folded to lower case with single spaces; group names keep their case. Either is a
list: a CSV cell or a form field separates them with ``,`` ``;`` or ``|``
(:data:`LABEL_SEPARATORS`), so no name may contain one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.errors import ConflictError, FieldError

MAX_ROWS = 50_000
"""Rows per import. 50,000 is about 10 MB of CSV and one BigQuery load job's worth."""
MAX_FILE_BYTES = 20 * 1024 * 1024
"""An uploaded file or CSV text; under Cloud Functions' 32 MB request limit."""
MAX_REPORTED_REJECTIONS = 1_000
"""Rejections listed in a report (the count is always complete)."""
MAX_TAG_TARGETS = 10_000
"""Contact ids plus phone numbers in one tag request: one UPDATE statement."""

MAX_NAME = 200
MAX_EMAIL = 254
MAX_LABEL = 64
"""A tag or group name."""
MAX_LABELS = 50
"""Tags (or groups) given for one row."""
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_KEY = 64
MAX_CUSTOM_VALUE = 1_024


class ImportTooLarge(FieldError):
    """The input exceeds :data:`MAX_ROWS` or :data:`MAX_FILE_BYTES` (HTTP 413)."""


class ContactsBusy(ConflictError):
    """Another import or tag change of the tenant's contacts is still running; retry later."""


class MergeStrategy(StrEnum):
    SKIP = "skip"
    """An existing contact is left as it is; only new phones are added."""
    UPDATE = "update"
    """Given values overwrite, tags/groups are added, custom fields merged by key."""
    REPLACE = "replace"
    """The contact becomes the row (what the row lacks is cleared), flags and dates kept."""


LABEL_SEPARATORS = re.compile(r"[,;|]")
"""What separates tags (or groups) given in one CSV cell or form field."""
_CONTACT_ID = re.compile(r"^ct_[0-9a-f]{24}$")


def _clean_label(raw: str, what: str) -> str:
    text = " ".join(raw.split())
    if not text:
        raise ValueError(f"an empty {what}")
    if len(text) > MAX_LABEL:
        raise ValueError(f"{what} {text[:20]!r}... is longer than {MAX_LABEL} characters")
    if LABEL_SEPARATORS.search(text):
        raise ValueError(f"{what} {text!r} may not contain , ; or |")
    return text


def normalize_tag(raw: str) -> str:
    """``" Black  Friday "`` -> ``"black friday"``; ValueError if empty or too long."""
    return _clean_label(raw, "tag").lower()


def normalize_group(raw: str) -> str:
    """Spaces collapsed, case kept (``"Clientes Black Friday"``); ValueError if unusable."""
    return _clean_label(raw, "group name")


def distinct_labels(values: Iterable[str], normalize: Callable[[str], str]) -> list[str]:
    """Each value normalised, in the order given, without repeats."""
    labels: list[str] = []
    for value in values:
        label = normalize(value)
        if label not in labels:
            labels.append(label)
    return labels


def contact_id_for(phone_e164: str) -> str:
    """Stable id of the contact with this E.164 phone: ``ct_`` + 24 hex digits of its SHA-256."""
    return "ct_" + hashlib.sha256(phone_e164.encode("ascii")).hexdigest()[:24]


def contact_id_for_bsuid(bsuid: str) -> str:
    """Stable id of a contact known only by its WhatsApp user id (no phone).

    Hashed with a ``bsuid:`` prefix so it can never equal a phone's id. A contact given with
    a phone is always keyed by the phone (:func:`contact_id_for`), its BSUID stored beside it.
    """
    return "ct_" + hashlib.sha256(f"bsuid:{bsuid}".encode("ascii")).hexdigest()[:24]


def contact_id_of(phone_e164: str | None, bsuid: str | None) -> str:
    """The id of a contact with this phone and/or BSUID: by phone when it has one."""
    if phone_e164:
        return contact_id_for(phone_e164)
    if bsuid:
        return contact_id_for_bsuid(bsuid)
    raise ValueError("a contact needs a phone or a BSUID")


def is_contact_id(text: str) -> bool:
    return _CONTACT_ID.fullmatch(text) is not None


# -- requests --------------------------------------------------------------------------------


class ImportOptions(BaseModel):
    """What applies to every row of one import."""

    model_config = ConfigDict(extra="forbid")

    group_name: str | None = Field(
        default=None, description="added to every imported contact's groups (created implicitly)"
    )
    tags: list[str] = Field(
        default_factory=list, max_length=MAX_LABELS, description="added to every imported row"
    )
    merge_strategy: MergeStrategy = MergeStrategy.UPDATE

    @field_validator("group_name")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalize_group(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return distinct_labels(value, normalize_tag)

    @classmethod
    def from_form(
        cls, group_name: str | None, tags: str | Sequence[str] | None, merge_strategy: str | None
    ) -> ImportOptions:
        """From multipart form fields: ``tags`` repeated or one comma-separated field."""
        values = [tags] if isinstance(tags, str) else list(tags or [])
        split = [part for value in values for part in LABEL_SEPARATORS.split(value)]
        fields: dict[str, Any] = {"group_name": group_name, "tags": [t for t in split if t.strip()]}
        if merge_strategy:
            fields["merge_strategy"] = merge_strategy
        return cls.model_validate(fields)


class JsonImportRequest(ImportOptions):
    """The JSON body of ``POST /contacts/import``.

    ``source: "json"``: ``data`` is a list of contact objects. ``source: "csv"``: ``data`` is
    the text of a CSV file (parsed exactly like an uploaded one). Rows are validated one by
    one by the import, not here, so one bad row does not reject the request.
    """

    source: Literal["json", "csv"] = "json"
    data: list[Any] | str

    @model_validator(mode="after")
    def _data_matches_source(self) -> JsonImportRequest:
        if self.source == "json" and isinstance(self.data, str):
            raise ValueError('data must be a list of contacts when source is "json"')
        if self.source == "csv" and not isinstance(self.data, str):
            raise ValueError('data must be the CSV text when source is "csv"')
        return self


class TagUpdateRequest(BaseModel):
    """The body of ``POST /contacts/tags``: add and/or remove tags on many contacts at once."""

    model_config = ConfigDict(extra="forbid")

    contact_ids: list[str] = Field(default_factory=list, max_length=MAX_TAG_TARGETS)
    phone_numbers: list[str] = Field(default_factory=list, max_length=MAX_TAG_TARGETS)
    add: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_LABELS)

    @field_validator("add", "remove")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return distinct_labels(value, normalize_tag)

    @model_validator(mode="after")
    def _something_to_do(self) -> TagUpdateRequest:
        if not self.contact_ids and not self.phone_numbers:
            raise ValueError("name at least one contact in contact_ids or phone_numbers")
        if len(self.contact_ids) + len(self.phone_numbers) > MAX_TAG_TARGETS:
            raise ValueError(f"at most {MAX_TAG_TARGETS} contacts per request")
        if not self.add and not self.remove:
            raise ValueError("give tags to add or to remove")
        both = sorted(set(self.add) & set(self.remove))
        if both:
            raise ValueError(f"tags both added and removed: {', '.join(both)}")
        return self
