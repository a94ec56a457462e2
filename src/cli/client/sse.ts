/** One Server-Sent Event: its `event:` name ("message" when absent) and its `data:` lines joined by \n. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Parses a text/event-stream as it arrives, per the HTML spec's rules: lines end in \n, \r\n or
 * \r (a \r\n may be split between two chunks); `:` starts a comment (the manager's keep-alives);
 * one space after the field's colon is dropped; an empty line ends an event, and an event with no
 * data is not dispatched. `id` and `retry` are ignored: the caller reconnects on its own terms.
 */
export class SseParser {
  #buffer = '';
  /** A chunk ended in \r: a \n at the start of the next one belongs to the same line end. */
  #skipLf = false;
  #event = '';
  #data: string[] = [];

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    if (text === '') return [];
    if (this.#skipLf && text.startsWith('\n')) text = text.slice(1);
    this.#skipLf = false;
    this.#buffer += text;
    const events: SseEvent[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = lineEnd.exec(this.#buffer); m !== null; m = lineEnd.exec(this.#buffer)) {
      if (m[0] === '\r' && lineEnd.lastIndex === this.#buffer.length) this.#skipLf = true;
      const event = this.#line(this.#buffer.slice(start, m.index));
      if (event !== undefined) events.push(event);
      start = lineEnd.lastIndex;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') {
      const event = this.#data.length > 0 ? { event: this.#event || 'message', data: this.#data.join('\n') } : undefined;
      this.#event = '';
      this.#data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    return undefined;
  }
}

/**
 * The events of a fetch body. UTF-8 is decoded in streaming mode, so a character split between
 * chunks arrives whole (and a leading BOM is dropped, as the spec wants); an event cut off by the end of the stream is dropped, as the spec says.
 */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
}
