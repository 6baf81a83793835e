import { ApiClient, ApiError } from "../api/client";
import { isTerminalRunStatus, type NodeExecution, type RunView } from "../api/types";
import { difyEventName, SseParser } from "./sse";

// How the run page learns what a run is doing. The event stream (GET /runs/{id}/events,
// Server-Sent Events in Dify's format with `id:` lines) says when something happened; each event
// makes the page read the run again (GET /runs/{id} and GET /runs/{id}/nodes), so the picture is
// always the API's own. Where the stream route is missing or keeps failing, polling those two
// every second does the same job.

export interface RunSnapshot {
  run: RunView;
  nodes: NodeExecution[];
}

/** How updates arrive: pushed by the event stream, or read every second. */
export type UpdateMode = "stream" | "polling";

export interface RunListener {
  /** A newer picture of the run. */
  onSnapshot(snapshot: RunSnapshot): void;
  /** Reading failed; `final` when no more updates will come (404, 401). */
  onError(error: ApiError, final: boolean): void;
  /** The way updates arrive changed. */
  onMode?(mode: UpdateMode): void;
}

export interface RunUpdates {
  /** Start watching; updates stop after a terminal snapshot or when the returned function runs. */
  watch(runId: string, listener: RunListener): () => void;
}

const FINAL_STATUSES = new Set([401, 403, 404]);

function asApiError(caught: unknown): ApiError {
  return caught instanceof ApiError ? caught : new ApiError(0, "client_error", String(caught));
}

