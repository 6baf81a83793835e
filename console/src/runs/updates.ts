import { ApiError, type ApiClient } from "../api/client";
import { isTerminalRunStatus, type NodeExecution, type RunView } from "../api/types";

// How the run page learns what a run is doing. Today: polling GET /runs/{id} and
// GET /runs/{id}/nodes. The event stream (GET /runs/{id}/events, Server-Sent Events) will
// implement the same interface and replace the poller in `createRunUpdates`; the page does not
// change.

export interface RunSnapshot {
  run: RunView;
  nodes: NodeExecution[];
}

export interface RunListener {
  /** A newer picture of the run. */
  onSnapshot(snapshot: RunSnapshot): void;
  /** Reading failed; `final` when no more updates will come (404, 401). */
  onError(error: ApiError, final: boolean): void;
}

export interface RunUpdates {
  /** Start watching; updates stop after a terminal snapshot or when the returned function runs. */
  watch(runId: string, listener: RunListener): () => void;
}

const FINAL_STATUSES = new Set([401, 403, 404]);

export class PollingRunUpdates implements RunUpdates {
  private readonly client: ApiClient;
  private readonly intervalMs: number;

  constructor(client: ApiClient, intervalMs = 1000) {
    this.client = client;
    this.intervalMs = intervalMs;
  }

  watch(runId: string, listener: RunListener): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const [run, nodes] = await Promise.all([
          this.client.getRun(runId),
          this.client.listRunNodes(runId),
        ]);
        if (stopped) return;
        listener.onSnapshot({ run, nodes });
        // The next read starts a full interval after this one ended: never two in flight.
        if (!isTerminalRunStatus(run.status)) timer = setTimeout(poll, this.intervalMs);
      } catch (caught) {
        if (stopped) return;
        const error =
          caught instanceof ApiError ? caught : new ApiError(0, "client_error", String(caught));
        const final = FINAL_STATUSES.has(error.status);
        listener.onError(error, final);
        if (!final) timer = setTimeout(poll, this.intervalMs);
      }
    };
    void poll();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }
}

/** The run updates this console uses. */
export function createRunUpdates(client: ApiClient): RunUpdates {
  return new PollingRunUpdates(client);
}
