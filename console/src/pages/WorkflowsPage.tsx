import { useMemo, useState, type ChangeEvent, type FormEvent } from "react";

import { ApiError } from "../api/client";
import type { Issue } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../components/time";
import { GraphView } from "../graph/GraphView";
import { drawableGraph } from "../graph/model";
import { Link, navigate } from "../router";
import { useApi, useSession } from "../session/SessionContext";
import { placeIssues, readWorkflowFile, type ReadFile } from "../workflows/importFile";
import { useLoad } from "./useLoad";
import { useTitle } from "./useTitle";

export function WorkflowsPage() {
  useTitle("Workflows");
  const client = useApi();
  const workflows = useLoad(() => client.listWorkflows(), "workflows");

  return (
    <>
      <div className="page-head">
        <h1>Workflows</h1>
      </div>
      <ImportPanel />
      <section aria-labelledby="workflow-list-title">
        <h2 id="workflow-list-title">Deployed</h2>
        <ErrorNotice error={workflows.error} title="Could not list the workflows." />
        {workflows.loading && !workflows.data && <p className="muted">Loading…</p>}
        {workflows.data && workflows.data.length === 0 && (
          <p className="muted">No workflows yet: import one above.</p>
        )}
        {workflows.data && workflows.data.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Workflow</th>
                  <th scope="col" className="optional-column">Description</th>
                  <th scope="col" className="optional-column">Version</th>
                  <th scope="col" className="optional-column">Updated</th>
                  <th scope="col">Runs</th>
                </tr>
              </thead>
              <tbody>
                {workflows.data.map((workflow) => (
                  <tr key={workflow.id} data-workflow-id={workflow.id}>
                    <td>
                      <Link to={`/workflows/${encodeURIComponent(workflow.id)}`}>{workflow.name}</Link>
                      {workflow.name !== workflow.id && <div className="mono muted">{workflow.id}</div>}
                    </td>
                    <td className="description optional-column">{workflow.description}</td>
                    <td className="optional-column">{workflow.version}</td>
                    <td className="optional-column">{formatTime(workflow.updated_at)}</td>
                    <td>
                      <Link to={`/runs?workflow=${encodeURIComponent(workflow.id)}`}>
                        Runs<span className="visually-hidden"> of {workflow.name}</span>
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

interface Picked extends ReadFile {
  fileName: string;
  /** The file as it is: a Dify DSL export is sent unchanged, as YAML. */
  text: string;
}

function ImportPanel() {
  const client = useApi();
  const { report } = useSession();
  const [picked, setPicked] = useState<Picked | null>(null);
  const [workflowId, setWorkflowId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [issues, setIssues] = useState<Issue[]>([]);

  const graph = useMemo(() => drawableGraph(picked?.document ?? null), [picked]);
  const placed = useMemo(
    () => placeIssues(issues, new Set(graph.nodes.map((node) => node.id))),
    [issues, graph],
  );

  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    setError(null);
    setIssues([]);
    if (!file) {
      setPicked(null);
      return;
    }
    const text = await file.text();
    const read = readWorkflowFile(file.name, text);
    setPicked({ ...read, fileName: file.name, text });
    setWorkflowId(read.suggestedId);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!picked?.document) return;
    setBusy(true);
    setError(null);
    setIssues([]);
    try {
      const id = workflowId.trim();
      const created = picked.dify
        ? await client.importDifyWorkflow(picked.text, id || undefined)
        : await client.createWorkflow({ ...picked.document, ...(id ? { id } : {}) });
      navigate(`/workflows/${encodeURIComponent(created.id)}`);
    } catch (caught) {
      report(caught);
      setError(caught);
      if (caught instanceof ApiError) setIssues(caught.issues);
      setBusy(false);
    }
  };

  const canImport = Boolean(picked?.document) && !busy;

  return (
    <section className="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import a workflow</h2>
      <form className="import-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="workflow-file">Workflow file (native YAML or JSON) or a Dify DSL export</label>
          <input
            id="workflow-file"
            type="file"
            accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
            onChange={choose}
            disabled={busy}
          />
        </div>
        <div className="field">
          <label htmlFor="workflow-id">Workflow id</label>
          <input
            id="workflow-id"
            type="text"
            value={workflowId}
            onChange={(event) => setWorkflowId(event.target.value)}
            placeholder="generated when empty"
            aria-describedby="workflow-id-note"
            disabled={busy}
            spellCheck={false}
          />
          <small id="workflow-id-note" className="muted">
            Letters, digits, - and _. Taken from the file's name.
          </small>
        </div>
        <button type="submit" className="primary" disabled={!canImport}>
          {busy ? "Importing…" : "Import"}
        </button>
      </form>
      {picked?.problem && (
        <p className="notice notice-error" role="alert">
          {picked.fileName}: {picked.problem}
        </p>
      )}
      {picked?.dify && (
        <p className="notice" role="status">
          {picked.fileName} is a Dify DSL export: it is sent as it is (YAML) and the API converts
          it; its graph keeps its positions.
        </p>
      )}
      <ErrorNotice error={error} title="The import was refused." />
      {issues.length > 0 && (
        <div className="issues" aria-labelledby="issues-title">
          <h3 id="issues-title">
            {issues.length} issue{issues.length === 1 ? "" : "s"} in {picked?.fileName}
          </h3>
          <ul className="issue-list">
            {issues.map((issue, index) => (
              <li key={index} data-issue-code={issue.code} data-node-id={issue.node_id ?? ""}>
                <span className="mono">{issue.node_id ?? "whole graph"}</span> ·{" "}
                <strong>{issue.code}</strong>: {issue.message}
                {issue.node_id && !placed.byNode[issue.node_id] && (
                  <span className="muted"> (this node is not in the drawing)</span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      {picked?.document && (
        <div className="preview">
          <h3>Preview{issues.length > 0 ? ": issues are marked on their nodes" : ""}</h3>
          <GraphView graph={graph} issues={placed.byNode} label={`Graph of ${picked.fileName}`} />
        </div>
      )}
    </section>
  );
}
