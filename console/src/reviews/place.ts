import type { Review } from "../api/types";

/** Where a wait or a node attempt inside iterations and loops belongs (both carry these). */
export type ItemPlace = Pick<Review, "item_index" | "loop_index" | "index_path">;

/** Which item or loop round a wait (or a node attempt) inside an iteration or loop is for,
 * counted from 1 as people count ("item 2", "loop round 3"); empty outside them. Nested
 * containers list every index, outermost first. */
export function reviewPlace(review: ItemPlace): string {
  const path = review.index_path ?? [];
  if (path.length > 1) return `item ${path.map((step) => step.index + 1).join(".")}`;
  if (review.item_index != null) return `item ${review.item_index + 1}`;
  if (review.loop_index != null) return `loop round ${review.loop_index + 1}`;
  return "";
}
