"""Provision template.yaml into moto: every resource from the template itself, no second list.

`plan_stack` reads the template and decides every physical id (no AWS call); `provision_stack`
creates the resources through boto3 (moto in-process or a moto server, whichever the clients reach).
A resource type, property or event the local cloud does not know is a loud error naming it.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import string
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from signoff.local.event_sources import REPORT_BATCH_ITEM_FAILURES, SqsEventSourceSpec
from signoff.local.functions import FunctionSpec
from signoff.local.template import (
    ACCOUNT_ID,
    DEFAULT_STACK_NAME,
    PARTITION,
    REGION,
    URL_SUFFIX,
    ResolveContext,
    TemplateError,
    default_template_path,
    load_template,
    resolve,
)

TABLE = "AWS::DynamoDB::Table"
ROLE = "AWS::IAM::Role"
FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
API = "AWS::Serverless::Api"
BUCKET = "AWS::S3::Bucket"
SECRET = "AWS::SecretsManager::Secret"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
DISTRIBUTION = "AWS::CloudFront::Distribution"
ORIGIN_ACCESS_CONTROL = "AWS::CloudFront::OriginAccessControl"
CLOUDFRONT_FUNCTION = "AWS::CloudFront::Function"
# The console's static site. CloudFront is not emulated: the local front plays the distribution
# (the console's files at /console, the API everywhere else), so these are recorded with the ids
# and attributes references need, and nothing is created for them.
CLOUDFRONT_TYPES = (DISTRIBUTION, ORIGIN_ACCESS_CONTROL, CLOUDFRONT_FUNCTION)
EVENT_BUS = "AWS::Events::EventBus"
# Queues, their policies and EventBridge rules (LOCALBUS): moto's SQS and EventBridge run them;
# a function's `Type: SQS` events are polled in process (local/event_sources.py).
QUEUE = "AWS::SQS::Queue"
QUEUE_POLICY = "AWS::SQS::QueuePolicy"
EVENT_RULE = "AWS::Events::Rule"
SUPPORTED_TYPES = (
    EVENT_BUS,
    QUEUE,
    QUEUE_POLICY,
    EVENT_RULE,
    TABLE,
    ROLE,
    FUNCTION,
    LAYER,
    API,
    SECRET,
    BUCKET,
    BUCKET_POLICY,
    *CLOUDFRONT_TYPES,
)

# Properties that only matter to a real deployment (packaging, tracing, alarms...): accepted and
# not modelled. Anything outside these and the ones read below is an error.
_IGNORED_FUNCTION_PROPERTIES = {
    "Architectures",
    "AutoPublishAlias",
    "Description",
    "Layers",
    "LoggingConfig",
    "ReservedConcurrentExecutions",
    "Tags",
    "Tracing",
}
_FUNCTION_PROPERTIES = {
    "CodeUri",
    "Environment",
    "Events",
    "FunctionName",
    "Handler",
    "MemorySize",
    "Policies",
    "Role",
    "Runtime",
    "Timeout",
} | _IGNORED_FUNCTION_PROPERTIES
_TABLE_PROPERTIES = {
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "KeySchema",
    "LocalSecondaryIndexes",
    "PointInTimeRecoverySpecification",
    "ProvisionedThroughput",
    "StreamSpecification",
    "TableName",
    "Tags",
    "TimeToLiveSpecification",
}
_ROLE_PROPERTIES = {
    "AssumeRolePolicyDocument",
    "Description",
    "ManagedPolicyArns",
    "Path",
    "Policies",
    "RoleName",
    "Tags",
}
_LAYER_PROPERTIES = {
    "CompatibleArchitectures",
    "CompatibleRuntimes",
    "ContentUri",
    "Description",
    "LayerName",
    "LicenseInfo",
    "RetentionPolicy",
}
_API_PROPERTIES = {
    "Auth",
    "BinaryMediaTypes",
    "Description",
    "EndpointConfiguration",
    "GatewayResponses",
    "MethodSettings",
    "Name",
    "OpenApiVersion",
    "StageName",
    "Tags",
    "TracingEnabled",
}
_BUCKET_PROPERTIES = {
    "BucketEncryption",
    "BucketName",
    "LifecycleConfiguration",
    "OwnershipControls",
    "PublicAccessBlockConfiguration",
    "Tags",
}
_BUCKET_POLICY_PROPERTIES = {"Bucket", "PolicyDocument"}
_EVENT_BUS_PROPERTIES = {"Description", "Name", "Tags"}
# Queue properties that become SQS attributes (the attribute has the property's name), and the
# ones accepted without effect here (encryption at rest, tags).
_QUEUE_ATTRIBUTES = {
    "ContentBasedDeduplication",
    "DelaySeconds",
    "FifoQueue",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "VisibilityTimeout",
}
_QUEUE_PROPERTIES = _QUEUE_ATTRIBUTES | {
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "QueueName",
    "SqsManagedSseEnabled",
    "Tags",
}
_QUEUE_POLICY_PROPERTIES = {"PolicyDocument", "Queues"}
_RULE_PROPERTIES = {"Description", "EventBusName", "EventPattern", "Name", "State", "Targets"}
_RULE_TARGET_PROPERTIES = {
    "Arn",
    "DeadLetterConfig",
    "Id",
    "Input",
    "InputPath",
    "InputTransformer",
    "RetryPolicy",
    "RoleArn",
    "SqsParameters",
}
_SQS_EVENT_PROPERTIES = {
    "BatchSize",
    "Enabled",
    "FunctionResponseTypes",
    "MaximumBatchingWindowInSeconds",
    "Queue",
    "ScalingConfig",
}
_CLOUDFRONT_PROPERTIES = {
    DISTRIBUTION: {"DistributionConfig", "Tags"},
    ORIGIN_ACCESS_CONTROL: {"OriginAccessControlConfig"},
    CLOUDFRONT_FUNCTION: {"AutoPublish", "FunctionCode", "FunctionConfig", "Name"},
}
_LIFECYCLE_RULE_PROPERTIES = {
    "AbortIncompleteMultipartUpload",
    "ExpirationInDays",
    "Id",
    "Prefix",
    "Status",
}
_SECRET_PROPERTIES = {
    "Description",
    "GenerateSecretString",
    "KmsKeyId",
    "Name",
    "SecretString",
    "Tags",
}
_LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass(frozen=True)
class ApiRoute:
    """One `Api` event of a function: API Gateway's resource path, method and authorizer."""

    path: str
    method: str  # upper case; ANY matches every method
    function_logical_id: str
    authorizer: str | None  # the authorizer's name, None for `Auth: {Authorizer: NONE}`
    # `ResponseTransferMode: RESPONSE_STREAM`: API Gateway streams the function's answer (a
    # Lambda Web Adapter function: the local front hands the request to its ASGI app).
    streaming: bool = False


