"""Where the deployment's tools and retrievers live (Settings.tools, Settings.retrievers).

SIGNOFF_TOOLS maps a Dify tool name, `<provider>/<tool>`, to a Lambda function or an HTTP(S)
endpoint; SIGNOFF_RETRIEVERS maps a knowledge-retrieval dataset id to a Bedrock knowledge base,
a Lambda function or an HTTP(S) endpoint. Both are JSON objects in one environment variable each.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LambdaTarget(_Target):
    """`{"lambda": "<function name or ARN>"}`: invoked synchronously with a JSON event."""

    function: str = Field(alias="lambda", min_length=1)


class UrlTarget(_Target):
    """`{"url": "https://..."}`: called with a JSON POST through the address guard (plain http
    only where the deployment allows private networks, i.e. for services of its own)."""

    url: str = Field(pattern=r"^https?://[^\s]+$")


class KnowledgeBaseTarget(_Target):
    """`{"bedrock_knowledge_base_id": "..."}`: Amazon Bedrock Knowledge Bases' Retrieve API."""

    bedrock_knowledge_base_id: str = Field(min_length=1)
    region: str | None = None


ToolTarget = LambdaTarget | UrlTarget
RetrieverTarget = KnowledgeBaseTarget | LambdaTarget | UrlTarget
