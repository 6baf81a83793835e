import { describeError } from "../api/client";

/** An error from the API, said plainly; `role=alert` so a screen reader hears it at once. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title} </strong>}
      {describeError(error)}
    </div>
  );
}
