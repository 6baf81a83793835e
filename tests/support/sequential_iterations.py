"""Workflows with an iteration over `start.items` whose body may write a conversation variable:
with the write it compiles to a sequential loop (compiler/lowering/sequential_iteration.py),
without it to a Map; both must give the same outputs."""

from __future__ import annotations

from typing import Any

# Fails for the item "bad"; otherwise "<index>:<item>:<how many seen before>".
BODY_CODE = (
    "def main(item, index, seen):\n"
    "    if item == 'bad':\n"
    "        raise ValueError('bad item')\n"
    "    return {'out': f'{index}:{item}:{len(seen or [])}', 'pair': [item, str(index)]}\n"
)


def iteration_workflow(
    *,
    writes_conversation: bool,
    error_handle_mode: str = "terminated",
    output: str = "out",
    flatten_output: bool = False,
    is_parallel: bool = False,
) -> dict[str, Any]:
    """start -> each (iteration: work -> [remember]) -> end {result, seen}."""
    body: list[dict[str, Any]] = [
        {"id": "each_start", "type": "iteration-start", "parent_id": "each"},
        {
            "id": "work",
            "type": "code",
            "parent_id": "each",
            "code": BODY_CODE,
            "variables": [
                {"variable": "item", "value_selector": ["each", "item"]},
                {"variable": "index", "value_selector": ["each", "index"]},
                {"variable": "seen", "value_selector": ["conversation", "seen"]},
            ],
            "outputs": {"out": {"type": "string"}, "pair": {"type": "array[string]"}},
        },
    ]
    edges = [
        {"source": "start", "target": "each"},
        {"source": "each_start", "target": "work"},
        {"source": "each", "target": "end"},
    ]
    if writes_conversation:
        body.append(
            {
                "id": "remember",
                "type": "assigner",
                "parent_id": "each",
                "items": [
                    {
                        "variable_selector": ["conversation", "seen"],
                        "input_type": "variable",
                        "operation": "append",
                        "value": ["each", "item"],
                    }
                ],
            }
        )
        edges.append({"source": "work", "target": "remember"})
    return {
        "name": "sequential iteration",
        "inputs": [{"variable": "items", "type": "array"}],
        "conversation_variables": [{"name": "seen", "value_type": "array[string]", "value": []}],
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "iteration",
                "iterator_selector": ["start", "items"],
                "output_selector": ["work", output],
                "start_node_id": "each_start",
                "is_parallel": is_parallel,
                "parallel_nums": 3,
                "error_handle_mode": error_handle_mode,
                "flatten_output": flatten_output,
            },
            *body,
            {
                "id": "end",
                "type": "end",
                "outputs": [
                    {"variable": "result", "value_selector": ["each", "output"]},
                    {"variable": "seen", "value_selector": ["conversation", "seen"]},
                ],
            },
        ],
        "edges": edges,
    }
