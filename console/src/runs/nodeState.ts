import { isTerminalRunStatus, type NodeExecution, type Review, type RunView } from "../api/types";
import { adjacency, topologicalOrder, type DrawableGraph } from "../graph/model";

// What state each node of a run is in, from what the API tells: the run (GET /runs/{id}) and its
// node executions (GET /runs/{id}/nodes, one per attempt). Work nodes leave executions; logic
// nodes (start, if-else, end...) compile to native states and leave none, and neither do skipped
// nodes, so their state is inferred from the graph: a node ran when one of its incoming edges was
// taken, and a branch's taken handle shows in the executions of the nodes only it leads to.

export type NodeState =
  | "waiting"
  | "running"
  | "succeeded"
  | "failed"
  | "retrying"
  | "exception"
  | "paused"
  | "skipped"
  | "not-run"
  | "stopped"
  | "unknown";

export const NODE_STATE_LABELS: Record<NodeState, string> = {
  waiting: "waiting",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  retrying: "retrying",
  exception: "exception (handled)",
  paused: "paused for review",
  skipped: "skipped",
  "not-run": "not run",
  stopped: "stopped",
  unknown: "not recorded",
};

/** Every state, in the order the legend lists them. */
export const NODE_STATES = Object.keys(NODE_STATE_LABELS) as NodeState[];

export interface NodeStateView {
  state: NodeState;
  /** The state as words, for people and screen readers (colour is never the only signal). */
  label: string;
  /** True when no execution says so: the state follows from the graph and the run. */
  inferred: boolean;
  /** Every execution of the node, first attempt first. */
  attempts: NodeExecution[];
  /** The run's error, when it names this node. */
  runError: RunView["error"] | null;
}

/** Node types that compile to native states and leave no execution record. */
export const LOGIC_NODE_TYPES = new Set([
  "start",
  "end",
  "if-else",
  "variable-aggregator",
  "variable-assigner",
  "assigner",
  "iteration-start",
  "loop-start",
  "loop-end",
]);

const RECORD_STATES: Record<string, NodeState> = {
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  retrying: "retrying",
  exception: "exception",
  skipped: "skipped",
  paused: "paused",
  waiting: "paused",
  waiting_review: "paused",
  "waiting-review": "paused",
  review: "paused",
  reviewing: "paused",
  stopped: "stopped",
  cancelled: "stopped",
  canceled: "stopped",
};

const PAUSE_LABELS: Record<string, string> = {
  review: "paused for review",
  step: "paused (step mode)",
  "human-input": "waiting for input",
};

/** States after which the run carries on from the node (its outputs are there to use). */
const PASSED: ReadonlySet<NodeState> = new Set(["succeeded", "exception"]);
/** States a node may still leave, so what follows it is not decided yet. */
const OPEN: ReadonlySet<NodeState> = new Set(["waiting", "running", "retrying", "paused", "unknown"]);

/** Review statuses that end a wait without a decision: the run did not go on from the node. */
const UNDECIDED_REVIEWS: Record<string, NodeState> = { cancelled: "stopped" };

function recordState(attempts: NodeExecution[], runStatus: string): NodeState {
  const latest = attempts[attempts.length - 1];
  // A run cancelled while it waited on the node's review stopped there, whatever the node did.
  const closed = UNDECIDED_REVIEWS[latest.review?.status ?? ""];
  if (closed) return closed;
  const state = RECORD_STATES[latest.status] ?? "unknown";
  if (state === "running") {
    // An execution still "running" in a finished run was cut off (cancelled, timed out).
    if (isTerminalRunStatus(runStatus)) return "stopped";
    if (latest.attempt > 1 || attempts.length > 1) return "retrying";
  }
  return state;
}

function reachableFrom(starts: string[], outgoing: Map<string, { target: string }[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const edge of outgoing.get(id) ?? []) stack.push(edge.target);
  }
  return seen;
}

