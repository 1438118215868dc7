"""The sandbox's checks of a send's header and buttons against the approved template, as Meta's.

Meta refuses a template send whose media header is missing, of another format or without a
link or id, whose header is given for a template without one, or whose buttons do not match
the template's BUTTONS by index and sub_type; a copy-code coupon over 15 characters is refused
too. The codes and messages follow what Meta answers as far as the notes record it
(``../shared/notes/whatsapp-cloud-api.md``: 132000 parameter count, 132012 parameter format):

- 132000 when a part the template has is missing or one it lacks is sent (a count mismatch);
- 132012 when a part is of the wrong kind (header format, a button's sub_type, its parameter's
  type, a coupon too long);
- 131053 for a media id this sandbox never issued, 131009 for a link that is not https.
  **UNCONFIRMED**: Meta documents neither exact code for these two cases; 131053 is its "media
  upload error" and 131009 its "parameter value is not valid".
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.domain.message_parts import MAX_COUPON, shape_of
from shared.domain.tracked_links import is_trackable

MEDIA = ("image", "video", "document")
_PARAMETER_TYPE = {"quick_reply": "payload", "url": "text", "copy_code": "coupon_code"}


class TemplateRefusal(Exception):
    """A send Meta would refuse (HTTP 400): its code, message and details."""

    def __init__(self, code: int, message: str, details: str) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def _mismatch(details: str) -> TemplateRefusal:
    return TemplateRefusal(
        132012, "(#132012) Parameter format does not match format in the created template", details
    )


def _count(details: str) -> TemplateRefusal:
    return TemplateRefusal(
        132000,
        "(#132000) Number of parameters does not match the expected number of params",
        details,
    )


@dataclass(frozen=True)
class SentParts:
    """A send's header and button components, as received (shape only, no check yet)."""

    header: Mapping[str, Any] | None = None
    """The header's one parameter: ``{"type": "image", "image": {"link": ...}}``."""
    buttons: list[Mapping[str, Any]] = field(default_factory=list)
    """Each ``{"type": "button", "sub_type", "index", "parameters"}`` component."""


def sent_parts(components: Sequence[Mapping[str, Any]]) -> SentParts:
    header: Mapping[str, Any] | None = None
    buttons = []
    for component in components:
        if component.get("type") == "header":
            parameters = component.get("parameters")
            if not isinstance(parameters, list) or len(parameters) != 1:
                raise _count("header: exactly one parameter expected")
            header = parameters[0] if isinstance(parameters[0], dict) else {}
        elif component.get("type") == "button":
            buttons.append(component)
    return SentParts(header, buttons)


def check_parts(
    template: Mapping[str, Any], parts: SentParts, issued_media: Container[str]
) -> None:
    """:class:`TemplateRefusal` when ``parts`` do not fit ``template`` (a registry entry)."""
    shape = shape_of(template.get("components", []))
    header = parts.header
    if shape.needs_header and header is None:
        raise _mismatch(f"header: Format mismatch, expected {str(shape.header).upper()}, "
                        "received UNKNOWN")  # fmt: skip
    if header is not None:
        if not shape.needs_header:
            raise _count("header: number of localizable_params (1) does not match the expected "
                         "number of params (0)")  # fmt: skip
        kind = header.get("type")
        if kind != shape.header:
            raise _mismatch(f"header: Format mismatch, expected {str(shape.header).upper()}, "
                            f"received {str(kind).upper()}")  # fmt: skip
        if kind in MEDIA:
            _check_media(str(kind), header.get(str(kind)), issued_media)
        elif not isinstance(header.get("text"), str) or not header["text"]:
            raise _mismatch("header: text parameter expected")
    approved = {b.index: b for b in shape.buttons}
    seen: set[int] = set()
    for component in parts.buttons:
        try:
            index = int(str(component.get("index")))
        except ValueError:
            raise _mismatch("button: index must be a number") from None
        target = approved.get(index)
        if target is None or index in seen:
            raise _count(f"button at index {index}: the template has no such button")
        seen.add(index)
        sub_type = component.get("sub_type")
        if sub_type != target.type:
            raise _mismatch(f"button at index {index}: sub_type {sub_type} does not match the "
                            f"template's {target.type.upper()}")  # fmt: skip
        parameters = component.get("parameters")
        if not isinstance(parameters, list) or len(parameters) != 1:
            raise _count(f"button at index {index}: exactly one parameter expected")
        _check_button_parameter(index, str(sub_type), parameters[0])
    for target in shape.buttons:
        if target.index not in seen and (target.type == "copy_code" or target.dynamic):
            raise _count(f"button at index {target.index}: its parameter is missing")


def _check_media(kind: str, media: Any, issued: Container[str]) -> None:
    if not isinstance(media, dict) or ("link" in media) == ("id" in media):
        raise _mismatch(f"header: {kind} needs exactly one of link or id")
    if "link" in media and not (isinstance(media["link"], str) and is_trackable(media["link"])):
        raise TemplateRefusal(
            131009, "(#131009) Parameter value is not valid", f"header: {kind} link must be https"
        )
    if "id" in media and media["id"] not in issued:
        raise TemplateRefusal(
            131053, "(#131053) Media upload error", f"unknown media id {media['id']}"
        )
    if "filename" in media and kind != "document":
        raise _mismatch(f"header: filename is for documents, not {kind}")


def _check_button_parameter(index: int, sub_type: str, parameter: Any) -> None:
    wanted = _PARAMETER_TYPE.get(sub_type)
    if not isinstance(parameter, dict) or parameter.get("type") != wanted:
        raise _mismatch(f"button at index {index}: parameter type must be {wanted}")
    value = parameter.get(str(wanted))
    if not isinstance(value, str) or not value:
        raise _mismatch(f"button at index {index}: {wanted} must be a non-empty string")
    if sub_type == "copy_code" and len(value) > MAX_COUPON:
        raise _mismatch(f"button at index {index}: coupon_code longer than {MAX_COUPON}")
