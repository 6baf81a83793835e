import { useState, type FormEvent } from "react";

import { describeError } from "../api/client";
import { useSession } from "../session/SessionContext";
import { useTitle } from "./useTitle";

export function SignInPage({ defaultApiBaseUrl }: { defaultApiBaseUrl: string }) {
  useTitle("Sign in");
  const session = useSession();
  const [apiKey, setApiKey] = useState("");
  const [apiBaseUrl, setApiBaseUrl] = useState(defaultApiBaseUrl);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!apiKey.trim()) {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await session.signIn({ apiKey: apiKey.trim(), apiBaseUrl: apiBaseUrl.trim() });
    } catch (caught) {
      setError(describeError(caught));
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <h1>
        signoff <span className="muted">console</span>
      </h1>
      <form onSubmit={submit} className="panel" aria-labelledby="sign-in-title" noValidate>
        <h2 id="sign-in-title">Sign in with an API key</h2>
        {session.notice && (
          <p className="notice notice-error" role="alert">
            {session.notice}
          </p>
        )}
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="sk_..."
            value={apiKey}
            onChange={(event) => setApiKey(event.target.value)}
            aria-describedby="api-key-note"
            disabled={busy}
            autoFocus
          />
          <small id="api-key-note" className="muted">
            Kept in this tab's session storage only; closing the tab forgets it.
          </small>
        </div>
        <div className="field">
          <label htmlFor="api-base-url">API address</label>
          <input
            id="api-base-url"
            name="api-base-url"
            type="url"
            spellCheck={false}
            placeholder="this site"
            value={apiBaseUrl}
            onChange={(event) => setApiBaseUrl(event.target.value)}
            aria-describedby="api-base-url-note"
            disabled={busy}
          />
          <small id="api-base-url-note" className="muted">
            Leave empty when the API is served from this site.
          </small>
        </div>
        {error && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
