# Every function of functions/ (shared/manifest.py), its sizing, its configuration and its caller.
# tests/infra/test_consistency.py checks this table against the manifest and shared/config.py.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # Cloud Run's deterministic URL (https://SERVICE-PROJECT_NUMBER.REGION.run.app): known before
  # the function exists, so send_message can be told its own address (it re-enqueues retries).
  send_message_url = "https://send-message-${data.google_project.this.number}.${var.region}.run.app"
  # Likewise the target of occurrence tasks (an API campaign's occurrence at its instant).
  run_occurrence_url = "https://run-occurrence-${data.google_project.this.number}.${var.region}.run.app"
  # Tracked links in messages point at the api function (send_message signs them).
  link_base_url = "https://api-${data.google_project.this.number}.${var.region}.run.app"
  # Known before the account exists, so no function waits for it to be planned.
  tasks_invoker_email = "${google_service_account.tasks_invoker.account_id}@${var.project_id}.iam.gserviceaccount.com"

  functions = {
    fanout = {
      description      = "Hourly tick (Pub/Sub) -> one job per active tenant."
      memory           = "256Mi"
      cpu              = "0.167"
      timeout          = 120
      min              = 0
      max              = 3
      concurrency      = 1
      topic            = "campaign-tick"
      public           = false
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT = var.project_id
        LOG_LEVEL            = var.log_level
      }
      secrets = {}
    }
    process_tenant = {
      description      = "One tenant's job (Pub/Sub) -> targeting queries in BigQuery -> targets in Firestore."
      memory           = "1Gi"
      cpu              = "1"
      timeout          = 540
      min              = 0
      max              = 10
      concurrency      = 1
      topic            = "tenant-campaigns"
      public           = false
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        RUN_OCCURRENCE_URL            = local.run_occurrence_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
      }
      secrets = {}
    }
    enqueue_target = {
      description = "A target was created (Firestore, Eventarc) -> plan it and create its named Cloud Task."
      memory      = "512Mi"
      cpu         = "1"
      timeout     = 60
      min         = 0
      max         = 20
      concurrency = 16
      topic       = null
      public      = false
      # Eventarc delivers the creation of each target document. (The two trigger fields are
      # flat strings: Terraform cannot compare a null object with an object in one map.)
      trigger_event    = "google.cloud.firestore.document.v1.created"
      trigger_document = "users/{cnpj}/campaigns/{campaign_id}/targets/{target_id}"
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        SEND_MESSAGE_URL              = local.send_message_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
      }
      secrets = {}
    }
    send_message = {
      description      = "A Cloud Task (HTTP, OIDC) -> at most one WhatsApp template message."
      memory           = "512Mi"
      cpu              = "1"
      timeout          = 60
      min              = 0
      max              = 100 # x 16 = 1,600 requests at once: 80 tenant queues at 20 before a 429
      concurrency      = 16
      topic            = null
      public           = false
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        SEND_MESSAGE_URL              = local.send_message_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
        WHATSAPP_PHONE_NUMBER_ID      = var.whatsapp_phone_number_id
        WHATSAPP_API_VERSION          = var.whatsapp_api_version
        LINK_BASE_URL                 = local.link_base_url
      }
      secrets = {
        WHATSAPP_ACCESS_TOKEN = module.secrets.ids["whatsapp-access-token"]
        LINK_SECRET           = module.secrets.ids["link-secret"]
      }
    }
    api = {
      description      = "The campaign REST API and the WhatsApp status/inbound webhook (public HTTPS)."
      memory           = "1Gi"
      cpu              = "1"
      timeout          = 300
      min              = var.api_min_instances
      max              = 10
      concurrency      = 20
      topic            = null
      public           = true
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        SEND_MESSAGE_URL              = local.send_message_url
        RUN_OCCURRENCE_URL            = local.run_occurrence_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
        WHATSAPP_PHONE_NUMBER_ID      = var.whatsapp_phone_number_id
        WHATSAPP_BUSINESS_ACCOUNT_ID  = var.whatsapp_business_account_id
        WHATSAPP_API_VERSION          = var.whatsapp_api_version
        API_JWKS_URL                  = var.api_jwks_url
        API_JWT_ISSUER                = var.api_jwt_issuer
        API_JWT_AUDIENCE              = var.api_jwt_audience
        API_REQUESTS_PER_MINUTE       = tostring(var.api_requests_per_minute)
      }
      secrets = {
        WHATSAPP_APP_SECRET   = module.secrets.ids["whatsapp-app-secret"]
        WHATSAPP_VERIFY_TOKEN = module.secrets.ids["whatsapp-verify-token"]
        API_JWT_SECRET        = module.secrets.ids["api-jwt-secret"]
        LINK_SECRET           = module.secrets.ids["link-secret"]
        WHATSAPP_ACCESS_TOKEN = module.secrets.ids["whatsapp-access-token"]
      }
    }
    sweeper = {
      description      = "Every few minutes (Pub/Sub) -> repair targets a crash left behind."
      memory           = "512Mi"
      cpu              = "1"
      timeout          = 300
      min              = 0
      max              = 1
      concurrency      = 1
      topic            = "delivery-sweep"
      public           = false
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        SEND_MESSAGE_URL              = local.send_message_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
      }
      secrets = {}
    }
    run_occurrence = {
      description = "A Cloud Task (HTTP, OIDC) at an API campaign occurrence's instant -> its targets in Firestore."
      memory      = "1Gi"
      cpu         = "1"
      timeout     = 540
      min         = 0
      max         = 10
      # Waits on BigQuery and Firestore, not the CPU; many tenants start at a round hour, and
      # a task refused for want of an instance waits for Cloud Tasks' retry (30 s, then 60 s).
      concurrency      = 8
      topic            = null
      public           = false
      trigger_event    = null
      trigger_document = null
      environment = {
        GOOGLE_CLOUD_PROJECT          = var.project_id
        LOG_LEVEL                     = var.log_level
        CAMPAIGNS_REGION              = var.region
        RUN_OCCURRENCE_URL            = local.run_occurrence_url
        TASKS_INVOKER_SERVICE_ACCOUNT = local.tasks_invoker_email
      }
      secrets = {}
    }
  }

  # Who calls each function: Pub/Sub pushes, Eventarc, Cloud Tasks; the api is public.
  invokers = {
    fanout         = { pubsub = google_service_account.pubsub_push.email }
    process_tenant = { pubsub = google_service_account.pubsub_push.email }
    enqueue_target = { eventarc = google_service_account.eventarc_trigger.email }
    send_message   = { tasks = google_service_account.tasks_invoker.email }
    api            = {}
    sweeper        = { pubsub = google_service_account.pubsub_push.email }
    run_occurrence = { tasks = google_service_account.tasks_invoker.email }
  }
}

