// Reading a Server-Sent Events body as it arrives, by the rules of the HTML standard's event
// stream format: lines end with LF, CR or CRLF; a blank line dispatches the event; `data:` lines
// join with LF; `id:` sets the last event id (kept across events, sent back as Last-Event-ID);
// lines starting with ":" are comments; a field without a colon has an empty value; one space
// after the colon is dropped. Chunks may split anywhere, even between CR and LF.

export interface SseMessage {
  /** "message" unless an `event:` line named it ("ping"...). */
  event: string;
  data: string;
  /** The last event id once this message was dispatched (null: none seen yet). */
  lastEventId: string | null;
}

export class SseParser {
  private buffer = "";
  /** A CR ended the last chunk: an LF opening the next one belongs to it. */
  private pendingCarriageReturn = false;
  private eventType = "";
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | null;

  constructor(lastEventId: string | null = null) {
    this.lastId = lastEventId;
  }

  get lastEventId(): string | null {
    return this.lastId;
  }

  /** Feed decoded text; answers the messages it completed. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.pendingCarriageReturn && text.startsWith("\n")) text = text.slice(1);
    this.pendingCarriageReturn = false;
    this.buffer += text;
    const messages: SseMessage[] = [];
    let start = 0;
    for (let index = 0; index < this.buffer.length; index += 1) {
      const character = this.buffer[index];
      if (character !== "\n" && character !== "\r") continue;
      const line = this.buffer.slice(start, index);
      if (character === "\r") {
        if (index + 1 < this.buffer.length) {
          if (this.buffer[index + 1] === "\n") index += 1;
        } else {
          this.pendingCarriageReturn = true;
        }
      }
      start = index + 1;
      const message = this.line(line);
      if (message) messages.push(message);
    }
    this.buffer = this.buffer.slice(start);
    return messages;
  }

  /** The stream ended: a message without its blank line is dropped, as the standard says. */
  end(): void {
    this.buffer = "";
    this.reset();
  }

  private line(line: string): SseMessage | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        // `retry:` and unknown fields: the console keeps its own reconnection delays.
        break;
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    // The standard drops a frame without data; a named one (the server's `event: ping`) is passed
    // on here, so a reader knows the connection is alive.
    if (!this.hasData && !this.eventType) {
      this.reset();
      return null;
    }
    const message: SseMessage = {
      event: this.eventType || "message",
      data: this.dataLines.join("\n"),
      lastEventId: this.lastId,
    };
    this.reset();
    return message;
  }

  private reset(): void {
    this.eventType = "";
    this.dataLines = [];
    this.hasData = false;
  }
}

/** The `event` name inside a Dify-style message's JSON data ("node_started"...), if any. */
export function difyEventName(message: SseMessage): string | null {
  if (!message.data) return null;
  try {
    const parsed: unknown = JSON.parse(message.data);
    if (parsed && typeof parsed === "object" && "event" in parsed) {
      const name = (parsed as { event: unknown }).event;
      return typeof name === "string" ? name : null;
    }
  } catch {
    return null;
  }
  return null;
}
