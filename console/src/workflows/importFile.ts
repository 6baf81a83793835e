import { parse } from "yaml";

import type { Issue } from "../api/types";
import { isDifyDsl } from "../graph/model";

// Reading a workflow file the person picked: YAML or JSON (JSON is YAML too), the native format
// or a Dify DSL export. The API takes the native format as JSON, so the file is parsed here.

export interface ReadFile {
  document: Record<string, unknown> | null;
  /** Why the file cannot be used, in words. */
  problem: string | null;
  dify: boolean;
  suggestedId: string;
}

const ID_CHARACTERS = /[^A-Za-z0-9_-]+/g;

export function suggestedWorkflowId(fileName: string, document: Record<string, unknown> | null): string {
  if (document && typeof document.id === "string" && document.id) return document.id;
  const stem = fileName.replace(/\.(ya?ml|json)$/i, "");
  return stem.replace(ID_CHARACTERS, "-").replace(/^-+|-+$/g, "").slice(0, 64);
}

export function readWorkflowFile(fileName: string, text: string): ReadFile {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { document: null, problem: `Not valid YAML or JSON: ${reason}`, dify: false, suggestedId: "" };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return {
      document: null,
      problem: "The file does not hold a workflow (a mapping with name, inputs, nodes and edges).",
      dify: false,
      suggestedId: "",
    };
  }
  const mapping = document as Record<string, unknown>;
  return {
    document: mapping,
    problem: null,
    dify: isDifyDsl(mapping),
    suggestedId: suggestedWorkflowId(fileName, mapping),
  };
}

/** Issues split into those drawn on a node of the graph and the rest (graph-wide, or naming a
 * node the drawing does not have). */
export function placeIssues(
  issues: Issue[],
  nodeIds: ReadonlySet<string>,
): { byNode: Record<string, Issue[]>; elsewhere: Issue[] } {
  const byNode: Record<string, Issue[]> = {};
  const elsewhere: Issue[] = [];
  for (const issue of issues) {
    if (issue.node_id && nodeIds.has(issue.node_id)) (byNode[issue.node_id] ??= []).push(issue);
    else elsewhere.push(issue);
  }
  return { byNode, elsewhere };
}
