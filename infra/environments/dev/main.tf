# The dev environment: the same pipeline as prod, cheaper and easy to tear down.

module "pipeline" {
  source                       = "../../modules/pipeline"
  project_id                   = var.project_id
  region                       = var.region
  environment                  = "dev"
  build_dir                    = abspath("${path.root}/../../../build/functions")
  log_level                    = "DEBUG"
  whatsapp_phone_number_id     = var.whatsapp_phone_number_id
  whatsapp_business_account_id = var.whatsapp_business_account_id
  api_jwks_url                 = var.api_jwks_url
  api_jwt_issuer               = var.api_jwt_issuer
  api_jwt_audience             = var.api_jwt_audience
  api_min_instances            = 0
  alert_emails                 = var.alert_emails
  deletion_protection          = false
}

module "tenants" {
  source                    = "../../modules/tenant"
  for_each                  = toset(var.tenants)
  project_id                = var.project_id
  region                    = var.region
  cnpj                      = each.value
  function_service_accounts = module.pipeline.function_service_accounts
  depends_on                = [module.pipeline] # the APIs it needs are enabled there
  deletion_protection       = false
}

output "function_urls" {
  description = "HTTPS endpoint of each function."
  value       = module.pipeline.function_urls
}

output "send_task_settings" {
  description = "SEND_MESSAGE_URL and TASKS_INVOKER_SERVICE_ACCOUNT, for `campaigns sweep` run by hand."
  value = {
    SEND_MESSAGE_URL              = module.pipeline.send_message_url
    TASKS_INVOKER_SERVICE_ACCOUNT = module.pipeline.tasks_invoker_email
  }
}

output "webhook_url" {
  description = "The callback URL to give Meta (WhatsApp > Configuration > Webhook)."
  value       = "${module.pipeline.function_urls["api"]}/webhooks/whatsapp"
}
