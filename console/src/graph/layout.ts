import dagre from "@dagrejs/dagre";

import type { Position } from "../api/types";
import type { DrawableGraph } from "./model";

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 80;

/** LR: left to right (wide screens); TB: top to bottom (narrow ones). */
export type Direction = "LR" | "TB";

/** Where each node is drawn: the graph's own positions when every node has one (a Dify import
 * keeps its canvas), else an automatic layout of the whole graph in `direction`. */
export function layoutGraph(graph: DrawableGraph, direction: Direction = "LR"): Map<string, Position> {
  if (hasOwnPositions(graph)) {
    return new Map(graph.nodes.map((node) => [node.id, node.position!]));
  }
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: direction, nodesep: 28, ranksep: 48, marginx: 12, marginy: 12 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    layout.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  for (const edge of graph.edges) layout.setEdge(edge.source, edge.target, {}, edge.id);
  dagre.layout(layout);
  // dagre places centres; React Flow places top-left corners.
  return new Map(
    graph.nodes.map((node) => {
      const { x, y } = layout.node(node.id);
      return [node.id, { x: x - NODE_WIDTH / 2, y: y - NODE_HEIGHT / 2 }];
    }),
  );
}

export function hasOwnPositions(graph: DrawableGraph): boolean {
  return graph.nodes.length > 0 && graph.nodes.every((node) => node.position !== null);
}
