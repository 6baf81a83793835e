import type { NodeState } from "../runs/nodeState";

// Status is always shown as words; the colour and the glyph only repeat it.

const STATE_GLYPHS: Record<NodeState, string> = {
  waiting: "○",
  running: "◔",
  succeeded: "✓",
  failed: "✕",
  retrying: "↻",
  exception: "⚠",
  paused: "‖",
  skipped: "⤼",
  "not-run": "–",
  stopped: "■",
  unknown: "?",
};

export function StateIcon({ state }: { state: NodeState }) {
  return (
    <span className={`state-icon state-icon-${state}`} aria-hidden="true">
      {STATE_GLYPHS[state]}
    </span>
  );
}

/** Run statuses mapped onto the node palette: one set of colours across the console. */
const RUN_STATUS_STATES: Record<string, NodeState> = {
  pending: "waiting",
  running: "running",
  paused: "paused",
  succeeded: "succeeded",
  "partial-succeeded": "exception",
  failed: "failed",
  stopped: "stopped",
};

export function RunStatusBadge({ status }: { status: string }) {
  const state = RUN_STATUS_STATES[status] ?? "unknown";
  return (
    <span className={`badge state-${state}`} data-status={status}>
      <StateIcon state={state} /> {status}
    </span>
  );
}

export function NodeStateBadge({ state, label }: { state: NodeState; label: string }) {
  return (
    <span className={`badge state-${state}`} data-state={state}>
      <StateIcon state={state} /> {label}
    </span>
  );
}
