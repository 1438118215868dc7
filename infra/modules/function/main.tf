# One Cloud Function (gen2) with its own service account, its source archive and who may call it.
#
# The archive is named after the SHA-256 of its content, so `terraform apply` uploads and
# redeploys a function only when its staged source (make build) changed.

locals {
  deployed_name = replace(var.name, "_", "-")
}

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = "fn-${local.deployed_name}"
  display_name = "Cloud Function ${var.name}"
  description  = "Runs only the ${var.name} function; its roles are granted one by one in the pipeline module."
}

resource "google_storage_bucket_object" "source" {
  bucket = var.source_bucket
  name   = "${var.name}/${var.source_archive.sha256}.zip"
  source = var.source_archive.path
}

resource "google_secret_manager_secret_iam_member" "reads" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.this.email}"
}

resource "google_cloudfunctions2_function" "this" {
  # checkov:skip=CKV_GCP_124:Ingress is ALLOW_INTERNAL_ONLY (Pub/Sub, Eventarc and Cloud Tasks are internal callers) except for the public api, whose callers are Meta and API clients on the internet.
  project     = var.project_id
  location    = var.region
  name        = local.deployed_name
  description = var.description
  labels      = merge(var.labels, { function = local.deployed_name })

  build_config {
    runtime         = var.runtime
    entry_point     = var.name
    service_account = var.build_service_account
    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    timeout_seconds                  = var.timeout_seconds
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.concurrency
    service_account_email            = google_service_account.this.email
    ingress_settings                 = var.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    environment_variables            = var.environment

    dynamic "secret_environment_variables" {
      for_each = var.secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = var.firestore_trigger == null ? [] : [var.firestore_trigger]
    content {
      trigger_region        = event_trigger.value.location # Eventarc runs where the database is
      event_type            = event_trigger.value.event_type
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = event_trigger.value.service_account
      event_filters {
        attribute = "database"
        value     = event_trigger.value.database
      }
      event_filters {
        attribute = "document"
        value     = event_trigger.value.document
        operator  = "match-path-pattern"
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.reads]
}

resource "google_cloud_run_service_iam_member" "invokers" {
  for_each = var.invokers
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${each.value}"
}

resource "google_cloud_run_service_iam_member" "public" {
  # checkov:skip=CKV_GCP_102:The api is the WhatsApp webhook (Meta calls it unauthenticated and we verify its HMAC signature) and the REST API (every request needs a verified JWT); only it sets public.
  count    = var.public ? 1 : 0
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
