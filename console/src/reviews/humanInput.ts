// A human-input node's form as its review carries it (`settings`, or `settings.form`): Dify's
// fields `form_content` (Markdown resolved when the wait began, `{{#$output.<name>#}}` marking
// where a field goes), `inputs` (paragraph, select, file; each `output_variable_name`, a
// `default` {type, selector, value}), `resolved_default_values` and `user_actions` (`id`,
// `title`, `button_style`), each action a button whose id picks the node's outgoing edge.

export type FieldType = "paragraph" | "select" | "file" | "text";

export interface FormOption {
  value: string;
  label: string;
}

export interface FormField {
  name: string;
  type: FieldType;
  label: string;
  required: boolean;
  options: FormOption[];
  initial: string;
}

export interface FormAction {
  id: string;
  title: string;
  style: string;
}

export interface HumanForm {
  content: string;
  fields: FormField[];
  actions: FormAction[];
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
}

function option(value: unknown): FormOption | null {
  if (isMapping(value)) {
    const chosen = value.value ?? value.label;
    if (chosen === undefined || chosen === null) return null;
    return { value: text(chosen), label: text(value.label ?? chosen) };
  }
  if (value === null || value === undefined) return null;
  return { value: text(value), label: text(value) };
}

function fieldType(value: unknown): FieldType {
  switch (value) {
    case "paragraph":
    case "select":
    case "file":
      return value;
    default:
      return "text";
  }
}

/** A field's starting value: the default the API resolved when the wait began (Dify's
 * `resolved_default_values`), else a constant default or placeholder. */
function initialOf(field: Mapping, name: string, resolved: Mapping): string {
  if (resolved[name] !== undefined && resolved[name] !== null) return text(resolved[name]);
  for (const given of [field.default, field.placeholder]) {
    if (isMapping(given)) {
      if (given.type === "constant" && given.value !== undefined) return text(given.value);
    } else if (given !== undefined && given !== null && given === field.default) {
      return text(given);
    }
  }
  return "";
}

export function readForm(settings: Mapping): HumanForm {
  const form = isMapping(settings.form) ? settings.form : settings;
  const rawFields = Array.isArray(form.inputs) ? form.inputs : [];
  const resolved = isMapping(form.resolved_default_values) ? form.resolved_default_values : {};
  const fields: FormField[] = [];
  for (const raw of rawFields) {
    if (!isMapping(raw)) continue;
    const name = text(raw.output_variable_name ?? raw.variable);
    if (!name) continue;
    const type = fieldType(raw.type);
    fields.push({
      name,
      type,
      label: text(raw.label) || name,
      required: raw.required === true,
      options: (Array.isArray(raw.options) ? raw.options : []).map(option).filter((o): o is FormOption => o !== null),
      initial: initialOf(raw, name, resolved),
    });
  }
  const actions: FormAction[] = [];
  for (const raw of Array.isArray(form.user_actions) ? form.user_actions : []) {
    if (!isMapping(raw) || raw.id === undefined || raw.id === null) continue;
    actions.push({ id: text(raw.id), title: text(raw.title) || text(raw.id), style: text(raw.button_style) });
  }
  return { content: text(form.form_content ?? form.content), fields, actions };
}

/** The form's text with each field's mark written as its name. */
export function contentForReading(content: string): string {
  return content.replace(/\{\{#\$output\.([\w-]+)#\}\}/g, "[$1]");
}

/** The submission's `inputs`, or what is wrong with each field. A file is given by its address
 * (the API takes files as Dify file objects; it has no upload route). */
export function formInputs(
  fields: FormField[],
  values: Record<string, string>,
): { inputs: Record<string, unknown>; errors: Record<string, string> } {
  const inputs: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const value = (values[field.name] ?? "").trim();
    if (!value) {
      if (field.required) errors[field.name] = `${field.label} is required.`;
      continue;
    }
    if (field.type === "select" && field.options.length && !field.options.some((o) => o.value === value)) {
      errors[field.name] = `Choose one of the options for ${field.label}.`;
      continue;
    }
    if (field.type === "file") {
      if (!/^(https?|s3):\/\//i.test(value)) {
        errors[field.name] = `Give the file's address (https://... or s3://...) for ${field.label}.`;
        continue;
      }
      inputs[field.name] = { transfer_method: "remote_url", url: value };
      continue;
    }
    inputs[field.name] = field.type === "paragraph" ? values[field.name] : value;
  }
  return { inputs, errors };
}
