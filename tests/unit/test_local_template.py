"""template.yaml as data: short-form tags and intrinsic functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from signoff.local.template import (
    ResolveContext,
    TemplateError,
    default_template_path,
    load_template,
    resolve,
)

TEMPLATE = """
Parameters:
  Stage: { Type: String, Default: dev }
  Size: { Type: Number, Default: 3 }
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Not [!Condition IsDev]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      Name: !Sub "t-${Stage}"
      Arn: !GetAtt Table.Arn
      Nested: !GetAtt [Table, StreamArn]
      Joined: !Join ["-", [a, !Ref Stage, !Select [1, [x, y, z]]]]
      Parts: !Split [",", "a,b"]
      Chosen: !If [IsDev, small, big]
      Both: !And [!Condition IsDev, !Or [!Condition IsProd, true]]
      Literal: !Sub "${!NotAVariable} in ${AWS::Region}/${AWS::AccountId}"
      WithVars: !Sub ["${Greeting}, ${Stage}", { Greeting: hello }]
      Dropped: !Ref AWS::NoValue
      Size: !Ref Size
"""


@pytest.fixture
def template(tmp_path: Path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return load_template(path)


@pytest.fixture
def context(template: dict) -> ResolveContext:
    context = ResolveContext.for_template(template)
    context.refs["Table"] = "t-dev"
    context.attributes["Table"] = {"Arn": "arn:table", "StreamArn": "arn:stream"}
    return context


def test_given_short_form_tags_when_loaded_then_they_are_in_long_form(template):
    properties = template["Resources"]["Table"]["Properties"]

    assert properties["Name"] == {"Fn::Sub": "t-${Stage}"}
    assert properties["Arn"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert properties["Nested"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert properties["Dropped"] == {"Ref": "AWS::NoValue"}
    assert template["Conditions"]["IsProd"] == {"Fn::Not": [{"Condition": "IsDev"}]}


def test_given_intrinsics_when_resolved_then_each_has_its_cloudformation_value(template, context):
    resolved = resolve(template["Resources"]["Table"]["Properties"], context)

    assert resolved == {
        "Name": "t-dev",
        "Arn": "arn:table",
        "Nested": "arn:stream",
        "Joined": "a-dev-y",
        "Parts": ["a", "b"],
        "Chosen": "small",
        "Both": True,
        "Literal": "${NotAVariable} in us-east-1/123456789012",
        "WithVars": "hello, dev",
        "Size": 3,
    }


def test_given_parameter_overrides_when_resolved_then_they_win_over_defaults(template):
    context = ResolveContext.for_template(template, parameter_overrides={"Stage": "prod"})

    assert resolve({"Fn::If": ["IsDev", "small", "big"]}, context) == "big"
    assert resolve({"Fn::Sub": "${AWS::StackName}-${Stage}"}, context) == "signoff-prod"


def test_given_a_ref_to_nothing_when_resolved_then_a_loud_error_names_it(context):
    with pytest.raises(TemplateError, match="Ghost"):
        resolve({"Ref": "Ghost"}, context)
    with pytest.raises(TemplateError, match=r"Table\.Missing"):
        resolve({"Fn::GetAtt": ["Table", "Missing"]}, context)


def test_given_an_unsupported_function_when_resolved_then_a_loud_error_names_it(context):
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolve({"Fn::ImportValue": "shared-thing"}, context)


def test_given_a_parameter_without_default_when_no_value_is_given_then_it_is_an_error(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Parameters:\n  Needed: { Type: String }\nResources: {}\n")

    with pytest.raises(TemplateError, match="Needed"):
        ResolveContext.for_template(load_template(path))


def test_given_a_file_without_resources_when_loaded_then_it_is_rejected(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Description: nothing here\n")

    with pytest.raises(TemplateError, match="Resources"):
        load_template(path)


def test_the_default_template_is_the_repositorys():
    path = default_template_path()

    assert path.name == "template.yaml"
    assert "SignoffApi" in load_template(path)["Resources"]
