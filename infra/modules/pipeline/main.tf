# The whole pipeline of one environment except the tenants (see ../tenant): APIs, function
# sources, topics and pushes, schedules, identities and their project-level roles.

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_project_service" "enabled" {
  for_each           = toset(local.apis)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# -- function sources -----------------------------------------------------------------------

resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_62:Access logs of a bucket that only Terraform and Cloud Build read add nothing; Cloud Audit Logs record who changed it.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.environment}-function-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = { environment = var.environment }

  versioning {
    enabled = true
  }

  # A deploy that changes a function replaces its content-named archive; the replaced one
  # stays as a noncurrent version for 90 days, then goes.
  lifecycle_rule {
    condition {
      with_state                 = "ARCHIVED"
      days_since_noncurrent_time = 90
    }
    action {
      type = "Delete"
    }
  }
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  region     = var.region
  depends_on = [google_project_service.enabled]
}

module "firestore" {
  source              = "../firestore"
  project_id          = var.project_id
  location            = var.firestore_location
  deletion_protection = var.deletion_protection
  depends_on          = [google_project_service.enabled]
}

module "alerts" {
  source       = "../alerts"
  project_id   = var.project_id
  alert_emails = var.alert_emails
  services     = { for name, fn in module.functions : name => fn.service_name }
  depends_on   = [google_project_service.enabled]
}

# -- identities of the callers (one per caller; functions get theirs in ../function) ---------

resource "google_service_account" "builder" {
  project      = var.project_id
  account_id   = "functions-builder"
  display_name = "Cloud Build of the functions"
  description  = "Builds the functions' images (new projects no longer build as the default compute account)."
  depends_on   = [google_project_service.enabled]
}

# Cloud Build reads the source from the gcf-v2-sources bucket Cloud Functions copies it to,
# writes the image to Artifact Registry and its log to Cloud Logging.
resource "google_project_iam_member" "builder" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.builder.email}"
}

resource "google_service_account" "pubsub_push" {
  project      = var.project_id
  account_id   = "pubsub-push"
  display_name = "Pub/Sub push to functions"
  description  = "Its OIDC token authenticates the pushes of the tick, tenant-job and sweep topics."
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "eventarc_trigger" {
  project      = var.project_id
  account_id   = "eventarc-targets"
  display_name = "Eventarc Firestore trigger"
  description  = "Delivers target-created events to enqueue_target."
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "tasks-invoker"
  display_name = "Cloud Tasks caller of the task functions"
  description  = "Cloud Tasks presents this identity's OIDC token to send_message and run_occurrence."
  depends_on   = [google_project_service.enabled]
}

# Pub/Sub mints the push tokens, so its service agent may create tokens for the push
# identities (granted by default only in projects created after April 2021).
resource "google_service_account_iam_member" "pubsub_mints_push_tokens" {
  for_each = {
    push     = google_service_account.pubsub_push.name
    eventarc = google_service_account.eventarc_trigger.name
  }
  service_account_id = each.value
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}

resource "google_project_iam_member" "eventarc_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.eventarc_trigger.email}"
}

# -- what each function may do beyond its own resources ----------------------------------

locals {
  # Firestore has no per-collection IAM: every function reads and writes documents.
  firestore_users = keys(local.functions)
  # Functions that run BigQuery query or load jobs (data access is per tenant dataset).
  bigquery_job_users = ["process_tenant", "api", "run_occurrence"]
  # Functions that create send or occurrence tasks: they must be able to act as the tasks invoker.
  task_creators = ["enqueue_target", "send_message", "api", "sweeper", "process_tenant", "run_occurrence"]
}

resource "google_project_iam_member" "firestore" {
  for_each = toset(local.firestore_users)
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${module.functions[each.value].service_account_email}"
}

resource "google_project_iam_member" "bigquery_jobs" {
  for_each = toset(local.bigquery_job_users)
  project  = var.project_id
  role     = "roles/bigquery.jobUser"
  member   = "serviceAccount:${module.functions[each.value].service_account_email}"
}

resource "google_service_account_iam_member" "act_as_tasks_invoker" {
  for_each           = toset(local.task_creators)
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${module.functions[each.value].service_account_email}"
}

resource "google_pubsub_topic_iam_member" "fanout_publishes_jobs" {
  project = var.project_id
  topic   = google_pubsub_topic.topics["tenant-campaigns"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${module.functions["fanout"].service_account_email}"
}
