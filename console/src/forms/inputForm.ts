import type { InputVariable } from "../api/types";

// The run form, generated from a workflow's `inputs` schema. Values are kept as the form holds
// them (text, or a checkbox's boolean) and turned into the request's `inputs` on submit, with the
// same rules the API applies (graph/inputs.py), so a person sees a mistake before sending it.

export type FieldValue = string | boolean;
export type FormValues = Record<string, FieldValue>;
export type FormErrors = Record<string, string>;

export type FieldKind = "text" | "paragraph" | "select" | "number" | "boolean" | "json-object" | "json-array";

export function fieldKind(variable: InputVariable): FieldKind {
  switch (variable.type ?? "string") {
    case "paragraph":
      return "paragraph";
    case "select":
      return "select";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "object":
      return "json-object";
    case "array":
      return "json-array";
    default:
      return "text";
  }
}

export function fieldLabel(variable: InputVariable): string {
  return variable.label || variable.variable;
}

function initialValue(variable: InputVariable): FieldValue {
  const value = variable.default;
  switch (fieldKind(variable)) {
    case "boolean":
      return value === true || value === "true";
    case "json-object":
    case "json-array":
      return value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
    default:
      return value === null || value === undefined ? "" : String(value);
  }
}

export function initialValues(inputs: InputVariable[]): FormValues {
  return Object.fromEntries(inputs.map((variable) => [variable.variable, initialValue(variable)]));
}

export interface ParsedInputs {
  inputs: Record<string, unknown>;
  errors: FormErrors;
}

/** The request's `inputs` from the form, or what is wrong with each field. Optional fields left
 * empty are not sent: the API fills in their defaults. */
export function parseInputs(inputs: InputVariable[], values: FormValues): ParsedInputs {
  const parsed: Record<string, unknown> = {};
  const errors: FormErrors = {};
  for (const variable of inputs) {
    const name = variable.variable;
    const kind = fieldKind(variable);
    const raw = values[name];
    if (kind === "boolean") {
      parsed[name] = raw === true;
      continue;
    }
    const text = typeof raw === "string" ? raw : "";
    // As the API: text is missing only when empty; a number or JSON field also when blank.
    const textual = kind === "text" || kind === "paragraph" || kind === "select";
    if (textual ? text === "" : text.trim() === "") {
      if (variable.required) errors[name] = "Required.";
      continue;
    }
    switch (kind) {
      case "number": {
        const number = Number(text.trim());
        if (!Number.isFinite(number)) errors[name] = "Enter a number.";
        else parsed[name] = number;
        break;
      }
      case "json-object":
      case "json-array": {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          errors[name] = "Not valid JSON.";
          break;
        }
        const isArray = Array.isArray(value);
        const isObject = typeof value === "object" && value !== null && !isArray;
        if (kind === "json-array" && !isArray) errors[name] = "Enter a JSON array, like [1, 2].";
        else if (kind === "json-object" && !isObject)
          errors[name] = 'Enter a JSON object, like {"key": "value"}.';
        else parsed[name] = value;
        break;
      }
      case "select":
        if (!(variable.options ?? []).includes(text)) errors[name] = "Choose one of the options.";
        else parsed[name] = text;
        break;
      default:
        if (variable.max_length && text.length > variable.max_length) {
          errors[name] = `At most ${variable.max_length} characters.`;
        } else parsed[name] = text;
    }
  }
  return { inputs: parsed, errors };
}

/** The input an API validation error names (`field: "inputs.name"`), if it names one. */
export function inputNamedBy(field: string | null | undefined): string | null {
  if (!field || !field.startsWith("inputs.")) return null;
  return field.slice("inputs.".length).split(".")[0] || null;
}