@dataclass(frozen=True)
class TokenAuthorizer:
    name: str
    function_logical_id: str
    header: str = "Authorization"
    reauthorize_every: int = 300


@dataclass(frozen=True)
class GatewayResponse:
    """A customised gateway response: status (None keeps the default) and body templates."""

    status_code: int | None
    templates: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass
class ApiSpec:
    logical_id: str
    rest_api_id: str
    stage: str
    authorizers: dict[str, TokenAuthorizer] = field(default_factory=dict)
    default_authorizer: str | None = None
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    routes: list[ApiRoute] = field(default_factory=list)
    binary_media_types: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    table_name: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class RoleSpec:
    logical_id: str
    role_name: str
    properties: Mapping[str, Any]
    # For a function's implicit role (SAM): SAM policy templates are recorded, not expanded.
    policy_templates: tuple[Mapping[str, Any], ...] = ()

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{self.role_name}"


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    bucket_name: str
    properties: Mapping[str, Any]

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:s3:::{self.bucket_name}"


@dataclass(frozen=True)
class BucketPolicySpec:
    logical_id: str
    bucket_name: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class EventBusSpec:
    logical_id: str
    bus_name: str

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:event-bus/{self.bus_name}"


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    queue_name: str
    properties: Mapping[str, Any]

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{self.queue_name}"

    @property
    def url(self) -> str:
        # CloudFormation's Ref of a queue; moto finds the queue by the URL's last segment.
        return f"https://sqs.{REGION}.{URL_SUFFIX}/{ACCOUNT_ID}/{self.queue_name}"

    @property
    def dead_letter_arn(self) -> str | None:
        policy = _redrive_policy(self.properties.get("RedrivePolicy"))
        return str(policy["deadLetterTargetArn"]) if policy else None


