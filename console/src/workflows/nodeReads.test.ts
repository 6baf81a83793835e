import { describe, expect, it } from "vitest";

import { variablesRead } from "./nodeReads";

describe("variablesRead", () => {
  it("given selectors and Dify references, then each variable is asked for once; sys and env never", () => {
    const reads = variablesRead({
      id: "draft",
      type: "llm",
      variables: [
        { variable: "topic", value_selector: ["start", "topic"] },
        { variable: "user", value_selector: ["sys", "user"] },
      ],
      prompt_template: [{ role: "user", text: "About {{#start.topic#}} for {{#classify.class_name#}}" }],
      context: { enabled: true, variable_selector: ["retrieve", "result"] },
      memory: { query_prompt_template: "{{#env.secret#}}" },
    });

    expect(reads).toEqual([
      { nodeId: "start", name: "topic" },
      { nodeId: "classify", name: "class_name" },
      { nodeId: "retrieve", name: "result" },
    ]);
  });
});
