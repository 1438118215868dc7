variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
}

variable "region" {
  description = "Region of the functions, queues, Pub/Sub pushes and BigQuery datasets."
  type        = string
  default     = "southamerica-east1"
}

variable "environment" {
  description = "dev or prod: a label on everything, and a part of the source bucket's name."
  type        = string
}

variable "build_dir" {
  description = "Where `make build` staged each function (build/functions/<name>)."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"
}

variable "schedule_time_zone" {
  description = "Time zone of the hourly tick and of the sweeper's schedule."
  type        = string
  default     = "America/Sao_Paulo"
}

variable "whatsapp_phone_number_id" {
  description = "The WhatsApp business number used by tenants that configured none."
  type        = string
}

variable "whatsapp_business_account_id" {
  description = "The WhatsApp Business account (WABA) whose templates tenants that configured none sync; empty: each tenant sets its own."
  type        = string
  default     = ""
}

variable "whatsapp_api_version" {
  description = "Graph API version the WhatsApp client calls."
  type        = string
  default     = "v21.0"
}

variable "api_jwks_url" {
  description = "JWKS of the identity provider that signs API tokens (RS256); empty to use the HS256 key in Secret Manager."
  type        = string
  default     = ""
}

variable "api_jwt_issuer" {
  description = "Required `iss` of API tokens (required with a JWKS)."
  type        = string
  default     = ""
}

variable "api_jwt_audience" {
  description = "Required `aud` of API tokens (required with a JWKS)."
  type        = string
  default     = ""
}

variable "api_requests_per_minute" {
  description = "Per-user request budget of the REST API (per instance)."
  type        = number
  default     = 120
}

variable "api_min_instances" {
  description = "Warm api instances: Meta's webhook and API users wait for a cold start otherwise."
  type        = number
  default     = 1
}

variable "alert_emails" {
  description = "Who is told when an alert opens."
  type        = list(string)
  default     = []
}

variable "firestore_location" {
  description = "Location of the Firestore database (its trigger region is the functions' region)."
  type        = string
  default     = "southamerica-east1"
}

variable "deletion_protection" {
  description = "Protect the Firestore database from deletion (true in prod)."
  type        = bool
  default     = true
}
