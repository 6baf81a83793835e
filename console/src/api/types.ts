// The API's shapes as the console reads them (the OpenAPI document at /openapi.json is the source).
// Fields the console does not use are left out; unknown extra fields are tolerated everywhere.

export type InputType =
  | "string"
  | "paragraph"
  | "select"
  | "number"
  | "boolean"
  | "object"
  | "array";

export interface InputVariable {
  variable: string;
  type?: InputType | string;
  required?: boolean;
  default?: unknown;
  label?: string | null;
  max_length?: number | null;
  options?: string[];
}

export interface Position {
  x: number;
  y: number;
}

/** A node of a workflow graph: the common fields; type-specific ones sit beside them. */
export interface GraphNode {
  id: string;
  type: string;
  title?: string | null;
  description?: string | null;
  position?: Position | null;
  [field: string]: unknown;
}

export interface GraphEdge {
  source: string;
  target: string;
  source_handle?: string | null;
  [field: string]: unknown;
}

export interface WorkflowGraph {
  name?: string;
  description?: string;
  inputs?: InputVariable[];
  nodes?: GraphNode[];
  edges?: GraphEdge[];
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  version: number;
  state_machine_arn: string;
  created_at: string;
  updated_at: string;
}

export interface WorkflowDetail extends WorkflowSummary {
  graph: WorkflowGraph;
}

export interface WorkflowCreated {
  id: string;
  version: number;
  name: string;
  state_machine_arn: string;
}

/** One validation problem of a graph; `node_id` is null for graph-wide problems. */
export interface Issue {
  code: string;
  message: string;
  node_id?: string | null;
  edge_id?: string | null;
}

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  field?: string | null;
  issues?: Issue[] | null;
}

export interface NodeExecution {
  node_execution_id: string;
  node_id: string;
  node_type: string;
  title?: string | null;
  attempt: number;
  status: string;
  inputs?: Record<string, unknown> | null;
  outputs?: Record<string, unknown> | null;
  error?: { type?: string; message?: string; [field: string]: unknown } | null;
  started_at?: string | null;
  finished_at?: string | null;
  elapsed_ms?: number | null;
  /** The review round these outputs belong to (reviewed nodes), when the API reports it. */
  round?: number | null;
  /** The decision on these outputs (reviewed nodes), when the API reports it. */
  review?: ReviewSummary | null;
  [field: string]: unknown;
}

/** What the console shows of a review of a node's outputs. */
export interface ReviewSummary {
  status?: string;
  decision?: string | null;
  feedback?: string | null;
  decided_by?: string | null;
  decided_at?: string | null;
  [field: string]: unknown;
}

export interface RunView {
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  inputs: Record<string, unknown>;
  outputs?: Record<string, unknown> | null;
  error?: { node_id?: string | null; type?: string; message?: string; [field: string]: unknown } | null;
  user?: string | null;
  elapsed_time: number;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  execution_arn?: string | null;
  current_nodes: NodeExecution[];
  progress: { finished_nodes: number; total_nodes: number };
}

export interface RunSummary {
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  created_at: string;
  finished_at?: string | null;
}

/** A page of runs, newest first. */
export interface RunPage {
  runs: RunSummary[];
  page: number;
  hasMore: boolean;
}

export interface StartRunRequest {
  inputs: Record<string, unknown>;
  user?: string;
}

/** What starting a run answered: the finished run (200), or only its id while it runs (202). */
export interface StartedRun {
  runId: string;
  status: string;
  run: RunView | null;
}

export const RUN_STATUSES = [
  "pending",
  "running",
  "paused",
  "succeeded",
  "partial-succeeded",
  "failed",
  "stopped",
] as const;

const TERMINAL_RUN_STATUSES = new Set(["succeeded", "partial-succeeded", "failed", "stopped"]);

export function isTerminalRunStatus(status: string): boolean {
  return TERMINAL_RUN_STATUSES.has(status);
}
