"""What the local cloud provisions, decided from the template alone (no AWS calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from signoff.local.provision import plan_stack
from signoff.local.template import TemplateError, default_template_path, load_template


def test_given_the_real_template_then_every_resource_is_planned_from_it():
    plan = plan_stack()
    resources = load_template(default_template_path())["Resources"]

    planned = set(plan.tables) | set(plan.functions) | set(plan.layers) | set(plan.apis)
    planned |= set(plan.buckets)
    planned |= set(plan.bucket_policies) | set(plan.cloudfront)
    planned |= set(plan.secrets)
    planned |= set(plan.event_buses)
    planned |= set(plan.queues) | set(plan.queue_policies) | set(plan.rules)
    planned |= {logical_id for logical_id in plan.roles if logical_id in resources}
    assert planned == set(resources)


def test_given_the_real_template_then_tables_and_functions_get_stable_physical_names():
    plan = plan_stack()

    assert plan.table_names == {
        "WorkflowsTable": "signoff-WorkflowsTable",
        "RunsTable": "signoff-RunsTable",
        "NodeExecutionsTable": "signoff-NodeExecutionsTable",
        "ApiKeysTable": "signoff-ApiKeysTable",
        "ReviewsTable": "signoff-ReviewsTable",
        "TenantsTable": "signoff-TenantsTable",
        "RateLimitsTable": "signoff-RateLimitsTable",
        "IdempotencyTable": "signoff-IdempotencyTable",
        "RunEventsTable": "signoff-RunEventsTable",
        "WorkflowSessionsTable": "signoff-WorkflowSessionsTable",
        "WebhooksTable": "signoff-WebhooksTable",
        "WebhookDeliveriesTable": "signoff-WebhookDeliveriesTable",
    }
    assert plan.function("node").function_arn == (
        "arn:aws:lambda:us-east-1:123456789012:function:signoff-NodeFunction"
    )


def test_given_the_real_template_then_each_function_gets_globals_plus_its_own_variables():
    plan = plan_stack()

    api = plan.function("api").environment
    assert api["POWERTOOLS_SERVICE_NAME"] == "signoff"
    assert api["SIGNOFF_RUNS_TABLE"] == "signoff-RunsTable"
    assert api["SIGNOFF_NODE_FUNCTION_ARN"] == plan.function("node").function_arn
    assert api["SIGNOFF_WORKFLOW_EXECUTION_ROLE_ARN"] == plan.roles["WorkflowExecutionRole"].arn
    assert api["SIGNOFF_BLOCKING_WAIT_SECONDS"] == "25"
    assert plan.function("node").environment["SIGNOFF_SANDBOX_FUNCTION_NAME"] == (
        "signoff-SandboxFunction"
    )
    sandbox = plan.function("sandbox")
    assert not [name for name in sandbox.environment if name.startswith("SIGNOFF_")]
    assert sandbox.role_arn == plan.roles["SandboxRole"].arn
    assert (sandbox.timeout_seconds, sandbox.memory_mb) == (60, 1024)
    # javascript code nodes: a Node.js function under the same permission-less role.
    sandbox_js = plan.function("sandbox_js")
    assert sandbox_js.runtime.startswith("nodejs")
    assert sandbox_js.handler == "index.handler"
    assert sandbox_js.role_arn == plan.roles["SandboxRole"].arn
    assert plan.function("node").environment["SIGNOFF_SANDBOX_JS_FUNCTION_NAME"] == (
        "signoff-SandboxJsFunction"
    )


def test_given_the_real_template_then_the_api_has_its_routes_authorizer_and_responses():
    api = plan_stack().api()

    routes = {(route.path, route.method): route.authorizer for route in api.routes}
    assert routes == {
        ("/health", "GET"): None,
        ("/openapi.json", "GET"): None,
        ("/docs", "GET"): None,
        ("/docs/{asset+}", "GET"): None,
        ("/events/schema", "GET"): None,
        ("/{proxy+}", "ANY"): "KeyAuthorizer",
        # The streaming routes (StreamFunction, API Gateway response streaming).
        ("/workflows/{workflow_id}/runs", "POST"): "KeyAuthorizer",
        ("/runs/{run_id}/events", "GET"): "KeyAuthorizer",
        # Dify's /v1 streaming routes (signoff/difyapi/streaming.py).
        ("/v1/workflows/run", "POST"): "KeyAuthorizer",
        ("/v1/workflows/{workflow_id}/run", "POST"): "KeyAuthorizer",
        ("/v1/workflow/{run_id}/events", "GET"): "KeyAuthorizer",
    }
    streaming = {(route.path, route.method) for route in api.routes if route.streaming}
    assert streaming == {
        ("/workflows/{workflow_id}/runs", "POST"),
        ("/runs/{run_id}/events", "GET"),
        ("/v1/workflows/run", "POST"),
        ("/v1/workflows/{workflow_id}/run", "POST"),
        ("/v1/workflow/{run_id}/events", "GET"),
    }
    assert api.authorizers["KeyAuthorizer"].function_logical_id == "AuthorizerFunction"
    assert api.stage == "dev"
    assert api.gateway_responses["UNAUTHORIZED"].status_code == 401


def test_given_short_names_when_looking_up_functions_then_case_does_not_matter():
    plan = plan_stack()

    assert plan.function("API").logical_id == "ApiFunction"
    assert plan.function("Authorizer").logical_id == "AuthorizerFunction"
    known = "api, authorizer, node, reconcile, review, sandbox, sandbox_js, settle"
    with pytest.raises(KeyError, match=known):
        plan.function("webhook")


def test_given_a_function_overriding_globals_then_its_own_values_win(toy_template):
    plan = plan_stack(toy_template)

    echo = plan.function("echo")
    assert echo.environment == {
        "POWERTOOLS_SERVICE_NAME": "echo",
        "SIGNOFF_SHARED": "from-globals",
        "SIGNOFF_MARK": "echo-test",
        "SIGNOFF_NOTES_TABLE": "signoff-NotesTable",
    }
    assert (echo.timeout_seconds, echo.memory_mb) == (7, 256)
    assert echo.code_dir == toy_template.parent / "functions" / "echo"


def test_given_a_function_without_role_then_it_gets_an_implicit_role_with_its_policies(
    toy_template,
):
    plan = plan_stack(toy_template)

    role = plan.roles["RecordFunctionRole"]
    assert plan.function("record").role_arn == role.arn
    (inline,) = role.properties["Policies"]
    assert inline["PolicyDocument"]["Statement"][0]["Action"] == "dynamodb:PutItem"
    assert role.policy_templates == ({"DynamoDBCrudPolicy": {"TableName": "signoff-NotesTable"}},)


def _template_with(tmp_path: Path, resources: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n" + resources)
    return path


def test_given_an_unsupported_resource_type_then_provisioning_names_it(tmp_path):
    path = _template_with(tmp_path, "  Topic:\n    Type: AWS::SNS::Topic\n")

    with pytest.raises(TemplateError, match=r"Topic \(AWS::SNS::Topic\)"):
        plan_stack(path)


def test_given_an_unsupported_property_then_provisioning_names_it(tmp_path):
    path = _template_with(
        tmp_path,
        "  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: { CodeUri: f/, Handler: app.handler, FunctionUrlConfig: {} }\n",
    )

    with pytest.raises(TemplateError, match="FunctionUrlConfig"):
        plan_stack(path)


def test_given_an_unsupported_event_type_then_provisioning_names_it(tmp_path):
    path = _template_with(
        tmp_path,
        "  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: f/\n      Handler: app.handler\n"
        "      Events: { Nightly: { Type: Schedule, Properties: { Schedule: rate(1 day) } } }\n",
    )

    with pytest.raises(TemplateError, match="Nightly of type Schedule"):
        plan_stack(path)