# Zipped here, outside the function module, so that waiting for the APIs (the module's
# depends_on) never defers reading the sources and renames every archive.
data "archive_file" "sources" {
  for_each         = local.functions
  type             = "zip"
  source_dir       = "${var.build_dir}/${each.key}"
  output_path      = "${path.root}/.build/${each.key}.zip"
  output_file_mode = "0644"
}

module "functions" {
  source   = "../function"
  for_each = local.functions

  project_id    = var.project_id
  region        = var.region
  name          = each.key
  description   = each.value.description
  source_bucket = google_storage_bucket.sources.name
  source_archive = {
    path   = data.archive_file.sources[each.key].output_path
    sha256 = data.archive_file.sources[each.key].output_sha256
  }
  build_service_account = google_service_account.builder.id
  memory                = each.value.memory
  cpu                   = each.value.cpu
  timeout_seconds       = each.value.timeout
  min_instances         = each.value.min
  max_instances         = each.value.max
  concurrency           = each.value.concurrency
  environment           = each.value.environment
  secrets               = each.value.secrets
  public                = each.value.public
  invokers              = local.invokers[each.key]
  labels                = { environment = var.environment }

  firestore_trigger = each.value.trigger_document == null ? null : {
    event_type      = each.value.trigger_event
    document        = each.value.trigger_document
    database        = module.firestore.database
    location        = var.firestore_location
    service_account = google_service_account.eventarc_trigger.email
  }

  # The APIs, and the builder's roles: a build started before they exist fails.
  depends_on = [google_project_service.enabled, google_project_iam_member.builder]
}
