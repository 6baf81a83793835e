import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { InputVariable } from "../api/types";
import { InputForm } from "./InputForm";

const INPUTS: InputVariable[] = [
  { variable: "name", type: "string", required: true, label: "Your name" },
  { variable: "tone", type: "select", options: ["warm", "dry"] },
  { variable: "loud", type: "boolean" },
  { variable: "score", type: "number", default: 3 },
];

afterEach(cleanup);

describe("InputForm", () => {
  it("given a schema, then every input has a labelled control that says if it is required", () => {
    render(<InputForm inputs={INPUTS} onSubmit={() => {}} />);

    expect(screen.getByLabelText(/Your name/).getAttribute("aria-required")).toBe("true");
    expect(screen.getByText("(required)")).toBeTruthy();
    const tone = screen.getByLabelText(/tone/) as HTMLSelectElement;
    expect([...tone.options].map((option) => option.value)).toEqual(["", "warm", "dry"]);
    expect((screen.getByLabelText(/loud/) as HTMLInputElement).type).toBe("checkbox");
    expect((screen.getByLabelText(/score/) as HTMLInputElement).value).toBe("3");
  });

  it("given a required input left empty, when submitted, then the field says so and nothing is sent", () => {
    const onSubmit = vi.fn();
    render(<InputForm inputs={INPUTS} onSubmit={onSubmit} />);

    fireEvent.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).not.toHaveBeenCalled();
    const name = screen.getByLabelText(/Your name/);
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe("Required.");
  });

  it("given valid values, when submitted, then the typed inputs are sent", () => {
    const onSubmit = vi.fn();
    render(<InputForm inputs={INPUTS} onSubmit={onSubmit} />);

    fireEvent.change(screen.getByLabelText(/Your name/), { target: { value: "Ada" } });
    fireEvent.change(screen.getByLabelText(/tone/), { target: { value: "dry" } });
    fireEvent.click(screen.getByLabelText(/loud/));
    fireEvent.click(screen.getByRole("button", { name: "Start run" }));

    expect(onSubmit).toHaveBeenCalledWith({ name: "Ada", tone: "dry", loud: true, score: 3 });
  });

  it("given the API refused an input, then its message shows on that field", () => {
    render(<InputForm inputs={INPUTS} onSubmit={() => {}} serverErrors={{ score: "input score must be a number" }} />);

    expect(screen.getByRole("alert").textContent).toBe("input score must be a number");
    expect(screen.getByLabelText(/score/).getAttribute("aria-invalid")).toBe("true");
  });

  it("given a run is starting, then the controls are disabled and the button says so", () => {
    render(<InputForm inputs={INPUTS} onSubmit={() => {}} busy />);

    expect((screen.getByLabelText(/Your name/) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByRole("button", { name: "Running…" })).toBeTruthy();
  });
});
