import type { Review } from "../api/types";

/** Which item or loop round a wait inside an iteration or loop is for, counted from 1 as people
 * count ("item 2", "loop round 3"); empty for a wait outside them. Nested containers list every
 * index, outermost first. */
export function reviewPlace(review: Review): string {
  const path = review.index_path ?? [];
  if (path.length > 1) return `item ${path.map((step) => step.index + 1).join(".")}`;
  if (review.item_index != null) return `item ${review.item_index + 1}`;
  if (review.loop_index != null) return `loop round ${review.loop_index + 1}`;
  return "";
}
