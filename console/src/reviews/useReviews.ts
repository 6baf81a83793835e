import { useCallback, useEffect, useMemo, useState } from "react";

import type { Review } from "../api/types";
import type { RunSnapshot } from "../runs/updates";
import { useApi, useSession } from "../session/SessionContext";

export interface RunReviews {
  /** Every review of the run, oldest first (null until read). */
  reviews: Review[] | null;
  /** The reviews waiting on a person now. */
  pending: Review[];
  error: unknown;
  reload(): void;
}

/** What in a snapshot may change the run's reviews: its status and its node records. */
export function reviewSignature(snapshot: RunSnapshot | null): string {
  if (!snapshot) return "";
  const nodes = snapshot.nodes.map(
    (node) => `${node.node_execution_id}:${node.status}:${node.review?.status ?? ""}`,
  );
  return `${snapshot.run.status}|${nodes.join(",")}`;
}

/** The run's reviews, read again whenever the run's picture changes. */
export function useReviews(runId: string, snapshot: RunSnapshot | null): RunReviews {
  const client = useApi();
  const { report } = useSession();
  const [reviews, setReviews] = useState<Review[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const signature = reviewSignature(snapshot);

  useEffect(() => {
    if (!signature) return;
    let current = true;
    client.listReviews(runId).then(
      (listed) => {
        if (!current) return;
        setReviews(listed);
        setError(null);
      },
      (caught: unknown) => {
        if (!current) return;
        report(caught);
        setError(caught);
      },
    );
    return () => {
      current = false;
    };
  }, [client, runId, signature, generation, report]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const pending = useMemo(
    () => (reviews ?? []).filter((review) => review.status === "pending"),
    [reviews],
  );
  return { reviews, pending, error, reload };
}
