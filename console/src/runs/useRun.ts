import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiError } from "../api/client";
import { isTerminalRunStatus } from "../api/types";
import { useApi, useSession } from "../session/SessionContext";
import { createRunUpdates, type RunSnapshot, type UpdateMode } from "./updates";

export interface RunWatch {
  snapshot: RunSnapshot | null;
  error: ApiError | null;
  /** No more updates will come (the run ended, or it cannot be read). */
  settled: boolean;
  /** How updates arrive (null until the first one says). */
  mode: UpdateMode | null;
  /** Read the run now (after a decision, a cancel): the page need not wait for the next update. */
  refresh(): void;
}

/** The latest picture of a run, kept up to date while the component is shown. */
export function useRun(runId: string): RunWatch {
  const client = useApi();
  const { report } = useSession();
  const updates = useMemo(() => createRunUpdates(client), [client]);
  const [watch, setWatch] = useState<Omit<RunWatch, "refresh">>({
    snapshot: null,
    error: null,
    settled: false,
    mode: null,
  });
  const current = useRef(runId);
  current.current = runId;

  useEffect(() => {
    setWatch({ snapshot: null, error: null, settled: false, mode: null });
    return updates.watch(runId, {
      onSnapshot: (snapshot) =>
        setWatch((previous) => ({
          ...previous,
          snapshot,
          error: null,
          settled: isTerminalRunStatus(snapshot.run.status),
        })),
      onError: (error, final) => {
        report(error);
        setWatch((previous) => ({ ...previous, error, settled: final }));
      },
      onMode: (mode) => setWatch((previous) => ({ ...previous, mode })),
    });
  }, [runId, updates, report]);

  const refresh = useCallback(() => {
    const wanted = runId;
    Promise.all([client.getRun(wanted), client.listRunNodes(wanted)]).then(
      ([run, nodes]) => {
        if (current.current !== wanted) return;
        setWatch((previous) => ({
          ...previous,
          snapshot: { run, nodes },
          error: null,
          settled: isTerminalRunStatus(run.status),
        }));
      },
      (caught: unknown) => report(caught),
    );
  }, [client, runId, report]);

  return { ...watch, refresh };
}
