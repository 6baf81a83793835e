import { useEffect, useId, useRef, useState } from "react";

import { isTerminalRunStatus, type RunView } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import type { DrawNode } from "../graph/model";
import { parseNodeChanges } from "../reviews/outputsText";
import { navigate } from "../router";
import { useApi, useSession } from "../session/SessionContext";
import type { NodeStateView } from "./nodeState";

// Cancel a run that has not ended (POST /runs/{id}/cancel, after a confirmation), and retry a
// failed or stopped one from a node (POST /runs/{id}/retry): the new run starts at that node with
// this run's outputs of the nodes before it, changed by the variable edits given.

const RETRYABLE = new Set(["failed", "stopped"]);

export interface RetryPanelProps {
  run: RunView;
  nodes: DrawNode[];
  states: Record<string, NodeStateView>;
  /** The node to retry from, chosen elsewhere (a node's details); null: the default. */
  retryFrom: string | null;
  onRetryFromChange(nodeId: string): void;
}

/** Runs that may be retried from a node. */
export function isRetryable(run: RunView): boolean {
  return RETRYABLE.has(run.status);
}

/** Cancel, with a confirmation, a run that has not ended. */
export function CancelRun({ run, onChanged }: { run: RunView; onChanged(message: string): void }) {
  const client = useApi();
  const { report } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const ids = useId();

  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  if (isTerminalRunStatus(run.status)) return null;

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.cancelRun(run.run_id);
      setConfirming(false);
      onChanged("The run was cancelled: it is stopped and its open reviews are closed.");
    } catch (caught) {
      report(caught);
      setError(caught);
      onChanged("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="run-controls" aria-label="Run controls">
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Cancel run
        </button>
      ) : (
        <div className="confirm" role="group" aria-labelledby={`${ids}-question`}>
          <p id={`${ids}-question`}>
            <strong>Cancel this run?</strong> It stops where it is, its open reviews close, and it
            cannot go on (it can be retried from a node afterwards).
          </p>
          <div className="button-row">
            <button type="button" className="danger" ref={confirmButton} disabled={busy} onClick={() => void cancel()}>
              Yes, cancel the run
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
              No, keep it running
            </button>
          </div>
        </div>
      )}
      <ErrorNotice error={error} title="The run was not cancelled." />
    </section>
  );
}

/** The node a retry starts at unless a person picks another: where the run failed, else the
 * first work node that did not finish. */
export function defaultRetryNode(run: RunView, nodes: DrawNode[], states: Record<string, NodeStateView>): string {
  if (run.error?.node_id && nodes.some((node) => node.id === run.error?.node_id)) return run.error.node_id;
  const unfinished = nodes.find(
    (node) => node.type !== "start" && !["succeeded", "exception", "skipped"].includes(states[node.id]?.state ?? ""),
  );
  return unfinished?.id ?? nodes.find((node) => node.type !== "start")?.id ?? "";
}

/** Retry a failed or stopped run from a node, with optional variable changes. */
export function RetryPanel({ run, nodes, states, retryFrom, onRetryFromChange }: RetryPanelProps) {
  const client = useApi();
  const { report } = useSession();
  const [changes, setChanges] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ids = useId();
  const choices = nodes.filter((node) => node.type !== "start");
  const fromNode = retryFrom ?? defaultRetryNode(run, nodes, states);

  const retry = async () => {
    const parsed = parseNodeChanges(changes, new Set(nodes.map((node) => node.id)));
    if (!parsed.ok) {
      setProblem(parsed.message);
      return;
    }
    if (!fromNode) return;
    setBusy(true);
    setError(null);
    try {
      const accepted = await client.retryRun(run.run_id, fromNode, parsed.value);
      navigate(`/runs/${encodeURIComponent(accepted.run_id)}`);
    } catch (caught) {
      report(caught);
      setError(caught);
      setBusy(false);
    }
  };

  return (
    <section id="retry-panel" className="panel run-controls retry" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Retry from a node</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void retry();
        }}
        noValidate
      >
        <div className="field">
          <label htmlFor={`${ids}-node`}>Start again at</label>
          <select
            id={`${ids}-node`}
            value={fromNode}
            disabled={busy}
            onChange={(event) => onRetryFromChange(event.target.value)}
          >
            {choices.map((node) => (
              <option key={node.id} value={node.id}>
                {node.title}
                {node.title !== node.id ? ` (${node.id})` : ""} · {states[node.id]?.label ?? "?"}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-changes`}>
            Variable changes <span className="muted">(optional)</span>
          </label>
          <textarea
            id={`${ids}-changes`}
            className="mono"
            rows={3}
            value={changes}
            spellCheck={false}
            placeholder={'{"start": {"topic": "cats"}}'}
            disabled={busy}
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${ids}-changes-hint${problem ? ` ${ids}-changes-error` : ""}`}
            onChange={(event) => {
              setChanges(event.target.value);
              setProblem(null);
            }}
          />
          <small id={`${ids}-changes-hint`} className="muted">
            JSON: {"{"}"node id": {"{"}"output name": value{"}"}{"}"}; the outputs of nodes before the
            retry point that the new run should see instead of this run's.
          </small>
          {problem && (
            <small id={`${ids}-changes-error`} className="field-error" role="alert">
              {problem}
            </small>
          )}
        </div>
        <button type="submit" className="primary" disabled={busy || !fromNode}>
          {busy ? "Starting…" : "Retry from this node"}
        </button>
      </form>
      <ErrorNotice error={error} title="The retry was not started." />
    </section>
  );
}
