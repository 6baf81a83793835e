import type { GraphNode } from "../api/types";

// The variables a node reads, found in its settings: every selector (`value_selector`,
// `variable_selector`, any field whose name ends in "selector": [node id, name, ...]) and every
// Dify reference in text (`{{#node_id.name#}}`). A single-node run asks for exactly these.

export interface NodeRead {
  nodeId: string;
  name: string;
}

/** Selectors the run fills by itself, never asked for. */
const RUN_SCOPES = new Set(["sys", "env", "conversation"]);
const REFERENCE = /\{\{#([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)[^#]*#\}\}/g;

function isSelector(value: unknown): value is string[] {
  return Array.isArray(value) && value.length >= 2 && value.every((part) => typeof part === "string");
}

export function variablesRead(node: GraphNode): NodeRead[] {
  const found = new Map<string, NodeRead>();
  const add = (nodeId: string, name: string) => {
    if (RUN_SCOPES.has(nodeId) || nodeId === node.id) return;
    found.set(`${nodeId}.${name}`, { nodeId, name });
  };
  const visit = (value: unknown, key: string) => {
    if (typeof value === "string") {
      for (const match of value.matchAll(REFERENCE)) add(match[1], match[2]);
      return;
    }
    if (Array.isArray(value)) {
      if (key.toLowerCase().endsWith("selector") && isSelector(value)) {
        add(value[0], value[1]);
        return;
      }
      for (const item of value) visit(item, key);
      return;
    }
    if (value && typeof value === "object") {
      for (const [field, inner] of Object.entries(value)) visit(inner, field);
    }
  };
  for (const [field, value] of Object.entries(node)) {
    if (field === "id" || field === "position") continue;
    visit(value, field);
  }
  return [...found.values()];
}
