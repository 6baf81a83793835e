import { useId, useState, type ReactNode } from "react";

import { ApiError } from "../api/client";
import type { Review, ReviewDecision } from "../api/types";
import { ErrorNotice } from "../components/ErrorNotice";
import { Json } from "../components/Json";
import { formatTime } from "../components/time";
import { useApi, useSession } from "../session/SessionContext";
import { HumanInputForm } from "./HumanInputForm";
import { parseJsonObject, prettyJson } from "./outputsText";
import { reviewPlace } from "./place";

// Where a person decides on a paused node. A review: "Satisfied" (approve), "Not satisfied"
// (revise: the node runs again with the feedback), "Edit output" (continue with the edited
// outputs). A step-mode pause: continue, or edit the output. A human-input node: its form and one
// button per action. The API decides exactly once: a 409 means someone else already did.

/** Render with `key={review.review_id}`: another review (the next round, the next step) starts
 * afresh, while a re-read of the same one keeps what the person is typing. */
export interface ReviewPanelProps {
  review: Review;
  /** The decision was taken (or found taken): read the run and its reviews again. */
  onDecided(message: string): void;
}

type Mode = "choose" | "revise" | "edit";

const DECIDED_WORDS: Record<string, string> = {
  approve: "approved",
  revise: "sent back with feedback",
  edit: "continued with the edited output",
  submit: "submitted",
};

export function ReviewPanel({ review, onDecided }: ReviewPanelProps) {
  const client = useApi();
  const { report } = useSession();
  const [mode, setMode] = useState<Mode>("choose");
  const [feedback, setFeedback] = useState("");
  const [feedbackError, setFeedbackError] = useState<string | null>(null);
  const [editText, setEditText] = useState(() => prettyJson(review.outputs));
  const [editError, setEditError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ids = useId();

  const decide = async (decision: ReviewDecision) => {
    setBusy(true);
    setError(null);
    try {
      await client.decideReview(review.run_id, review.review_id, decision);
      onDecided(`${review.node_title || review.node_id}: ${DECIDED_WORDS[decision.action]}.`);
    } catch (caught) {
      report(caught);
      setBusy(false);
      if (caught instanceof ApiError && caught.status === 409) {
        onDecided(
          `${review.node_title || review.node_id}: this review was already decided or closed ` +
            `(${caught.message}). Showing the run as it is now.`,
        );
        return;
      }
      setError(caught);
    }
  };

  const sendBack = () => {
    if (!feedback.trim()) {
      setFeedbackError("Say what should change: the node runs again with this feedback.");
      return;
    }
    void decide({ action: "revise", feedback: feedback.trim() });
  };

  const saveEdit = () => {
    const parsed = parseJsonObject(editText);
    if (!parsed.ok) {
      setEditError(parsed.message);
      return;
    }
    void decide({ action: "edit", outputs: parsed.value });
  };

  const maxRounds = typeof review.settings.max_rounds === "number" ? review.settings.max_rounds : null;
  const title =
    review.kind === "human-input"
      ? "Waiting for input"
      : review.kind === "step"
        ? "Step: paused after this node"
        : "Review";

  let body: ReactNode;
  if (review.kind === "human-input") {
    body = (
      <HumanInputForm
        review={review}
        busy={busy}
        onSubmit={(actionId, inputs) =>
          void decide({ action: "submit", ...(actionId ? { action_id: actionId } : {}), inputs })
        }
      />
    );
  } else {
    body = (
      <>
        <h4 id={`${ids}-outputs`}>Output{review.round > 1 ? ` (round ${review.round})` : ""}</h4>
        <Json value={review.outputs ?? null} label={`Output to review of ${review.node_id}`} />
        {mode === "choose" && (
          <div className="button-row" role="group" aria-label="Decision">
            {review.kind === "step" ? (
              <button type="button" className="primary" disabled={busy} onClick={() => void decide({ action: "approve" })}>
                Continue
              </button>
            ) : (
              <>
                <button type="button" className="primary" disabled={busy} onClick={() => void decide({ action: "approve" })}>
                  Satisfied
                </button>
                <button type="button" disabled={busy} onClick={() => setMode("revise")}>
                  Not satisfied
                </button>
              </>
            )}
            <button type="button" disabled={busy} onClick={() => setMode("edit")}>
              Edit output
            </button>
          </div>
        )}
        {mode === "revise" && (
          <form
            className="decision-form"
            onSubmit={(event) => {
              event.preventDefault();
              sendBack();
            }}
          >
            <div className="field">
              <label htmlFor={`${ids}-feedback`}>Feedback: what should change</label>
              <textarea
                id={`${ids}-feedback`}
                rows={4}
                value={feedback}
                autoFocus
                disabled={busy}
                aria-invalid={feedbackError ? true : undefined}
                aria-describedby={feedbackError ? `${ids}-feedback-error` : undefined}
                onChange={(event) => {
                  setFeedback(event.target.value);
                  setFeedbackError(null);
                }}
              />
              {feedbackError && (
                <small id={`${ids}-feedback-error`} className="field-error" role="alert">
                  {feedbackError}
                </small>
              )}
            </div>
            <div className="button-row">
              <button type="submit" className="primary" disabled={busy}>
                Send back
              </button>
              <button type="button" disabled={busy} onClick={() => setMode("choose")}>
                Back
              </button>
            </div>
          </form>
        )}
        {mode === "edit" && (
          <form
            className="decision-form"
            onSubmit={(event) => {
              event.preventDefault();
              saveEdit();
            }}
          >
            <div className="field">
              <label htmlFor={`${ids}-edit`}>Edited output (JSON object)</label>
              <textarea
                id={`${ids}-edit`}
                className="mono"
                rows={Math.min(14, Math.max(4, editText.split("\n").length + 1))}
                value={editText}
                autoFocus
                spellCheck={false}
                disabled={busy}
                aria-invalid={editError ? true : undefined}
                aria-describedby={editError ? `${ids}-edit-error` : undefined}
                onChange={(event) => {
                  setEditText(event.target.value);
                  setEditError(null);
                }}
              />
              {editError && (
                <small id={`${ids}-edit-error`} className="field-error" role="alert">
                  {editError}
                </small>
              )}
            </div>
            <div className="button-row">
              <button type="submit" className="primary" disabled={busy}>
                Save and continue
              </button>
              <button type="button" disabled={busy} onClick={() => setMode("choose")}>
                Back
              </button>
            </div>
          </form>
        )}
      </>
    );
  }

  return (
    <section
      className="review-panel"
      aria-labelledby={`${ids}-title`}
      data-review-id={review.review_id}
      data-review-kind={review.kind}
    >
      <h3 id={`${ids}-title`}>{title}</h3>
      <p className="muted">
        {reviewPlace(review) && <>{reviewPlace(review)} · </>}
        {review.kind === "review" && (
          <>
            Round {review.round}
            {maxRounds ? ` of at most ${maxRounds}` : ""} ·{" "}
          </>
        )}
        waiting since {formatTime(review.created_at)}
        {review.expires_at && <> · decides itself at {formatTime(review.expires_at)}</>}
      </p>
      {body}
      {busy && (
        <p className="muted" role="status">
          Sending…
        </p>
      )}
      <ErrorNotice error={error} title="The decision was not taken." />
    </section>
  );
}
