output "function_urls" {
  description = "HTTPS endpoint of each function; Meta's webhook URL is the api's plus /webhooks/whatsapp."
  value       = { for name, fn in module.functions : name => fn.url }
}

output "send_message_url" {
  description = "The URL every send task targets (and the audience of its OIDC token)."
  value       = local.send_message_url
}

output "run_occurrence_url" {
  description = "The URL every occurrence task targets (and the audience of its OIDC token)."
  value       = local.run_occurrence_url
}

output "tasks_invoker_email" {
  description = "The identity send tasks carry (TASKS_INVOKER_SERVICE_ACCOUNT)."
  value       = local.tasks_invoker_email
}

output "function_service_accounts" {
  description = "The identity of each function, for the tenant module's dataset and queue grants."
  value       = { for name, fn in module.functions : name => fn.service_account_email }
}

output "source_objects" {
  description = "Content-named source archive of each function (what a rollback pins)."
  value       = { for name, fn in module.functions : name => fn.source_object }
}
