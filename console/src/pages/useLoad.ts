import { useCallback, useEffect, useState } from "react";

import { useSession } from "../session/SessionContext";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Load something from the API when the page shows (and when `key` changes). */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { report } = useSession();
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: unknown) => {
        if (!current) return;
        report(error);
        setState({ data: null, error, loading: false });
      },
    );
    return () => {
      current = false;
    };
    // `load` is a fresh closure every render; `key` says when what it loads changes.
  }, [key, generation, report]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}
