# Topics, their push subscriptions to the functions, and the two schedules that publish.
#
# Each event function is reached the way the local stack reaches it: a push subscription
# named "<function>-push" POSTs the Pub/Sub envelope to the function's URL with an OIDC
# token of the pubsub-push identity, and functions-framework turns it into a CloudEvent.

locals {
  topics = {
    "campaign-tick"    = { subscriber = "fanout", retention = "86400s" }
    "tenant-campaigns" = { subscriber = "process_tenant", retention = "86400s" }
    # A sweep older than the next one is pointless: keep it only until then.
    "delivery-sweep" = { subscriber = "sweeper", retention = "600s" }
  }
}

resource "google_pubsub_topic" "topics" {
  # checkov:skip=CKV_GCP_83:Messages are a tick instant or a tenant id, no personal data; Google-managed encryption is enough and CMEK would add a key to rotate.
  for_each                   = local.topics
  project                    = var.project_id
  name                       = each.key
  message_retention_duration = each.value.retention
  labels                     = { environment = var.environment }
  depends_on                 = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "push" {
  for_each = local.topics
  project  = var.project_id
  name     = "${each.value.subscriber}-push"
  topic    = google_pubsub_topic.topics[each.key].id
  labels   = { environment = var.environment }

  # The function's whole run: the message is redelivered only if the function failed.
  ack_deadline_seconds       = min(600, local.functions[each.value.subscriber].timeout + 30)
  message_retention_duration = each.value.retention
  retain_acked_messages      = false

  push_config {
    push_endpoint = module.functions[each.value.subscriber].url
    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = module.functions[each.value.subscriber].url
    }
  }

  # A failed function is retried with backoff until the retention ends; malformed messages are
  # acknowledged by the code itself, so nothing is retried forever.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = ""
  }
}

resource "google_cloud_scheduler_job" "tick" {
  project     = var.project_id
  region      = var.region
  name        = "campaign-tick-hourly"
  description = "Starts the targeting of every active tenant (fanout) at the top of each hour."
  schedule    = "0 * * * *"
  time_zone   = var.schedule_time_zone

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
    max_doublings        = 2
    max_retry_duration   = "1800s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topics["campaign-tick"].id
    # An empty tick: the instant is the message's publish time, every active tenant is due.
    data = base64encode("{}")
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_scheduler_job" "sweep" {
  project     = var.project_id
  region      = var.region
  name        = "delivery-sweep"
  description = "Repairs targets a crash left PENDING, QUEUED, SENDING or UNKNOWN (sweeper)."
  schedule    = "*/5 * * * *"
  time_zone   = var.schedule_time_zone

  retry_config {
    retry_count          = 1
    min_backoff_duration = "30s"
    max_backoff_duration = "60s"
    max_retry_duration   = "240s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topics["delivery-sweep"].id
    data       = base64encode("{}")
  }

  depends_on = [google_project_service.enabled]
}
