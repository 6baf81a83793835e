import { describe, expect, it } from "vitest";

import { difyEventName, SseParser } from "./sse";

describe("SseParser", () => {
  it("given Dify frames with ids, then each message carries its data and the last id", () => {
    const parser = new SseParser();

    const messages = parser.push(
      'id: 1\ndata: {"event": "workflow_started"}\n\nid: 2\ndata: {"event": "node_started"}\n\n',
    );

    expect(messages.map((message) => [message.lastEventId, difyEventName(message)])).toEqual([
      ["1", "workflow_started"],
      ["2", "node_started"],
    ]);
    expect(parser.lastEventId).toBe("2");
  });

  it("given chunks split anywhere, even between CR and LF, then the same messages come out", () => {
    const text = 'id: 7\r\ndata: {"event":\r\ndata: "x"}\r\n\r\n: a comment\r\nevent: ping\r\n\r\n';
    for (let cut = 1; cut < text.length; cut += 1) {
      const parser = new SseParser();
      const messages = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(messages, `cut at ${cut}`).toEqual([
        { event: "message", data: '{"event":\n"x"}', lastEventId: "7" },
        { event: "ping", data: "", lastEventId: "7" },
      ]);
    }
  });

  it("given a frame cut off by the end of the stream, then it is dropped but its id is kept", () => {
    const parser = new SseParser("3");

    expect(parser.push("id: 4\ndata: half")).toEqual([]);
    parser.end();

    expect(parser.lastEventId).toBe("4");
    expect(parser.push("data: next\n\n")).toEqual([{ event: "message", data: "next", lastEventId: "4" }]);
  });

  it("given fields without a space, a bare field name and an unknown field, then they read as the standard says", () => {
    const parser = new SseParser();

    const messages = parser.push("retry: 10\ndata:one\ndata\nfoo: bar\n\n");

    expect(messages).toEqual([{ event: "message", data: "one\n", lastEventId: null }]);
  });

  it("given data that is not Dify JSON, then it has no event name", () => {
    expect(difyEventName({ event: "message", data: "plain", lastEventId: null })).toBeNull();
    expect(difyEventName({ event: "message", data: "[1]", lastEventId: null })).toBeNull();
  });
});
