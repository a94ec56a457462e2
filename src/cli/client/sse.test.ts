import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSse, SseParser, type SseEvent } from './sse.ts';

/** Feeds `text` to a parser in pieces cut at `cuts` and collects every event. */
function parse(text: string, cuts: readonly number[] = []): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.push(text.slice(at, cut)));
    at = cut;
  }
  return events;
}

async function collect(chunks: readonly Uint8Array[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const body = async function* (): AsyncGenerator<Uint8Array> {
    yield* chunks;
  };
  for await (const e of readSse(body())) events.push(e);
  return events;
}

describe('SseParser', () => {
  it('reads what the manager sends: named events, JSON data, keep-alive comments', () => {
    const text = 'event: job\ndata: {"id":"j1","status":"running"}\n\n: keep-alive\n\nevent: progress\ndata: {"phase":"map"}\n\n';
    assert.deepEqual(parse(text), [
      { event: 'job', data: '{"id":"j1","status":"running"}' },
      { event: 'progress', data: '{"phase":"map"}' },
    ]);
  });

  it('gives the same events however the stream is cut, at every position', () => {
    const text = 'event: job\r\ndata: a\r\ndata:  b\r\n\r\nevent:progress\rdata:c\r\rdata\n\n: c\nid: 7\nretry: 10\ndata: x: y\n\n';
    const whole = parse(text);
    assert.deepEqual(whole, [
      { event: 'job', data: 'a\n b' },
      { event: 'progress', data: 'c' },
      { event: 'message', data: '' },
      { event: 'message', data: 'x: y' },
    ]);
    for (let i = 0; i <= text.length; i++) {
      for (const j of [i, i + 1, i + 2]) assert.deepEqual(parse(text, [i, Math.min(j, text.length)]), whole, `cut at ${i}, ${j}`);
    }
  });

  it('does not dispatch an event without data, nor one the stream cut off', () => {
    assert.deepEqual(parse('event: job\n\nevent: progress\ndata: half'), []);
  });

  it('treats a \\r at the end of a chunk and a \\n at the start of the next as one line end', () => {
    assert.deepEqual(parse('data: a\r\n\r\n', [8, 9, 10]), [{ event: 'message', data: 'a' }]);
    // Without the rule, the \n would be an empty line and dispatch a second (empty) event early.
    assert.deepEqual(parse('data: a\r\ndata: b\r\n\r\n', [8]), [{ event: 'message', data: 'a\nb' }]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split between chunks and drops a leading BOM', async () => {
    const bytes = Buffer.from('\uFEFFevent: job\ndata: {"name":"Café 😀"}\n\n');
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(await collect(chunks), [{ event: 'job', data: '{"name":"Café 😀"}' }]);
  });
});
