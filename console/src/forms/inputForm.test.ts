import { describe, expect, it } from "vitest";

import type { InputVariable } from "../api/types";
import { fieldKind, initialValues, inputNamedBy, parseInputs } from "./inputForm";

const EVERY_TYPE: InputVariable[] = [
  { variable: "name", type: "string", required: true, max_length: 5 },
  { variable: "bio", type: "paragraph" },
  { variable: "tone", type: "select", options: ["warm", "dry"], default: "warm" },
  { variable: "score", type: "number", default: 50 },
  { variable: "loud", type: "boolean", default: true },
  { variable: "meta", type: "object", default: { a: 1 } },
  { variable: "tags", type: "array" },
];

describe("the run form's values", () => {
  it("given every input type, then each gets its kind of field and its default", () => {
    expect(EVERY_TYPE.map(fieldKind)).toEqual([
      "text",
      "paragraph",
      "select",
      "number",
      "boolean",
      "json-object",
      "json-array",
    ]);
    expect(initialValues(EVERY_TYPE)).toEqual({
      name: "",
      bio: "",
      tone: "warm",
      score: "50",
      loud: true,
      meta: '{\n  "a": 1\n}',
      tags: "",
    });
  });

  it("given filled fields, then the inputs are typed as the schema says", () => {
    const values = { ...initialValues(EVERY_TYPE), name: "Ada", score: " 7.5 ", tags: '["x", 2]' };

    const { inputs, errors } = parseInputs(EVERY_TYPE, values);

    expect(errors).toEqual({});
    expect(inputs).toEqual({ name: "Ada", tone: "warm", score: 7.5, loud: true, meta: { a: 1 }, tags: ["x", 2] });
  });

  it("given optional fields left empty, then they are not sent and the API applies their defaults", () => {
    const { inputs } = parseInputs(EVERY_TYPE, { ...initialValues(EVERY_TYPE), name: "Ada", score: "", meta: "" });

    expect(inputs).not.toHaveProperty("bio");
    expect(inputs).not.toHaveProperty("score");
    expect(inputs).not.toHaveProperty("meta");
  });

  it("given a blank text, then it is sent as it is: only an empty text counts as missing", () => {
    const { inputs, errors } = parseInputs(EVERY_TYPE, { ...initialValues(EVERY_TYPE), name: "  " });

    expect(errors).toEqual({});
    expect(inputs.name).toBe("  ");
  });

  it("given wrong values, then every field says what is wrong and nothing is sent for it", () => {
    const values = {
      name: "",
      bio: "",
      tone: "loud",
      score: "fifty",
      loud: false,
      meta: "[1]",
      tags: "{not json",
    };

    const { inputs, errors } = parseInputs(EVERY_TYPE, values);

    expect(errors).toEqual({
      name: "Required.",
      tone: "Choose one of the options.",
      score: "Enter a number.",
      meta: 'Enter a JSON object, like {"key": "value"}.',
      tags: "Not valid JSON.",
    });
    expect(inputs).toEqual({ loud: false });
  });

  it("given a text longer than its max_length, then it is refused", () => {
    const { errors } = parseInputs(EVERY_TYPE, { ...initialValues(EVERY_TYPE), name: "Adaline" });

    expect(errors.name).toBe("At most 5 characters.");
  });

  it("given an object where an array is wanted, then it is refused", () => {
    const { errors } = parseInputs(EVERY_TYPE, { ...initialValues(EVERY_TYPE), name: "Ada", tags: "{}" });

    expect(errors.tags).toBe("Enter a JSON array, like [1, 2].");
  });

  it("given an API error's field, then the input it names is found", () => {
    expect(inputNamedBy("inputs.score")).toBe("score");
    expect(inputNamedBy("inputs.meta.deep")).toBe("meta");
    expect(inputNamedBy("user")).toBeNull();
    expect(inputNamedBy(null)).toBeNull();
  });
});
