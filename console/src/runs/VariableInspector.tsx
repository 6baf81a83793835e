import { useEffect, useId, useState } from "react";

import { ApiError } from "../api/client";
import type { RunVariables } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Json } from "../components/Json";
import { formatTime } from "../components/time";
import type { DrawNode } from "../graph/model";
import { parseJsonObject, prettyJson } from "../reviews/outputsText";
import { useApi, useSession } from "../session/SessionContext";

// Every node's outputs while a run is paused (GET /runs/{id}/variables), each editable before the
// run goes on (PATCH /runs/{id}/variables): the nodes downstream see the change once the pending
// pause is decided. Every edit is kept with who made it and when.

export interface VariableInspectorProps {
  runId: string;
  /** The graph's nodes, for titles and order. */
  nodes: DrawNode[];
  /** The run is paused: values may be changed. */
  editable: boolean;
  /** Changes when the variables may have changed (a new pause, the run's status). */
  reloadKey: string;
}

export function VariableInspector({ runId, nodes, editable, reloadKey }: VariableInspectorProps) {
  const client = useApi();
  const { report } = useSession();
  const [variables, setVariables] = useState<RunVariables | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    client.getVariables(runId).then(
      (read) => {
        if (!current) return;
        setVariables(read);
        setError(null);
      },
      (caught: unknown) => {
        if (!current) return;
        report(caught);
        setError(caught);
      },
    );
    return () => {
      current = false;
    };
  }, [client, runId, reloadKey, report]);

  useEffect(() => {
    if (!editable) setEditing(null);
  }, [editable]);

  const titles = new Map(nodes.map((node) => [node.id, node.title]));
  const order = new Map(nodes.map((node, index) => [node.id, index]));
  const entries = Object.entries(variables?.variables ?? {})
    .filter(([, outputs]) => outputs !== null && outputs !== undefined)
    .sort(([a], [b]) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9) || a.localeCompare(b));
  const pending = variables?.pending_patch ?? {};

  return (
    <section className="panel variable-inspector" aria-labelledby="variables-title">
      <h2 id="variables-title">Variables</h2>
      <p className="muted">
        {editable
          ? "The run is paused: change a node's outputs, then decide the pause; the nodes after it see the change."
          : "Every node's outputs so far. They can be changed while the run is paused."}
      </p>
      <ErrorNotice error={error} title="Could not read the variables." />
      {variables && entries.length === 0 && <p className="muted">No node has outputs yet.</p>}
      <ul className="variable-list">
        {entries.map(([nodeId, outputs]) => (
          <li key={nodeId} data-node-id={nodeId}>
            <div className="variable-head">
              <strong>{titles.get(nodeId) ?? nodeId}</strong>
              {titles.get(nodeId) !== nodeId && <span className="mono muted"> {nodeId}</span>}
              {nodeId in pending && <span className="badge state-paused"> changed: goes with the next decision</span>}
              {editable && editing !== nodeId && (
                <button type="button" className="small" onClick={() => setEditing(nodeId)}>
                  Edit<span className="visually-hidden"> the outputs of {nodeId}</span>
                </button>
              )}
            </div>
            {editing === nodeId ? (
              <VariableEditor
                runId={runId}
                nodeId={nodeId}
                outputs={outputs ?? {}}
                onDone={(changed) => {
                  setEditing(null);
                  if (changed) setVariables(changed);
                }}
              />
            ) : (
              <Json value={outputs} label={`Outputs of ${nodeId}`} />
            )}
          </li>
        ))}
      </ul>
      {variables && variables.edits.length > 0 && (
        <div className="table-wrap">
          <table className="variable-edits">
            <caption>Edits</caption>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Changed to</th>
                <th scope="col">By</th>
                <th scope="col">At</th>
              </tr>
            </thead>
            <tbody>
              {variables.edits.map((edit, index) => (
                <tr key={index} data-node-id={edit.node_id}>
                  <td className="mono">{edit.node_id}</td>
                  <td>
                    <code className="edit-value">{JSON.stringify(edit.outputs)}</code>
                  </td>
                  <td className="mono">{edit.by}</td>
                  <td>{formatTime(edit.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function VariableEditor({
  runId,
  nodeId,
  outputs,
  onDone,
}: {
  runId: string;
  nodeId: string;
  outputs: Record<string, unknown>;
  onDone(changed: RunVariables | null): void;
}) {
  const client = useApi();
  const { report } = useSession();
  const [text, setText] = useState(() => prettyJson(outputs));
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const save = async () => {
    const parsed = parseJsonObject(text);
    if (!parsed.ok) {
      setProblem(parsed.message);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDone(await client.patchVariables(runId, { [nodeId]: parsed.value }));
    } catch (caught) {
      report(caught);
      setError(caught);
      setBusy(false);
      if (caught instanceof ApiError && caught.status === 409) {
        setProblem("The run is no longer paused: its variables cannot change now.");
      }
    }
  };

  return (
    <form
      className="decision-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <div className="field">
        <label htmlFor={id}>New outputs of {nodeId} (JSON object)</label>
        <textarea
          id={id}
          className="mono"
          rows={Math.min(12, Math.max(3, text.split("\n").length + 1))}
          value={text}
          autoFocus
          spellCheck={false}
          disabled={busy}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-error` : undefined}
          onChange={(event) => {
            setText(event.target.value);
            setProblem(null);
          }}
        />
        {problem && (
          <small id={`${id}-error`} className="field-error" role="alert">
            {problem}
          </small>
        )}
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy}>
          Save<span className="visually-hidden"> the outputs of {nodeId}</span>
        </button>
        <button type="button" disabled={busy} onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
      <ErrorNotice error={error} title="The change was not saved." />
    </form>
  );
}
