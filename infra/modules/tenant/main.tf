# One tenant (a laundromat, by CNPJ): its two BigQuery datasets with the tables and view of
# sql/ddl (through tables.json, generated from those files), its Cloud Tasks queue (its sends
# and its API campaigns' occurrence tasks), and the grants that let exactly the functions that
# need them read or write these.
#
# After `apply`, `campaigns tenant add --cnpj <CNPJ>` registers the tenant in Firestore
# (README: adding a tenant); its table and queue steps then find everything in place.

variable "project_id" {
  description = "Project of the pipeline."
  type        = string
}

variable "region" {
  description = "Location of the datasets and the queue."
  type        = string
}

variable "cnpj" {
  description = "The tenant's CNPJ, 14 characters without punctuation (datasets <CNPJ>_RAW and <CNPJ>_CAMPAIGN)."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Z]{12}[0-9]{2}$", var.cnpj))
    error_message = "cnpj must be 14 characters: 12 digits or capital letters, then 2 check digits, no punctuation."
  }
}

variable "function_service_accounts" {
  description = "The identity of each function (pipeline module output)."
  type        = map(string)
}

variable "deletion_protection" {
  description = "Refuse to delete the tenant's tables (true in prod)."
  type        = bool
  default     = true
}

locals {
  datasets = {
    raw      = "${var.cnpj}_RAW"
    campaign = "${var.cnpj}_CAMPAIGN"
  }
  definitions = jsondecode(file("${path.module}/tables.json"))
  tables      = { for table in local.definitions.tables : table.name => table }
  views       = { for view in local.definitions.views : view.name => view }

  # Who touches which dataset: targeting reads sales, customers and history; the API's
  # segments, analytics and contact imports read sales and write contacts; delivery, the
  # webhook and the sweeper append history. Besides the data pipeline, only the API writes _RAW:
  # an LGPD erasure (DELETE /api/v1/contacts/{id}) blanks the person's columns of `clientes`.
  dataset_roles = [
    { dataset = "raw", function = "process_tenant", role = "roles/bigquery.dataViewer" },
    { dataset = "raw", function = "api", role = "roles/bigquery.dataEditor" },
    { dataset = "campaign", function = "process_tenant", role = "roles/bigquery.dataViewer" },
    { dataset = "raw", function = "run_occurrence", role = "roles/bigquery.dataViewer" },
    { dataset = "campaign", function = "run_occurrence", role = "roles/bigquery.dataViewer" },
    { dataset = "campaign", function = "api", role = "roles/bigquery.dataEditor" },
    { dataset = "campaign", function = "enqueue_target", role = "roles/bigquery.dataEditor" },
    { dataset = "campaign", function = "send_message", role = "roles/bigquery.dataEditor" },
    { dataset = "campaign", function = "sweeper", role = "roles/bigquery.dataEditor" },
  ]

  # shared/adapters/cloud_tasks_queue.py and shared/domain/delivery.py (SEND_RETRY) say the same.
  queue_name                = "whatsapp-${lower(var.cnpj)}"
  max_dispatches_per_second = 70
  max_concurrent_dispatches = 20
  send_retry = {
    max_attempts  = 3
    min_backoff   = "30s"
    max_backoff   = "120s"
    max_doublings = 2
  }
  task_creators = ["enqueue_target", "send_message", "api", "sweeper", "process_tenant", "run_occurrence"]
}

resource "google_bigquery_dataset" "this" {
  # checkov:skip=CKV_GCP_81:Google-managed encryption (AES-256 at rest) is our choice for now; CMEK would add a KMS key ring per environment to operate and rotate, and the data pipeline that fills _RAW would need it too.
  for_each                   = local.datasets
  project                    = var.project_id
  dataset_id                 = each.value
  location                   = var.region
  description                = "Tenant ${var.cnpj}: ${each.key == "raw" ? "customers and sales (loaded by the data pipeline)" : "contacts and message history (written by the campaigns)"}."
  delete_contents_on_destroy = false
  labels                     = { tenant = lower(var.cnpj), layer = each.key }
}

resource "google_bigquery_table" "tables" {
  # checkov:skip=CKV_GCP_121:Deletion protection is the environment's choice: on in prod, off in dev so a dev environment can be torn down.
  # checkov:skip=CKV_GCP_80:Google-managed encryption, like the datasets (see the CKV_GCP_81 reason above).
  for_each            = local.tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this[each.value.dataset].dataset_id
  table_id            = each.key
  schema              = jsonencode(each.value.schema)
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = var.deletion_protection

  dynamic "time_partitioning" {
    for_each = each.value.partition_field == null ? [] : [each.value.partition_field]
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }
}

resource "google_bigquery_table" "views" {
  # checkov:skip=CKV_GCP_121:A view holds no data and is recreated from sql/ddl on every change, so it is never protected.
  # checkov:skip=CKV_GCP_80:A view stores no data to encrypt.
  for_each            = local.views
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this[each.value.dataset].dataset_id
  table_id            = each.key
  deletion_protection = false

  view {
    use_legacy_sql = false
    query = replace(
      replace(each.value.query, "{raw_dataset}", "${var.project_id}.${local.datasets.raw}"),
      "{campaign_dataset}", "${var.project_id}.${local.datasets.campaign}"
    )
  }

  depends_on = [google_bigquery_table.tables]
}

resource "google_bigquery_dataset_iam_member" "functions" {
  for_each   = { for grant in local.dataset_roles : "${grant.dataset}/${grant.function}" => grant }
  project    = var.project_id
  dataset_id = google_bigquery_dataset.this[each.value.dataset].dataset_id
  role       = each.value.role
  member     = "serviceAccount:${var.function_service_accounts[each.value.function]}"
}

resource "google_cloud_tasks_queue" "send" {
  project  = var.project_id
  location = var.region
  name     = local.queue_name

  rate_limits {
    max_dispatches_per_second = local.max_dispatches_per_second
    max_concurrent_dispatches = local.max_concurrent_dispatches
  }

  retry_config {
    max_attempts  = local.send_retry.max_attempts
    min_backoff   = local.send_retry.min_backoff
    max_backoff   = local.send_retry.max_backoff
    max_doublings = local.send_retry.max_doublings
  }

  stackdriver_logging_config {
    sampling_ratio = 1.0
  }
}

resource "google_cloud_tasks_queue_iam_member" "enqueuers" {
  for_each = toset(local.task_creators)
  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.send.name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${var.function_service_accounts[each.value]}"
}

output "datasets" {
  description = "The tenant's datasets."
  value       = local.datasets
}

output "queue" {
  description = "The tenant's send queue."
  value       = google_cloud_tasks_queue.send.name
}
