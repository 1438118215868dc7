"""The Terraform in ``infra/`` declares exactly what the code uses, with the same names.

No cloud is reachable here, so agreement is proved on the sources: the code's own inventory
(``shared/manifest.py``, ``shared/config.py``, the queue and retry constants, the logged
messages, the generated table and index files) against the parsed HCL, in both directions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from shared.adapters.cloud_tasks_queue import (
    MAX_CONCURRENT_DISPATCHES,
    MAX_DISPATCHES_PER_SECOND,
)
from shared.config import Settings
from shared.deploy import bigquery_schema, firestore_schema
from shared.domain.cnpj import Cnpj
from shared.domain.retry import SEND_RETRY
from shared.manifest import (
    FUNCTIONS,
    LOCAL_ONLY_SETTINGS,
    TARGET_CREATED,
    TARGET_DOCUMENT,
    TOPICS,
    FunctionSpec,
    send_queue,
)
from tests.infra.hcl import Tree, data_sources, load_tree, locals_, modules, resources

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PIPELINE = Path("modules/pipeline")
TENANT = Path("modules/tenant")
SPECS = {spec.name: spec for spec in FUNCTIONS}


@pytest.fixture(scope="module")
def tree() -> Tree:
    return load_tree(INFRA)


def local(tree: Tree, module: Path, name: str) -> Any:
    found = [value for path, key, value in locals_(tree) if path.parent == module and key == name]
    assert len(found) == 1, f"local.{name} is declared {len(found)} times in {module}"
    return found[0]


def functions(tree: Tree) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = local(tree, PIPELINE, "functions")
    return table


def resource(tree: Tree, kind: str, name: str) -> dict[str, Any]:
    [(_, _, body)] = [block for block in resources(tree, kind) if block[1] == name]
    return body


def settings_aliases() -> dict[str, bool]:
    """Every environment variable the code reads -> whether it is a secret."""
    return {
        str(field.alias): field.annotation is SecretStr
        for field in Settings.model_fields.values()
        if field.alias
    }


def test_every_terraform_file_parses(tree: Tree) -> None:
    files = [path for path in INFRA.rglob("*.tf") if ".terraform" not in path.parts]
    assert len(tree) == len(files) >= 20


# -- functions ----------------------------------------------------------------------------------


def test_every_function_and_nothing_else(tree: Tree) -> None:
    assert set(functions(tree)) == set(SPECS)


def test_each_function_is_deployed_with_its_entry_point(tree: Tree) -> None:
    body = resource(tree, "google_cloudfunctions2_function", "this")
    [build] = body["build_config"]
    assert build["entry_point"] == "${var.name}"
    assert build["runtime"] == "${var.runtime}"
    assert body["name"] == "${local.deployed_name}"
    [deployed] = [value for _, key, value in locals_(tree) if key == "deployed_name"]
    assert deployed == '${replace(var.name, "_", "-")}'
    [call] = [body for _, name, body in modules(tree) if name == "functions"]
    assert call["name"] == "${each.key}"
    archives = data_sources(tree, "archive_file")
    [archive] = [body for _, name, body in archives if name == "sources"]
    assert archive["source_dir"] == "${var.build_dir}/${each.key}"
    assert call["source_archive"]["sha256"] == (
        "${data.archive_file.sources[each.key].output_sha256}"
    )
    object_name = resource(tree, "google_storage_bucket_object", "source")["name"]
    assert object_name == "${var.name}/${var.source_archive.sha256}.zip"


def decorated_signature(spec: FunctionSpec) -> str:
    """What the code registers: @functions_framework.http or .cloud_event on <name>."""
    module = ast.parse(spec.source.read_text(encoding="utf-8"))
    [function] = [
        node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == spec.name
    ]
    decorators = {ast.unparse(decorator) for decorator in function.decorator_list}
    kinds = {"functions_framework.http": "http", "functions_framework.cloud_event": "cloudevent"}
    [kind] = [kinds[name] for name in decorators if name in kinds]
    return kind


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_signature_type_matches_its_trigger(tree: Tree, spec: FunctionSpec) -> None:
    declared = functions(tree)[spec.name]
    assert decorated_signature(spec) == spec.signature
    event_sources = [declared["topic"], declared["trigger_document"]]
    if spec.signature == "http":
        assert event_sources == [None, None], "an HTTP function is called, not triggered"
    else:
        assert [source is not None for source in event_sources].count(True) == 1
    assert declared["topic"] == spec.topic
    assert declared["trigger_document"] == spec.document
    assert declared["trigger_event"] == spec.event_type


def test_target_trigger_is_the_document_the_code_writes(tree: Tree) -> None:
    triggered = {
        name: (fn["trigger_event"], fn["trigger_document"])
        for name, fn in functions(tree).items()
        if fn["trigger_document"] is not None
    }
    assert triggered == {"enqueue_target": (TARGET_CREATED, TARGET_DOCUMENT)}
    [call] = [body for _, name, body in modules(tree) if name == "functions"]
    assert "each.value.trigger_document" in call["firestore_trigger"]
    [dynamic] = resource(tree, "google_cloudfunctions2_function", "this")["dynamic"]
    [trigger] = dynamic["event_trigger"]["content"]
    assert trigger["retry_policy"] == "RETRY_POLICY_RETRY"
    filters = trigger["event_filters"]
    assert {f["attribute"] for f in filters} == {"database", "document"}
    assert [f.get("operator") for f in filters if f["attribute"] == "document"] == [
        "match-path-pattern"
    ]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_environment_and_secrets_are_the_manifests(tree: Tree, spec: FunctionSpec) -> None:
    declared = functions(tree)[spec.name]
    assert sorted(declared["environment"]) == sorted(spec.environment)
    assert sorted(declared["secrets"]) == sorted(spec.secrets)


def test_every_setting_is_configured_or_local_only(tree: Tree) -> None:
    aliases = settings_aliases()
    deployed_plain = {name for fn in functions(tree).values() for name in fn["environment"]}
    deployed_secret = {name for fn in functions(tree).values() for name in fn["secrets"]}
    assert deployed_plain | deployed_secret == set(aliases) - LOCAL_ONLY_SETTINGS
    assert not (deployed_plain | deployed_secret) & LOCAL_ONLY_SETTINGS
    assert {name for name in deployed_secret if not aliases[name]} == set(), "not a SecretStr"
    assert {name for name in deployed_plain if aliases[name]} == set(), "a secret in plain text"


def test_secrets_are_the_ones_functions_read(tree: Tree) -> None:
    created = set(local(tree, Path("modules/secrets"), "secrets"))
    referenced: dict[str, str] = {}
    for fn in functions(tree).values():
        for variable, expression in fn["secrets"].items():
            [secret] = re.findall(r'module\.secrets\.ids\["([\w-]+)"\]', expression)
            referenced[variable] = secret
    assert set(referenced.values()) == created
    # One secret per setting, named after it (WHATSAPP_ACCESS_TOKEN -> whatsapp-access-token).
    assert all(secret == var.lower().replace("_", "-") for var, secret in referenced.items())


def test_functions_that_create_tasks_may_and_only_they(tree: Tree) -> None:
    creators = {
        name for name, spec in SPECS.items() if "TASKS_INVOKER_SERVICE_ACCOUNT" in spec.environment
    }
    assert creators >= {"enqueue_target", "send_message", "api", "sweeper", "run_occurrence"}
    assert set(local(tree, PIPELINE, "task_creators")) == creators
    assert set(local(tree, TENANT, "task_creators")) == creators


def test_send_message_url_names_the_send_message_service(tree: Tree) -> None:
    url = local(tree, PIPELINE, "send_message_url")
    assert url.startswith(f"https://{SPECS['send_message'].deployed_name}-")
    assert local(tree, PIPELINE, "invokers")["send_message"] == {
        "tasks": "${google_service_account.tasks_invoker.email}"
    }
    invoker = local(tree, PIPELINE, "tasks_invoker_email")
    assert invoker.startswith("${google_service_account.tasks_invoker.account_id}@")


def test_run_occurrence_url_names_the_run_occurrence_service(tree: Tree) -> None:
    url = local(tree, PIPELINE, "run_occurrence_url")
    assert url.startswith(f"https://{SPECS['run_occurrence'].deployed_name}-")
    assert local(tree, PIPELINE, "invokers")["run_occurrence"] == {
        "tasks": "${google_service_account.tasks_invoker.email}"
    }
    # Every function that schedules occurrences is told where they run, and may create tasks.
    schedulers = {name for name, spec in SPECS.items() if "RUN_OCCURRENCE_URL" in spec.environment}
    assert schedulers == {"api", "process_tenant", "run_occurrence"}
    assert schedulers <= set(local(tree, PIPELINE, "task_creators"))
    # It materialises audiences: BigQuery jobs on the tenant's two datasets, as the tick does.
    assert "run_occurrence" in local(tree, PIPELINE, "bigquery_job_users")
    grants = {
        (grant["dataset"], grant["role"])
        for grant in local(tree, TENANT, "dataset_roles")
        if grant["function"] == "run_occurrence"
    }
    assert grants == {
        (grant["dataset"], grant["role"])
        for grant in local(tree, TENANT, "dataset_roles")
        if grant["function"] == "process_tenant"
    }


def test_only_the_api_is_public(tree: Tree) -> None:
    assert {name for name, fn in functions(tree).items() if fn["public"]} == {"api"}
    assert local(tree, PIPELINE, "invokers")["api"] == {}
    assert set(local(tree, PIPELINE, "invokers")) == set(SPECS)


# -- Pub/Sub and schedules ----------------------------------------------------------------------


def test_topics_and_push_subscriptions(tree: Tree) -> None:
    topics = local(tree, PIPELINE, "topics")
    assert set(topics) == set(TOPICS)
    pushed = {spec.topic: spec.name for spec in FUNCTIONS if spec.topic}
    assert {topic: entry["subscriber"] for topic, entry in topics.items()} == pushed
    subscription = resource(tree, "google_pubsub_subscription", "push")
    assert subscription["name"] == "${each.value.subscriber}-push"
    assert all(spec.subscription == f"{spec.name}-push" for spec in FUNCTIONS if spec.topic)
    [push] = subscription["push_config"]
    assert push["oidc_token"][0]["service_account_email"].endswith("pubsub_push.email}")


def test_schedules_publish_to_the_code_topics(tree: Tree) -> None:
    expected = {"tick": "campaign-tick", "sweep": "delivery-sweep"}
    for name, topic in expected.items():
        job = resource(tree, "google_cloud_scheduler_job", name)
        [target] = job["pubsub_target"]
        assert target["topic_name"] == f'${{google_pubsub_topic.topics["{topic}"].id}}'
        assert job["time_zone"] == "${var.schedule_time_zone}"
        assert job["retry_config"][0]["retry_count"] >= 1
    assert resource(tree, "google_cloud_scheduler_job", "tick")["schedule"] == "0 * * * *"


# -- queues ---------------------------------------------------------------------------------------


def test_tenant_queue_is_the_one_the_code_sends_to(tree: Tree) -> None:
    cnpj = Cnpj.parse("11.222.333/0001-81")
    template = local(tree, TENANT, "queue_name")
    assert template.replace("${lower(var.cnpj)}", cnpj.value.lower()) == send_queue(cnpj.value)
    queue = resource(tree, "google_cloud_tasks_queue", "send")
    assert queue["name"] == "${local.queue_name}"


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", duration)
    assert match, duration
    return float(match[1])


def test_queue_rate_and_retry_are_the_codes(tree: Tree) -> None:
    assert local(tree, TENANT, "max_dispatches_per_second") == MAX_DISPATCHES_PER_SECOND
    assert local(tree, TENANT, "max_concurrent_dispatches") == MAX_CONCURRENT_DISPATCHES
    retry = local(tree, TENANT, "send_retry")
    assert retry["max_attempts"] == SEND_RETRY.max_attempts
    assert seconds(retry["min_backoff"]) == SEND_RETRY.min_backoff.total_seconds()
    assert seconds(retry["max_backoff"]) == SEND_RETRY.max_backoff.total_seconds()
    assert retry["max_doublings"] == SEND_RETRY.max_doublings
    queue = resource(tree, "google_cloud_tasks_queue", "send")
    assert queue["retry_config"][0]["max_attempts"] == "${local.send_retry.max_attempts}"
    assert queue["rate_limits"][0]["max_dispatches_per_second"] == (
        "${local.max_dispatches_per_second}"
    )


def test_queue_rate_stays_under_whatsapps_per_number_ceiling() -> None:
    assert MAX_DISPATCHES_PER_SECOND < 80  # Cloud API: 80 messages/s per business number


# -- generated inputs ----------------------------------------------------------------------------


def test_tenant_tables_are_generated_from_the_current_ddl() -> None:
    assert bigquery_schema.OUTPUT.read_text(encoding="utf-8") == bigquery_schema.render(), (
        "run: python -m shared.deploy.bigquery_schema"
    )


def test_firestore_schema_is_generated_from_the_current_code() -> None:
    assert firestore_schema.OUTPUT.read_text(encoding="utf-8") == firestore_schema.render(), (
        "run: python -m shared.deploy.firestore_schema"
    )


def test_terraform_reads_the_generated_files(tree: Tree) -> None:
    assert "tables.json" in local(tree, TENANT, "definitions")
    assert "schema.json" in local(tree, Path("modules/firestore"), "schema")


def test_partitioning_and_clustering_as_the_issue_asks() -> None:
    tables = {
        table["name"]: table
        for table in map(bigquery_schema.table_definition, bigquery_schema.TABLE_FILES)
    }
    assert (tables["vendas"]["partition_field"], tables["vendas"]["clustering"]) == (
        "data",
        ["cpfCliente"],
    )
    history = tables["message_history"]
    assert (history["partition_field"], history["clustering"]) == (
        "sent_at",
        ["campaign_type", "user_id"],
    )


# -- alerts -------------------------------------------------------------------------------------


def logged_messages() -> Iterator[str]:
    """Every string literal passed as a log message in shared/ (logs.log or a logger call)."""
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = ast.unparse(node.func)
            arguments = [a for a in node.args if isinstance(a, ast.Constant)]
            if callee == "logs.log" and len(node.args) >= 3:
                message = node.args[2]
            elif callee.endswith((".info", ".warning", ".error", ".exception")) and arguments:
                message = node.args[0]
            else:
                continue
            if isinstance(message, ast.Constant) and isinstance(message.value, str):
                yield message.value


def test_alerts_match_messages_the_code_logs(tree: Tree) -> None:
    metrics = local(tree, Path("modules/alerts"), "metrics")
    assert set(metrics) == {"failed_runs", "function_errors", "stuck_targets"}
    known = set(logged_messages())
    quoted = [
        message
        for metric in metrics.values()
        for message in re.findall(r'"([^"]+)"', metric["filter"])
    ]
    assert quoted, "the alerts match on messages"
    assert [message for message in quoted if message not in known] == []


# -- environments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_environment_composes_the_modules(tree: Tree, environment: str) -> None:
    calls = {
        name: body
        for path, name, body in modules(tree)
        if path.parent == Path("environments", environment)
    }
    assert {name: body["source"] for name, body in calls.items()} == {
        "pipeline": "../../modules/pipeline",
        "tenants": "../../modules/tenant",
    }
    assert calls["pipeline"]["build_dir"].endswith('/../../../build/functions")}')
    assert calls["tenants"]["for_each"] == "${toset(var.tenants)}"
