import type { RunView } from "../api/types";
import type { NodeStateView } from "../runs/nodeState";

// Where a reviewer decides on a paused node: "Satisfied", "Not satisfied" with feedback, "Edit
// output", and a human-input node's form. The API has no review routes yet
// (GET /runs/{id}/reviews, POST /runs/{id}/reviews/{review_id}); when it does, this component
// loads the node's open review and renders the decision controls. The node details already
// place it, so nothing else changes.

export interface ReviewPanelProps {
  run: RunView;
  nodeId: string;
  state: NodeStateView;
}

export function ReviewPanel({ state }: ReviewPanelProps) {
  if (state.state !== "paused") return null;
  return (
    <section className="review-panel" aria-label="Review">
      <h3>Review</h3>
      <p className="notice">
        This node is waiting for a review. Deciding from the console needs the review API, which
        this deployment does not offer yet.
      </p>
    </section>
  );
}
