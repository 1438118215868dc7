"""The composition root: the one place that turns Settings into clients and adapters.

Emulator or production is decided by :class:`~shared.config.Settings` alone. Clients are
built lazily and once per process, because Cloud Functions reuse warm instances and client
construction (gRPC channels, credentials) is the slow part of a cold start.
"""

from __future__ import annotations

from functools import cached_property

import grpc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, firestore, tasks_v2
from google.cloud.pubsub_v1 import PublisherClient
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from shared.adapters.bigquery_contacts import BigQueryContactStore
from shared.adapters.bigquery_history import BigQueryHistoryLog
from shared.adapters.bigquery_people import BigQueryPeopleDirectory
from shared.adapters.bigquery_warehouse import BigQueryWarehouse
from shared.adapters.cloud_tasks_queue import CloudTasksQueue
from shared.adapters.firestore_alerts import FirestoreAlerts
from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.adapters.firestore_campaigns import FirestoreCampaignRepository
from shared.adapters.firestore_consent import FirestoreConsentLedger
from shared.adapters.firestore_delivery import FirestoreDeliveryStore
from shared.adapters.firestore_identities import FirestoreIdentityLinks
from shared.adapters.firestore_link_clicks import FirestoreLinkClicks
from shared.adapters.firestore_locks import FirestoreContactsLock
from shared.adapters.firestore_media import FirestoreMediaLibrary
from shared.adapters.firestore_numbers import FirestoreSendingNumbers
from shared.adapters.firestore_outlook import FirestoreDeliveryOutlook
from shared.adapters.firestore_people import FirestorePeopleLedger
from shared.adapters.firestore_recipients import FirestoreRecipientList
from shared.adapters.firestore_runs import FirestoreRunLedger, FirestoreTickLog
from shared.adapters.firestore_signins import FirestoreSigninLedger
from shared.adapters.firestore_targets import FirestoreTargetStore
from shared.adapters.firestore_template_schedule import FirestoreTemplateSyncSchedule
from shared.adapters.firestore_templates import FirestoreTemplateCatalogue
from shared.adapters.firestore_tenants import FirestoreTenantRepository
from shared.adapters.firestore_vouchers import FirestoreVoucherBook
from shared.adapters.pubsub_publisher import PubSubPublisher
from shared.clock import Clock, system_clock
from shared.config import Settings, get_settings
from shared.domain.tracked_links import LinkSigner
from shared.services.campaigns import CampaignPorts
from shared.services.consent import ConsentPorts
from shared.services.contacts import ContactPorts
from shared.services.dashboard import DashboardPorts
from shared.services.delivery_common import DeliveryPorts
from shared.services.link_cache import LinkCache
from shared.services.link_clicks import LinkPorts
from shared.services.number_shares import NumberShares
from shared.services.occurrence_tasks import OccurrenceTasks
from shared.services.people import PeoplePorts
from shared.services.process_tenant import TenantPorts
from shared.services.template_schedule import ScheduledSyncPorts
from shared.services.template_sync import TemplateSyncPorts
from shared.services.yield_orders import YieldOrders
from shared.whatsapp.client import WhatsAppClient
from shared.whatsapp.media_api import MetaMediaUploader
from shared.whatsapp.templates_api import MetaTemplateSource


