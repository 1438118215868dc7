"""A template message's rich parts: its media or text header and its buttons (pure).

An approved template's components fix what every send of it must carry: a HEADER of format
IMAGE, VIDEO or DOCUMENT needs a media (a public ``https://`` link or the id of a media uploaded
to ``POST /{phone_number_id}/media``; a document also a file name), a TEXT header with a
parameter needs its value, a URL button whose URL ends in ``{{1}}`` needs its suffix, a
COPY_CODE button needs the coupon. Quick replies carry the payload we set, which comes back on
the reply. A campaign says what fills them here (:class:`MessageHeader`, :class:`ButtonValue`);
:func:`check_against` compares that with the approved template's components before start, so a
mistake is a 422 naming the part, never a message refused by Meta after the campaign started.

Rules (Meta's, from ``../shared/notes/whatsapp-providers-2026.md`` §2): a coupon has at most 15
characters; a URL with its suffix at most 2,000; a document's file name is shown to the person.
Media limits: image JPEG/PNG up to 5 MB, video MP4/3GPP up to 16 MB (quoted from a provider's
reference of Meta's limits), document up to 100 MB (**UNCONFIRMED**: Meta's template-media page
gives no figure; 100 MB is Meta's general document limit for /media).

Tracked URL buttons: Meta builds a URL button's address from the approved URL and our suffix,
so a button can only go through our redirect when its approved URL is the redirect's own
(``https://<link host>/l/{{1}}``). A campaign then gives the destination (``url``, https) and
the send puts the tracked link's ``<cnpj>/<token>`` as the suffix (the same token and the same
redirect as a body link, :mod:`shared.domain.tracked_links`). A button on the business's own
site takes a plain ``suffix`` (or ``suffix_field``, a target field) and is not tracked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.domain.errors import FieldError
from shared.domain.tracked_links import LINK_PATH, is_trackable

MediaKind = Literal["image", "video", "document"]
HeaderKind = Literal["image", "video", "document", "text"]
ButtonKind = Literal["quick_reply", "url", "copy_code"]

MAX_COUPON = 15
"""Meta: a copy-code button's coupon has at most 15 characters."""
MAX_URL = 2000
"""Meta: a URL button's address, with its suffix, has at most 2,000 characters."""
MB = 1024 * 1024
MEDIA_LIMITS: dict[MediaKind, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
    "document": (
        frozenset(
            {
                "application/pdf",
                "text/plain",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * MB,  # UNCONFIRMED for template headers (see the module's docstring)
    ),
}
"""Per header media kind: the MIME types Meta accepts and the largest size in bytes."""
_EXTENSIONS: dict[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",  # refused: known here so a link to one is refused before start
    ".webp": "image/webp",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".3gp": "video/3gpp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
TRACKED_BUTTON_SUFFIX = LINK_PATH + "{{1}}"
"""How a URL button routed through our redirect ends (see the module's docstring)."""
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}")
_MEDIA_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


def mime_of_link(link: str) -> str | None:
    """The MIME type a link's file extension declares, or None when it declares none."""
    path = link.split("?", 1)[0].split("#", 1)[0].lower()
    dot = path.rfind(".")
    return _EXTENSIONS.get(path[dot:]) if dot > path.rfind("/") else None


def check_media(kind: MediaKind, mime_type: str, size: int | None, where: str) -> None:
    """A :class:`FieldError` at ``where`` when Meta would refuse this media for ``kind``."""
    types, limit = MEDIA_LIMITS[kind]
    if mime_type not in types:
        raise FieldError(
            where, f"a {kind} header takes {', '.join(sorted(types))}, not {mime_type!r}"
        )
    if size is not None and size > limit:
        raise FieldError(where, f"a {kind} header takes at most {limit // MB} MB ({size} bytes)")


class MessageHeader(BaseModel):
    """What fills a template's header: a media (``link`` or ``media_id``) or, for a TEXT header
    with a parameter, the variable that fills it.

    The same media goes to every person: no campaign kind's targets carry a media link of their
    own today, so per-recipient media is not offered. ``mime_type`` and ``size_bytes`` declare
    what the link serves so the limits are checked before start; a link is never fetched."""

    model_config = ConfigDict(extra="forbid")

    type: HeaderKind
    link: str | None = Field(default=None, max_length=2000, examples=["https://x.com/p.jpg"])
    media_id: str | None = Field(default=None, max_length=128, description="from POST /media")
    filename: str | None = Field(default=None, min_length=1, max_length=240)
    mime_type: str | None = Field(default=None, max_length=100)
    size_bytes: int | None = Field(default=None, ge=1)
    text_variable: FieldName | None = Field(
        default=None, description="TEXT header: the variable that fills its parameter"
    )

    @model_validator(mode="after")
    def _one_source(self) -> MessageHeader:
        sources = [s for s in (self.link, self.media_id) if s is not None]
        if self.type == "text":
            if sources or self.filename or self.mime_type:
                raise ValueError("a text header takes text_variable only, no media")
            return self
        if len(sources) != 1:
            raise ValueError("a media header needs exactly one of link, media_id")
        if self.text_variable is not None:
            raise ValueError("text_variable is for text headers")
        if self.link is not None and not is_trackable(self.link):
            raise ValueError("link must be a public https:// address")
        if self.media_id is not None and not _MEDIA_ID.fullmatch(self.media_id):
            raise ValueError("media_id must be the id POST /api/v1/media returned")
        if self.filename is not None and self.type != "document":
            raise ValueError("filename is for document headers")
        declared = self.mime_type or (mime_of_link(self.link) if self.link else None)
        if declared is not None:
            try:
                check_media(self.type, declared, self.size_bytes, "header")
            except FieldError as error:
                raise ValueError(error.reason) from None
        return self


class ButtonValue(BaseModel):
    """What fills one button of the template, at ``index`` (default: its place in the list).

    quick_reply: ``payload`` (default: the button's label), echoed back when tapped.
    url: ``url`` (an https destination, through our redirect), or ``suffix`` / ``suffix_field``
    (sent as the URL's ``{{1}}``). copy_code: the coupon from ``code_field`` (default: the
    target's own ``voucherCode``)."""

    model_config = ConfigDict(extra="forbid")

    type: ButtonKind
    index: int | None = Field(default=None, ge=0, le=9)
    text: str | None = Field(default=None, max_length=25, description="the label (informative)")
    payload: str | None = Field(default=None, min_length=1, max_length=256)
    url: str | None = Field(default=None, max_length=MAX_URL)
    suffix: str | None = Field(default=None, min_length=1, max_length=MAX_URL)
    suffix_field: FieldName | None = None
    code_field: FieldName | None = None

    @model_validator(mode="before")
    @classmethod
    def _lower_type(cls, raw: Any) -> Any:
        """The seed and Meta write ``QUICK_REPLY``/``URL``/``COPY_CODE``; both are accepted."""
        if isinstance(raw, dict) and isinstance(raw.get("type"), str):
            return {**raw, "type": raw["type"].lower()}
        return raw

    @model_validator(mode="after")
    def _fits_kind(self) -> ButtonValue:
        given = {
            name
            for name in ("payload", "url", "suffix", "suffix_field", "code_field")
            if getattr(self, name) is not None
        }
        allowed = {
            "quick_reply": {"payload"},
            "url": {"url", "suffix", "suffix_field"},
            "copy_code": {"code_field"},
        }[self.type]
        if given - allowed:
            raise ValueError(f"a {self.type} button takes {', '.join(sorted(allowed))}")
        if self.type == "url" and len(given) > 1:
            raise ValueError("a url button takes one of url, suffix, suffix_field")
        if self.url is not None and not is_trackable(self.url):
            raise ValueError("url must be an https:// address")
        return self

    @property
    def variable(self) -> str | None:
        """The target field (or campaign value name) this button reads per person."""
        if self.type == "copy_code":
            return self.code_field or "voucherCode"
        if self.type == "url":
            return self.suffix_field
        return None


def indexed(buttons: Sequence[ButtonValue]) -> list[tuple[int, ButtonValue]]:
    """Each button with its index: its own, else its place in the list."""
    return [(b.index if b.index is not None else i, b) for i, b in enumerate(buttons)]


# -- the approved template's side --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovedButton:
    index: int
    type: ButtonKind
    text: str
    url: str = ""

    @property
    def dynamic(self) -> bool:
        """A URL button whose address ends in a parameter: the send gives the suffix."""
        return self.type == "url" and bool(_VARIABLE.search(self.url))

    @property
    def tracked(self) -> bool:
        return self.dynamic and self.url.endswith(TRACKED_BUTTON_SUFFIX)


@dataclass(frozen=True, slots=True)
class TemplateShape:
    """What Meta's components of an approved template ask of a send."""

    header: HeaderKind | None
    header_text: str
    header_has_parameter: bool
    footer: str
    buttons: tuple[ApprovedButton, ...]

    @property
    def needs_header(self) -> bool:
        return self.header in ("image", "video", "document") or self.header_has_parameter


def shape_of(components: Sequence[Mapping[str, Any]]) -> TemplateShape:
    """The shape of Meta's ``components`` (``HEADER``, ``BODY``, ``FOOTER``, ``BUTTONS``)."""
    header: HeaderKind | None = None
    header_text = footer = ""
    buttons: list[ApprovedButton] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            fmt = str(component.get("format", "TEXT")).lower()
            if fmt in ("image", "video", "document", "text"):
                header = fmt  # type: ignore[assignment]
            header_text = str(component.get("text", ""))
        elif kind == "FOOTER":
            footer = str(component.get("text", ""))
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons", [])):
                button_type = str(button.get("type", "")).lower()
                if button_type in ("quick_reply", "url", "copy_code"):
                    buttons.append(
                        ApprovedButton(
                            index,
                            button_type,  # type: ignore[arg-type]
                            str(button.get("text", "")),
                            str(button.get("url", "")),
                        )
                    )
    return TemplateShape(
        header,
        header_text,
        header == "text" and bool(_VARIABLE.search(header_text)),
        footer,
        tuple(buttons),
    )


def check_against(
    shape: TemplateShape,
    header: MessageHeader | None,
    buttons: Sequence[ButtonValue],
    *,
    where: str,
    fillable: frozenset[str] | None,
) -> None:
    """A :class:`FieldError` at ``where.header`` / ``where.buttons[i]`` when the campaign's
    parts do not fit the approved template: what Meta would refuse (132000/132012) at every
    send. ``fillable`` are the names a send can fill (target fields, voucher fields, values);
    None: not known here (a built-in kind's targets), not checked."""
    if shape.needs_header and header is None:
        raise FieldError(
            f"{where}.header",
            f"the approved template has a {shape.header} header: give its "
            + ("media (link or media_id)" if shape.header != "text" else "text"),
        )
    if header is not None:
        if not shape.needs_header:
            raise FieldError(f"{where}.header", "the approved template has no header to fill")
        if header.type != shape.header:
            raise FieldError(
                f"{where}.header.type",
                f"the approved template's header is {shape.header}, not {header.type}",
            )
        if (
            header.text_variable is not None
            and fillable is not None
            and header.text_variable not in fillable
        ):
            raise FieldError(
                f"{where}.header.text_variable", f"nothing fills {header.text_variable!r}"
            )
        if header.type == "text" and header.text_variable is None:
            raise FieldError(f"{where}.header.text_variable", "the header's parameter needs one")
    approved = {b.index: b for b in shape.buttons}
    given: dict[int, ButtonValue] = {}
    for position, (index, button) in enumerate(indexed(buttons)):
        at = f"{where}.buttons[{position}]"
        target = approved.get(index)
        if target is None:
            raise FieldError(f"{at}.index", f"the approved template has no button {index}")
        if index in given:
            raise FieldError(f"{at}.index", f"button {index} is given twice")
        if target.type != button.type:
            raise FieldError(f"{at}.type", f"button {index} is {target.type}, not {button.type}")
        _check_button(target, button, at, fillable)
        given[index] = button
    for target in shape.buttons:
        if target.index in given:
            continue
        if target.type == "copy_code":
            raise FieldError(
                f"{where}.buttons",
                f'button {target.index} copies a coupon: add {{"type": "copy_code", '
                f'"index": {target.index}}} (it carries the voucherCode)',
            )
        if target.dynamic:
            raise FieldError(
                f"{where}.buttons", f"button {target.index} ({target.url}) needs its url suffix"
            )


def _check_button(
    target: ApprovedButton, button: ButtonValue, at: str, fillable: frozenset[str] | None
) -> None:
    if button.type == "url":
        if not target.dynamic:
            if button.url or button.suffix or button.suffix_field:
                raise FieldError(f"{at}", f"button {target.index} has a fixed address")
            return
        if button.url is None and button.suffix is None and button.suffix_field is None:
            raise FieldError(f"{at}.suffix", "this button's address needs its suffix")
        if button.url is not None and not target.tracked:
            raise FieldError(
                f"{at}.url",
                f"button {target.index} goes to {target.url}: give its suffix, not a whole "
                f"address (only a button ending in {TRACKED_BUTTON_SUFFIX} is tracked)",
            )
        if button.suffix is not None and len(target.url) + len(button.suffix) > MAX_URL:
            raise FieldError(f"{at}.suffix", f"the address would exceed {MAX_URL} characters")
    variable = button.variable
    if variable is not None and fillable is not None and variable not in fillable:
        raise FieldError(
            f"{at}.code_field" if button.type == "copy_code" else f"{at}.suffix_field",
            f"nothing fills {variable!r}"
            + (" (the campaign issues no vouchers)" if variable == "voucherCode" else ""),
        )


def default_buttons(shape: TemplateShape) -> list[ButtonValue]:
    """The campaign buttons a template's own buttons need when nothing else is said: each
    COPY_CODE button carries the target's voucher (quick replies send their label)."""
    codes = [b for b in shape.buttons if b.type == "copy_code"]
    return [ButtonValue(type="copy_code", index=b.index) for b in codes]
