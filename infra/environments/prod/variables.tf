variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
}

variable "region" {
  description = "Region of everything regional (São Paulo: the tenants' data stays in Brazil)."
  type        = string
  default     = "southamerica-east1"
}

variable "tenants" {
  description = "CNPJs of the tenants whose datasets and send queue this environment creates."
  type        = list(string)
  default     = []
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

variable "api_jwks_url" {
  description = "JWKS of the identity provider that signs API tokens; empty for HS256 tokens (campaigns token)."
  type        = string
  default     = ""
}

variable "api_jwt_issuer" {
  description = "Required `iss` of API tokens."
  type        = string
  default     = ""
}

variable "api_jwt_audience" {
  description = "Required `aud` of API tokens."
  type        = string
  default     = ""
}

variable "alert_emails" {
  description = "Who is told when an alert opens."
  type        = list(string)
  default     = []
}
