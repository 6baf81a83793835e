import type { NodeExecution, RunView, WorkflowGraph } from "../api/types";

/** The `hello` example as GET /workflows/hello returns its graph (the fields the console reads). */
export const HELLO: WorkflowGraph = {
  name: "hello",
  inputs: [{ variable: "name", type: "string", required: false, default: "" }],
  nodes: [
    { id: "start", type: "start", title: "Start", position: null },
    { id: "normalize", type: "code", title: "Normalize the name", position: null },
    { id: "has_name", type: "if-else", title: "Has a name?", position: null },
    { id: "greet", type: "template-transform", title: "Greet by name", position: null },
    { id: "end", type: "end", title: "End", position: null },
    { id: "greet_world", type: "template-transform", title: "Greet the world", position: null },
    { id: "end_world", type: "end", title: "End (world)", position: null },
  ],
  edges: [
    { source: "start", target: "normalize" },
    { source: "normalize", target: "has_name" },
    { source: "has_name", source_handle: "true", target: "greet" },
    { source: "greet", target: "end" },
    { source: "has_name", source_handle: "false", target: "greet_world" },
    { source: "greet_world", target: "end_world" },
  ],
};

export function run(changes: Partial<RunView> = {}): RunView {
  return {
    run_id: "r1",
    workflow_id: "hello",
    workflow_version: 1,
    status: "running",
    inputs: {},
    outputs: null,
    error: null,
    elapsed_time: 0.1,
    created_at: "2026-01-01T00:00:00.000Z",
    started_at: "2026-01-01T00:00:00.010Z",
    finished_at: null,
    current_nodes: [],
    progress: { finished_nodes: 0, total_nodes: 3 },
    ...changes,
  };
}

let clock = 0;

export function execution(
  nodeId: string,
  status: string,
  changes: Partial<NodeExecution> = {},
): NodeExecution {
  clock += 1;
  const attempt = changes.attempt ?? 1;
  return {
    node_execution_id: `${String(1_700_000_000_000 + clock).padStart(13, "0")}#${nodeId}#${String(attempt).padStart(3, "0")}`,
    node_id: nodeId,
    node_type: "code",
    attempt,
    status,
    inputs: {},
    outputs: status === "succeeded" ? { output: nodeId } : null,
    error: status === "failed" ? { type: "ValueError", message: "boom" } : null,
    started_at: "2026-01-01T00:00:00.100Z",
    finished_at: status === "running" ? null : "2026-01-01T00:00:00.200Z",
    elapsed_ms: status === "running" ? null : 100,
    ...changes,
  };
}
