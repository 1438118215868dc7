# Log-based metrics and the alerts on them (README: operations says what each one means).
#
# Every message matched here is one the code logs (shared/logs.py writes it as
# jsonPayload.message); tests/infra/test_consistency.py fails if a filter names a message
# that no longer exists in the code.

variable "project_id" {
  description = "Project of the metrics and alerts."
  type        = string
}

variable "alert_emails" {
  description = "Addresses notified when an alert opens."
  type        = list(string)
}

variable "services" {
  description = "Cloud Run service behind each function (function name -> service name)."
  type        = map(string)
}

locals {
  functions_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(${join(" OR ", [for name in values(var.services) : "\"${name}\""])})"

  metrics = {
    failed_runs = {
      description = "A tenant's targeting run or one of its campaigns failed, or a tick, tenant job or occurrence task was malformed."
      filter      = "jsonPayload.message=(\"campaign failed\" OR \"campaign crashed\" OR \"tenant job failed permanently\" OR \"malformed tick acknowledged\" OR \"malformed tenant job acknowledged\" OR \"malformed occurrence task acknowledged\" OR \"invalid tenant skipped\")"
      threshold   = 0
      window      = "300s"
      alert       = "Campaign run failed"
    }
    function_errors = {
      description = "Log entries of severity ERROR or worse, per function."
      filter      = "severity>=ERROR"
      threshold   = 10
      window      = "600s"
      alert       = "Function error rate"
    }
    stuck_targets = {
      description = "The sweeper found targets stuck past their clock, or could not repair one."
      filter      = "jsonPayload.message=(\"sweep done\" OR \"sweep of a target failed\" OR \"enqueue failed permanently\" OR \"send failed permanently\")"
      threshold   = 3
      window      = "1800s"
      alert       = "Targets stuck in delivery"
    }
  }
}

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  project      = var.project_id
  display_name = "Campaign alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

resource "google_logging_metric" "this" {
  for_each    = local.metrics
  project     = var.project_id
  name        = "campaigns/${each.key}"
  description = each.value.description
  filter      = "${local.functions_filter} AND ${each.value.filter}"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "service"
      value_type  = "STRING"
      description = "The function's Cloud Run service."
    }
  }

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

# Cloud Monitoring learns of a new log-based metric only after a while; an alert policy
# created on it at once is refused ("Cannot find metric(s)").
resource "time_sleep" "metrics_known" {
  create_duration = "120s"
  triggers        = { for name, metric in google_logging_metric.this : name => metric.id }
}

resource "google_monitoring_alert_policy" "this" {
  for_each              = local.metrics
  project               = var.project_id
  display_name          = each.value.alert
  combiner              = "OR"
  notification_channels = [for channel in google_monitoring_notification_channel.email : channel.id]

  documentation {
    content   = "${each.value.description} See the README's operations section, alert \"${each.value.alert}\"."
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "${each.value.alert}: more than ${each.value.threshold} in ${each.value.window}"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.this[each.key].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
      aggregations {
        alignment_period     = each.value.window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [time_sleep.metrics_known]
}
