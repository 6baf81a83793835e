import { describe, expect, it } from "vitest";

import type { NodeExecution, RunView, WorkflowGraph } from "../api/types";
import { drawableGraph } from "../graph/model";
import { execution, HELLO, run } from "../test/fixtures";
import { nodeStates } from "./nodeState";

const hello = drawableGraph(HELLO);

function stateOf(graph: WorkflowGraph, runView: RunView, executions: NodeExecution[]) {
  const views = nodeStates(drawableGraph(graph), runView, executions);
  return Object.fromEntries(Object.entries(views).map(([id, view]) => [id, view.state]));
}

describe("nodeStates", () => {
  it("given a finished run that greeted by name, then the branch taken succeeded and the other was skipped", () => {
    const states = stateOf(HELLO, run({ status: "succeeded" }), [
      execution("normalize", "succeeded"),
      execution("greet", "succeeded"),
    ]);

    expect(states).toEqual({
      start: "succeeded",
      normalize: "succeeded",
      has_name: "succeeded",
      greet: "succeeded",
      end: "succeeded",
      greet_world: "skipped",
      end_world: "skipped",
    });
  });

  it("given a run whose first work node is running, then nothing after it is decided yet", () => {
    const states = stateOf(HELLO, run(), [execution("normalize", "running")]);

    expect(states.start).toBe("succeeded");
    expect(states.normalize).toBe("running");
    for (const id of ["has_name", "greet", "end", "greet_world", "end_world"]) {
      expect(states[id]).toBe("waiting");
    }
  });

  it("given the if-else ran but no branch has started, then both branches are still waiting", () => {
    const states = stateOf(HELLO, run(), [execution("normalize", "succeeded")]);

    expect(states.has_name).toBe("succeeded");
    expect(states.greet).toBe("waiting");
    expect(states.greet_world).toBe("waiting");
  });

  it("given a node failed the run, then it is failed and the nodes after it did not run", () => {
    const states = stateOf(
      HELLO,
      run({ status: "failed", error: { node_id: "normalize", type: "ValueError", message: "boom" } }),
      [execution("normalize", "failed")],
    );

    expect(states.normalize).toBe("failed");
    for (const id of ["has_name", "greet", "end", "greet_world", "end_world"]) {
      expect(states[id]).toBe("not-run");
    }
  });

  it("given the run's error names a node that left no record, then that node shows failed with the error", () => {
    const views = nodeStates(
      hello,
      run({ status: "failed", error: { node_id: "normalize", type: "States.Timeout", message: "late" } }),
      [],
    );

    expect(views.normalize.state).toBe("failed");
    expect(views.normalize.inferred).toBe(true);
    expect(views.normalize.runError?.type).toBe("States.Timeout");
    expect(views.greet.runError).toBeNull();
  });

  it("given a second attempt is running after a failed one, then the node is retrying with its attempt", () => {
    const views = nodeStates(hello, run(), [
      execution("normalize", "failed", { attempt: 1 }),
      execution("normalize", "running", { attempt: 2 }),
    ]);

    expect(views.normalize.state).toBe("retrying");
    expect(views.normalize.label).toBe("retrying (attempt 2)");
    expect(views.normalize.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
  });

  it("given executions the API records with other statuses, then each maps to its own state", () => {
    const views = nodeStates(hello, run({ status: "paused" }), [
      execution("normalize", "exception"),
      execution("greet", "waiting_review"),
      execution("greet_world", "skipped"),
    ]);

    expect(views.normalize.state).toBe("exception");
    expect(views.normalize.label).toBe("exception (handled)");
    expect(views.greet.state).toBe("paused");
    expect(views.greet.label).toBe("paused for review");
    expect(views.greet_world.state).toBe("skipped");
  });

  it("given a run stopped while a node was running, then that node shows stopped", () => {
    const states = stateOf(HELLO, run({ status: "stopped" }), [
      execution("normalize", "succeeded"),
      execution("greet", "running"),
    ]);

    expect(states.greet).toBe("stopped");
    expect(states.end).toBe("not-run");
  });

  it("given a pending run, then even the start node is waiting", () => {
    const states = stateOf(HELLO, run({ status: "pending", started_at: null }), []);

    expect(states.start).toBe("waiting");
  });

  it("given branches that join, then the join runs when one branch ran and the other was skipped", () => {
    const graph: WorkflowGraph = {
      nodes: [
        { id: "start", type: "start" },
        { id: "grade", type: "if-else" },
        { id: "praise", type: "template-transform" },
        { id: "encourage", type: "template-transform" },
        { id: "summary", type: "template-transform" },
        { id: "retake", type: "code" },
        { id: "end", type: "end" },
      ],
      edges: [
        { source: "start", target: "grade" },
        { source: "grade", source_handle: "distinction", target: "praise" },
        { source: "grade", source_handle: "pass", target: "encourage" },
        { source: "grade", source_handle: "false", target: "retake" },
        { source: "praise", target: "summary" },
        { source: "encourage", target: "summary" },
        { source: "summary", target: "end" },
        { source: "retake", target: "end" },
      ],
    };

    const states = stateOf(graph, run({ status: "succeeded" }), [
      execution("encourage", "succeeded"),
      execution("summary", "succeeded"),
    ]);

    expect(states).toMatchObject({
      grade: "succeeded",
      praise: "skipped",
      encourage: "succeeded",
      summary: "succeeded",
      retake: "skipped",
      end: "succeeded",
    });
  });

  it("given a branch leads straight to an end node, then a finished run says it cannot tell", () => {
    const graph: WorkflowGraph = {
      nodes: [
        { id: "start", type: "start" },
        { id: "check", type: "if-else" },
        { id: "yes", type: "end" },
        { id: "no", type: "end" },
      ],
      edges: [
        { source: "start", target: "check" },
        { source: "check", source_handle: "true", target: "yes" },
        { source: "check", source_handle: "false", target: "no" },
      ],
    };

    const views = nodeStates(drawableGraph(graph), run({ status: "succeeded" }), []);

    expect(views.yes.state).toBe("unknown");
    expect(views.yes.label).toBe("not recorded");
  });

  it("given a reviewed node whose review is pending, then it is paused in words and nothing after it is decided", () => {
    const pending = {
      review_id: "rv-1",
      run_id: "r1",
      node_id: "normalize",
      node_type: "code",
      node_title: "Normalize the name",
      round: 1,
      kind: "step",
      status: "pending",
      settings: {},
      created_at: "2026-01-01T00:00:01.000Z",
    };

    const views = nodeStates(hello, run({ status: "paused" }), [execution("normalize", "succeeded")], [pending]);

    expect([views.normalize.state, views.normalize.label]).toEqual(["paused", "paused (step mode)"]);
    expect(views.has_name.state).toBe("waiting");
    expect(views.end.state).toBe("waiting");
  });

  it("given a run cancelled while a node waited on its review, then the node stopped and nothing after it ran", () => {
    const reviewed = execution("normalize", "succeeded", { review: { status: "cancelled", decision: null } });

    const views = nodeStates(hello, run({ status: "stopped" }), [reviewed]);

    expect(views.normalize.state).toBe("stopped");
    expect(views.has_name.state).toBe("not-run");
    expect(views.end.state).toBe("not-run");
  });
});
