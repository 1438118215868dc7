"""The IdentityLinks contract on the Firestore emulator: pairs, re-links, late webhooks, scope.

Every test has its own sending number (made from a fresh tenant id), so none reads another's
pairs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.firestore_identities import FirestoreIdentityLinks
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from tests.conftest import new_tenant_id

T0 = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
ANA = "+5511987654321"
ANA_NEW = "+5511912345678"
BSUID = "BR.1502576394655843"
BSUID_NEW = "BR.9902576394655843"


@pytest.fixture
def links(deps: Container) -> FirestoreIdentityLinks:
    return deps.identities


@pytest.fixture
def number(new_cnpj: Cnpj) -> str:
    return f"pn{new_cnpj.value}"


def test_an_unknown_person_has_no_partner(links: FirestoreIdentityLinks, number: str) -> None:
    assert links.bsuid_of(number, ANA) is None
    assert links.phone_of(number, BSUID) is None


def test_a_pair_is_read_both_ways_and_recorded_once(
    links: FirestoreIdentityLinks, number: str
) -> None:
    assert links.link(number, ANA, BSUID, T0, "inbound") is True
    assert links.bsuid_of(number, ANA) == BSUID
    assert links.phone_of(number, BSUID) == ANA
    assert links.link(number, ANA, BSUID, T0 + timedelta(hours=1), "status") is False


def test_a_new_number_for_the_same_bsuid_unlinks_the_old_number(
    links: FirestoreIdentityLinks, number: str
) -> None:
    links.link(number, ANA, BSUID, T0, "inbound")
    assert links.link(number, ANA_NEW, BSUID, T0 + timedelta(days=1), "user_changed_number")
    assert links.phone_of(number, BSUID) == ANA_NEW
    assert links.bsuid_of(number, ANA_NEW) == BSUID
    assert links.bsuid_of(number, ANA) is None


def test_a_new_bsuid_for_the_same_phone_unlinks_the_old_bsuid(
    links: FirestoreIdentityLinks, number: str
) -> None:
    links.link(number, ANA, BSUID, T0, "inbound")
    assert links.link(number, ANA, BSUID_NEW, T0 + timedelta(days=1), "user_changed_user_id")
    assert links.bsuid_of(number, ANA) == BSUID_NEW
    assert links.phone_of(number, BSUID_NEW) == ANA
    assert links.phone_of(number, BSUID) is None


def test_a_late_older_webhook_changes_nothing(links: FirestoreIdentityLinks, number: str) -> None:
    links.link(number, ANA, BSUID, T0, "inbound")
    links.link(number, ANA, BSUID_NEW, T0 + timedelta(days=1), "user_changed_user_id")
    assert links.link(number, ANA, BSUID, T0 + timedelta(hours=1), "status") is False
    assert links.bsuid_of(number, ANA) == BSUID_NEW
    assert links.phone_of(number, BSUID) is None  # the tombstone keeps the stale pair out


def test_an_unlinked_partner_does_not_block_a_newer_pair(
    links: FirestoreIdentityLinks, number: str
) -> None:
    links.link(number, ANA, BSUID, T0, "inbound")
    links.link(number, ANA_NEW, BSUID, T0 + timedelta(days=1), "user_changed_number")
    # Ana's old number now belongs to someone else, who writes to us later.
    assert links.link(number, ANA, BSUID_NEW, T0 + timedelta(days=2), "inbound")
    assert links.bsuid_of(number, ANA) == BSUID_NEW
    assert links.phone_of(number, BSUID) == ANA_NEW


def test_pairs_belong_to_their_sending_number(links: FirestoreIdentityLinks, number: str) -> None:
    other = f"pn{new_tenant_id().value}"
    links.link(number, ANA, BSUID, T0, "inbound")
    assert links.bsuid_of(other, ANA) is None
    assert links.phone_of(other, BSUID) is None


@pytest.mark.parametrize(
    ("phone", "bsuid"),
    [("5511987654321", BSUID), (ANA, "US.ENT.1502576394655843"), (ANA, "1502576394655843")],
)
def test_a_malformed_pair_is_refused(
    links: FirestoreIdentityLinks, number: str, phone: str, bsuid: str
) -> None:
    with pytest.raises(ValueError, match="link needs"):
        links.link(number, phone, bsuid, T0, "inbound")
    assert links.bsuid_of(number, phone) is None
