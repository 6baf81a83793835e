import { useEffect, useRef } from "react";

import type { NodeExecution, Review, RunView } from "../api/types";
import { Json } from "../components/Json";
import { NodeStateBadge } from "../components/StatusBadge";
import { formatDuration, formatTime } from "../components/time";
import type { DrawNode } from "../graph/model";
import { ReviewPanel } from "../reviews/ReviewPanel";
import { reviewPlace } from "../reviews/place";
import type { NodeStateView } from "./nodeState";

export interface NodeDetailsProps {
  node: DrawNode;
  run: RunView;
  state: NodeStateView;
  /** The node's pending review, when the run waits on it. */
  review: Review | null;
  onDecided(message: string): void;
  /** Offered on a failed or stopped run: retry it from this node. */
  onRetryFrom?(nodeId: string): void;
  onClose(): void;
}

function Attempt({ execution, index }: { execution: NodeExecution; index: number }) {
  // Inside iterations and loops each item and round runs the node again: say which.
  const place = reviewPlace(execution);
  return (
    <details className="attempt" open={index === 0} data-attempt={execution.attempt}>
      <summary>
        Attempt {execution.attempt}
        {execution.round ? <>, round {execution.round}</> : null}
        {place ? <>, {place}</> : null}: <strong>{execution.status}</strong>
        {execution.elapsed_ms !== null && execution.elapsed_ms !== undefined && (
          <> in {formatDuration(execution.elapsed_ms)}</>
        )}
      </summary>
      <dl className="facts">
        <dt>Started</dt>
        <dd>{formatTime(execution.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(execution.finished_at)}</dd>
        <dt>Took</dt>
        <dd>{formatDuration(execution.elapsed_ms)}</dd>
      </dl>
      {execution.error && (
        <div className="notice notice-error">
          <strong>{execution.error.type ?? "Error"}</strong>:{" "}
          <span className="error-text">{execution.error.message ?? ""}</span>
        </div>
      )}
      {execution.review && (
        <div className="notice" data-review-status={execution.review.status}>
          <strong>Review: {execution.review.decision ?? execution.review.status ?? "pending"}</strong>
          {execution.review.feedback && <p className="error-text">{execution.review.feedback}</p>}
          {execution.review.decided_by && (
            <p className="muted">
              by <span className="mono">{execution.review.decided_by}</span>,{" "}
              {formatTime(execution.review.decided_at)}
            </p>
          )}
        </div>
      )}
      <h4>Inputs</h4>
      <Json value={execution.inputs ?? {}} label={`Inputs of attempt ${execution.attempt}`} />
      <h4>Outputs</h4>
      <Json value={execution.outputs ?? null} label={`Outputs of attempt ${execution.attempt}`} />
    </details>
  );
}

/** Everything known about one node of a run: state, error, every attempt with its data. */
export function NodeDetails({ node, state, review, onDecided, onRetryFrom, onClose }: NodeDetailsProps) {
  // Newest attempt first: that is the one a person looks for.
  const attempts = [...state.attempts].reverse();
  // Opening a node moves the focus (and, on a narrow screen, the view) to its details.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
    heading.current?.scrollIntoView?.({ block: "nearest" });
  }, [node.id]);
  return (
    <aside className="panel node-details" aria-labelledby="node-details-title" data-node-id={node.id}>
      <header className="panel-header">
        <h2 id="node-details-title" tabIndex={-1} ref={heading}>
          {node.title}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the node details">
          Close
        </button>
      </header>
      <p>
        <span className="mono">{node.id}</span> · {node.type} ·{" "}
        <NodeStateBadge state={state.state} label={state.label} />
      </p>
      {state.inferred && (
        <p className="muted">
          {state.state === "waiting" || state.state === "not-run" || state.state === "unknown"
            ? "No execution of this node is recorded."
            : "This node leaves no execution record (it runs inside the state machine); its state follows from the graph."}
        </p>
      )}
      {state.runError && (
        <div className="notice notice-error" role="status">
          The run failed here: <strong>{state.runError.type ?? "Error"}</strong>:{" "}
          <span className="error-text">{state.runError.message ?? ""}</span>
        </div>
      )}
      {review && <ReviewPanel key={review.review_id} review={review} onDecided={onDecided} />}
      {onRetryFrom && node.type !== "start" && (
        <p>
          <button type="button" onClick={() => onRetryFrom(node.id)}>
            Retry the run from this node
          </button>
        </p>
      )}
      {attempts.length > 0 && (
        <section aria-label="Attempts">
          <h3>
            {attempts.length === 1 ? "Execution" : `${attempts.length} attempts`}
          </h3>
          {attempts.map((execution, index) => (
            <Attempt key={execution.node_execution_id} execution={execution} index={index} />
          ))}
        </section>
      )}
    </aside>
  );
}