class Container:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        """The one source of "now" for every service, route, page and adapter built here."""

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
        return FirestoreRunLedger(self.firestore_client, self.clock)

    @cached_property
    def ticks(self) -> FirestoreTickLog:
        return FirestoreTickLog(self.firestore_client, self.clock)

    @cached_property
    def publisher(self) -> PubSubPublisher:
        return PubSubPublisher(self.publisher_client, self.settings.google_cloud_project)

    @cached_property
    def tasks_client(self) -> tasks_v2.CloudTasksClient:
        host = self.settings.cloud_tasks_emulator_host
        if host is None:
            return tasks_v2.CloudTasksClient()
        transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(host))
        return tasks_v2.CloudTasksClient(transport=transport)

    @cached_property
    def task_queue(self) -> CloudTasksQueue:
        settings = self.settings
        return CloudTasksQueue(
            self.tasks_client,
            settings.google_cloud_project,
            settings.region,
            settings.tasks_invoker_service_account,
        )

    @cached_property
    def delivery_store(self) -> FirestoreDeliveryStore:
        return FirestoreDeliveryStore(self.firestore_client)

    @cached_property
    def identities(self) -> FirestoreIdentityLinks:
        return FirestoreIdentityLinks(self.firestore_client)

    @cached_property
    def consent(self) -> FirestoreConsentLedger:
        return FirestoreConsentLedger(self.firestore_client)

    def consent_ports(self) -> ConsentPorts:
        return ConsentPorts(
            ledger=self.consent,
            tenants=self.tenants,
            identities=self.identities,
            default_phone_number_id=self.settings.whatsapp_phone_number_id,
        )

    @cached_property
    def link_clicks(self) -> FirestoreLinkClicks:
        return FirestoreLinkClicks(self.firestore_client)

    def link_ports(self) -> LinkPorts:
        return LinkPorts(
            signer=self.link_signer,
            clicks=self.link_clicks,
            history=self.history,
            clock=self.clock,
            cache=self.link_cache,
        )

    @cached_property
    def link_cache(self) -> LinkCache:
        """Per process: the campaigns' link values and the clicks seen recorded."""
        return LinkCache(self.clock)

    @cached_property
    def link_signer(self) -> LinkSigner | None:
        """None when no ``LINK_SECRET`` is set: links are then sent as they are, untracked."""
        secret = self.settings.link_secret.get_secret_value()
        if not secret:
            return None
        return LinkSigner(secret.encode(), self.settings.link_base)

    @cached_property
    def history(self) -> BigQueryHistoryLog:
        return BigQueryHistoryLog(self.bigquery_client)

    @cached_property
    def whatsapp(self) -> WhatsAppClient:
        settings = self.settings
        return WhatsAppClient(
            settings.whatsapp_api_base_url,
            settings.whatsapp_api_version,
            settings.whatsapp_access_token.get_secret_value(),
        )

    @cached_property
    def media_library(self) -> FirestoreMediaLibrary:
        return FirestoreMediaLibrary(self.firestore_client)

    @cached_property
    def media_uploader(self) -> MetaMediaUploader:
        settings = self.settings
        return MetaMediaUploader(
            settings.whatsapp_api_base_url,
            settings.whatsapp_api_version,
            settings.whatsapp_access_token.get_secret_value(),
        )

    @cached_property
    def template_source(self) -> MetaTemplateSource:
        settings = self.settings
        return MetaTemplateSource(
            settings.whatsapp_api_base_url,
            settings.whatsapp_api_version,
            settings.whatsapp_access_token.get_secret_value(),
        )

    def template_sync_ports(self) -> TemplateSyncPorts:
        return TemplateSyncPorts(
            catalogue=self.templates,
            source=self.template_source,
            tenants=self.tenants,
            clock=self.clock,
            default_business_account_id=self.settings.whatsapp_business_account_id,
        )

    @cached_property
    def campaigns(self) -> FirestoreCampaignRepository:
        return FirestoreCampaignRepository(self.firestore_client, self.clock)

    @cached_property
    def vouchers(self) -> FirestoreVoucherBook:
        return FirestoreVoucherBook(self.firestore_client)

    @cached_property
    def templates(self) -> FirestoreTemplateCatalogue:
        return FirestoreTemplateCatalogue(self.firestore_client)

    def campaign_ports(self) -> CampaignPorts:
        return CampaignPorts(
            campaigns=self.campaigns,
            tenants=self.tenants,
            warehouse=self.warehouse,
            targets=self.targets,
            vouchers=self.vouchers,
            clock=self.clock,
            occurrence_tasks=OccurrenceTasks(
                self.task_queue, self.settings.run_occurrence_endpoint
            ),
            numbers=self.number_shares,
            templates=self.templates,
            media=self.media_library,
        )

    @cached_property
    def recipients(self) -> FirestoreRecipientList:
        return FirestoreRecipientList(self.firestore_client)

    @cached_property
    def outlook(self) -> FirestoreDeliveryOutlook:
        return FirestoreDeliveryOutlook(self.firestore_client)

    @cached_property
    def audit(self) -> FirestoreAuditLog:
        return FirestoreAuditLog(self.firestore_client)

    @cached_property
    def signins(self) -> FirestoreSigninLedger:
        return FirestoreSigninLedger(self.firestore_client)

    def dashboard_ports(self) -> DashboardPorts:
        return DashboardPorts(
            campaigns=self.campaign_ports(),
            runs=self.runs,
            audit=self.audit,
        )

    def contact_ports(self) -> ContactPorts:
        return ContactPorts(
            BigQueryContactStore(self.bigquery_client, self.clock),
            FirestoreContactsLock(self.firestore_client, self.clock),
            identities=self.identities,
            tenants=self.tenants,
            default_phone_number_id=self.settings.whatsapp_phone_number_id,
        )

    def people_ports(self) -> PeoplePorts:
        return PeoplePorts(
            directory=BigQueryPeopleDirectory(self.bigquery_client),
            ledger=FirestorePeopleLedger(self.firestore_client),
            contacts=self.contact_ports(),
            campaigns=self.campaigns,
            consent=self.consent_ports(),
            tenants=self.tenants,
        )

    def delivery_ports(self) -> DeliveryPorts:
        return DeliveryPorts(
            tenants=self.tenants,
            campaigns=self.campaigns,
            store=self.delivery_store,
            tasks=self.task_queue,
            sender=self.whatsapp,
            history=self.history,
            identities=self.identities,
            consent=self.consent,
            clock=self.clock,
            send_url=self.settings.send_message_endpoint,
            numbers=self.number_shares,
            yield_orders=self.yield_orders,
            default_phone_number_id=self.settings.whatsapp_phone_number_id,
            links=self.link_signer,
            templates=self.templates,
            default_business_account_id=self.settings.whatsapp_business_account_id,
            alerts=self.alerts,
        )

    @cached_property
    def alerts(self) -> FirestoreAlerts:
        return FirestoreAlerts(self.firestore_client)

    @cached_property
    def sending_numbers(self) -> FirestoreSendingNumbers:
        return FirestoreSendingNumbers(self.firestore_client)

    @cached_property
    def yield_orders(self) -> YieldOrders:
        """One per process: it keeps each tenant's yield ranking for a minute."""
        return YieldOrders()

    @cached_property
    def number_shares(self) -> NumberShares:
        """One per process: it keeps each number's split for a minute."""
        return NumberShares(
            self.sending_numbers,
            self.tenants,
            self.settings.whatsapp_phone_number_id,
            self.clock,
        )

    def tenant_ports(self) -> TenantPorts:
        return TenantPorts(
            tenants=self.tenants,
            runs=self.runs,
            warehouse=self.warehouse,
            targets=self.targets,
            campaigns=self.campaign_ports(),
            outlook=self.outlook,
            template_sync=ScheduledSyncPorts(
                self.template_sync_ports(), FirestoreTemplateSyncSchedule(self.firestore_client)
            ),
        )


_container: Container | None = None


def container() -> Container:
    """The process-wide container (created on first use)."""
    global _container
    if _container is None:
        _container = Container(get_settings())
    return _container
