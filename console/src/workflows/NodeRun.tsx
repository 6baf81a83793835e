import { useId, useMemo, useState } from "react";

import type { DebugRun, GraphNode } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Json } from "../components/Json";
import { formatDuration, formatTime } from "../components/time";
import { parseLooseValue } from "../reviews/outputsText";
import { useApi, useSession } from "../session/SessionContext";
import { variablesRead } from "./nodeReads";

// Run one node alone (POST /workflows/{id}/nodes/{node_id}/run) with values for the variables it
// reads; the answer is its outputs or its error, and its timings. Nothing else of the workflow runs.

const NOT_ALONE = new Set(["start", "end", "if-else", "iteration-start", "loop-start", "loop-end"]);

export function NodeRun({ workflowId, node }: { workflowId: string; node: GraphNode }) {
  const client = useApi();
  const { report } = useSession();
  const reads = useMemo(() => variablesRead(node), [node]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<DebugRun | null>(null);
  const ids = useId();

  if (NOT_ALONE.has(node.type)) return null;

  const run = async () => {
    const inputs: Record<string, Record<string, unknown>> = {};
    for (const read of reads) {
      const text = values[`${read.nodeId}.${read.name}`] ?? "";
      (inputs[read.nodeId] ??= {})[read.name] = parseLooseValue(text);
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await client.runNode(workflowId, node.id, inputs));
    } catch (caught) {
      report(caught);
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="node-run" aria-labelledby={`${ids}-title`}>
      <h4 id={`${ids}-title`}>Run this node alone</h4>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
        noValidate
      >
        {reads.length === 0 && <p className="muted">It reads no variables.</p>}
        {reads.map((read) => {
          const key = `${read.nodeId}.${read.name}`;
          const id = `${ids}-${read.nodeId}-${read.name}`;
          return (
            <div className="field" key={key}>
              <label htmlFor={id}>
                <span className="mono">{key}</span>
              </label>
              <input
                id={id}
                type="text"
                value={values[key] ?? ""}
                disabled={busy}
                aria-describedby={`${ids}-hint`}
                onChange={(event) => setValues((previous) => ({ ...previous, [key]: event.target.value }))}
              />
            </div>
          );
        })}
        {reads.length > 0 && (
          <small id={`${ids}-hint`} className="muted">
            A value that reads as JSON (a number, true, {"{...}"}, [...], "quoted") is sent as JSON;
            anything else as text.
          </small>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Running…" : "Run node"}
        </button>
      </form>
      <ErrorNotice error={error} title="The node was not run." />
      {result && (
        <div className="node-run-result" role="status" data-status={result.status}>
          <p>
            <strong>{result.status}</strong> in {formatDuration(result.elapsed_ms)} · started{" "}
            {formatTime(result.started_at)}
            {result.attempts > 1 ? ` · ${result.attempts} attempts` : ""}
          </p>
          {result.error && (
            <div className="notice notice-error">
              <strong>{result.error.type}</strong>: <span className="error-text">{result.error.message}</span>
            </div>
          )}
          <Json value={result.outputs ?? null} label={`Outputs of the single run of ${node.id}`} />
        </div>
      )}
    </section>
  );
}
