// Outputs edited as JSON text by a person: checked here before anything is sent, so a mistake is
// named at once and in words.

export type ParsedObject =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; message: string };

/** A JSON object from `text`, or why it is not one. */
export function parseJsonObject(text: string, what = "The outputs"): ParsedObject {
  if (!text.trim()) return { ok: false, message: `${what} cannot be empty: write a JSON object, e.g. {"output": "..."}.` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `${what} are not valid JSON: ${reason}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: `${what} must be a JSON object ({"name": value, ...}), not ${describe(value)}.` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Changes to several nodes' outputs: {"<node id>": {"<name>": value}}. */
export function parseNodeChanges(
  text: string,
  knownNodes?: ReadonlySet<string>,
): { ok: true; value: Record<string, Record<string, unknown>> } | { ok: false; message: string } {
  if (!text.trim()) return { ok: true, value: {} };
  const parsed = parseJsonObject(text, "The variable changes");
  if (!parsed.ok) return parsed;
  for (const [nodeId, outputs] of Object.entries(parsed.value)) {
    if (knownNodes && !knownNodes.has(nodeId)) {
      return { ok: false, message: `No node "${nodeId}" in this workflow.` };
    }
    if (typeof outputs !== "object" || outputs === null || Array.isArray(outputs)) {
      return { ok: false, message: `The changes to "${nodeId}" must be an object of its outputs ({"name": value}).` };
    }
  }
  return { ok: true, value: parsed.value as Record<string, Record<string, unknown>> };
}

/** A value typed in a one-line field: JSON when it reads as JSON (numbers, true, objects,
 * "quoted"), else the text itself. */
export function parseLooseValue(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return "";
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}
