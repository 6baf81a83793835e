import { useId, useMemo, useState } from "react";

import type { Review } from "../api/types";
import { contentForReading, formInputs, readForm } from "./humanInput";

export interface HumanInputFormProps {
  review: Review;
  busy: boolean;
  /** Called with the chosen action (null when the form names none) and the checked inputs. */
  onSubmit(actionId: string | null, inputs: Record<string, unknown>): void;
}

/** A human-input node's form: its text, its fields, one button per action. */
export function HumanInputForm({ review, busy, onSubmit }: HumanInputFormProps) {
  const form = useMemo(() => readForm(review.settings), [review.settings]);
  const initial = useMemo(
    () => Object.fromEntries(form.fields.map((field) => [field.name, field.initial])),
    [form],
  );
  // Set once: a re-read of the same review must not wipe what the person typed.
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const ids = useId();

  const submit = (actionId: string | null) => {
    const checked = formInputs(form.fields, values);
    setErrors(checked.errors);
    if (Object.keys(checked.errors).length === 0) onSubmit(actionId, checked.inputs);
  };

  const update = (name: string, value: string) => {
    setValues((previous) => ({ ...previous, [name]: value }));
    setErrors(({ [name]: _dropped, ...rest }) => rest);
  };

  return (
    <form
      className="human-input-form"
      aria-label={`Form of ${review.node_title || review.node_id}`}
      onSubmit={(event) => {
        event.preventDefault();
        submit(form.actions[0]?.id ?? null);
      }}
      noValidate
    >
      {form.content && <div className="form-content">{contentForReading(form.content)}</div>}
      {form.fields.map((field) => {
        const id = `${ids}-${field.name}`;
        const error = errors[field.name];
        const common = {
          id,
          name: field.name,
          disabled: busy,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": error ? `${id}-error` : field.type === "file" ? `${id}-hint` : undefined,
          "aria-required": field.required ? true : undefined,
        };
        const value = values[field.name] ?? "";
        return (
          <div className={`field field-${field.type}`} key={field.name}>
            <label htmlFor={id}>
              {field.label}
              {field.required ? <span className="required"> (required)</span> : <span className="muted"> (optional)</span>}
            </label>
            {field.type === "paragraph" && (
              <textarea {...common} rows={4} value={value} onChange={(event) => update(field.name, event.target.value)} />
            )}
            {field.type === "select" && (
              <select {...common} value={value} onChange={(event) => update(field.name, event.target.value)}>
                <option value="">Choose…</option>
                {field.options.map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </select>
            )}
            {(field.type === "file" || field.type === "text") && (
              <input
                {...common}
                type={field.type === "file" ? "url" : "text"}
                value={value}
                onChange={(event) => update(field.name, event.target.value)}
              />
            )}
            {field.type === "file" && !error && (
              <small id={`${id}-hint`} className="muted">
                The file's address: https://... or s3://...
              </small>
            )}
            {error && (
              <small id={`${id}-error`} className="field-error" role="alert">
                {error}
              </small>
            )}
          </div>
        );
      })}
      <div className="button-row" role="group" aria-label="Actions">
        {form.actions.length === 0 ? (
          <button type="submit" className="primary" disabled={busy}>
            Submit
          </button>
        ) : (
          form.actions.map((action, index) => (
            <button
              key={action.id}
              type="button"
              className={index === 0 || action.style === "primary" ? "primary" : undefined}
              data-action-id={action.id}
              disabled={busy}
              onClick={() => submit(action.id)}
            >
              {action.title}
            </button>
          ))
        )}
      </div>
    </form>
  );
}
