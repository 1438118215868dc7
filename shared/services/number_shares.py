"""Each tenant's share of its sending number, as delivery plans with it.

The split (:mod:`shared.domain.sending_number`) depends on every active tenant on the number,
so it is computed from all of them and kept for a minute: a delivery step must not read every
tenant of a shared number per message. A tenant that joins a number, or changes its pace,
gets its share within that minute; the daily counters already used stay counted.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import logs
from shared.clock import Clock
from shared.domain.sending_number import NumberLimits, Split, shared_throttle, split
from shared.domain.tenant import Tenant
from shared.ports import SendingNumberBook, TenantRepository

_log = logging.getLogger(__name__)

FRESH_FOR = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NumberView:
    """A number as its operator sees it: its limits, who shares it and how."""

    phone_number_id: str
    limits: NumberLimits
    tenants: list[Tenant]
    """The active tenants sending from it."""
    split: Split


class NumberShares:
    def __init__(
        self,
        numbers: SendingNumberBook,
        tenants: TenantRepository,
        default_phone_number_id: str,
        clock: Clock,
    ) -> None:
        self._numbers = numbers
        self._tenants = tenants
        self._default = default_phone_number_id
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[datetime, NumberView]] = {}

    def number_of(self, tenant: Tenant) -> str:
        return tenant.delivery.phone_number_id or self._default

    def limits(self, phone_number_id: str) -> NumberLimits:
        """The number's limits as stored now (``""``: the installation's default number)."""
        return self._numbers.limits(phone_number_id or self._default)

    def applied(self, tenant: Tenant) -> Tenant:
        """``tenant`` with its throttle within its share of its number (never raised)."""
        number = self.number_of(tenant)
        view = self._view(number, refresh=False)
        if tenant.cnpj not in view.split.shares and tenant.active:
            view = self._view(number, refresh=True)  # it joined since the split was made
        share = view.split.shares.get(tenant.cnpj)
        if share is None:  # inactive: it sends nothing; its plan would count alone
            share = split({tenant.cnpj: tenant.delivery.throttle}, view.limits).shares[tenant.cnpj]
        throttle = shared_throttle(tenant.delivery.throttle, share)
        delivery = tenant.delivery.model_copy(update={"throttle": throttle})
        return tenant.model_copy(update={"delivery": delivery})

    def set_limits(self, phone_number_id: str, limits: NumberLimits) -> None:
        """Record what Meta granted the number; every process sees it within a minute."""
        number = phone_number_id or self._default
        self._numbers.set_limits(number, limits)
        with self._lock:
            self._seen.pop(number, None)

    def view(self, phone_number_id: str) -> NumberView:
        """The number as it is now (the operator's ``campaigns number``), read afresh."""
        return self._view(phone_number_id or self._default, refresh=True)

    def _view(self, number: str, *, refresh: bool) -> NumberView:
        now = self._clock()
        with self._lock:
            seen = self._seen.get(number)
        if seen is not None and not refresh and now - seen[0] < FRESH_FOR:
            return seen[1]
        limits = self._numbers.limits(number)
        sharers = [
            tenant
            for tenant in self._tenants.of_number(number, include_unset=number == self._default)
            if tenant.active
        ]
        view = NumberView(
            number,
            limits,
            sharers,
            split({tenant.cnpj: tenant.delivery.throttle for tenant in sharers}, limits),
        )
        if view.split.oversubscribed:
            logs.log(
                _log,
                logging.WARNING,
                "sending number oversubscribed: its tenants may together exceed its limits",
                number=number,
                tenants=len(sharers),
            )
        with self._lock:
            self._seen[number] = (now, view)
        return view
