"""knowledge-retrieval: chunks relevant to the query from the datasets the deployment registers.

Each dataset id maps (Settings.retrievers) to an Amazon Bedrock knowledge base (the Retrieve API)
or to a retriever of the deployment's own: a Lambda function or an endpoint that gets
`{"dataset_id", "query", "top_k", "score_threshold"}` and answers `{"records": [{"content",
"title", "score", "metadata"}]}` (or the list itself).

Every dataset is asked for `top_k` chunks; the chunks of all of them are merged by score, those
under `score_threshold` dropped, and the best `top_k` kept, as Dify's multiple-retrieval mode
does without a reranker. Single-retrieval mode (where Dify lets a model pick one dataset) queries
the datasets the same way: no model routes the query here.

Output `result`, as Dify's: `[{"content", "title", "metadata": {"_source": "knowledge",
"dataset_id", "dataset_name", "document_id", "document_name", "score", "position", ...}}]`.
"""

from __future__ import annotations

import posixpath
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from signoff.graph.model import KnowledgeRetrievalNode
from signoff.nodes.context import NodeContext
from signoff.nodes.errors import RetrievalFailed, RetrieverNotRegistered
from signoff.nodes.registry import KnowledgeBaseTarget, RetrieverTarget
from signoff.nodes.remote_calls import call
from signoff.nodes.variables import VariableScope

DEFAULT_TOP_K = 4
_SOURCE_URI_KEY = "x-amz-bedrock-kb-source-uri"


def inputs(node: KnowledgeRetrievalNode, scope: VariableScope) -> dict[str, Any]:
    return {"query": scope.resolve(node.query_variable_selector)}


def run(
    node: KnowledgeRetrievalNode, inputs: dict[str, Any], context: NodeContext
) -> dict[str, Any]:
    query = inputs["query"]
    if query is None or (isinstance(query, str) and not query.strip()):
        return {"result": []}
    if not isinstance(query, str):
        raise RetrievalFailed(f"the query must be text, not {type(query).__name__}")
    config = node.multiple_retrieval_config
    top_k = config.top_k if config else DEFAULT_TOP_K
    threshold = config.score_threshold if config else None

    records: list[dict[str, Any]] = []
    for dataset_id in node.dataset_ids:
        target = context.integrations.retrievers.get(dataset_id)
        if target is None:
            raise RetrieverNotRegistered(
                f"dataset {dataset_id} is not registered in this deployment (SIGNOFF_RETRIEVERS)",
                details={"dataset_id": dataset_id},
            )
        records += _retrieve(target, dataset_id, query, top_k, threshold, context)

    if threshold is not None:
        records = [r for r in records if (r["metadata"].get("score") or 0) >= threshold]
    records.sort(key=lambda record: record["metadata"].get("score") or 0, reverse=True)
    result = records[:top_k]
    for position, record in enumerate(result, start=1):
        record["metadata"]["position"] = position
    return {"result": result}


def _retrieve(
    target: RetrieverTarget,
    dataset_id: str,
    query: str,
    top_k: int,
    threshold: float | None,
    context: NodeContext,
) -> list[dict[str, Any]]:
    if isinstance(target, KnowledgeBaseTarget):
        return _from_knowledge_base(target, dataset_id, query, top_k, context)
    answer = call(
        target,
        {"dataset_id": dataset_id, "query": query, "top_k": top_k, "score_threshold": threshold},
        context.integrations,
        what=f"retriever of dataset {dataset_id}",
        error=RetrievalFailed,
    )
    found = answer.get("records") if isinstance(answer, dict) else answer
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise RetrievalFailed(
            f"the retriever of dataset {dataset_id} answered something other than records"
        )
    return [_record(item, dataset_id) for item in found]


def _record(item: dict[str, Any], dataset_id: str) -> dict[str, Any]:
    content = item.get("content")
    if not isinstance(content, str):
        raise RetrievalFailed(f"a record of dataset {dataset_id} has no text content")
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    title = item.get("title") or metadata.get("document_name") or ""
    score = item.get("score", metadata.get("score"))
    return {
        "content": content,
        "title": title,
        "metadata": {
            **metadata,
            "_source": "knowledge",
            "dataset_id": dataset_id,
            "dataset_name": metadata.get("dataset_name") or dataset_id,
            "document_name": metadata.get("document_name") or title,
            "score": float(score) if isinstance(score, int | float) else None,
        },
    }


def _from_knowledge_base(
    target: KnowledgeBaseTarget, dataset_id: str, query: str, top_k: int, context: NodeContext
) -> list[dict[str, Any]]:
    client = context.integrations.aws.get("bedrock-agent-runtime", target.region)
    try:
        response = client.retrieve(
            knowledgeBaseId=target.bedrock_knowledge_base_id,
            retrievalQuery={"text": query},
            retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": top_k}},
        )
    except (ClientError, BotoCoreError) as error:
        raise RetrievalFailed(
            f"knowledge base {target.bedrock_knowledge_base_id} (dataset {dataset_id}) "
            f"could not be queried: {error}"
        ) from error
    records = []
    for found in response.get("retrievalResults", []):
        source = _source_uri(found)
        metadata = {
            key: value
            for key, value in (found.get("metadata") or {}).items()
            if not key.startswith("x-amz-bedrock-kb-")
        }
        name = posixpath.basename(source.rstrip("/")) if source else ""
        records.append(
            _record(
                {
                    "content": (found.get("content") or {}).get("text", ""),
                    "title": name,
                    "score": found.get("score"),
                    "metadata": {
                        **metadata,
                        "document_id": source or None,
                        "document_name": name,
                        "dataset_name": dataset_id,
                        "knowledge_base_id": target.bedrock_knowledge_base_id,
                    },
                },
                dataset_id,
            )
        )
    return records


def _source_uri(found: dict[str, Any]) -> str:
    metadata = found.get("metadata") or {}
    if isinstance(metadata.get(_SOURCE_URI_KEY), str):
        return metadata[_SOURCE_URI_KEY]
    location = found.get("location") or {}
    for value in location.values():
        if isinstance(value, dict):
            for key in ("uri", "url"):
                if isinstance(value.get(key), str):
                    return value[key]
    return ""
