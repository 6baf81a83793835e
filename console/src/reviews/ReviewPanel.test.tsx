import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiClient } from "../api/client";
import type { Review } from "../api/types";
import { SessionProvider } from "../session/SessionContext";
import { clearCredentials, saveCredentials } from "../session/storage";
import { ReviewPanel } from "./ReviewPanel";

function review(changes: Partial<Review> = {}): Review {
  return {
    review_id: "rv-1",
    run_id: "r1",
    node_id: "draft",
    node_type: "template-transform",
    node_title: "Draft",
    round: 1,
    kind: "review",
    status: "pending",
    outputs: { output: "A text about owls." },
    settings: { max_rounds: 3 },
    created_at: "2026-01-01T00:00:00.000Z",
    ...changes,
  };
}

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** Renders the panel with an API whose decision route answers `reply`; the bodies sent. */
function renderPanel(subject: Review, reply: Response = answer(200, { ...subject, status: "approved" })) {
  const sent: unknown[] = [];
  const fetchImpl = vi.fn(async (_url: string, init: RequestInit) => {
    sent.push(JSON.parse(String(init.body)));
    return reply;
  });
  const onDecided = vi.fn();
  render(
    <SessionProvider createClient={() => new ApiClient("", "k", fetchImpl as unknown as typeof fetch)}>
      <ReviewPanel review={subject} onDecided={onDecided} />
    </SessionProvider>,
  );
  return { sent, onDecided, fetchImpl };
}

beforeEach(() => saveCredentials({ apiKey: "k", apiBaseUrl: "" }));
afterEach(() => {
  cleanup();
  clearCredentials();
});

describe("ReviewPanel", () => {
  it("given a review of one item of an iteration, then it says which item", () => {
    renderPanel(review({ container_id: "each", item_index: 1, index_path: [{ container_id: "each", index: 1 }] }));

    expect(screen.getByText(/item 2 ·/)).toBeTruthy();
  });

  it("given a review outside iterations and loops, then it names no item", () => {
    renderPanel(review());

    expect(screen.queryByText(/item \d/)).toBeNull();
  });

  it("given a review, when Satisfied, then approve is sent and the page is told", async () => {
    const { sent, onDecided } = renderPanel(review());

    expect(screen.getByLabelText("Output to review of draft").textContent).toContain("A text about owls.");
    fireEvent.click(screen.getByRole("button", { name: "Satisfied" }));

    await waitFor(() => expect(onDecided).toHaveBeenCalledWith("Draft: approved."));
    expect(sent).toEqual([{ action: "approve" }]);
  });

  it("given Not satisfied, when sent without feedback, then it asks for some; with feedback, revise is sent", async () => {
    const { sent, onDecided } = renderPanel(review());
    fireEvent.click(screen.getByRole("button", { name: "Not satisfied" }));

    fireEvent.click(screen.getByRole("button", { name: "Send back" }));
    expect(screen.getByRole("alert").textContent).toContain("Say what should change");
    expect(sent).toEqual([]);

    fireEvent.change(screen.getByLabelText("Feedback: what should change"), { target: { value: " Shorter. " } });
    fireEvent.click(screen.getByRole("button", { name: "Send back" }));

    await waitFor(() => expect(onDecided).toHaveBeenCalled());
    expect(sent).toEqual([{ action: "revise", feedback: "Shorter." }]);
  });

  it("given Edit output, when the JSON is not an object, then it is named and nothing is sent", async () => {
    const { sent } = renderPanel(review());
    fireEvent.click(screen.getByRole("button", { name: "Edit output" }));
    const editor = screen.getByLabelText("Edited output (JSON object)") as HTMLTextAreaElement;
    expect(JSON.parse(editor.value)).toEqual({ output: "A text about owls." });

    fireEvent.change(editor, { target: { value: '{"output": "Owls.",' } });
    fireEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    expect(screen.getByRole("alert").textContent).toContain("not valid JSON");
    fireEvent.change(editor, { target: { value: '["Owls."]' } });
    fireEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    expect(screen.getByRole("alert").textContent).toContain("must be a JSON object");
    expect(sent).toEqual([]);

    fireEvent.change(editor, { target: { value: '{"output": "Owls."}' } });
    fireEvent.click(screen.getByRole("button", { name: "Save and continue" }));
    await waitFor(() => expect(sent).toEqual([{ action: "edit", outputs: { output: "Owls." } }]));
  });

  it("given someone decided first (409), then the page is told plainly and asked to look again", async () => {
    const conflict = answer(409, { status: 409, code: "review_closed", message: "review rv-1 is approved" });
    const { onDecided } = renderPanel(review(), conflict);

    fireEvent.click(screen.getByRole("button", { name: "Satisfied" }));

    await waitFor(() => expect(onDecided).toHaveBeenCalledTimes(1));
    expect(onDecided.mock.calls[0][0]).toContain("already decided");
  });

  it("given a refusal naming a field (400), then the message names the field", async () => {
    const invalid = answer(400, { status: 400, code: "invalid_input", message: "revise needs feedback", field: "feedback" });
    const { onDecided } = renderPanel(review(), invalid);
    fireEvent.click(screen.getByRole("button", { name: "Not satisfied" }));
    fireEvent.change(screen.getByLabelText("Feedback: what should change"), { target: { value: "x" } });

    fireEvent.click(screen.getByRole("button", { name: "Send back" }));

    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("(field: feedback)"));
    expect(onDecided).not.toHaveBeenCalled();
  });

  it("given a human-input form, then its fields render and each action submits its id with the inputs", async () => {
    const form = review({
      kind: "human-input",
      outputs: null,
      settings: {
        form_content: "Please check {{#$output.comment#}}",
        inputs: [
          { type: "paragraph", output_variable_name: "comment", required: true },
          {
            type: "select",
            output_variable_name: "tone",
            options: ["warm", "dry"],
            default: { type: "variable", selector: ["draft", "tone"], value: "" },
          },
          { type: "file", output_variable_name: "attachment" },
        ],
        resolved_default_values: { tone: "warm" },
        user_actions: [
          { id: "approve", title: "Approve", button_style: "primary" },
          { id: "reject", title: "Reject" },
        ],
      },
    });
    const { sent } = renderPanel(form);
    expect(screen.getByText("Please check [comment]")).toBeTruthy();
    expect((screen.getByLabelText(/tone/) as HTMLSelectElement).value).toBe("warm");

    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    expect(screen.getByRole("alert").textContent).toBe("comment is required.");

    fireEvent.change(screen.getByLabelText(/comment/), { target: { value: "Too long." } });
    fireEvent.change(screen.getByLabelText(/tone/), { target: { value: "dry" } });
    fireEvent.change(screen.getByLabelText(/attachment/), { target: { value: "https://files.example/a.pdf" } });
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));

    await waitFor(() =>
      expect(sent).toEqual([
        {
          action: "submit",
          action_id: "reject",
          inputs: {
            comment: "Too long.",
            tone: "dry",
            attachment: { transfer_method: "remote_url", url: "https://files.example/a.pdf" },
          },
        },
      ]),
    );
  });
});
