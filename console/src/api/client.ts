import type {
  DebugRun,
  ErrorBody,
  Issue,
  NodeExecution,
  RetryAccepted,
  Review,
  ReviewDecision,
  RunVariables,
  RunPage,
  RunSummary,
  RunView,
  StartRunRequest,
  StartedRun,
  WorkflowCreated,
  WorkflowDetail,
  WorkflowSummary,
} from "./types";

/** An answer the console cannot use: an API error body, or no answer at all (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly issues: Issue[];

  constructor(status: number, code: string, message: string, field?: string | null, issues?: Issue[] | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field ?? null;
    this.issues = issues ?? [];
  }
}

export interface RunFilter {
  workflowId?: string;
  status?: string;
  /** From 1. */
  page?: number;
}

/** The signoff HTTP API with one key. `baseUrl` "" means the console's own origin. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;

  constructor(baseUrl: string, apiKey: string, fetchImpl?: typeof fetch) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    // Bound: a bare `fetch` kept on an object and called as a method throws "Illegal invocation".
    this.fetchImpl = fetchImpl ?? globalThis.fetch.bind(globalThis);
  }

  async listWorkflows(): Promise<WorkflowSummary[]> {
    const body = await this.request<{ data: WorkflowSummary[] }>("GET", "/workflows");
    return body.data;
  }

  getWorkflow(workflowId: string): Promise<WorkflowDetail> {
    return this.request("GET", `/workflows/${encodeURIComponent(workflowId)}`);
  }

  createWorkflow(document: Record<string, unknown>): Promise<WorkflowCreated> {
    return this.request("POST", "/workflows", document);
  }

  /** Import a Dify DSL export as it is (YAML text); `workflowId`, when given, names it. */
  importDifyWorkflow(yamlText: string, workflowId?: string): Promise<WorkflowCreated> {
    const suffix = workflowId ? `?${new URLSearchParams({ id: workflowId })}` : "";
    return this.request("POST", `/workflows${suffix}`, undefined, {
      text: yamlText,
      contentType: "application/yaml",
    });
  }

  async startRun(workflowId: string, request: StartRunRequest): Promise<StartedRun> {
    const body = await this.request<RunView | { run_id: string; status: string }>(
      "POST",
      `/workflows/${encodeURIComponent(workflowId)}/runs`,
      { ...request, response_mode: "blocking" },
    );
    const finished = "workflow_id" in body ? (body as RunView) : null;
    return { runId: body.run_id, status: body.status, run: finished };
  }

  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    const query = new URLSearchParams();
    if (filter.workflowId) query.set("workflow_id", filter.workflowId);
    if (filter.status) query.set("status", filter.status);
    if (filter.page && filter.page > 1) query.set("page", String(filter.page));
    const suffix = query.size ? `?${query}` : "";
    const body = await this.request<{ data: RunSummary[]; page?: number; has_more?: boolean }>(
      "GET",
      `/runs${suffix}`,
    );
    // An API without the filters answers every run: filter here too, so both read the same.
    const runs = body.data.filter(
      (run) =>
        (!filter.workflowId || run.workflow_id === filter.workflowId) &&
        (!filter.status || run.status === filter.status),
    );
    return { runs, page: body.page ?? filter.page ?? 1, hasMore: body.has_more ?? false };
  }

  getRun(runId: string): Promise<RunView> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}`);
  }

  async listRunNodes(runId: string): Promise<NodeExecution[]> {
    const body = await this.request<{ data: NodeExecution[] }>(
      "GET",
      `/runs/${encodeURIComponent(runId)}/nodes`,
    );
    return body.data;
  }

  // ---------------------------------------------------------------- human in the loop

  async listReviews(runId: string, status?: string): Promise<Review[]> {
    const suffix = status ? `?${new URLSearchParams({ status })}` : "";
    const body = await this.request<{ data: Review[] }>(
      "GET",
      `/runs/${encodeURIComponent(runId)}/reviews${suffix}`,
    );
    return body.data;
  }

  decideReview(runId: string, reviewId: string, decision: ReviewDecision): Promise<Review> {
    return this.request(
      "POST",
      `/runs/${encodeURIComponent(runId)}/reviews/${encodeURIComponent(reviewId)}`,
      decision,
    );
  }

  getVariables(runId: string): Promise<RunVariables> {
    return this.request("GET", `/runs/${encodeURIComponent(runId)}/variables`);
  }

  /** Change nodes' outputs while the run is paused: {node id: {name: value}}. */
  patchVariables(runId: string, changes: Record<string, Record<string, unknown>>): Promise<RunVariables> {
    return this.request("PATCH", `/runs/${encodeURIComponent(runId)}/variables`, changes);
  }

  cancelRun(runId: string): Promise<RunView> {
    return this.request("POST", `/runs/${encodeURIComponent(runId)}/cancel`);
  }

  retryRun(
    runId: string,
    fromNodeId: string,
    variables?: Record<string, Record<string, unknown>>,
  ): Promise<RetryAccepted> {
    return this.request("POST", `/runs/${encodeURIComponent(runId)}/retry`, {
      from_node_id: fromNodeId,
      ...(variables && Object.keys(variables).length ? { variables } : {}),
    });
  }

  /** Run one node alone with the values of the variables it reads: {node id: {name: value}}. */
  runNode(
    workflowId: string,
    nodeId: string,
    inputs: Record<string, Record<string, unknown>>,
  ): Promise<DebugRun> {
    return this.request(
      "POST",
      `/workflows/${encodeURIComponent(workflowId)}/nodes/${encodeURIComponent(nodeId)}/run`,
      { inputs },
    );
  }

  /**
   * Open the run's event stream (GET /runs/{id}/events, Server-Sent Events), followed through the
   * run's pauses (a person deciding makes it go on). Answers the raw response: the caller reads
   * its body. fetch() and not EventSource, which cannot send the
   * Authorization header. Throws ApiError(0) when the API cannot be reached.
   */
  async openRunEvents(runId: string, lastEventId: string | null, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: "text/event-stream",
      Authorization: `Bearer ${this.apiKey}`,
      "Cache-Control": "no-cache",
    };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    try {
      const path = `/runs/${encodeURIComponent(runId)}/events?continue_on_pause=true`;
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        method: "GET",
        headers,
        signal,
      });
    } catch (caught) {
      if (signal?.aborted) throw caught;
      const where = this.baseUrl || "this site";
      throw new ApiError(0, "network_error", `Could not reach the API at ${where}.`);
    }
  }

  /** The API's error for a refused answer (reads its body). */
  static async errorOf(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return errorFrom(response, parsed);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    raw?: { text: string; contentType: string },
  ): Promise<T> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: `Bearer ${this.apiKey}`,
    };
    if (raw) headers["Content-Type"] = raw.contentType;
    else if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: raw ? raw.text : body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      const where = this.baseUrl || "this site";
      throw new ApiError(0, "network_error", `Could not reach the API at ${where}.`);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) throw errorFrom(response, parsed);
    if (parsed === undefined) {
      throw new ApiError(response.status, "invalid_response", "The API answered something other than JSON.");
    }
    return parsed as T;
  }
}

function errorFrom(response: Response, parsed: unknown): ApiError {
  if (parsed && typeof parsed === "object" && "message" in parsed) {
    const body = parsed as Partial<ErrorBody>;
    return new ApiError(
      response.status,
      body.code ?? `http_${response.status}`,
      String(body.message),
      body.field,
      body.issues,
    );
  }
  const reason = response.statusText ? ` ${response.statusText}` : "";
  return new ApiError(response.status, `http_${response.status}`, `The API answered ${response.status}${reason}.`);
}

/** A one-line explanation of an error for people, naming the HTTP status. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return error.message;
    const lead: Record<number, string> = {
      401: "Not signed in: the API refused the key",
      403: "Not allowed",
      404: "Not found",
      409: "Conflict",
      413: "Too large",
      429: "Too many requests",
    };
    const prefix = lead[error.status] ?? (error.status >= 500 ? "The API failed" : "Rejected");
    const field = error.field ? ` (field: ${error.field})` : "";
    return `${prefix} (${error.status} ${error.code}): ${error.message}${field}`;
  }
  return error instanceof Error ? error.message : String(error);
}
