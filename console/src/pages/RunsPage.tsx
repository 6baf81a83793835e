import { useEffect } from "react";

import { isTerminalRunStatus, RUN_STATUSES } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { RunStatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";
import { Link, navigate, useLocation } from "../router";
import { useApi } from "../session/SessionContext";
import { useLoad } from "./useLoad";
import { useTitle } from "./useTitle";

const REFRESH_MS = 5000;

export function RunsPage() {
  useTitle("Runs");
  const client = useApi();
  const { search } = useLocation();
  const workflowId = search.get("workflow") ?? "";
  const status = search.get("status") ?? "";
  const page = Math.max(1, Number(search.get("page")) || 1);
  const workflows = useLoad(() => client.listWorkflows(), "workflows");
  const listed = useLoad(
    () => client.listRuns({ workflowId, status, page }),
    `${workflowId}|${status}|${page}`,
  );
  const runs = { ...listed, data: listed.data?.runs ?? null };

  // Runs still under way change their status: look again now and then while one is listed.
  const unfinished = runs.data?.some((run) => !isTerminalRunStatus(run.status)) ?? false;
  const { reload } = runs;
  useEffect(() => {
    if (!unfinished) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [unfinished, reload]);

  const setFilter = (name: "workflow" | "status" | "page", value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    // Another filter is another list: back to its first page.
    if (name !== "page") next.delete("page");
    const query = next.toString();
    navigate(`/runs${query ? `?${query}` : ""}`, { replace: true });
  };

  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
      </div>
      <form className="filters" aria-label="Filter the runs" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-workflow">Workflow</label>
          <select
            id="filter-workflow"
            value={workflowId}
            onChange={(event) => setFilter("workflow", event.target.value)}
          >
            <option value="">All workflows</option>
            {(workflows.data ?? []).map((workflow) => (
              <option key={workflow.id} value={workflow.id}>
                {workflow.name}
              </option>
            ))}
            {workflowId && !workflows.data?.some((workflow) => workflow.id === workflowId) && (
              <option value={workflowId}>{workflowId}</option>
            )}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(event) => setFilter("status", event.target.value)}>
            <option value="">Any status</option>
            {RUN_STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={runs.reload} disabled={runs.loading}>
          {runs.loading ? "Loading…" : "Refresh"}
        </button>
      </form>
      <ErrorNotice error={runs.error} title="Could not list the runs." />
      {runs.data && runs.data.length === 0 && <p className="muted">No runs match.</p>}
      {runs.data && runs.data.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Runs, newest first">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col" className="optional-column">Created</th>
                <th scope="col" className="optional-column">Finished</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((run) => (
                <tr key={run.run_id} data-run-id={run.run_id}>
                  <td>
                    <Link
                      to={`/runs/${encodeURIComponent(run.run_id)}`}
                      className="mono"
                      title={run.run_id}
                      aria-label={`Run ${run.run_id}`}
                    >
                      {run.run_id.slice(0, 8)}
                    </Link>
                    {run.mode === "step" && <span className="muted"> · step mode</span>}
                    {run.retry_of && <span className="muted"> · retry of {run.retry_of.slice(0, 8)}</span>}
                  </td>
                  <td>
                    <Link to={`/workflows/${encodeURIComponent(run.workflow_id)}`}>{run.workflow_id}</Link>{" "}
                    <span className="muted">v{run.workflow_version}</span>
                  </td>
                  <td>
                    <RunStatusBadge status={run.status} />
                  </td>
                  <td className="optional-column">{formatTime(run.created_at)}</td>
                  <td className="optional-column">{formatTime(run.finished_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(page > 1 || listed.data?.hasMore) && (
        <nav className="pager" aria-label="Pages of runs">
          <button type="button" disabled={page <= 1} onClick={() => setFilter("page", page > 2 ? String(page - 1) : "")}>
            Newer
          </button>
          <span>Page {page}</span>
          <button type="button" disabled={!listed.data?.hasMore} onClick={() => setFilter("page", String(page + 1))}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}