def _redrive_policy(value: Any) -> dict[str, Any] | None:
    """A RedrivePolicy as CloudFormation takes it (an object, or its JSON text)."""
    if not value:
        return None
    return json.loads(value) if isinstance(value, str) else dict(value)


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule with its targets (SQS queues, functions, buses, log groups)."""

    logical_id: str
    rule_name: str
    bus_name: str
    event_pattern: Mapping[str, Any]
    targets: tuple[Mapping[str, Any], ...]
    state: str = "ENABLED"
    description: str | None = None

    @property
    def arn(self) -> str:
        path = self.rule_name if self.bus_name == "default" else f"{self.bus_name}/{self.rule_name}"
        return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{path}"


@dataclass(frozen=True)
class CloudFrontSpec:
    """A CloudFront resource, recorded only (see CLOUDFRONT_TYPES)."""

    logical_id: str
    kind: str
    physical_id: str
    properties: Mapping[str, Any]


def _cloudfront_identity(
    stack_name: str, logical_id: str, kind: str, name: str
) -> tuple[str, dict[str, str]]:
    """The Ref value and attributes CloudFormation gives a CloudFront resource (`name`: its
    physical name, which only a function's ARN shows)."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest().upper()
    if kind == DISTRIBUTION:
        distribution_id = f"E{digest[:13]}"
        return distribution_id, {
            "Id": distribution_id,
            "DomainName": f"{digest[:14].lower()}.cloudfront.net",
        }
    if kind == ORIGIN_ACCESS_CONTROL:
        return f"E{digest[:13]}", {"Id": f"E{digest[:13]}"}
    arn = f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:function/{name}"
    return arn, {"FunctionARN": arn, "Stage": "LIVE"}


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    secret_name: str
    properties: Mapping[str, Any]

    @property
    def arn(self) -> str:
        # AWS appends six random characters to a secret's ARN; GetSecretValue also takes this
        # partial ARN, which the plan can know before the secret exists.
        return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{self.secret_name}"


@dataclass(frozen=True)
class LayerSpec:
    logical_id: str
    layer_name: str
    content_dir: Path

    @property
    def version_arn(self) -> str:
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:layer:{self.layer_name}:1"


@dataclass
class StackPlan:
    """Everything the local cloud provisions, with physical ids, resolved from the template."""

    template_path: Path
    stack_name: str
    tables: dict[str, TableSpec] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    layers: dict[str, LayerSpec] = field(default_factory=dict)
    apis: dict[str, ApiSpec] = field(default_factory=dict)
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    buckets: dict[str, BucketSpec] = field(default_factory=dict)
    bucket_policies: dict[str, BucketPolicySpec] = field(default_factory=dict)
    cloudfront: dict[str, CloudFrontSpec] = field(default_factory=dict)
    event_buses: dict[str, EventBusSpec] = field(default_factory=dict)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    rules: dict[str, RuleSpec] = field(default_factory=dict)
    queue_policies: list[str] = field(default_factory=list)  # logical ids: recorded only
    event_sources: list[SqsEventSourceSpec] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def table_names(self) -> dict[str, str]:
        return {logical_id: spec.table_name for logical_id, spec in self.tables.items()}

    def function(self, name: str) -> FunctionSpec:
        """A function by logical id, or by its short name (`api`, `node`: case-insensitive)."""
        if name in self.functions:
            return self.functions[name]
        for spec in self.functions.values():
            if spec.short_name == name.lower() or spec.logical_id.lower() == name.lower():
                return spec
        known = ", ".join(sorted(spec.short_name for spec in self.functions.values()))
        raise KeyError(f"no function {name!r} in the template (functions: {known})")

    def api(self) -> ApiSpec:
        """The template's one API."""
        if len(self.apis) != 1:
            raise TemplateError(f"expected one AWS::Serverless::Api, found {len(self.apis)}")
        return next(iter(self.apis.values()))


def _physical_name(stack_name: str, logical_id: str) -> str:
    return f"{stack_name}-{logical_id}"


def _rest_api_id(stack_name: str, logical_id: str) -> str:
    # API Gateway ids are 10 lower-case alphanumerics; stable per stack so URLs do not move.
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()
    return digest[:10]


def _check_properties(logical_id: str, kind: str, properties: Mapping[str, Any], known: set[str]):
    unknown = sorted(set(properties) - known)
    if unknown:
        raise TemplateError(
            f"{logical_id} ({kind}): the local cloud does not support "
            f"propert{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}"
        )


def _merge_globals(globals_: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (the resource wins), lists concatenate, scalars override."""
    merged = dict(globals_)
    for key, value in properties.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def plan_stack(
    template_path: Path | None = None,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameter_overrides: Mapping[str, Any] | None = None,
) -> StackPlan:
    """Read the template and decide every physical id and resolved property. No AWS calls."""
    path = (template_path or default_template_path()).resolve()
    template = load_template(path)
    resources: dict[str, Any] = template["Resources"]
    unsupported = {
        logical_id: resource.get("Type")
        for logical_id, resource in resources.items()
        if resource.get("Type") not in SUPPORTED_TYPES
    }
    if unsupported:
        listed = ", ".join(f"{lid} ({kind})" for lid, kind in sorted(unsupported.items()))
        raise TemplateError(f"the local cloud cannot provision: {listed}")

    context = ResolveContext.for_template(
        template, parameter_overrides=parameter_overrides, stack_name=stack_name
    )
    globals_ = template.get("Globals") or {}
    function_globals = globals_.get("Function") or {}
    api_globals = globals_.get("Api") or {}

    def properties_of(logical_id: str) -> dict[str, Any]:
        resource = resources[logical_id]
        properties = dict(resource.get("Properties") or {})
        if resource["Type"] == FUNCTION:
            return _merge_globals(function_globals, properties)
        if resource["Type"] == API:
            return _merge_globals(api_globals, properties)
        return properties

    def name_property(logical_id: str, key: str) -> str:
        # Names may use parameters and pseudo parameters, never other resources.
        value = properties_of(logical_id).get(key)
        return str(resolve(value, context)) if value else _physical_name(stack_name, logical_id)

    # First pass: every physical id and attribute, so properties can refer to any resource.
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        if kind == TABLE:
            name = names[logical_id] = name_property(logical_id, "TableName")
            arn = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
            context.refs[logical_id] = name
            context.attributes[logical_id] = {"Arn": arn, "StreamArn": f"{arn}/stream/local"}
        elif kind == ROLE:
            name = names[logical_id] = name_property(logical_id, "RoleName")
            role = RoleSpec(logical_id, name, {})
            context.refs[logical_id] = name
            context.attributes[logical_id] = {
                "Arn": role.arn,
                "RoleId": f"AROA{logical_id.upper()}",
            }
        elif kind == FUNCTION:
            name = names[logical_id] = name_property(logical_id, "FunctionName")
            context.refs[logical_id] = name
            context.attributes[logical_id] = {
                "Arn": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            }
        elif kind == LAYER:
            name = names[logical_id] = name_property(logical_id, "LayerName")
            context.refs[logical_id] = LayerSpec(logical_id, name, Path()).version_arn
            context.attributes[logical_id] = {}
        elif kind == SECRET:
            name = names[logical_id] = name_property(logical_id, "Name")
            context.refs[logical_id] = SecretSpec(logical_id, name, {}).arn
            context.attributes[logical_id] = {}
        elif kind == API:
            api_id = names[logical_id] = _rest_api_id(stack_name, logical_id)
            context.refs[logical_id] = api_id
            context.attributes[logical_id] = {"RootResourceId": f"{api_id}root"}
        elif kind == BUCKET:
            # Bucket names are lower case (S3's rule); CloudFormation lower-cases generated ones.
            name = names[logical_id] = name_property(logical_id, "BucketName").lower()
            context.refs[logical_id] = name
            context.attributes[logical_id] = {
                "Arn": BucketSpec(logical_id, name, {}).arn,
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            }
        elif kind == BUCKET_POLICY:
            names[logical_id] = context.refs[logical_id] = logical_id
            context.attributes[logical_id] = {}
        elif kind == EVENT_BUS:
            # Ref gives an event bus's name; GetAtt Arn and Name.
            name = names[logical_id] = name_property(logical_id, "Name")
            context.refs[logical_id] = name
            context.attributes[logical_id] = {
                "Arn": EventBusSpec(logical_id, name).arn,
                "Name": name,
            }
        elif kind == QUEUE:
            queue = QueueSpec(logical_id, name_property(logical_id, "QueueName"), {})
            names[logical_id] = queue.queue_name
            context.refs[logical_id] = queue.url
            context.attributes[logical_id] = {
                "Arn": queue.arn,
                "QueueName": queue.queue_name,
                "QueueUrl": queue.url,
            }
        elif kind == QUEUE_POLICY:
            names[logical_id] = context.refs[logical_id] = logical_id
            context.attributes[logical_id] = {}
        elif kind == EVENT_RULE:
            name = names[logical_id] = name_property(logical_id, "Name")
            bus = _bus_name(resolve(properties_of(logical_id).get("EventBusName"), context))
            rule = RuleSpec(logical_id, name, bus, {}, ())
            # Ref: the rule's name, `<bus>|<name>` on a bus other than the default one.
            context.refs[logical_id] = name if bus == "default" else f"{bus}|{name}"
            context.attributes[logical_id] = {"Arn": rule.arn}
        elif kind in CLOUDFRONT_TYPES:
            ref, attributes = _cloudfront_identity(
                stack_name, logical_id, kind, name_property(logical_id, "Name")
            )
            names[logical_id] = context.refs[logical_id] = ref
            context.attributes[logical_id] = attributes

    plan = StackPlan(template_path=path, stack_name=stack_name)
    base_dir = path.parent
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        raw = properties_of(logical_id)
        if kind == TABLE:
            _check_properties(logical_id, kind, raw, _TABLE_PROPERTIES)
            plan.tables[logical_id] = TableSpec(
                logical_id, names[logical_id], resolve(raw, context)
            )
        elif kind == ROLE:
            _check_properties(logical_id, kind, raw, _ROLE_PROPERTIES)
            plan.roles[logical_id] = RoleSpec(logical_id, names[logical_id], resolve(raw, context))
        elif kind == LAYER:
            _check_properties(logical_id, kind, raw, _LAYER_PROPERTIES)
            properties = resolve(raw, context)
            plan.layers[logical_id] = LayerSpec(
                logical_id, names[logical_id], base_dir / str(properties.get("ContentUri", "."))
            )
        elif kind == SECRET:
            _check_properties(logical_id, kind, raw, _SECRET_PROPERTIES)
            plan.secrets[logical_id] = SecretSpec(
                logical_id, names[logical_id], resolve(raw, context)
            )
        elif kind == API:
            _check_properties(logical_id, kind, raw, _API_PROPERTIES)
            plan.apis[logical_id] = _plan_api(
                logical_id, names[logical_id], resolve(raw, context), context
            )
        elif kind == BUCKET:
            _check_properties(logical_id, kind, raw, _BUCKET_PROPERTIES)
            properties = resolve(raw, context)
            for rule in (properties.get("LifecycleConfiguration") or {}).get("Rules") or []:
                _check_properties(logical_id, "lifecycle rule", rule, _LIFECYCLE_RULE_PROPERTIES)
            plan.buckets[logical_id] = BucketSpec(logical_id, names[logical_id], properties)
        elif kind == BUCKET_POLICY:
            _check_properties(logical_id, kind, raw, _BUCKET_POLICY_PROPERTIES)
            properties = resolve(raw, context)
            plan.bucket_policies[logical_id] = BucketPolicySpec(
                logical_id, str(properties["Bucket"]), properties["PolicyDocument"]
            )
        elif kind == EVENT_BUS:
            _check_properties(logical_id, kind, raw, _EVENT_BUS_PROPERTIES)
            plan.event_buses[logical_id] = EventBusSpec(logical_id, names[logical_id])
        elif kind == QUEUE:
            _check_properties(logical_id, kind, raw, _QUEUE_PROPERTIES)
            plan.queues[logical_id] = QueueSpec(
                logical_id, names[logical_id], resolve(raw, context)
            )
        elif kind == QUEUE_POLICY:
            # Who may send to a queue: IAM is not enforced locally.
            _check_properties(logical_id, kind, raw, _QUEUE_POLICY_PROPERTIES)
            plan.queue_policies.append(logical_id)
        elif kind == EVENT_RULE:
            _check_properties(logical_id, kind, raw, _RULE_PROPERTIES)
            plan.rules[logical_id] = _plan_rule(
                logical_id, names[logical_id], resolve(raw, context)
            )
        elif kind in CLOUDFRONT_TYPES:
            _check_properties(logical_id, kind, raw, _CLOUDFRONT_PROPERTIES[kind])
            plan.cloudfront[logical_id] = CloudFrontSpec(
                logical_id, kind, names[logical_id], resolve(raw, context)
            )

    for logical_id, resource in resources.items():
        if resource["Type"] == FUNCTION:
            _check_properties(logical_id, FUNCTION, properties_of(logical_id), _FUNCTION_PROPERTIES)
            _plan_function(
                plan, logical_id, names[logical_id], resolve(properties_of(logical_id), context)
            )

    plan.outputs = {
        name: resolve(output.get("Value"), context)
        for name, output in (template.get("Outputs") or {}).items()
    }
    return plan


def _plan_api(
    logical_id: str, api_id: str, properties: Mapping[str, Any], context: ResolveContext
) -> ApiSpec:
    auth = properties.get("Auth") or {}
    unknown_auth = sorted(
        set(auth) - {"DefaultAuthorizer", "Authorizers", "AddDefaultAuthorizerToCorsPreflight"}
    )
    if unknown_auth:
        raise TemplateError(f"{logical_id}: Auth property {', '.join(unknown_auth)} not supported")
    function_ids_by_arn = {
        attributes["Arn"]: function_id
        for function_id, attributes in context.attributes.items()
        if "Arn" in attributes and ":function:" in str(attributes["Arn"])
    }
    authorizers: dict[str, TokenAuthorizer] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        if spec.get("FunctionPayloadType", "TOKEN") != "TOKEN":
            raise TemplateError(
                f"{logical_id}: authorizer {name}: only TOKEN authorizers run locally"
            )
        function_arn = spec.get("FunctionArn")
        if function_arn not in function_ids_by_arn:
            raise TemplateError(
                f"{logical_id}: authorizer {name}: {function_arn} is no function here"
            )
        identity = spec.get("Identity") or {}
        authorizers[name] = TokenAuthorizer(
            name=name,
            function_logical_id=function_ids_by_arn[function_arn],
            header=identity.get("Header", "Authorization"),
            reauthorize_every=int(identity.get("ReauthorizeEvery", 300)),
        )
    default = auth.get("DefaultAuthorizer")
    if default is not None and default not in authorizers:
        raise TemplateError(f"{logical_id}: DefaultAuthorizer {default} is not defined")
    responses = {
        response_type: GatewayResponse(
            status_code=int(spec["StatusCode"]) if "StatusCode" in spec else None,
            templates=dict(spec.get("ResponseTemplates") or {}),
            headers=dict((spec.get("ResponseParameters") or {}).get("Headers") or {}),
        )
        for response_type, spec in (properties.get("GatewayResponses") or {}).items()
    }
    return ApiSpec(
        logical_id=logical_id,
        rest_api_id=api_id,
        stage=str(properties.get("StageName", "Prod")),
        authorizers=authorizers,
        default_authorizer=default,
        gateway_responses=responses,
        binary_media_types=list(properties.get("BinaryMediaTypes") or []),
    )


def _plan_function(
    plan: StackPlan, logical_id: str, function_name: str, properties: Mapping[str, Any]
) -> None:
    code_uri = properties.get("CodeUri")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: CodeUri must be a local directory")
    role_arn = properties.get("Role")
    if role_arn is None:
        # SAM creates `<Function>Role` with the function's policies: so does the local cloud.
        role_id = f"{logical_id}Role"
        statements: list[Any] = []
        templates: list[Mapping[str, Any]] = []
        for policy in properties.get("Policies") or []:
            if isinstance(policy, Mapping) and "Statement" in policy:
                statements.extend(policy["Statement"])
            elif isinstance(policy, Mapping):
                templates.append(policy)
            else:
                templates.append({"ManagedPolicy": policy})
        inline = (
            [
                {
                    "PolicyName": f"{logical_id}Policy",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ]
            if statements
            else []
        )
        role = RoleSpec(
            role_id,
            _physical_name(plan.stack_name, role_id),
            {"AssumeRolePolicyDocument": _LAMBDA_TRUST_POLICY, "Policies": inline},
            policy_templates=tuple(templates),
        )
        plan.roles[role_id] = role
        role_arn = role.arn
    elif properties.get("Policies"):
        raise TemplateError(f"{logical_id}: Policies are ignored by SAM when Role is given")

    for event_name, event in (properties.get("Events") or {}).items():
        event_type = event.get("Type")
        if event_type == "SQS":
            plan.event_sources.append(
                _plan_sqs_event(logical_id, event_name, event.get("Properties") or {})
            )
            continue
        if event_type == "EventBridgeRule":
            rule = _plan_function_rule(
                logical_id, function_name, event_name, event.get("Properties") or {}
            )
            plan.rules[rule.logical_id] = rule
            continue
        if event_type != "Api":
            raise TemplateError(
                f"{logical_id}: event {event_name} of type {event_type} is not supported"
            )
        _plan_route(plan, logical_id, event_name, event.get("Properties") or {})

    environment = (properties.get("Environment") or {}).get("Variables") or {}
    plan.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        function_name=function_name,
        code_dir=(plan.template_path.parent / code_uri).resolve(),
        handler=str(properties.get("Handler", "app.handler")),
        runtime=str(properties.get("Runtime", "python3.11")),
        timeout_seconds=int(properties.get("Timeout", 3)),
        memory_mb=int(properties.get("MemorySize", 128)),
        environment={name: _env_value(value) for name, value in environment.items()},
        role_arn=role_arn,
    )


def _plan_sqs_event(
    logical_id: str, event_name: str, properties: Mapping[str, Any]
) -> SqsEventSourceSpec:
    """A SAM `Type: SQS` event: the event source mapping Lambda would poll with."""
    _check_properties(f"{logical_id}.{event_name}", "SQS event", properties, _SQS_EVENT_PROPERTIES)
    queue_arn = properties.get("Queue")
    if not isinstance(queue_arn, str) or not queue_arn.startswith("arn:"):
        raise TemplateError(f"{logical_id}: event {event_name} needs Queue as a queue ARN")
    response_types = list(properties.get("FunctionResponseTypes") or [])
    unknown = sorted(set(response_types) - {REPORT_BATCH_ITEM_FAILURES})
    if unknown:
        raise TemplateError(f"{logical_id}: event {event_name}: unknown {', '.join(unknown)}")
    enabled = properties.get("Enabled", True)
    return SqsEventSourceSpec(
        function_logical_id=logical_id,
        event_name=event_name,
        queue_arn=queue_arn,
        batch_size=int(properties.get("BatchSize", 10)),
        maximum_batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in response_types,
        enabled=enabled not in (False, "false", "False"),
    )


def _plan_function_rule(
    logical_id: str, function_name: str, event_name: str, properties: Mapping[str, Any]
) -> RuleSpec:
    """A SAM `Type: EventBridgeRule` event: a rule whose target is the function (delivered in
    process by moto_patches, as moto has no Lambda targets)."""
    known = {"EventBusName", "Input", "InputPath", "Pattern", "RuleName", "State", "Target"}
    _check_properties(f"{logical_id}.{event_name}", "EventBridgeRule event", properties, known)
    target: dict[str, Any] = {
        "Id": (properties.get("Target") or {}).get("Id", f"{logical_id}{event_name}LambdaTarget"),
        "Arn": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
    }
    for key in ("Input", "InputPath"):
        if key in properties:
            target[key] = properties[key]
    rule_id = f"{logical_id}{event_name}"
    return RuleSpec(
        logical_id=rule_id,
        rule_name=str(properties.get("RuleName") or f"{function_name}-{event_name}"),
        bus_name=_bus_name(properties.get("EventBusName")),
        event_pattern=dict(properties.get("Pattern") or {}),
        targets=(target,),
        state=str(properties.get("State", "ENABLED")),
    )


def _bus_name(value: Any) -> str:
    """An EventBusName property (a name or an ARN; none: the default bus) as a bus name."""
    if not value:
        return "default"
    return str(value).rsplit("/", 1)[-1] if str(value).startswith("arn:") else str(value)


def _plan_rule(logical_id: str, rule_name: str, properties: Mapping[str, Any]) -> RuleSpec:
    if "EventPattern" not in properties:
        raise TemplateError(f"{logical_id}: only rules with an EventPattern run locally")
    targets = tuple(properties.get("Targets") or ())
    for target in targets:
        _check_properties(f"{logical_id} target", "rule target", target, _RULE_TARGET_PROPERTIES)
    pattern = properties["EventPattern"]
    return RuleSpec(
        logical_id=logical_id,
        rule_name=rule_name,
        bus_name=_bus_name(properties.get("EventBusName")),
        event_pattern=json.loads(pattern) if isinstance(pattern, str) else dict(pattern),
        targets=targets,
        state=str(properties.get("State", "ENABLED")),
        description=properties.get("Description"),
    )


def _env_value(value: Any) -> str:
    # Lambda environment values are strings; YAML gives booleans and numbers their own types.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _plan_route(
    plan: StackPlan, logical_id: str, event_name: str, properties: Mapping[str, Any]
) -> None:
    api_id = properties.get("RestApiId")
    apis = {spec.rest_api_id: spec for spec in plan.apis.values()}
    if api_id not in apis:
        raise TemplateError(
            f"{logical_id}: event {event_name} needs RestApiId naming an AWS::Serverless::Api"
        )
    api = apis[api_id]
    auth = properties.get("Auth") or {}
    authorizer = auth.get("Authorizer", api.default_authorizer)
    if authorizer == "NONE":
        authorizer = None
    elif authorizer is not None and authorizer not in api.authorizers:
        raise TemplateError(f"{logical_id}: event {event_name}: no authorizer {authorizer}")
    api.routes.append(
        ApiRoute(
            path=str(properties["Path"]),
            method=str(properties["Method"]).upper(),
            function_logical_id=logical_id,
            authorizer=authorizer,
            streaming=properties.get("ResponseTransferMode") == "RESPONSE_STREAM",
        )
    )


# ------------------------------------------------------------------ creating it in moto


def create_tables(dynamodb_client: Any, template_path: Path | None = None) -> dict[str, str]:
    """Create the template's DynamoDB tables; answers logical id -> table name."""
    plan = plan_stack(template_path)
    for table in plan.tables.values():
        _create_table(dynamodb_client, table)
    return plan.table_names


def _create_table(client: Any, table: TableSpec) -> None:
    properties = dict(table.properties)
    request: dict[str, Any] = {
        "TableName": table.table_name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if key in properties:
            request[key] = properties[key]
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    client.create_table(**request)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


def _create_role(client: Any, role: RoleSpec) -> None:
    properties = dict(role.properties)
    request: dict[str, Any] = {
        "RoleName": role.role_name,
        "AssumeRolePolicyDocument": json.dumps(properties["AssumeRolePolicyDocument"]),
    }
    for key in ("Path", "Description"):
        if key in properties:
            request[key] = properties[key]
    client.create_role(**request)
    for policy in properties.get("Policies") or []:
        client.put_role_policy(
            RoleName=role.role_name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )


def _placeholder_zip() -> bytes:
    # moto only stores the package; the code that runs is the template's CodeUri directory.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _create_function(client: Any, spec: FunctionSpec) -> None:
    client.create_function(
        FunctionName=spec.function_name,
        Runtime=spec.runtime,
        Role=spec.role_arn,
        Handler=spec.handler,
        Code={"ZipFile": _placeholder_zip()},
        Timeout=spec.timeout_seconds,
        MemorySize=spec.memory_mb,
        Environment={"Variables": dict(spec.environment)},
    )


def _create_bucket(client: Any, bucket: BucketSpec) -> None:
    properties = bucket.properties
    name = bucket.bucket_name
    # The local region is us-east-1, where CreateBucket takes no location constraint.
    client.create_bucket(Bucket=name)
    encryption = properties.get("BucketEncryption")
    if encryption:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **(
                    {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                    if "BucketKeyEnabled" in rule
                    else {}
                ),
            }
            for rule in encryption["ServerSideEncryptionConfiguration"]
        ]
        client.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules}
        )
    if "PublicAccessBlockConfiguration" in properties:
        client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration=dict(properties["PublicAccessBlockConfiguration"]),
        )
    if "OwnershipControls" in properties:
        client.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls=dict(properties["OwnershipControls"])
        )
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle:
        client.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [_lifecycle_rule(rule) for rule in lifecycle["Rules"]]
            },
        )


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    converted: dict[str, Any] = {
        "Status": rule["Status"],
        "Filter": {"Prefix": str(rule.get("Prefix", ""))},
    }
    if "Id" in rule:
        converted["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return converted


def _service_client(clients: Mapping[str, Any], service: str) -> Any:
    if service not in clients:
        raise TemplateError(f"the template has {service} resources: pass a boto3 {service} client")
    return clients[service]


def _create_secret(client: Any, secret: SecretSpec) -> None:
    """The secret with its SecretString, or a fresh random one as GenerateSecretString asks."""
    properties = secret.properties
    value = properties.get("SecretString")
    if value is None:
        generate = properties.get("GenerateSecretString") or {}
        length = int(generate.get("PasswordLength", 32))
        alphabet = string.ascii_letters + string.digits
        if not generate.get("ExcludePunctuation"):
            alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
        value = "".join(secrets.choice(alphabet) for _ in range(length))
    request: dict[str, Any] = {"Name": secret.secret_name, "SecretString": str(value)}
    if "Description" in properties:
        request["Description"] = properties["Description"]
    client.create_secret(**request)


def _dead_letter_queues_first(queues: Any) -> list[QueueSpec]:
    """Queues in an order where each dead-letter queue exists before the queues using it."""
    pending = list(queues)
    ordered: list[QueueSpec] = []
    while pending:
        created = {queue.arn for queue in ordered}
        ready = [q for q in pending if q.dead_letter_arn in (None, *created)]
        if not ready:
            names = ", ".join(queue.logical_id for queue in pending)
            raise TemplateError(f"the dead-letter queues of {names} are not in the template")
        ordered.extend(ready)
        pending = [queue for queue in pending if queue not in ready]
    return ordered


def _create_queue(client: Any, queue: QueueSpec) -> None:
    attributes: dict[str, str] = {}
    for name in sorted(_QUEUE_ATTRIBUTES & set(queue.properties)):
        value = queue.properties[name]
        if name == "RedrivePolicy":
            policy = _redrive_policy(value)
            if policy is None:
                continue
            value = json.dumps(policy)
        attributes[name] = _env_value(value)
    client.create_queue(QueueName=queue.queue_name, Attributes=attributes)


def _create_rule(client: Any, rule: RuleSpec) -> None:
    request: dict[str, Any] = {
        "Name": rule.rule_name,
        "EventBusName": rule.bus_name,
        "EventPattern": json.dumps(rule.event_pattern),
        "State": rule.state,
    }
    if rule.description:
        request["Description"] = rule.description
    client.put_rule(**request)
    if rule.targets:
        targets = []
        for target in rule.targets:
            converted = dict(target)
            # CloudFormation takes a target's Input as an object or text; the API as text.
            if "Input" in converted and not isinstance(converted["Input"], str):
                converted["Input"] = json.dumps(converted["Input"])
            targets.append(converted)
        client.put_targets(Rule=rule.rule_name, EventBusName=rule.bus_name, Targets=targets)


def provision_stack(plan: StackPlan, clients: Mapping[str, Any]) -> None:
    """Create every resource of `plan` through `clients` (boto3 clients: dynamodb, iam, lambda,
    s3 when the template has buckets, secretsmanager when it has secrets)."""
    for table in plan.tables.values():
        _create_table(clients["dynamodb"], table)
    for bucket in plan.buckets.values():
        _create_bucket(_service_client(clients, "s3"), bucket)
    for policy in plan.bucket_policies.values():
        _service_client(clients, "s3").put_bucket_policy(
            Bucket=policy.bucket_name, Policy=json.dumps(policy.document)
        )
    if plan.secrets:
        # Callers written before the template had secrets pass no client for them: the default
        # one reaches the same place (moto in process, or AWS_ENDPOINT_URL's server).
        secrets_client = clients.get("secretsmanager") or boto3.client(
            "secretsmanager", region_name=REGION
        )
        for secret in plan.secrets.values():
            _create_secret(secrets_client, secret)
    if plan.event_buses:
        # As for secrets: callers that pass no events client get the default one.
        events_client = clients.get("events") or boto3.client("events", region_name=REGION)
        for bus in plan.event_buses.values():
            events_client.create_event_bus(Name=bus.bus_name)
    if plan.queues:
        sqs_client = clients.get("sqs") or boto3.client("sqs", region_name=REGION)
        for queue in _dead_letter_queues_first(plan.queues.values()):
            _create_queue(sqs_client, queue)
    if plan.rules:
        events_client = clients.get("events") or boto3.client("events", region_name=REGION)
        for rule in plan.rules.values():
            _create_rule(events_client, rule)
    for role in plan.roles.values():
        _create_role(clients["iam"], role)
    for function in plan.functions.values():
        _create_function(clients["lambda"], function)
    # Layers: the library is importable in this process already (pip -e); APIs: the HTTP front
    # is the gateway. Both are recorded in the plan, nothing to create.
