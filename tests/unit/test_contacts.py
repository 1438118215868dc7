"""What a client sends about contacts: the import options and the tag request."""

from __future__ import annotations

import pydantic
import pytest

from shared.domain.contacts import ImportOptions, MergeStrategy, TagUpdateRequest


def test_import_options() -> None:
    options = ImportOptions.from_form(
        "  Clientes   Black Friday ", "Black-Friday, PROMOCAO", "skip"
    )
    assert options == ImportOptions(
        group_name="Clientes Black Friday",
        tags=["black-friday", "promocao"],
        merge_strategy=MergeStrategy.SKIP,
    )
    assert ImportOptions.from_form(None, ["a", "b;c"], None).tags == ["a", "b", "c"]
    assert ImportOptions.from_form("", None, None).group_name is None
    with pytest.raises(pydantic.ValidationError):
        ImportOptions.from_form(None, None, "merge")
    with pytest.raises(pydantic.ValidationError):
        ImportOptions(tags=["x" * 65])
    with pytest.raises(pydantic.ValidationError):
        ImportOptions(group_name="a|b")


def test_tag_request_validation() -> None:
    request = TagUpdateRequest(phone_numbers=["1"], add=[" VIP "], remove=["Old"])
    assert (request.add, request.remove) == (["vip"], ["old"])
    for body in [
        {"add": ["x"]},
        {"contact_ids": ["ct_1"]},
        {"contact_ids": ["ct_1"], "add": ["x"], "remove": ["X"]},
        {"contact_ids": ["a"] * 6_000, "phone_numbers": ["b"] * 5_000, "add": ["x"]},
    ]:
        with pytest.raises(pydantic.ValidationError):
            TagUpdateRequest.model_validate(body)
