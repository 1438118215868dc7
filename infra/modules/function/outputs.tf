output "url" {
  description = "HTTPS endpoint of the function."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "service_account_email" {
  description = "The identity the function runs as (one per function)."
  value       = google_service_account.this.email
}

output "service_name" {
  description = "The Cloud Run service behind the function, as log entries name it (resource.labels.service_name)."
  value       = google_cloudfunctions2_function.this.name
}

output "source_object" {
  description = "The uploaded archive; its name changes exactly when the staged source does."
  value       = google_storage_bucket_object.source.name
}
