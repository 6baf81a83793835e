import { describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError, describeError } from "./client";

function answer(status: number, body: unknown): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { "Content-Type": "application/json" } });
}

describe("ApiClient", () => {
  it("given a key, then every request carries it as a bearer token to the base URL", async () => {
    const fetchImpl = vi.fn(async (_url: string, _init: RequestInit) => answer(200, { data: [] }));
    const client = new ApiClient("https://api.example/dev/", "sk_test", fetchImpl as unknown as typeof fetch);

    await client.listWorkflows();

    const [url, init] = fetchImpl.mock.calls[0];
    expect(url).toBe("https://api.example/dev/workflows");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer sk_test");
  });

  it("given an invalid graph, then the error keeps every issue with its node", async () => {
    const body = {
      status: 400,
      code: "invalid_graph",
      message: "the workflow graph has 2 issues",
      issues: [
        { code: "bad_selector", message: "m", node_id: "greet" },
        { code: "missing_end", message: "n", node_id: null },
      ],
    };
    const client = new ApiClient("", "k", async () => answer(400, body));

    const error = await client.createWorkflow({ name: "x" }).catch((caught) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code]).toEqual([400, "invalid_graph"]);
    expect(error.issues.map((issue: { node_id: string | null }) => issue.node_id)).toEqual(["greet", null]);
  });

  it("given a blocking start that outlasted the wait, then only the run id comes back", async () => {
    const client = new ApiClient("", "k", async () => answer(202, { run_id: "r9", status: "running" }));

    expect(await client.startRun("hello", { inputs: {} })).toEqual({ runId: "r9", status: "running", run: null });
  });

  it("given the API ignores the filters, then the runs are filtered here as well", async () => {
    const runs = [
      { run_id: "a", workflow_id: "hello", status: "failed" },
      { run_id: "b", workflow_id: "hello", status: "succeeded" },
      { run_id: "c", workflow_id: "other", status: "failed" },
    ];
    const fetchImpl = vi.fn(async (_url: string) => answer(200, { data: runs }));
    const client = new ApiClient("", "k", fetchImpl as unknown as typeof fetch);

    const listed = await client.listRuns({ workflowId: "hello", status: "failed" });

    expect(listed.runs.map((run) => run.run_id)).toEqual(["a"]);
    expect([listed.page, listed.hasMore]).toEqual([1, false]);
    expect(fetchImpl.mock.calls[0][0]).toBe("/runs?workflow_id=hello&status=failed");
  });

  it("given no answer or a body that is not JSON, then the error says so plainly", async () => {
    const offline = new ApiClient("http://nowhere", "k", async () => {
      throw new TypeError("Failed to fetch");
    });
    const html = new ApiClient("", "k", async () => new Response("<h1>Bad Gateway</h1>", { status: 502, statusText: "Bad Gateway" }));

    const unreachable = await offline.getRun("r").catch((caught) => caught);
    const broken = await html.getRun("r").catch((caught) => caught);

    expect(describeError(unreachable)).toBe("Could not reach the API at http://nowhere.");
    expect(describeError(broken)).toBe("The API failed (502 http_502): The API answered 502 Bad Gateway.");
  });

  it("given the usual refusals, then each is described with its status", () => {
    expect(describeError(new ApiError(401, "unauthorized", "A valid API key is required."))).toBe(
      "Not signed in: the API refused the key (401 unauthorized): A valid API key is required.",
    );
    expect(describeError(new ApiError(404, "not_found", "run x not found"))).toBe(
      "Not found (404 not_found): run x not found",
    );
    expect(describeError(new ApiError(409, "conflict", "workflow hello exists"))).toBe(
      "Conflict (409 conflict): workflow hello exists",
    );
  });
});

describe("ApiClient paging runs", () => {
  it("given a later page, then it is asked for and the API's has_more is kept", async () => {
    const fetchImpl = vi.fn(async (_url: string) =>
      answer(200, { data: [{ run_id: "x", workflow_id: "w", status: "paused" }], page: 2, has_more: true }),
    );
    const client = new ApiClient("", "k", fetchImpl as unknown as typeof fetch);

    const listed = await client.listRuns({ status: "paused", page: 2 });

    expect(fetchImpl.mock.calls[0][0]).toBe("/runs?status=paused&page=2");
    expect(listed).toEqual({ runs: [{ run_id: "x", workflow_id: "w", status: "paused" }], page: 2, hasMore: true });
  });
});
