# The secrets the functions read (shared/config.py's SecretStr settings). Terraform creates the
# secrets but never their values: an operator adds each version with gcloud (README: rotating
# secrets), so no secret ever lands in Terraform state.

variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "region" {
  description = "The one region the secrets are replicated to (data residency: Brazil)."
  type        = string
}

locals {
  secrets = {
    "whatsapp-access-token" = "WhatsApp Cloud API system-user token (send_message, api: WHATSAPP_ACCESS_TOKEN)."
    "whatsapp-app-secret"   = "Meta app secret that signs webhooks (api: WHATSAPP_APP_SECRET)."
    "whatsapp-verify-token" = "Token Meta echoes when the webhook is subscribed (api: WHATSAPP_VERIFY_TOKEN)."
    "api-jwt-secret"        = "HS256 key of API tokens when no JWKS is configured (api: API_JWT_SECRET)."
    "link-secret"           = "HMAC key of tracked links (send_message signs, api verifies: LINK_SECRET)."
  }
}

resource "google_secret_manager_secret" "this" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.key
  labels    = { purpose = "campaigns" }
  annotations = {
    description = each.value
  }

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

output "ids" {
  description = "Secret id by name, for the functions' secret environment variables."
  value       = { for name, secret in google_secret_manager_secret.this : name => secret.secret_id }
}
