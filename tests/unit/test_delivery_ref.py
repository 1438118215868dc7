"""Target references: document paths, Cloud Task ids and WhatsApp callback data."""

from __future__ import annotations

import re

import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.errors import FieldError

CNPJ = Cnpj.from_base("112223330001")
ALNUM_CNPJ = Cnpj.from_base("12ABC34501DE")
PREFIX = f"users/{CNPJ.value}/campaigns/BIRTHDAY/targets"
CLOUD_TASKS_ID = re.compile(r"[A-Za-z0-9_-]{1,500}")

TARGET_IDS = ["c1", "C123_2026", "cust-1.a_b_once", "a.b", "a..b", "1.2.3", "x" * 200]
REFS = [
    TargetRef(cnpj, campaign_id, target_id)
    for cnpj in (CNPJ, ALNUM_CNPJ)
    for campaign_id in ("BIRTHDAY", "WIN_BACK_90")
    for target_id in TARGET_IDS
]


def ref_id(ref: TargetRef) -> str:
    return f"{ref.cnpj.value}-{ref.campaign_id}-{ref.target_id[:20]}"


@pytest.mark.parametrize("ref", REFS, ids=ref_id)
def test_path_round_trip(ref: TargetRef) -> None:
    assert ref.path == f"users/{ref.cnpj.value}/campaigns/{ref.campaign_id}/targets/{ref.target_id}"
    assert TargetRef.parse(ref.path) == ref


@pytest.mark.parametrize("send_no", [0, 1, 3, 12345])
@pytest.mark.parametrize("ref", REFS[:4], ids=ref_id)
def test_callback_round_trip(ref: TargetRef, send_no: int) -> None:
    data = ref.callback_data(send_no)
    assert data == f"{ref.path}#{send_no}"
    assert TargetRef.parse_callback(data) == (ref, send_no)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("", "target"),
        ("users/../x", "target"),
        (f"{PREFIX}/../c1", "target"),
        (f"{PREFIX}/..", "target"),
        (f"{PREFIX}/.hidden", "target"),
        (f"users/{CNPJ.value}/campaigns/../targets/c1", "target"),
        (f"users/{CNPJ.value}/campaigns/BIRTHDAY/optouts/c1", "target"),
        (f"customers/{CNPJ.value}/campaigns/BIRTHDAY/targets/c1", "target"),
        (f"users/{CNPJ.value}/campaigns/birthday/targets/c1", "target"),
        (f"{PREFIX}/c1/history/h1", "target"),
        (f"{PREFIX}/c1\n", "target"),
        (f"{PREFIX}/a b", "target"),
        (f"{PREFIX}/" + "x" * 201, "target"),
        (f"users/{ALNUM_CNPJ.value.lower()}/campaigns/BIRTHDAY/targets/c1", "target"),
        ("users/11222333000182/campaigns/BIRTHDAY/targets/c1", "cnpj"),  # check digit
        ("users/11111111111111/campaigns/BIRTHDAY/targets/c1", "cnpj"),
    ],
)
def test_invalid_path_names_the_field(path: str, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        TargetRef.parse(path)
    assert caught.value.field == field


@pytest.mark.parametrize("generation", [0, 1, 7, 10**6])
@pytest.mark.parametrize("ref", REFS, ids=ref_id)
def test_task_id_is_a_valid_cloud_tasks_id(ref: TargetRef, generation: int) -> None:
    assert CLOUD_TASKS_ID.fullmatch(ref.task_id(generation))


@pytest.mark.parametrize("ref", REFS, ids=ref_id)
def test_task_id_is_deterministic_and_differs_by_generation(ref: TargetRef) -> None:
    again = TargetRef.parse(ref.path)
    assert [again.task_id(g) for g in range(20)] == [ref.task_id(g) for g in range(20)]
    assert len({ref.task_id(g) for g in range(20)}) == 20


def test_task_ids_of_different_targets_never_collide() -> None:
    """Ids that only differ in a character the readable form can't carry (hash fallback)."""
    ids = ["a.b", "a_b", "a-b", "ab", "a..b", "A.b", "a.b.", "a.bb"]
    refs = [TargetRef(cnpj, "BIRTHDAY", i) for cnpj in (CNPJ, ALNUM_CNPJ) for i in ids]
    task_ids = {ref.task_id(generation) for ref in refs for generation in (1, 2)}
    assert len(task_ids) == 2 * len(refs)


@pytest.mark.parametrize(
    "data",
    [
        "",
        PREFIX + "/c1",
        PREFIX + "/c1#",
        PREFIX + "/c1#x",
        PREFIX + "/c1#-1",
        PREFIX + "/c1#1.0",
        PREFIX + "/c1# 1",
        PREFIX + "/c1#²",  # str.isdigit() accepts superscripts, int() does not
    ],
)
def test_callback_without_send_number_is_rejected(data: str) -> None:
    with pytest.raises(FieldError) as caught:
        TargetRef.parse_callback(data)
    assert caught.value.field == "biz_opaque_callback_data"


@pytest.mark.parametrize("data", ["#1", "users/../x#1", "something-else#3"])
def test_callback_with_a_bad_path_is_rejected(data: str) -> None:
    with pytest.raises(FieldError) as caught:
        TargetRef.parse_callback(data)
    assert caught.value.field == "target"
