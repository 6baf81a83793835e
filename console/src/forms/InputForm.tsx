import { useState, type FormEvent, type ReactNode } from "react";

import type { InputVariable } from "../api/types";
import {
  fieldKind,
  fieldLabel,
  initialValues,
  parseInputs,
  type FieldValue,
  type FormErrors,
  type FormValues,
} from "./inputForm";

export interface InputFormProps {
  inputs: InputVariable[];
  /** Called with the parsed inputs when every field is valid. */
  onSubmit(inputs: Record<string, unknown>): void;
  /** Errors from the API, by input name (a 400 naming `inputs.<name>`). */
  serverErrors?: FormErrors;
  busy?: boolean;
  submitLabel?: string;
  /** Extra controls shown above the submit button (run options). */
  children?: ReactNode;
  idPrefix?: string;
}

const TYPE_HINTS: Record<string, string> = {
  "json-object": 'JSON object, e.g. {"key": "value"}',
  "json-array": "JSON array, e.g. [1, 2, 3]",
  number: "number",
};

export function InputForm({
  inputs,
  onSubmit,
  serverErrors = {},
  busy = false,
  submitLabel = "Start run",
  children,
  idPrefix = "input",
}: InputFormProps) {
  const [values, setValues] = useState<FormValues>(() => initialValues(inputs));
  const [errors, setErrors] = useState<FormErrors>({});

  const update = (name: string, value: FieldValue) => {
    setValues((previous) => ({ ...previous, [name]: value }));
    setErrors((previous) => {
      const { [name]: _dropped, ...rest } = previous;
      return rest;
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseInputs(inputs, values);
    setErrors(parsed.errors);
    if (Object.keys(parsed.errors).length === 0) onSubmit(parsed.inputs);
  };

  return (
    <form className="input-form" onSubmit={submit} noValidate aria-label="Run inputs">
      {inputs.length === 0 && <p className="muted">This workflow takes no inputs.</p>}
      {inputs.map((variable) => {
        const name = variable.variable;
        const id = `${idPrefix}-${name}`;
        const kind = fieldKind(variable);
        const error = errors[name] ?? serverErrors[name];
        const hintId = `${id}-hint`;
        const errorId = `${id}-error`;
        const describedBy = [TYPE_HINTS[kind] ? hintId : null, error ? errorId : null]
          .filter(Boolean)
          .join(" ") || undefined;
        const common = {
          id,
          name,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy,
          "aria-required": variable.required ? true : undefined,
          disabled: busy,
        };
        const value = values[name];
        let control: ReactNode;
        switch (kind) {
          case "boolean":
            control = (
              <input
                {...common}
                type="checkbox"
                checked={value === true}
                onChange={(event) => update(name, event.target.checked)}
              />
            );
            break;
          case "select":
            control = (
              <select {...common} value={String(value)} onChange={(event) => update(name, event.target.value)}>
                <option value="">Choose…</option>
                {(variable.options ?? []).map((option) => (
                  <option key={option} value={option}>
                    {option}
                  </option>
                ))}
              </select>
            );
            break;
          case "paragraph":
          case "json-object":
          case "json-array":
            control = (
              <textarea
                {...common}
                rows={kind === "paragraph" ? 4 : 3}
                value={String(value)}
                maxLength={kind === "paragraph" ? (variable.max_length ?? undefined) : undefined}
                spellCheck={kind === "paragraph"}
                className={kind === "paragraph" ? undefined : "mono"}
                onChange={(event) => update(name, event.target.value)}
              />
            );
            break;
          default:
            control = (
              <input
                {...common}
                type="text"
                inputMode={kind === "number" ? "decimal" : undefined}
                value={String(value)}
                maxLength={variable.max_length ?? undefined}
                onChange={(event) => update(name, event.target.value)}
              />
            );
        }
        return (
          <div className={`field field-${kind}`} key={name}>
            <label htmlFor={id}>
              {fieldLabel(variable)}
              {variable.required ? (
                <span className="required"> (required)</span>
              ) : (
                <span className="muted"> (optional)</span>
              )}
            </label>
            {control}
            {TYPE_HINTS[kind] && (
              <small id={hintId} className="muted">
                {TYPE_HINTS[kind]}
              </small>
            )}
            {error && (
              <small id={errorId} className="field-error" role="alert">
                {error}
              </small>
            )}
          </div>
        );
      })}
      {children}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Running…" : submitLabel}
      </button>
    </form>
  );
}
