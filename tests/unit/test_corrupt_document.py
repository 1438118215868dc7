"""Reading a stored document: a failure to interpret it names the document and the fields at
fault, never the stored values, and is a PermanentError rather than a caller's FieldError."""

from __future__ import annotations

import traceback

import pydantic
import pytest

from shared.domain.errors import (
    CorruptDocument,
    FieldError,
    PermanentError,
    reading_document,
)
from shared.domain.tenant import Tenant

SECRET = "Maria Secreta, 61 99999-9999"


class Window(pydantic.BaseModel):
    start: int


class Stored(pydantic.BaseModel):
    name: str
    windows: list[Window]


def test_pydantic_errors_name_every_field_path_and_no_value() -> None:
    with pytest.raises(CorruptDocument) as caught, reading_document("users/x/things/y"):
        Stored.model_validate({"name": 7, "windows": [{"start": 1}, {"start": SECRET}]})

    error = caught.value
    assert isinstance(error, PermanentError) and not isinstance(error, FieldError)
    assert error.path == "users/x/things/y"
    assert error.fields == ("name", "windows[1].start")
    assert (
        str(error) == "stored document users/x/things/y does not validate at name, windows[1].start"
    )
    assert SECRET not in str(error)


def test_a_field_error_a_missing_key_and_a_bad_value_are_corrupt_documents_too() -> None:
    with pytest.raises(CorruptDocument) as caught, reading_document("users/x"):
        raise FieldError("timezone", f"unknown time zone {SECRET!r}")
    assert caught.value.fields == ("timezone",)
    assert SECRET not in str(caught.value)

    with pytest.raises(CorruptDocument) as caught, reading_document("users/x/runs/r"):
        _ = {"status": "FINISHED"}["durationMs"]
    assert caught.value.fields == ("durationMs",)

    with pytest.raises(CorruptDocument) as caught, reading_document("users/x/runs/r"):
        int(SECRET)
    assert caught.value.fields == ()
    assert str(caught.value) == "stored document users/x/runs/r does not validate"


def test_a_tenant_document_with_a_bad_zone() -> None:
    with pytest.raises(CorruptDocument) as caught, reading_document("users/11222333000181"):
        Tenant.model_validate({"cnpj": "11222333000181", "timezone": "Mars/Olympus"})
    assert caught.value.fields == ("timezone",)
    assert "Mars" not in str(caught.value)


def test_other_errors_pass_through() -> None:
    with pytest.raises(RuntimeError), reading_document("users/x"):
        raise RuntimeError("not about the document")


def test_the_original_error_is_not_chained_so_no_traceback_quotes_the_data() -> None:
    with pytest.raises(CorruptDocument) as caught, reading_document("users/x"):
        Stored.model_validate({"name": ["a list"], "windows": [{"start": SECRET}]})

    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    logged = "".join(traceback.format_exception(caught.value))
    assert "windows[0].start" in logged
    assert SECRET not in logged and "a list" not in logged
