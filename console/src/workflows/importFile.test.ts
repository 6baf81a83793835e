import { describe, expect, it } from "vitest";

import { placeIssues, readWorkflowFile, suggestedWorkflowId } from "./importFile";

describe("reading a workflow file", () => {
  it("given native YAML, then it is read with an id from the file's name", () => {
    const read = readWorkflowFile("my flow.yaml", "name: x\nnodes:\n  - {id: start, type: start}\n");

    expect(read.problem).toBeNull();
    expect(read.dify).toBe(false);
    expect(read.document).toEqual({ name: "x", nodes: [{ id: "start", type: "start" }] });
    expect(read.suggestedId).toBe("my-flow");
  });

  it("given JSON with its own id, then that id is suggested", () => {
    const read = readWorkflowFile("f.json", '{"id": "greeter", "name": "g"}');

    expect(read.suggestedId).toBe("greeter");
  });

  it("given a Dify DSL export, then it is recognised", () => {
    expect(readWorkflowFile("app.yml", "kind: app\napp: {mode: workflow}\n").dify).toBe(true);
  });

  it("given text that is not a workflow, then the problem is said in words", () => {
    expect(readWorkflowFile("a.yaml", "nodes: [unclosed").problem).toMatch(/^Not valid YAML or JSON: /);
    expect(readWorkflowFile("a.yaml", "- just\n- a list\n").problem).toMatch(/does not hold a workflow/);
  });

  it("given odd file names, then the suggested id keeps to the allowed characters", () => {
    expect(suggestedWorkflowId("Été plan (v2).YML", null)).toBe("t-plan-v2");
  });
});

describe("placing issues", () => {
  it("given issues, then those naming a drawn node go on it and the rest are listed apart", () => {
    const issues = [
      { code: "bad_selector", message: "m1", node_id: "greet" },
      { code: "dangling_edge", message: "m2", node_id: "greet" },
      { code: "missing_end", message: "m3", node_id: null },
      { code: "invalid_node", message: "m4", node_id: "ghost" },
    ];

    const placed = placeIssues(issues, new Set(["start", "greet"]));

    expect(placed.byNode).toEqual({ greet: [issues[0], issues[1]] });
    expect(placed.elsewhere).toEqual([issues[2], issues[3]]);
  });
});