async function readSnapshot(client: ApiClient, runId: string): Promise<RunSnapshot> {
  const [run, nodes] = await Promise.all([client.getRun(runId), client.listRunNodes(runId)]);
  return { run, nodes };
}

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
    listener.onMode?.("polling");
    const poll = async () => {
      try {
        const snapshot = await readSnapshot(this.client, runId);
        if (stopped) return;
        listener.onSnapshot(snapshot);
        // The next read starts a full interval after this one ended: never two in flight.
        if (!isTerminalRunStatus(snapshot.run.status)) timer = setTimeout(poll, this.intervalMs);
      } catch (caught) {
        if (stopped) return;
        const error = asApiError(caught);
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

export interface StreamOptions {
  /** Waits before reconnecting after the n-th failure in a row (the last one repeats). */
  reconnectDelaysMs?: number[];
  /** Failures in a row (no event read) before giving up on the stream for polling. */
  maxFailures?: number;
  /** No byte for this long (the server pings every 10 s): the connection is dead. */
  idleTimeoutMs?: number;
  /** After the stream said the run finished, read the run this often until it shows so. */
  settleIntervalMs?: number;
  /** Read the run once more this long after the last event: a record may be written a moment
   * after the event that tells of it (a pause marks the run after announcing it). */
  trailingReadMs?: number;
}

const DEFAULT_OPTIONS: Required<StreamOptions> = {
  reconnectDelaysMs: [250, 1000, 2000],
  maxFailures: 3,
  idleTimeoutMs: 30_000,
  settleIntervalMs: 500,
  trailingReadMs: 1000,
};

/** Dify stream events after which the run has ended. */
const FINISHED_EVENTS = new Set(["workflow_finished"]);

/**
 * Updates from GET /runs/{id}/events. A dropped connection is opened again with Last-Event-ID,
 * so the API replays what was missed; a stream route that is missing (404, any refusal but 401/403)
 * or that fails `maxFailures` times in a row hands over to `fallback` (polling).
 */
export class StreamingRunUpdates implements RunUpdates {
  private readonly client: ApiClient;
  private readonly fallback: RunUpdates;
  private readonly options: Required<StreamOptions>;

  constructor(client: ApiClient, fallback?: RunUpdates, options: StreamOptions = {}) {
    this.client = client;
    this.fallback = fallback ?? new PollingRunUpdates(client);
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  watch(runId: string, listener: RunListener): () => void {
    const { client, options } = this;
    let stopped = false;
    let lastEventId: string | null = null;
    let failures = 0;
    let finishedSeen = false;
    let controller: AbortController | null = null;
    let stopFallback: (() => void) | null = null;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let trailing: ReturnType<typeof setTimeout> | undefined;

    const later = (action: () => void, delayMs: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopped) action();
      }, delayMs);
      timers.add(timer);
    };

    const stop = () => {
      stopped = true;
      if (trailing !== undefined) clearTimeout(trailing);
      controller?.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      stopFallback?.();
    };

    // Reads of the run, one at a time: an event arriving during a read asks for one more after it.
    let reading = false;
    let readAgain = false;
    let terminal = false;
    const refresh = async (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          try {
            const snapshot = await readSnapshot(client, runId);
            if (stopped) return;
            listener.onSnapshot(snapshot);
            if (isTerminalRunStatus(snapshot.run.status)) {
              terminal = true;
              stop();
              return;
            }
          } catch (caught) {
            if (stopped) return;
            const error = asApiError(caught);
            const final = FINAL_STATUSES.has(error.status);
            listener.onError(error, final);
            if (final) {
              stop();
              return;
            }
          }
        } while (readAgain && !stopped);
      } finally {
        reading = false;
      }
    };

    const fallBack = () => {
      if (stopped || stopFallback) return;
      controller?.abort();
      stopFallback = this.fallback.watch(runId, listener);
    };

    const failed = () => {
      failures += 1;
      if (failures >= options.maxFailures) {
        fallBack();
        return;
      }
      const delays = options.reconnectDelaysMs;
      later(() => void connect(), delays[Math.min(failures - 1, delays.length - 1)]);
    };

    const settle = () => {
      // The stream ended after saying the run finished: read until the record shows it.
      void refresh().then(() => {
        if (!stopped && !terminal) later(settle, options.settleIntervalMs);
      });
    };

    const connect = async (): Promise<void> => {
      if (stopped) return;
      controller = new AbortController();
      const { signal } = controller;
      let response: Response;
      try {
        response = await client.openRunEvents(runId, lastEventId, signal);
      } catch {
        if (!stopped) failed();
        return;
      }
      if (stopped) return;
      if (!response.ok) {
        const error = await ApiClient.errorOf(response);
        if (error.status === 401 || error.status === 403) {
          listener.onError(error, true);
          stop();
        } else {
          fallBack(); // no stream route here (404), or one that refuses: polling does the job
        }
        return;
      }
      const contentType = response.headers.get("Content-Type") ?? "";
      if (!contentType.includes("text/event-stream") || !response.body) {
        void response.body?.cancel().catch(() => undefined);
        fallBack();
        return;
      }
      listener.onMode?.("stream");
      const parser = new SseParser(lastEventId);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      const watchIdle = () => {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => controller?.abort(), options.idleTimeoutMs);
      };
      let received = false;
      let dropped = false;
      try {
        watchIdle();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          watchIdle();
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            received = true;
            lastEventId = message.lastEventId;
            if (message.event === "ping") continue;
            if (FINISHED_EVENTS.has(difyEventName(message) ?? "")) finishedSeen = true;
            void refresh();
            if (trailing !== undefined) clearTimeout(trailing);
            trailing = setTimeout(() => {
              if (!stopped) void refresh();
            }, options.trailingReadMs);
          }
        }
        parser.push(decoder.decode());
        parser.end();
      } catch {
        dropped = true;
      } finally {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
      }
      if (stopped) return;
      if (received) failures = 0;
      if (finishedSeen) {
        settle();
      } else if (dropped || !received) {
        failed();
      } else {
        // The server ended the stream (a pause, its own time limit): follow on from the last id.
        void refresh();
        later(() => void connect(), options.reconnectDelaysMs[0]);
      }
    };

    void refresh().then(() => {
      if (!stopped && !terminal) void connect();
    });
    return stop;
  }
}

/** The run updates this console uses: the event stream, polling where there is none. */
export function createRunUpdates(client: ApiClient): RunUpdates {
  return new StreamingRunUpdates(client, new PollingRunUpdates(client));
}
