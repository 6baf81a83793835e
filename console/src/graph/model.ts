import type { Position } from "../api/types";

// A graph as the console draws it, read leniently from a workflow document: the native format
// (what GET /workflows/{id} returns, or a file being imported, possibly broken), or a Dify DSL
// export (nodes under workflow.graph, fields under data). What cannot be drawn is dropped, never
// guessed: a node without an id, an edge to a node that does not exist.

export interface DrawNode {
  id: string;
  type: string;
  title: string;
  position: Position | null;
}

export interface DrawEdge {
  id: string;
  source: string;
  target: string;
  /** The handle the edge leaves its source by: "source", "true"/"false", a case id... */
  handle: string;
}

export interface DrawableGraph {
  nodes: DrawNode[];
  edges: DrawEdge[];
}

export const SOURCE_HANDLE = "source";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asId(value: unknown): string | null {
  if (typeof value === "string" && value) return value;
  // YAML reads an unquoted Dify id (1711528914102) as a number; the API takes it as text too.
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

function asPosition(value: unknown): Position | null {
  if (!isObject(value)) return null;
  const { x, y } = value;
  return typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y)
    ? { x, y }
    : null;
}

/** Whether the document is a Dify DSL export rather than signoff's native format. */
export function isDifyDsl(document: unknown): boolean {
  return isObject(document) && document.kind === "app";
}

function graphSection(document: unknown): Json {
  if (!isObject(document)) return {};
  if (isDifyDsl(document)) {
    const workflow = isObject(document.workflow) ? document.workflow : {};
    return isObject(workflow.graph) ? workflow.graph : {};
  }
  return document;
}

export function drawableGraph(document: unknown): DrawableGraph {
  const section = graphSection(document);
  const rawNodes = Array.isArray(section.nodes) ? section.nodes : [];
  const rawEdges = Array.isArray(section.edges) ? section.edges : [];
  const nodes: DrawNode[] = [];
  const seen = new Set<string>();
  for (const raw of rawNodes) {
    if (!isObject(raw)) continue;
    const id = asId(raw.id);
    if (id === null || seen.has(id)) continue;
    seen.add(id);
    // Dify keeps the node's own fields under `data` (its top-level `type` is "custom").
    const data = isObject(raw.data) ? raw.data : {};
    const type = typeof data.type === "string" ? data.type : raw.type;
    const title = typeof data.title === "string" ? data.title : raw.title;
    nodes.push({
      id,
      type: typeof type === "string" && type ? type : "unknown",
      title: typeof title === "string" && title ? title : id,
      position: asPosition(raw.position),
    });
  }
  const edges: DrawEdge[] = [];
  rawEdges.forEach((raw, index) => {
    if (!isObject(raw)) return;
    const source = asId(raw.source);
    const target = asId(raw.target);
    if (source === null || target === null || !seen.has(source) || !seen.has(target)) return;
    const handle = asId(raw.source_handle) ?? asId(raw.sourceHandle) ?? SOURCE_HANDLE;
    edges.push({ id: asId(raw.id) ?? `${source}-${handle}-${target}-${index}`, source, target, handle });
  });
  return { nodes, edges };
}

/** Each node's successors and predecessors, by id. */
export function adjacency(graph: DrawableGraph): {
  outgoing: Map<string, DrawEdge[]>;
  incoming: Map<string, DrawEdge[]>;
} {
  const outgoing = new Map<string, DrawEdge[]>(graph.nodes.map((node) => [node.id, []]));
  const incoming = new Map<string, DrawEdge[]>(graph.nodes.map((node) => [node.id, []]));
  for (const edge of graph.edges) {
    outgoing.get(edge.source)?.push(edge);
    incoming.get(edge.target)?.push(edge);
  }
  return { outgoing, incoming };
}

/** Node ids in a topological order; nodes on a cycle follow in document order. */
export function topologicalOrder(graph: DrawableGraph): string[] {
  const { outgoing, incoming } = adjacency(graph);
  const remaining = new Map(graph.nodes.map((node) => [node.id, incoming.get(node.id)!.length]));
  const queue = graph.nodes.filter((node) => remaining.get(node.id) === 0).map((node) => node.id);
  const order: string[] = [];
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const edge of outgoing.get(id)!) {
      const left = remaining.get(edge.target)! - 1;
      remaining.set(edge.target, left);
      if (left === 0) queue.push(edge.target);
    }
  }
  const placed = new Set(order);
  for (const node of graph.nodes) if (!placed.has(node.id)) order.push(node.id);
  return order;
}
