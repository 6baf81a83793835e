import { useMemo, useState } from "react";

import { ApiError } from "../api/client";
import type { GraphNode, InputVariable, RunMode } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Json } from "../components/Json";
import { formatTime } from "../components/time";
import { InputForm } from "../forms/InputForm";
import { inputNamedBy, type FormErrors } from "../forms/inputForm";
import { GraphView } from "../graph/GraphView";
import { drawableGraph } from "../graph/model";
import { Link, navigate } from "../router";
import { useApi, useSession } from "../session/SessionContext";
import { NodeRun } from "../workflows/NodeRun";
import { useLoad } from "./useLoad";
import { useTitle } from "./useTitle";

export function WorkflowPage({ workflowId }: { workflowId: string }) {
  const client = useApi();
  const workflow = useLoad(() => client.getWorkflow(workflowId), workflowId);
  const [selected, setSelected] = useState<string | null>(null);
  useTitle(workflow.data?.name ?? workflowId);

  const graph = useMemo(() => drawableGraph(workflow.data?.graph ?? null), [workflow.data]);
  const selectedNode = useMemo<GraphNode | null>(
    () => workflow.data?.graph.nodes?.find((node) => node.id === selected) ?? null,
    [workflow.data, selected],
  );

  if (!workflow.data) {
    return (
      <>
        <h1>Workflow {workflowId}</h1>
        <ErrorNotice error={workflow.error} title="Could not load the workflow." />
        {workflow.loading && <p className="muted">Loading…</p>}
      </>
    );
  }
  const data = workflow.data;
  return (
    <>
      <div className="page-head">
        <div>
          <p className="crumbs">
            <Link to="/workflows">Workflows</Link> /
          </p>
          <h1>{data.name}</h1>
          {data.description && <p className="lead">{data.description}</p>}
          <p className="muted">
            <span className="mono">{data.id}</span> · version {data.version} · updated{" "}
            {formatTime(data.updated_at)} ·{" "}
            <Link to={`/runs?workflow=${encodeURIComponent(data.id)}`}>its runs</Link>
          </p>
        </div>
      </div>
      <div className="split">
        <section className="split-main" aria-labelledby="graph-title">
          <h2 id="graph-title">Graph</h2>
          <GraphView
            graph={graph}
            selectedNodeId={selected}
            onSelectNode={setSelected}
            label={`Graph of ${data.name}`}
          />
          <p className="muted hint">Select a node to see its settings.</p>
          {selectedNode && (
            <aside className="panel" aria-labelledby="node-config-title" data-node-id={selectedNode.id}>
              <header className="panel-header">
                <h3 id="node-config-title">{selectedNode.title || selectedNode.id}</h3>
                <button type="button" onClick={() => setSelected(null)}>
                  Close
                </button>
              </header>
              <p>
                <span className="mono">{selectedNode.id}</span> · {selectedNode.type}
              </p>
              <NodeRun key={selectedNode.id} workflowId={data.id} node={selectedNode} />
              <h4>Settings</h4>
              <Json value={selectedNode} label={`Settings of ${selectedNode.id}`} />
            </aside>
          )}
        </section>
        <section className="split-side panel" aria-labelledby="start-title">
          <h2 id="start-title">Start a run</h2>
          <StartRun workflowId={data.id} inputs={data.graph.inputs ?? []} />
        </section>
      </div>
    </>
  );
}

function StartRun({ workflowId, inputs }: { workflowId: string; inputs: InputVariable[] }) {
  const client = useApi();
  const { report } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [serverErrors, setServerErrors] = useState<FormErrors>({});
  const [user, setUser] = useState("");
  const [mode, setMode] = useState<RunMode>("normal");

  const start = async (values: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    setServerErrors({});
    try {
      const started = await client.startRun(workflowId, {
        inputs: values,
        ...(user.trim() ? { user: user.trim() } : {}),
        ...(mode === "step" ? { mode } : {}),
      });
      navigate(`/runs/${encodeURIComponent(started.runId)}`);
    } catch (caught) {
      report(caught);
      setError(caught);
      if (caught instanceof ApiError) {
        const input = inputNamedBy(caught.field);
        if (input) setServerErrors({ [input]: caught.message });
      }
      setBusy(false);
    }
  };

  return (
    <InputForm inputs={inputs} onSubmit={start} busy={busy} serverErrors={serverErrors}>
      <div className="field">
        <label htmlFor="run-user">
          User <span className="muted">(optional: who the run is for, sys.user)</span>
        </label>
        <input
          id="run-user"
          type="text"
          value={user}
          onChange={(event) => setUser(event.target.value)}
          disabled={busy}
        />
      </div>
      <fieldset className="mode" aria-describedby="step-mode-note">
        <legend>Mode</legend>
        <label>
          <input
            type="radio"
            name="mode"
            value="normal"
            checked={mode === "normal"}
            onChange={() => setMode("normal")}
            disabled={busy}
          />{" "}
          Normal
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            value="step"
            checked={mode === "step"}
            onChange={() => setMode("step")}
            disabled={busy}
          />{" "}
          Step mode (pause after every node)
        </label>
        <small id="step-mode-note" className="muted">
          Step mode pauses after each node: look at every node's outputs, change them, then go on.
        </small>
      </fieldset>
      {busy && (
        <p className="muted" role="status">
          Running: the API answers when the run ends or pauses, or with its id when it takes
          longer than its wait.
        </p>
      )}
      <ErrorNotice error={error} title="The run was not started." />
    </InputForm>
  );
}
