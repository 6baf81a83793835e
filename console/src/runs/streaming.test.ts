import { describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError } from "../api/client";
import { execution, run } from "../test/fixtures";
import { StreamingRunUpdates, type RunListener, type RunSnapshot, type RunUpdates } from "./updates";

/** A response body the test writes to as it goes, then ends or breaks. */
function controlledBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(given) {
      controller = given;
    },
  });
  const encoder = new TextEncoder();
  return {
    stream,
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    drop: () => controller.error(new TypeError("network connection lost")),
  };
}

function eventStream(body: ReadableStream<Uint8Array>): Response {
  return {
    ok: true,
    status: 200,
    headers: new Headers({ "Content-Type": "text/event-stream; charset=utf-8" }),
    body,
    text: async () => "",
  } as unknown as Response;
}

function refused(status: number, code: string): Response {
  const text = JSON.stringify({ status, code, message: `${code} here` });
  return {
    ok: false,
    status,
    statusText: "",
    headers: new Headers({ "Content-Type": "application/json" }),
    body: null,
    text: async () => text,
  } as unknown as Response;
}

/** A client whose run reads answer `statuses` in turn (the last one repeats). */
function clientReading(statuses: string[]) {
  const client = new ApiClient("", "k", async () => new Response("{}"));
  let reads = 0;
  vi.spyOn(client, "getRun").mockImplementation(async () =>
    run({ status: statuses[Math.min(reads++, statuses.length - 1)] }),
  );
  vi.spyOn(client, "listRunNodes").mockImplementation(async () => [execution("normalize", "running")]);
  return client;
}

function recorder() {
  const seen: string[] = [];
  const errors: [number, boolean][] = [];
  const modes: string[] = [];
  const listener: RunListener = {
    onSnapshot: (snapshot: RunSnapshot) => seen.push(snapshot.run.status),
    onError: (error: ApiError, final: boolean) => errors.push([error.status, final]),
    onMode: (mode) => modes.push(mode),
  };
  return { seen, errors, modes, listener };
}

const QUICK = { reconnectDelaysMs: [1], maxFailures: 3, idleTimeoutMs: 5000, settleIntervalMs: 1 };

function noFallback(): RunUpdates & { watched: number } {
  const fallback = {
    watched: 0,
    watch: () => {
      fallback.watched += 1;
      return () => {};
    },
  };
  return fallback;
}

describe("StreamingRunUpdates", () => {
  it("given events, then each one reads the run again, and a finished run ends the stream", async () => {
    const client = clientReading(["running", "running", "running", "succeeded"]);
    const body = controlledBody();
    const open = vi.spyOn(client, "openRunEvents").mockResolvedValue(eventStream(body.stream));
    const { seen, modes, listener } = recorder();
    const fallback = noFallback();

    const stop = new StreamingRunUpdates(client, fallback, QUICK).watch("r1", listener);
    await vi.waitFor(() => expect(open).toHaveBeenCalledTimes(1));
    expect(open.mock.calls[0][1]).toBeNull(); // no Last-Event-ID on the first connection
    body.write('id: 1\ndata: {"event": "node_started"}\n\n');
    await vi.waitFor(() => expect(seen).toEqual(["running", "running"]));
    body.write("event: ping\n\n"); // keeps the connection, reads nothing
    body.write('id: 2\ndata: {"event": "node_finished"}\n\nid: 3\ndata: {"event": "workflow_finished"}\n\n');
    body.end();

    await vi.waitFor(() => expect(seen.at(-1)).toBe("succeeded"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(modes).toEqual(["stream"]);
    expect(open).toHaveBeenCalledTimes(1);
    expect(fallback.watched).toBe(0);
    stop();
  });

  it("given the connection drops, then it reconnects with the last event id and the API replays from there", async () => {
    const client = clientReading(["running"]);
    const first = controlledBody();
    const second = controlledBody();
    const open = vi
      .spyOn(client, "openRunEvents")
      .mockResolvedValueOnce(eventStream(first.stream))
      .mockResolvedValueOnce(eventStream(second.stream));
    const { listener } = recorder();

    const stop = new StreamingRunUpdates(client, noFallback(), QUICK).watch("r1", listener);
    await vi.waitFor(() => expect(open).toHaveBeenCalledTimes(1));
    first.write('id: 41\ndata: {"event": "node_started"}\n\nid: 42\ndata: {"event": "node_fini');
    first.drop();

    await vi.waitFor(() => expect(open).toHaveBeenCalledTimes(2));
    // Event 42 never arrived whole: the stream resumes after 41, and the API sends 42 again.
    expect(open.mock.calls[1][1]).toBe("41");
    second.write('id: 42\ndata: {"event": "node_finished"}\n\n');
    await vi.waitFor(() => expect(client.getRun).toHaveBeenCalledTimes(3));
    stop();
    second.end();
  });

  it("given the API has no stream route (404), then polling takes over", async () => {
    const client = clientReading(["running"]);
    vi.spyOn(client, "openRunEvents").mockResolvedValue(refused(404, "not_found"));
    const { errors, listener } = recorder();
    const fallback = noFallback();

    new StreamingRunUpdates(client, fallback, QUICK).watch("r1", listener);

    await vi.waitFor(() => expect(fallback.watched).toBe(1));
    expect(errors).toEqual([]);
  });

  it("given the stream keeps failing to connect, then after the last try polling takes over", async () => {
    const client = clientReading(["running"]);
    const open = vi
      .spyOn(client, "openRunEvents")
      .mockRejectedValue(new ApiError(0, "network_error", "down"));
    const fallback = noFallback();

    new StreamingRunUpdates(client, fallback, QUICK).watch("r1", recorder().listener);

    await vi.waitFor(() => expect(fallback.watched).toBe(1));
    expect(open).toHaveBeenCalledTimes(QUICK.maxFailures);
  });

  it("given the key is refused on the stream (401), then the error is final and nothing else is tried", async () => {
    const client = clientReading(["running"]);
    vi.spyOn(client, "openRunEvents").mockResolvedValue(refused(401, "unauthorized"));
    const { errors, listener } = recorder();
    const fallback = noFallback();

    new StreamingRunUpdates(client, fallback, QUICK).watch("r1", listener);

    await vi.waitFor(() => expect(errors).toEqual([[401, true]]));
    expect(fallback.watched).toBe(0);
  });

  it("given a run that has already ended, then no stream is opened", async () => {
    const client = clientReading(["failed"]);
    const open = vi.spyOn(client, "openRunEvents");
    const { seen, listener } = recorder();

    new StreamingRunUpdates(client, noFallback(), QUICK).watch("r1", listener);

    await vi.waitFor(() => expect(seen).toEqual(["failed"]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(open).not.toHaveBeenCalled();
  });
});
