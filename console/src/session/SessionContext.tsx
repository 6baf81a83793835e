import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

import { ApiClient, ApiError } from "../api/client";
import { clearCredentials, loadCredentials, saveCredentials, type Credentials } from "./storage";

export interface Session {
  credentials: Credentials | null;
  /** Set when the session ended on its own (the key was refused): shown on the sign-in page. */
  notice: string | null;
  client: ApiClient | null;
  /** Check the key against the API, then keep it for this tab. Throws the API's error. */
  signIn(credentials: Credentials): Promise<void>;
  signOut(notice?: string): void;
  /** Call with any error from the API: a 401 ends the session. */
  report(error: unknown): void;
}

const SessionContext = createContext<Session | null>(null);

function defaultClient(credentials: Credentials): ApiClient {
  return new ApiClient(credentials.apiBaseUrl, credentials.apiKey);
}

export function SessionProvider({
  children,
  createClient = defaultClient,
}: {
  children: ReactNode;
  createClient?: (credentials: Credentials) => ApiClient;
}) {
  const [credentials, setCredentials] = useState<Credentials | null>(() => loadCredentials());
  const [notice, setNotice] = useState<string | null>(null);

  const client = useMemo(
    () => (credentials ? createClient(credentials) : null),
    [credentials, createClient],
  );

  const signOut = useCallback((message?: string) => {
    clearCredentials();
    setCredentials(null);
    setNotice(message ?? null);
  }, []);

  const signIn = useCallback(
    async (next: Credentials) => {
      await createClient(next).listWorkflows();
      saveCredentials(next);
      setNotice(null);
      setCredentials(next);
    },
    [createClient],
  );

  const report = useCallback(
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) {
        signOut("The API refused the key (401 unauthorized): sign in again.");
      }
    },
    [signOut],
  );

  const value = useMemo<Session>(
    () => ({ credentials, notice, client, signIn, signOut, report }),
    [credentials, notice, client, signIn, signOut, report],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The API client of the signed-in session (pages under the sign-in guard only). */
export function useApi(): ApiClient {
  const { client } = useSession();
  if (!client) throw new Error("useApi without a signed-in session");
  return client;
}
