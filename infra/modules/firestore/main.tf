# The Firestore database, the composite indexes the code's queries need and the TTL policies
# that delete transient documents.
#
# Both lists come from shared/adapters/firestore_schema.py, written to schema.json by
# `python -m shared.deploy.firestore_schema` (a test fails when the file is out of date), so
# the queries and their indexes are declared next to each other, in the code.

variable "project_id" {
  description = "Project of the database."
  type        = string
}

variable "location" {
  description = "Firestore location; the target trigger runs in the same region."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the database."
  type        = bool
}

locals {
  schema  = jsondecode(file("${path.module}/schema.json"))
  indexes = { for index in local.schema.indexes : index.id => index }
  ttl     = { for policy in local.schema.ttl : "${policy.collection_group}.${policy.field}" => policy }
}

resource "google_firestore_database" "this" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.location
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_protection ? "ABANDON" : "DELETE"
}

resource "google_firestore_index" "this" {
  for_each    = local.indexes
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = each.value.collection_group
  query_scope = each.value.query_scope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}

resource "google_firestore_field" "ttl" {
  for_each   = local.ttl
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collection_group
  field      = each.value.field

  ttl_config {}

  # The expiry timestamp is never queried; not indexing it avoids a write hotspot.
  index_config {}
}

output "database" {
  description = "Database name, for the Eventarc trigger's filter."
  value       = google_firestore_database.this.name
}
