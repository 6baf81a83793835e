"""Provisioning template.yaml into moto: the resources exist as the template describes them."""

from __future__ import annotations

import json

import boto3
import pytest

from signoff.local.provision import plan_stack, provision_stack

pytestmark = pytest.mark.integration


def test_given_the_real_template_when_creating_tables_then_keys_and_indexes_match(dynamodb, tables):
    assert set(tables) == {
        "WorkflowsTable",
        "RunsTable",
        "NodeExecutionsTable",
        "ApiKeysTable",
        "ReviewsTable",
        "TenantsTable",
        "RateLimitsTable",
        "IdempotencyTable",
        "RunEventsTable",
        "WebhooksTable",
        "WebhookDeliveriesTable",
        "WorkflowSessionsTable",
    }
    runs = dynamodb.describe_table(TableName=tables["RunsTable"])["Table"]
    assert runs["KeySchema"] == [
        {"AttributeName": "tenant_id", "KeyType": "HASH"},
        {"AttributeName": "run_id", "KeyType": "RANGE"},
    ]
    assert runs["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    keys = dynamodb.describe_table(TableName=tables["ApiKeysTable"])["Table"]
    (index,) = keys["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_tenant"
    assert [part["AttributeName"] for part in index["KeySchema"]] == ["tenant_id", "key_id"]


def test_given_the_real_template_when_provisioned_then_every_function_and_role_exists(stack):
    lambda_client = boto3.client("lambda")
    functions = {f["FunctionName"]: f for f in lambda_client.list_functions()["Functions"]}

    assert set(functions) == {spec.function_name for spec in stack.functions.values()}
    api = functions["signoff-ApiFunction"]
    assert api["Timeout"] == 29
    assert api["Role"].endswith(":role/signoff-ApiFunctionRole")
    assert api["Environment"]["Variables"]["SIGNOFF_RUNS_TABLE"] == "signoff-RunsTable"
    roles = {role["RoleName"] for role in boto3.client("iam").list_roles()["Roles"]}
    assert {"signoff-WorkflowExecutionRole", "signoff-SandboxRole"} <= roles


def test_given_the_toy_template_when_provisioned_then_ttl_and_inline_policies_are_applied(
    aws, toy_template
):
    plan = plan_stack(toy_template)
    clients = {name: boto3.client(name) for name in ("dynamodb", "iam", "lambda")}

    provision_stack(plan, clients)

    ttl = clients["dynamodb"].describe_time_to_live(TableName="signoff-NotesTable")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    policy = clients["iam"].get_role_policy(RoleName="signoff-ExecutionRole", PolicyName="invoke")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Resource"] == plan.function("echo").function_arn
    echo = clients["lambda"].get_function_configuration(FunctionName="signoff-EchoFunction")
    assert (echo["Timeout"], echo["MemorySize"]) == (7, 256)
