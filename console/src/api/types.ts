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
  /** Inside iterations and loops (0-based): the item and round this attempt ran for. */
  container_id?: string | null;
  item_index?: number | null;
  loop_index?: number | null;
  index_path?: { container_id: string; index: number }[] | null;
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
  /** normal, or step (the run pauses after every work node). */
  mode?: RunMode | null;
  /** The run this one retries, when it is a retry. */
  retry_of?: string | null;
}

export interface RunSummary {
  run_id: string;
  workflow_id: string;
  workflow_version: number;
  status: string;
  created_at: string;
  finished_at?: string | null;
  mode?: RunMode | null;
  retry_of?: string | null;
}

/** A page of runs, newest first. */
export interface RunPage {
  runs: RunSummary[];
  page: number;
  hasMore: boolean;
}

export type RunMode = "normal" | "step";

export interface StartRunRequest {
  inputs: Record<string, unknown>;
  user?: string;
  mode?: RunMode;
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

// ------------------------------------------------------------------ human in the loop

export type ReviewKind = "review" | "step" | "human-input";

/** A wait of a run on a person (GET /runs/{id}/reviews). The task token is never shown. */
export interface Review {
  review_id: string;
  run_id: string;
  node_id: string;
  node_type: string;
  node_title: string;
  round: number;
  kind: ReviewKind | string;
  /** Inside iterations and loops (0-based): the item and round this wait is for. */
  container_id?: string | null;
  item_index?: number | null;
  loop_index?: number | null;
  index_path?: { container_id: string; index: number }[] | null;
  status: string;
  outputs?: Record<string, unknown> | null;
  /** The node's review settings (max_rounds...), or the human-input form. */
  settings: Record<string, unknown>;
  decision?: string | null;
  feedback?: string | null;
  edited_outputs?: Record<string, unknown> | null;
  action_id?: string | null;
  inputs?: Record<string, unknown> | null;
  patch?: Record<string, unknown> | null;
  decided_by?: string | null;
  decided_at?: string | null;
  created_at: string;
  expires_at?: string | null;
}

export type ReviewDecision =
  | { action: "approve" }
  | { action: "revise"; feedback: string }
  | { action: "edit"; outputs: Record<string, unknown> }
  | { action: "submit"; action_id?: string; inputs: Record<string, unknown> };

export interface VariableEdit {
  node_id: string;
  outputs: Record<string, unknown>;
  by: string;
  at: string;
}

/** GET/PATCH /runs/{id}/variables: every node's latest outputs, pending edits applied. */
export interface RunVariables {
  run_id: string;
  status: string;
  variables: Record<string, Record<string, unknown> | null>;
  /** Nodes inside iterations and loops: their outputs per item and round, pending edits applied. */
  items?: Record<
    string,
    { index_path: { container_id: string; index: number }[]; outputs: Record<string, unknown> | null; pending: boolean }[]
  >;
  pending_patch: Record<string, unknown>;
  edits: VariableEdit[];
}

export interface RetryAccepted {
  run_id: string;
  status: string;
  retry_of: string;
}

/** A single-node run (POST /workflows/{id}/nodes/{node_id}/run). */
export interface DebugRun {
  debug_run_id: string;
  workflow_id: string;
  node_id: string;
  node_type: string;
  status: string;
  inputs?: Record<string, unknown> | null;
  outputs?: Record<string, unknown> | null;
  error?: { type: string; message: string } | null;
  started_at: string;
  finished_at?: string | null;
  elapsed_ms?: number | null;
  attempts: number;
}
