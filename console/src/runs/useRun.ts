import { useEffect, useMemo, useState } from "react";

import type { ApiError } from "../api/client";
import { isTerminalRunStatus } from "../api/types";
import { useApi, useSession } from "../session/SessionContext";
import { createRunUpdates, type RunSnapshot } from "./updates";

export interface RunWatch {
  snapshot: RunSnapshot | null;
  error: ApiError | null;
  /** No more updates will come (the run ended, or it cannot be read). */
  settled: boolean;
}

/** The latest picture of a run, kept up to date while the component is shown. */
export function useRun(runId: string): RunWatch {
  const client = useApi();
  const { report } = useSession();
  const updates = useMemo(() => createRunUpdates(client), [client]);
  const [watch, setWatch] = useState<RunWatch>({ snapshot: null, error: null, settled: false });

  useEffect(() => {
    setWatch({ snapshot: null, error: null, settled: false });
    return updates.watch(runId, {
      onSnapshot: (snapshot) =>
        setWatch({
          snapshot,
          error: null,
          settled: isTerminalRunStatus(snapshot.run.status),
        }),
      onError: (error, final) => {
        report(error);
        setWatch((previous) => ({ ...previous, error, settled: final }));
      },
    });
  }, [runId, updates, report]);

  return watch;
}
