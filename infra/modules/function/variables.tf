variable "project_id" {
  description = "Project the function runs in."
  type        = string
}

variable "region" {
  description = "Region of the function (and of its Firestore trigger)."
  type        = string
}

variable "name" {
  description = "Entry point: the Python function in functions/<name>.py (the deployed name uses hyphens)."
  type        = string
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
}

variable "source_archive" {
  description = "The zip of the staged source (make build) and its SHA-256, which names the uploaded object."
  type = object({
    path   = string
    sha256 = string
  })
}

variable "build_service_account" {
  description = "Service account (projects/P/serviceAccounts/EMAIL) Cloud Build uses to build the function."
  type        = string
}

variable "source_bucket" {
  description = "Bucket that keeps every uploaded source archive."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions runtime."
  type        = string
  default     = "python311"
}

variable "memory" {
  description = "Memory per instance, e.g. 512Mi."
  type        = string
}

variable "cpu" {
  description = "vCPUs per instance; at least 1 when concurrency is above 1."
  type        = string
}

variable "timeout_seconds" {
  description = "Request timeout; Pub/Sub push waits at most 600 s, so event functions stay under it."
  type        = number
}

variable "min_instances" {
  description = "Instances kept warm."
  type        = number
}

variable "max_instances" {
  description = "Upper bound on instances: caps cost and the load on BigQuery, Firestore and WhatsApp."
  type        = number
}

variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
}

variable "environment" {
  description = "Plain environment variables (names from shared/config.py)."
  type        = map(string)
}

variable "secrets" {
  description = "Environment variable name -> Secret Manager secret id, read at instance start (latest version)."
  type        = map(string)
  default     = {}
}

variable "public" {
  description = "Whether anyone may invoke the function (the api: the webhook and the JWT-authenticated REST API)."
  type        = bool
  default     = false
}

variable "invokers" {
  description = "Service accounts allowed to invoke the function, by a fixed key (Terraform must know the keys before the accounts exist): Pub/Sub push, Cloud Tasks, Eventarc."
  type        = map(string)
  default     = {}
}

variable "firestore_trigger" {
  description = "A Firestore document event that triggers the function through Eventarc, or null."
  type = object({
    event_type      = string
    document        = string
    database        = string
    location        = string
    service_account = string
  })
  default = null
}

variable "labels" {
  description = "Labels of the function."
  type        = map(string)
  default     = {}
}
