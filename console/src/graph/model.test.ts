import { describe, expect, it } from "vitest";

import { HELLO } from "../test/fixtures";
import { layoutGraph, NODE_WIDTH } from "./layout";
import { drawableGraph, isDifyDsl, topologicalOrder } from "./model";

describe("drawableGraph", () => {
  it("given a native graph, then nodes keep their titles and edges their handles", () => {
    const graph = drawableGraph(HELLO);

    expect(graph.nodes.map((node) => node.id)).toEqual([
      "start",
      "normalize",
      "has_name",
      "greet",
      "end",
      "greet_world",
      "end_world",
    ]);
    expect(graph.nodes[2]).toEqual({ id: "has_name", type: "if-else", title: "Has a name?", position: null });
    expect(graph.edges.map((edge) => edge.handle)).toEqual(["source", "source", "true", "source", "false", "source"]);
  });

  it("given a broken document, then what can be drawn is drawn and the rest is dropped", () => {
    const graph = drawableGraph({
      nodes: [{ id: "start", type: "start" }, { type: "code" }, "junk", { id: 17, type: "end" }, { id: "start" }],
      edges: [
        { source: "start", target: "17" },
        { source: "start", target: "the_end" },
        { source: "start", targetHandle: "x" },
      ],
    });

    expect(graph.nodes.map((node) => [node.id, node.type, node.title])).toEqual([
      ["start", "start", "start"],
      ["17", "end", "17"],
    ]);
    expect(graph.edges.map((edge) => `${edge.source}->${edge.target}`)).toEqual(["start->17"]);
    expect(drawableGraph(null)).toEqual({ nodes: [], edges: [] });
  });

  it("given a Dify DSL export, then its nodes come from workflow.graph with their data and positions", () => {
    const dify = {
      kind: "app",
      app: { mode: "workflow" },
      workflow: {
        graph: {
          nodes: [
            { id: "1711528914102", type: "custom", data: { type: "start", title: "Start" }, position: { x: 30, y: 200 } },
            { id: "llm", type: "custom", data: { type: "llm", title: "Ask" }, position: { x: 330, y: 200 } },
          ],
          edges: [{ id: "e1", source: "1711528914102", sourceHandle: "source", target: "llm" }],
        },
      },
    };

    const graph = drawableGraph(dify);

    expect(isDifyDsl(dify)).toBe(true);
    expect(graph.nodes).toEqual([
      { id: "1711528914102", type: "start", title: "Start", position: { x: 30, y: 200 } },
      { id: "llm", type: "llm", title: "Ask", position: { x: 330, y: 200 } },
    ]);
    expect(graph.edges).toEqual([{ id: "e1", source: "1711528914102", target: "llm", handle: "source" }]);
  });

  it("given a graph, then the topological order puts every node after its sources", () => {
    const order = topologicalOrder(drawableGraph(HELLO));

    for (const edge of HELLO.edges!) {
      expect(order.indexOf(edge.source)).toBeLessThan(order.indexOf(edge.target));
    }
  });
});

describe("layoutGraph", () => {
  it("given every node has a position, then the positions are kept", () => {
    const graph = drawableGraph({
      nodes: [
        { id: "a", type: "start", position: { x: 5, y: 6 } },
        { id: "b", type: "end", position: { x: 500, y: -20 } },
      ],
      edges: [{ source: "a", target: "b" }],
    });

    expect(layoutGraph(graph)).toEqual(
      new Map([
        ["a", { x: 5, y: 6 }],
        ["b", { x: 500, y: -20 }],
      ]),
    );
  });

  it("given no positions, then the layout runs left to right, or top to bottom when asked", () => {
    const graph = drawableGraph(HELLO);

    const wide = layoutGraph(graph, "LR");
    const tall = layoutGraph(graph, "TB");

    expect(wide.get("normalize")!.x - wide.get("start")!.x).toBeGreaterThanOrEqual(NODE_WIDTH);
    expect(wide.get("normalize")!.y).toBe(wide.get("start")!.y);
    expect(tall.get("normalize")!.y).toBeGreaterThan(tall.get("start")!.y);
    // The two branches of the if-else sit side by side, not on top of each other.
    expect(wide.get("greet")!.y).not.toBe(wide.get("greet_world")!.y);
  });
});
