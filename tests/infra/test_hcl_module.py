"""tests/infra/hcl.py: the normalised shape every Terraform check relies on.

Each expected value is what Terraform itself would compute for the snippet (a heredoc ends in a
newline, ``<<-`` removes the common indentation, ``"a\\"b"`` is ``a"b``), so a python-hcl2
upgrade that changes its output shape fails here rather than silently in the infra checks.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.infra.hcl import (
    HclSyntaxError,
    load_file,
    load_tree,
    locals_,
    modules,
    resources,
    variables,
)


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _only_resource(root: Path, resource_type: str, text: str) -> dict[str, Any]:
    _write(root, "main.tf", text)
    found = resources(load_tree(root), resource_type)
    assert len(found) == 1, found
    return found[0][2]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_nested_blocks_are_lists_of_dicts_and_maps_are_dicts(tmp_path: Path) -> None:
    body = _only_resource(
        tmp_path,
        "google_storage_bucket",
        """
        resource "google_storage_bucket" "raw" {
          name                        = "campaigns-raw"
          uniform_bucket_level_access = true
          labels = {
            app = "campaigns"
          }
          versioning {
            enabled = true
          }
          lifecycle_rule {
            condition {
              age = 30
            }
            action {
              type = "Delete"
            }
          }
          lifecycle_rule {
            condition {
              age = 365
            }
            action {
              type          = "SetStorageClass"
              storage_class = "ARCHIVE"
            }
          }
        }
        """,
    )
    assert body == {
        "name": "campaigns-raw",
        "uniform_bucket_level_access": True,
        "labels": {"app": "campaigns"},
        "versioning": [{"enabled": True}],
        "lifecycle_rule": [
            {"condition": [{"age": 30}], "action": [{"type": "Delete"}]},
            {
                "condition": [{"age": 365}],
                "action": [{"type": "SetStorageClass", "storage_class": "ARCHIVE"}],
            },
        ],
    }


def test_for_each_and_count_are_expressions(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "main.tf",
        """
        resource "google_bigquery_dataset" "raw" {
          for_each   = toset(var.tenants)
          dataset_id = "raw_${each.key}"
        }

        resource "google_pubsub_topic" "per_env" {
          for_each = { dev = 1, prod = 2 }
          name     = each.key
        }

        resource "google_pubsub_topic" "optional" {
          count = var.enabled ? 1 : 0
          name  = "optional"
        }
        """,
    )
    tree = load_tree(tmp_path)
    [(_, _, dataset)] = resources(tree, "google_bigquery_dataset")
    assert dataset == {"for_each": "${toset(var.tenants)}", "dataset_id": "raw_${each.key}"}
    topics = {name: body for _, name, body in resources(tree, "google_pubsub_topic")}
    assert topics["per_env"] == {"for_each": {"dev": 1, "prod": 2}, "name": "${each.key}"}
    assert topics["optional"]["count"] == "${var.enabled ? 1 : 0}"


def test_string_literals_are_plain_and_interpolation_keeps_its_wrapper(tmp_path: Path) -> None:
    body = _only_resource(
        tmp_path,
        "google_cloud_scheduler_job",
        r"""
        resource "google_cloud_scheduler_job" "tick" {
          name        = "tick"
          description = "says \"hi\"\tand\\more"
          region      = var.region
          schedule    = "${var.minute} * * * *"
          uri         = "https://${var.host}/tick?env=${var.env}"
          literal     = "$${not_an_expression}"
          accent      = "São Paulo"
          attempts    = 5
          ratio       = 0.5
          negative    = -1
          paused      = false
          region_hint = null
        }
        """,
    )
    assert body == {
        "name": "tick",
        "description": 'says "hi"\tand\\more',
        "region": "${var.region}",
        "schedule": "${var.minute} * * * *",
        "uri": "https://${var.host}/tick?env=${var.env}",
        "literal": "$${not_an_expression}",
        "accent": "São Paulo",
        "attempts": 5,
        "ratio": 0.5,
        "negative": -1,
        "paused": False,
        "region_hint": None,
    }


def test_heredocs_are_their_terraform_values(tmp_path: Path) -> None:
    body = _only_resource(
        tmp_path,
        "google_monitoring_alert_policy",
        """
        resource "google_monitoring_alert_policy" "failures" {
          plain = <<EOT
        {"filter": "severity>=ERROR",
          "note": "back\\\\slash ${var.env}"}
        EOT
          documentation {
            content = <<-MD
              # Delivery failures
                see the "runbook"

              for ${var.env}
              MD
          }
          empty = <<EOT
        EOT
        }
        """,
    )
    assert body["plain"] == '{"filter": "severity>=ERROR",\n  "note": "back\\\\slash ${var.env}"}\n'
    assert body["documentation"] == [
        {"content": '# Delivery failures\n  see the "runbook"\n\nfor ${var.env}\n'}
    ]
    assert body["empty"] == ""


def test_comments_and_block_markers_never_reach_callers(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "main.tf",
        """
        # file comment
        resource "google_pubsub_topic" "t" {
          #checkov:skip=CKV_GCP_83:Google-managed keys are enough for opaque message ids
          name = "t" # trailing comment
          /* block comment */
          message_storage_policy {
            allowed_persistence_regions = ["southamerica-east1"]
          }
        }
        """,
    )
    document = load_tree(tmp_path)[Path("main.tf")]
    assert not {key for key in _keys(document) if key.startswith("__")}
    assert resources({Path("main.tf"): document}, "google_pubsub_topic")[0][2] == {
        "name": "t",
        "message_storage_policy": [{"allowed_persistence_regions": ["southamerica-east1"]}],
    }


def test_load_tree_walks_subdirectories_with_relative_keys(tmp_path: Path) -> None:
    _write(tmp_path, "modules/queue/main.tf", 'resource "google_pubsub_topic" "a" {}\n')
    _write(tmp_path, "environments/dev/main.tf", 'resource "google_pubsub_topic" "b" {}\n')
    _write(tmp_path, "environments/dev/notes.txt", "not terraform {")
    _write(tmp_path, "environments/dev/.terraform/modules/x/main.tf", "broken {")
    tree = load_tree(tmp_path)
    assert list(tree) == [Path("environments/dev/main.tf"), Path("modules/queue/main.tf")]
    assert [(path, name) for path, name, _ in resources(tree, "google_pubsub_topic")] == [
        (Path("environments/dev/main.tf"), "b"),
        (Path("modules/queue/main.tf"), "a"),
    ]
    assert resources(tree, "google_storage_bucket") == []


def test_load_tree_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_tree(tmp_path / "nowhere")


def test_resources_of_one_type_across_files_and_blocks(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.tf",
        """
        resource "google_pubsub_topic" "due" {
          name = "campaign-due"
        }
        resource "google_storage_bucket" "source" {
          name = "src"
        }
        resource "google_pubsub_topic" "delivery" {
          name = "delivery"
        }
        """,
    )
    _write(tmp_path, "b.tf", 'resource "google_pubsub_topic" "dlq" {\n  name = "dead-letter"\n}\n')
    found = resources(load_tree(tmp_path), "google_pubsub_topic")
    assert found == [
        (Path("a.tf"), "due", {"name": "campaign-due"}),
        (Path("a.tf"), "delivery", {"name": "delivery"}),
        (Path("b.tf"), "dlq", {"name": "dead-letter"}),
    ]


def test_modules_variables_and_locals(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "main.tf",
        """
        variable "env" {
          type        = string
          description = "dev or prod"
        }
        variable "tenants" {
          type    = list(string)
          default = []
        }
        locals {
          prefix = "campaigns-${var.env}"
        }
        locals {
          regions = ["southamerica-east1"]
        }
        module "pipeline" {
          source = "../../modules/pipeline"
          env    = var.env
        }
        """,
    )
    tree = load_tree(tmp_path)
    here = Path("main.tf")
    assert variables(tree) == [
        (here, "env", {"type": "string", "description": "dev or prod"}),
        (here, "tenants", {"type": "${list(string)}", "default": []}),
    ]
    assert locals_(tree) == [
        (here, "prefix", "campaigns-${var.env}"),
        (here, "regions", ["southamerica-east1"]),
    ]
    assert modules(tree) == [
        (here, "pipeline", {"source": "../../modules/pipeline", "env": "${var.env}"})
    ]


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "good.tf", 'resource "google_pubsub_topic" "a" {}\n')
    bad = _write(
        tmp_path,
        "modules/queue/bad.tf",
        """
        resource "google_pubsub_topic" "b" {
          name = "b"
          labels = = {}
        }
        """,
    )
    with pytest.raises(HclSyntaxError) as caught:
        load_tree(tmp_path)
    assert caught.value.path == bad
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{bad}:3: invalid HCL")
    assert "labels = = {}" in str(caught.value)


def test_an_unclosed_block_reports_the_end_of_the_file(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.tf", 'resource "google_pubsub_topic" "b" {\n  name = "b"\n')
    with pytest.raises(HclSyntaxError, match=r"bad\.tf:3: invalid HCL"):
        load_file(bad)
