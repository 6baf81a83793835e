import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import type { NodeExecution } from "../api/types";
import { execution, run } from "../test/fixtures";
import { NodeDetails } from "./NodeDetails";

function renderDetails(attempts: NodeExecution[]) {
  render(
    <NodeDetails
      node={{ id: "greet", type: "template-transform", title: "Greet", position: null }}
      run={run()}
      state={{ state: "succeeded", label: "Succeeded", inferred: false, attempts, runError: null }}
      review={null}
      onDecided={() => undefined}
      onClose={() => undefined}
    />,
  );
}

function summaries(): string[] {
  return [...document.querySelectorAll("details.attempt > summary")].map((node) => node.textContent ?? "");
}

afterEach(cleanup);

describe("NodeDetails", () => {
  it("given attempts inside an iteration and a loop, then each says its item or round from 1", () => {
    renderDetails([
      execution("greet", "succeeded", { item_index: 0, index_path: [{ container_id: "each", index: 0 }] }),
      execution("greet", "succeeded", { item_index: 2, index_path: [{ container_id: "each", index: 2 }] }),
      execution("greet", "succeeded", { loop_index: 1, index_path: [{ container_id: "rounds", index: 1 }] }),
    ]);

    // Newest first
    expect(summaries()).toEqual([
      "Attempt 1, loop round 2: succeeded in 100 ms",
      "Attempt 1, item 3: succeeded in 100 ms",
      "Attempt 1, item 1: succeeded in 100 ms",
    ]);
  });

  it("given an attempt outside iterations and loops, then it names no item", () => {
    renderDetails([execution("greet", "succeeded", { round: 2 })]);

    expect(screen.getByText(/Attempt 1, round 2:/)).toBeTruthy();
    expect(summaries()[0]).not.toMatch(/item|loop round/);
  });
});
