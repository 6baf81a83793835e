import { useEffect, useMemo, useRef, useState } from "react";

import type { Review } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Json } from "../components/Json";
import { NodeStateBadge, RunStatusBadge, StateIcon } from "../components/StatusBadge";
import { formatDuration, formatTime } from "../components/time";
import { GraphView } from "../graph/GraphView";
import { drawableGraph } from "../graph/model";
import { reviewPlace } from "../reviews/place";
import { useReviews } from "../reviews/useReviews";
import { NodeDetails } from "../runs/NodeDetails";
import { NODE_STATE_LABELS, NODE_STATES, nodeStates } from "../runs/nodeState";
import { CancelRun, isRetryable, RetryPanel } from "../runs/RunControls";
import { useRun } from "../runs/useRun";
import { VariableInspector } from "../runs/VariableInspector";
import { Link } from "../router";
import { useApi } from "../session/SessionContext";
import { useLoad } from "./useLoad";
import { useTitle } from "./useTitle";

export function RunPage({ runId }: { runId: string }) {
  useTitle(`Run ${runId.slice(0, 8)}`);
  const client = useApi();
  const { snapshot, error, settled, mode, refresh } = useRun(runId);
  const reviews = useReviews(runId, snapshot);
  const workflowId = snapshot?.run.workflow_id ?? "";
  // The workflow's graph is read once the run names it (an empty key loads nothing yet).
  const workflow = useLoad(
    () => (workflowId ? client.getWorkflow(workflowId) : Promise.resolve(null)),
    workflowId,
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [retryFrom, setRetryFrom] = useState<string | null>(null);
  const [message, setMessage] = useState("");

  const graph = useMemo(() => drawableGraph(workflow.data?.graph ?? null), [workflow.data]);
  const pending = reviews.pending;
  const states = useMemo(
    () => (snapshot ? nodeStates(graph, snapshot.run, snapshot.nodes, pending) : {}),
    [graph, snapshot, pending],
  );
  const pendingByNode = useMemo(() => new Map(pending.map((review) => [review.node_id, review])), [pending]);

  // A new pause opens its node, so the decision is at hand (once per review: closing it sticks).
  const opened = useRef(new Set<string>());
  useEffect(() => {
    const fresh = pending.find((review) => !opened.current.has(review.review_id));
    if (!fresh) return;
    for (const review of pending) opened.current.add(review.review_id);
    setSelected(fresh.node_id);
  }, [pending]);

  const changed = (text: string) => {
    setMessage(text);
    refresh();
    reviews.reload();
  };

  if (!snapshot) {
    return (
      <>
        <h1>Run <span className="mono">{runId}</span></h1>
        <ErrorNotice error={error} title="Could not read the run." />
        {!error && <p className="muted">Loading…</p>}
      </>
    );
  }

  const { run } = snapshot;
  const selectedNode = graph.nodes.find((node) => node.id === selected) ?? null;
  const versionDiffers = workflow.data && workflow.data.version !== run.workflow_version;

  return (
    <>
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link to="/runs">Runs</Link> /
          </p>
          <h1>
            Run <span className="mono run-id">{run.run_id}</span>
          </h1>
          <p className="run-summary">
            <RunStatusBadge status={run.status} />{" "}
            <span>
              of <Link to={`/workflows/${encodeURIComponent(run.workflow_id)}`}>{run.workflow_id}</Link>{" "}
              v{run.workflow_version}
            </span>
            {run.mode === "step" && <span className="badge mode-badge">step mode</span>}
            {run.retry_of && (
              <span className="retry-of">
                retry of <Link to={`/runs/${encodeURIComponent(run.retry_of)}`} className="mono">{run.retry_of}</Link>
              </span>
            )}
            <span aria-live="polite" className="muted live" data-mode={mode ?? ""}>
              {settled ? "final" : error ? "retrying…" : mode === "stream" ? "live" : "updating every second"}
            </span>
          </p>
        </div>
        <CancelRun run={run} onChanged={changed} />
      </div>
      <p className="status-line" role="status" aria-live="polite">
        {message}
      </p>
      {pending.length > 0 && <WaitingOnYou pending={pending} onOpen={setSelected} />}
      <ErrorNotice error={error} title={settled ? "Could not read the run." : "Reading the run failed; trying again."} />
      {workflow.error != null && <ErrorNotice error={workflow.error} title="Could not load the workflow's graph." />}
      {versionDiffers && (
        <p className="notice">
          The graph shown is the workflow's version {workflow.data!.version}; this run used version{" "}
          {run.workflow_version}.
        </p>
      )}
      <dl className="facts run-facts">
        <dt>Created</dt>
        <dd>{formatTime(run.created_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(run.finished_at)}</dd>
        <dt>Elapsed</dt>
        <dd>{formatDuration(run.elapsed_time * 1000)}</dd>
        <dt>Progress</dt>
        <dd>
          {run.progress.finished_nodes} of {run.progress.total_nodes} work nodes finished
        </dd>
        {run.user && (
          <>
            <dt>User</dt>
            <dd>{run.user}</dd>
          </>
        )}
      </dl>
      {run.error && (
        <div className="notice notice-error" role="alert">
          {run.status === "stopped" ? "The run was stopped" : "The run failed"}{run.error.node_id ? <> at node <span className="mono">{run.error.node_id}</span></> : null}:{" "}
          <strong>{run.error.type ?? "Error"}</strong>: <span className="error-text">{run.error.message ?? ""}</span>
        </div>
      )}
      <div className={`split${selectedNode ? " with-details" : ""}`}>
        <section className="split-main" aria-labelledby="run-graph-title">
          <h2 id="run-graph-title">Graph</h2>
          <GraphView
            graph={graph}
            states={states}
            selectedNodeId={selected}
            onSelectNode={setSelected}
            label={`Graph of run ${run.run_id}`}
          />
          <Legend />
        </section>
        {selectedNode && states[selectedNode.id] && (
          <div className="split-side">
            <NodeDetails
              node={selectedNode}
              run={run}
              state={states[selectedNode.id]}
              review={pendingByNode.get(selectedNode.id) ?? null}
              onDecided={changed}
              onRetryFrom={
                isRetryable(run)
                  ? (nodeId) => {
                      setRetryFrom(nodeId);
                      document.getElementById("retry-panel")?.querySelector("select")?.focus();
                    }
                  : undefined
              }
              onClose={() => setSelected(null)}
            />
          </div>
        )}
      </div>
      {isRetryable(run) && (
        <RetryPanel
          run={run}
          nodes={graph.nodes}
          states={states}
          retryFrom={retryFrom}
          onRetryFromChange={setRetryFrom}
        />
      )}
      {(run.mode === "step" || run.status === "paused") && (
        <VariableInspector
          runId={run.run_id}
          nodes={graph.nodes}
          editable={run.status === "paused" && pending.length > 0}
          reloadKey={`${run.status}|${pending.map((review) => review.review_id).join(",")}`}
        />
      )}
      <section aria-labelledby="node-list-title">
        <h2 id="node-list-title">Nodes</h2>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col" className="optional-column">Type</th>
                <th scope="col">State</th>
                <th scope="col" className="optional-column">Attempts</th>
                <th scope="col" className="optional-column">Took</th>
              </tr>
            </thead>
            <tbody>
              {graph.nodes.map((node) => {
                const state = states[node.id];
                const latest = state?.attempts[state.attempts.length - 1];
                return (
                  <tr key={node.id} data-node-id={node.id} aria-selected={node.id === selected}>
                    <td>
                      <button type="button" className="link" onClick={() => setSelected(node.id)}>
                        {node.title}
                      </button>
                      {node.title !== node.id && <span className="mono muted"> {node.id}</span>}
                    </td>
                    <td className="optional-column">{node.type}</td>
                    <td>{state && <NodeStateBadge state={state.state} label={state.label} />}</td>
                    <td className="optional-column">{state?.attempts.length ?? 0}</td>
                    <td className="optional-column">{formatDuration(latest?.elapsed_ms)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <div className="columns">
        <section aria-labelledby="run-inputs-title">
          <h2 id="run-inputs-title">Inputs</h2>
          <Json value={run.inputs} label="Run inputs" />
        </section>
        <section aria-labelledby="run-outputs-title">
          <h2 id="run-outputs-title">Outputs</h2>
          <Json value={run.outputs ?? null} label="Run outputs" />
        </section>
      </div>
    </>
  );
}

function WaitingOnYou({ pending, onOpen }: { pending: Review[]; onOpen(nodeId: string): void }) {
  return (
    <div className="notice notice-waiting" role="region" aria-label="Waiting on a person">
      <strong>Waiting on a person:</strong>
      <ul>
        {pending.map((review) => (
          <li key={review.review_id}>
            <button type="button" className="link" onClick={() => onOpen(review.node_id)}>
              {review.kind === "human-input" ? "Fill in the form of" : review.kind === "step" ? "Go on after" : "Review"}{" "}
              {review.node_title || review.node_id}
            </button>
            {reviewPlace(review) && <span className="muted"> · {reviewPlace(review)}</span>}
            {review.kind === "review" && review.round > 1 && <span className="muted"> (round {review.round})</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Legend() {
  return (
    <ul className="legend" aria-label="What the node colours mean">
      {NODE_STATES.map((state) => (
        <li key={state} className={`state-${state}`}>
          <StateIcon state={state} /> {NODE_STATE_LABELS[state]}
        </li>
      ))}
    </ul>
  );
}
