// A Server-Sent Events parser (the WHATWG event-stream format): feed it text as it arrives, it calls
// back once per dispatched event. Comments (heartbeats) are reported too, so a reader can tell a quiet
// but live stream from a dead one.

export interface SseEvent {
  event: string;
  data: string;
  /** The last `id` seen on the stream so far (as EventSource keeps it), or null. */
  id: string | null;
}

export interface SseParser {
  push(text: string): void;
}

export function createSseParser(onEvent: (event: SseEvent) => void, onComment?: (text: string) => void): SseParser {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let lastId: string | null = null;
  const line = (text: string): void => {
    if (text === "") {
      if (data.length > 0) onEvent({ event: event || "message", data: data.join("\n"), id: lastId });
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) {
      onComment?.(text.slice(1).trim());
      return;
    }
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\u0000")) lastId = value;
  };
  return {
    push(text) {
      buffer += text;
      for (;;) {
        const lf = buffer.indexOf("\n");
        const cr = buffer.indexOf("\r");
        const newline = cr < 0 ? lf : lf < 0 ? cr : Math.min(lf, cr);
        if (newline < 0) return;
        const width = buffer.startsWith("\r\n", newline) ? 2 : 1;
        // A lone \r at the end may be the first half of \r\n: wait for more.
        if (buffer[newline] === "\r" && width === 1 && newline === buffer.length - 1) return;
        line(buffer.slice(0, newline));
        buffer = buffer.slice(newline + width);
      }
    },
  };
}
