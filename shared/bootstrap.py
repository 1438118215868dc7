"""The composition root: the one place that turns Settings into clients and adapters.

Emulator or production is decided by :class:`~shared.config.Settings` alone. Clients are
built lazily and once per process, because Cloud Functions reuse warm instances and client
construction (gRPC channels, credentials) is the slow part of a cold start.
"""

from __future__ import annotations

from functools import cached_property

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, firestore
from google.cloud.pubsub_v1 import PublisherClient

from shared.adapters.bigquery_warehouse import BigQueryWarehouse
from shared.adapters.firestore_runs import FirestoreRunLedger, FirestoreTickLog
from shared.adapters.firestore_targets import FirestoreTargetStore
from shared.adapters.firestore_tenants import FirestoreTenantRepository
from shared.adapters.pubsub_publisher import PubSubPublisher
from shared.config import Settings, get_settings
from shared.services.process_tenant import TenantPorts


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def firestore_client(self) -> firestore.Client:
        # The client itself honours FIRESTORE_EMULATOR_HOST (anonymous credentials there).
        return firestore.Client(project=self.settings.google_cloud_project)

    @cached_property
    def bigquery_client(self) -> bigquery.Client:
        project = self.settings.google_cloud_project
        host = self.settings.bigquery_emulator_host
        if host is None:
            return bigquery.Client(project=project)
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=f"http://{host}"),
        )

    @cached_property
    def publisher_client(self) -> PublisherClient:
        # Honours PUBSUB_EMULATOR_HOST.
        return PublisherClient()

    @cached_property
    def warehouse(self) -> BigQueryWarehouse:
        return BigQueryWarehouse(self.bigquery_client)

    @cached_property
    def targets(self) -> FirestoreTargetStore:
        return FirestoreTargetStore(self.firestore_client)

    @cached_property
    def tenants(self) -> FirestoreTenantRepository:
        return FirestoreTenantRepository(self.firestore_client)

    @cached_property
    def runs(self) -> FirestoreRunLedger:
        return FirestoreRunLedger(self.firestore_client)

    @cached_property
    def ticks(self) -> FirestoreTickLog:
        return FirestoreTickLog(self.firestore_client)

    @cached_property
    def publisher(self) -> PubSubPublisher:
        return PubSubPublisher(self.publisher_client, self.settings.google_cloud_project)

    def tenant_ports(self) -> TenantPorts:
        return TenantPorts(
            tenants=self.tenants, runs=self.runs, warehouse=self.warehouse, targets=self.targets
        )


_container: Container | None = None


def container() -> Container:
    """The process-wide container (created on first use)."""
    global _container
    if _container is None:
        _container = Container(get_settings())
    return _container