/** The state of every node of `graph` in this run. */
export function nodeStates(
  graph: DrawableGraph,
  run: RunView,
  executions: NodeExecution[],
  pending: Review[] = [],
): Record<string, NodeStateView> {
  // A node with a pending review is paused whatever its execution says (a reviewed node's own
  // execution has ended; a human-input node has none): what follows it is not decided yet.
  const pausedBy = new Map(pending.map((review) => [review.node_id, review]));
  const { outgoing, incoming } = adjacency(graph);
  const types = new Map(graph.nodes.map((node) => [node.id, node.type]));
  const attemptsOf = new Map<string, NodeExecution[]>();
  for (const execution of executions) {
    const list = attemptsOf.get(execution.node_id) ?? [];
    list.push(execution);
    attemptsOf.set(execution.node_id, list);
  }
  for (const list of attemptsOf.values()) {
    list.sort((a, b) => a.attempt - b.attempt || a.node_execution_id.localeCompare(b.node_execution_id));
  }

  // A branching node (its edges leave by more than one handle) takes one handle: the one whose
  // exclusive part of the graph holds an execution.
  const takenHandle = new Map<string, string | null>();
  for (const node of graph.nodes) {
    const edges = outgoing.get(node.id)!;
    const handles = [...new Set(edges.map((edge) => edge.handle))];
    if (handles.length < 2) continue;
    const reach = new Map(
      handles.map((handle) => [
        handle,
        reachableFrom(edges.filter((edge) => edge.handle === handle).map((edge) => edge.target), outgoing),
      ]),
    );
    let taken: string | null = null;
    for (const handle of handles) {
      const others = handles.filter((other) => other !== handle).map((other) => reach.get(other)!);
      const exclusive = [...reach.get(handle)!].filter((id) => !others.some((set) => set.has(id)));
      if (exclusive.some((id) => attemptsOf.has(id))) {
        taken = handle;
        break;
      }
    }
    takenHandle.set(node.id, taken);
  }

  const terminal = isTerminalRunStatus(run.status);
  const finishedWell = run.status === "succeeded" || run.status === "partial-succeeded";
  const started = run.status !== "pending" || Boolean(run.started_at);
  const failedNode = run.error?.node_id ?? null;
  const states = new Map<string, NodeState>();

  for (const id of topologicalOrder(graph)) {
    if (pausedBy.has(id) && !terminal) {
      states.set(id, "paused");
      continue;
    }
    const attempts = attemptsOf.get(id);
    if (attempts?.length) {
      states.set(id, recordState(attempts, run.status));
      continue;
    }
    if (id === failedNode) {
      states.set(id, "failed");
      continue;
    }
    const logic = LOGIC_NODE_TYPES.has(types.get(id) ?? "");
    const edges = incoming.get(id)!;
    if (edges.length === 0) {
      // Only the start node has no way in (validation rejects any other).
      states.set(id, started ? "succeeded" : "waiting");
      continue;
    }
    let taken = false; // an edge whose source passed and chose it
    let declined = false; // an edge not chosen: a branch went elsewhere, or its source was skipped
    let undecided = false; // an edge whose source may still finish or choose it
    for (const edge of edges) {
      const source = states.get(edge.source) ?? "unknown";
      if (PASSED.has(source)) {
        const handle = takenHandle.has(edge.source) ? takenHandle.get(edge.source) : edge.handle;
        if (handle === edge.handle) taken = true;
        else if (handle === null) undecided = true;
        else declined = true;
      } else if (source === "skipped") declined = true;
      else if (OPEN.has(source)) undecided = true;
    }
    if (taken) {
      // A logic node runs as soon as it is reached; a work node that left no execution has not.
      states.set(id, logic ? "succeeded" : terminal ? "not-run" : "waiting");
    } else if (undecided) {
      states.set(id, !terminal ? "waiting" : finishedWell ? "unknown" : "not-run");
    } else {
      // Every way in is closed: by a choice (skipped), or because the run ended before it.
      states.set(id, declined ? "skipped" : "not-run");
    }
  }

  const views: Record<string, NodeStateView> = {};
  for (const node of graph.nodes) {
    const state = states.get(node.id) ?? "unknown";
    const attempts = attemptsOf.get(node.id) ?? [];
    let label = NODE_STATE_LABELS[state];
    const latest = attempts[attempts.length - 1];
    if (state === "retrying" && latest) label = `retrying (attempt ${latest.attempt})`;
    const review = pausedBy.get(node.id);
    if (state === "paused" && review) label = PAUSE_LABELS[review.kind] ?? label;
    views[node.id] = {
      state,
      label,
      inferred: attempts.length === 0 && !review,
      attempts,
      runError: node.id === failedNode ? run.error : null,
    };
  }
  return views;
}
