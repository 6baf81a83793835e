"""The payloads bucket as the local cloud provisions it from template.yaml: as locked down as the
template says, and the functions that move large values told where it is."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from signoff.local.provision import plan_stack, provision_stack
from signoff.local.template import TemplateError

pytestmark = pytest.mark.integration

BUCKET = "signoff-payloadsbucket"


def test_given_the_template_when_provisioned_then_the_payloads_bucket_is_encrypted_and_private(
    stack,
):
    s3 = boto3.client("s3")

    assert stack.buckets["PayloadsBucket"].bucket_name == BUCKET
    encryption = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
    (rule,) = encryption["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_given_the_template_when_provisioned_then_large_values_expire_after_the_retention(stack):
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]

    (rule,) = rules
    assert rule["Status"] == "Enabled"
    assert rule["Expiration"] == {"Days": 30}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_given_a_retention_override_then_the_lifecycle_rule_follows_it(aws):
    plan = plan_stack(parameter_overrides={"PayloadRetentionDays": "7"})
    clients = {name: boto3.client(name) for name in ("dynamodb", "iam", "lambda", "s3")}

    provision_stack(plan, clients)

    (rule,) = clients["s3"].get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["Expiration"] == {"Days": 7}


def test_given_the_template_then_only_the_functions_moving_large_values_may_reach_the_bucket():
    plan = plan_stack()

    reach = {
        spec.short_name
        for spec in plan.functions.values()
        if spec.environment.get("SIGNOFF_PAYLOADS_BUCKET") == BUCKET
    }
    # stream serves POST /workflows/{id}/runs through the api's resolver, so it offloads large
    # inputs as the api does.
    assert reach == {"api", "node", "stream"}
    assert plan.function("node").environment["SIGNOFF_PAYLOAD_THRESHOLD_BYTES"] == "32768"
    for short_name in ("api", "node", "stream"):
        role = plan.roles[f"{plan.function(short_name).logical_id}Role"]
        statements = [
            statement
            for policy in role.properties["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            if any(str(action).startswith("s3:") for action in _actions(statement))
        ]
        assert {action for statement in statements for action in _actions(statement)} == {
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
        }
        assert {str(statement["Resource"]) for statement in statements} == {
            f"arn:aws:s3:::{BUCKET}",
            f"arn:aws:s3:::{BUCKET}/*",
        }


def test_given_a_bucket_without_an_s3_client_then_provisioning_says_what_is_missing(aws):
    plan = plan_stack()

    with pytest.raises(TemplateError, match="pass a boto3 s3 client"):
        provision_stack(plan, {name: boto3.client(name) for name in ("dynamodb", "iam", "lambda")})


def test_given_a_lifecycle_rule_the_local_cloud_does_not_model_then_planning_names_it(
    tmp_path: Path,
):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  Things:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      LifecycleConfiguration:\n"
        "        Rules:\n"
        "          - { Status: Enabled, Transitions: [] }\n",
        encoding="utf-8",
    )

    with pytest.raises(TemplateError, match=r"Things.*Transitions"):
        plan_stack(template)


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]
