import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError } from "../api/client";
import { execution, run } from "../test/fixtures";
import { PollingRunUpdates, type RunSnapshot } from "./updates";

function clientAnswering(statuses: string[]) {
  const client = new ApiClient("", "k", async () => new Response("{}"));
  let reads = 0;
  vi.spyOn(client, "getRun").mockImplementation(async () => run({ status: statuses[Math.min(reads++, statuses.length - 1)] }));
  vi.spyOn(client, "listRunNodes").mockImplementation(async () => [execution("normalize", "running")]);
  return client;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("PollingRunUpdates", () => {
  it("given a running run, then it reads every second until the run ends, then stops", async () => {
    const client = clientAnswering(["running", "running", "succeeded"]);
    const seen: string[] = [];
    new PollingRunUpdates(client, 1000).watch("r1", {
      onSnapshot: (snapshot: RunSnapshot) => seen.push(snapshot.run.status),
      onError: () => {},
    });

    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(["running"]);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(5000);

    expect(seen).toEqual(["running", "running", "succeeded"]);
    expect(client.getRun).toHaveBeenCalledTimes(3);
  });

  it("given the watcher is stopped, then no more reads happen", async () => {
    const client = clientAnswering(["running"]);
    const stop = new PollingRunUpdates(client, 1000).watch("r1", { onSnapshot: () => {}, onError: () => {} });

    await vi.advanceTimersByTimeAsync(0);
    stop();
    await vi.advanceTimersByTimeAsync(5000);

    expect(client.getRun).toHaveBeenCalledTimes(1);
  });

  it("given an unknown run, then the error is final; given a failing network, it keeps trying", async () => {
    const client = new ApiClient("", "k", async () => new Response("{}"));
    const failures = [new ApiError(0, "network_error", "down"), new ApiError(404, "not_found", "run r1 not found")];
    vi.spyOn(client, "getRun").mockImplementation(async () => {
      throw failures.shift();
    });
    vi.spyOn(client, "listRunNodes").mockResolvedValue([]);
    const errors: [string, boolean][] = [];
    new PollingRunUpdates(client, 1000).watch("r1", {
      onSnapshot: () => {},
      onError: (error, final) => errors.push([error.code, final]),
    });

    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(5000);

    expect(errors).toEqual([
      ["network_error", false],
      ["not_found", true],
    ]);
  });
});
