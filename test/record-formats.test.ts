// JSON lines and CSV inputs end to end: the real CLI and workers, against Python's json and csv
// modules reading the same files (an independent reader).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prng } from './prng.ts';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

const JOB = join(ROOT, 'test', 'jobs', 'sum-field.mjs');
let dir: string;
before(() => {
  dir = tempDir('torpedo-formats-');
});
after(() => removeDir(dir));

function run(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 180_000 });
}

/** torpedo's output as key → value (the job writes its keys as JSON strings). */
function result(out: string): Record<string, string> {
  const rows = readParts(out).join('').trimEnd().split('\n').filter((l) => l !== '');
  return Object.fromEntries(rows.map((l) => l.split('\t') as [string, string]).map(([k, v]) => [JSON.parse(k) as string, v]));
}

/** What Python computes: a dict printed as JSON, key → the sum of `value` as torpedo prints numbers. */
function python(script: string, file: string): Record<string, string> {
  const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8' });
  return Object.fromEntries(Object.entries(JSON.parse(out) as Record<string, number>).map(([k, v]) => [k, String(v)]));
}

const PY_JSONL = `
import json, sys
sums = {}
for line in open(sys.argv[1], encoding='utf-8'):
    if line.strip() == '': continue
    r = json.loads(line)
    k = str(r['user']) if not isinstance(r['user'], str) else r['user']
    sums[k] = sums.get(k, 0) + r['amount']
print(json.dumps(sums))`;

const PY_CSV = `
import csv, json, sys
sums = {}
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for r in csv.DictReader(f, delimiter=sys.argv[2] if len(sys.argv) > 2 else ','):
        sums[r['name']] = sums.get(r['name'], 0) + int(r['qty'])
print(json.dumps(sums))`;

test('JSON lines: map gets each parsed value, .jsonl and .ndjson by name, compressed too', async () => {
  const rand = prng(3);
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const user = ['ann', 'bob', 'ünï', 'd"q', 'sp ace'][Math.floor(rand() * 5)]!;
    lines.push(JSON.stringify({ user, amount: Math.floor(rand() * 1000), note: rand() < 0.1 ? 'a\nb, "quoted"' : undefined }));
    if (rand() < 0.01) lines.push('');
  }
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const want = python(PY_JSONL, file);
  const r = await run([JOB, '--input', file, '--output', join(dir, 'out-jsonl'), '--param', 'key=user', '--param', 'value=amount', '--split-size', '64KB', '--reducers', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(result(join(dir, 'out-jsonl')), want);
  assert.ok(jsonSummary(r).phases.map.tasks > 4);
  writeFileSync(join(dir, 'events.ndjson.gz'), execFileSync('gzip', ['-c'], { input: `${lines.join('\n')}\n` }));
  const z = await run([JOB, '--input', join(dir, 'events.ndjson.gz'), '--output', join(dir, 'out-ndjson'), '--param', 'key=user', '--param', 'value=amount']);
  assert.equal(z.code, 0, z.stderr);
  assert.deepEqual(result(join(dir, 'out-ndjson')), want);
});

test('an invalid JSON line fails the job with the file, byte and line; --skip-bad-records skips and counts it', async () => {
  const file = join(dir, 'bad.jsonl');
  const good = '{"user":"ann","amount":1}\n';
  writeFileSync(file, `${good}${good}{"user": "bob", amount: 2}\n${good}`);
  const r = await run([JOB, '--input', file, '--output', join(dir, 'out-bad'), '--param', 'key=user', '--param', 'value=amount']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TORPEDO_ERR_BAD_RECORD/);
  assert.match(r.stderr, /bad\.jsonl at byte 52 \(line 3\): not a JSON value/);
  assert.equal(jsonSummary(r).phases.map.attempts, 1, 'not retried');
  const s = await run([JOB, '--input', file, '--output', join(dir, 'out-skip'), '--param', 'key=user', '--param', 'value=amount', '--skip-bad-records']);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(result(join(dir, 'out-skip')), { ann: '3' });
  assert.equal(jsonSummary(s).counters['skipped records'], 1);
});

test('CSV: RFC 4180 quoting, CRLF, a header; a quoted newline needs --csv-multiline', async () => {
  const rand = prng(5);
  const names = ['plain', 'with, comma', 'with "quotes"', 'ünïcode', 'with\nnewline'];
  const rows = ['name,qty,comment'];
  for (let i = 0; i < 5000; i++) {
    const name = names[i % 1000 === 999 ? 4 : Math.floor(rand() * 4)]!;
    const quoted = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    rows.push([quoted(name), String(Math.floor(rand() * 100)), quoted(rand() < 0.5 ? 'x' : 'y, "z"')].join(','));
  }
  const file = join(dir, 'sales.csv');
  writeFileSync(file, `${rows.join('\r\n')}\r\n`);
  const want = python(PY_CSV, file);
  assert.ok(Object.keys(want).includes('with\nnewline'), 'the data has a quoted newline');
  // Split at lines, a quoted newline crosses a split: the error says what to do.
  const split = await run([JOB, '--input', file, '--output', join(dir, 'out-csv-split'), '--param', 'key=name', '--param', 'value=qty', '--split-size', '4KB']);
  if (split.code !== 0) {
    assert.match(split.stderr, /TORPEDO_ERR_BAD_RECORD/);
    assert.match(split.stderr, /--csv-multiline/);
  } else assert.deepEqual(result(join(dir, 'out-csv-split')), want, 'split at lines, where no quoted newline crossed a split');
  const whole = await run([JOB, '--input', file, '--output', join(dir, 'out-csv'), '--param', 'key=name', '--param', 'value=qty', '--split-size', '4KB', '--csv-multiline']);
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(result(join(dir, 'out-csv')), want);
  assert.equal(jsonSummary(whole).phases.map.tasks, 1, '--csv-multiline: one split per file');

  // A split boundary (at 1 KiB) inside a quoted field: the error names the option.
  const crossing = join(dir, 'crossing.csv');
  writeFileSync(crossing, `name,qty\n${'a,1\n'.repeat(250)}"${'x'.repeat(30)}\n${'y'.repeat(30)}",2\n${'b,3\n'.repeat(300)}`);
  const c = await run([JOB, '--input', crossing, '--output', join(dir, 'out-crossing'), '--param', 'key=name', '--param', 'value=qty', '--split-size', '1KiB']);
  assert.equal(c.code, 1, c.stderr);
  // The split where the record starts (byte 1009) or the next one (which starts inside it) says so first.
  assert.match(c.stderr, /TORPEDO_ERR_BAD_RECORD.*crossing\.csv at byte (1009|10\d\d).*crosses the end of this task's split.*--csv-multiline/s);
});

test('CSV split at lines gives every task the header; .tsv is tab-separated; other delimiters and no header', async () => {
  const rows = ['name,qty'];
  for (let i = 0; i < 20_000; i++) rows.push(`${['a', 'b', '"c, d"'][i % 3]},${i % 7}`);
  const file = join(dir, 'many.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  const want = python(PY_CSV, file);
  const r = await run([JOB, '--input', file, '--output', join(dir, 'out-many'), '--param', 'key=name', '--param', 'value=qty', '--split-size', '8KB']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(jsonSummary(r).phases.map.tasks > 10);
  assert.deepEqual(result(join(dir, 'out-many')), want);

  const tsv = join(dir, 'many.tsv');
  writeFileSync(tsv, `${rows.map((l) => l.replace(/"c, d"/, 'c "d"').replace(',', '\t')).join('\n')}\n`);
  const t = await run([JOB, '--input', tsv, '--output', join(dir, 'out-tsv'), '--param', 'key=name', '--param', 'value=qty', '--split-size', '8KB']);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(result(join(dir, 'out-tsv')), python(PY_CSV.replace("delimiter=sys.argv[2] if len(sys.argv) > 2 else ','", "delimiter='\\t', quoting=csv.QUOTE_NONE"), tsv));

  const semi = join(dir, 'semi.txt');
  writeFileSync(semi, 'x;1\ny;2\nx;3\n');
  const s = await run([JOB, '--input', semi, '--output', join(dir, 'out-semi'), '--param', 'key=0', '--param', 'value=1', '--input-format', 'csv', '--csv-delimiter', 'semicolon', '--no-csv-header']);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(result(join(dir, 'out-semi')), { x: '4', y: '2' });
});

test('a CSV row with the wrong number of fields is a bad record', async () => {
  const file = join(dir, 'short.csv');
  writeFileSync(file, 'name,qty\na,1\nb\nc,3\n');
  const r = await run([JOB, '--input', file, '--output', join(dir, 'out-short'), '--param', 'key=name', '--param', 'value=qty']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /short\.csv at byte 13 \(line 3\): a CSV row of 1 fields, where the header has 2 columns/);
  const s = await run([JOB, '--input', file, '--output', join(dir, 'out-short-skip'), '--param', 'key=name', '--param', 'value=qty', '--skip-bad-records']);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(result(join(dir, 'out-short-skip')), { a: '1', c: '3' });
});

test('a CSV line past --max-record-size, and a quoted field never closed, fail their task cleanly', async () => {
  const long = join(dir, 'long.csv');
  writeFileSync(long, `name,qty\n"${'x'.repeat(3_000_000)}\n`);
  const r = await run([JOB, '--input', long, '--output', join(dir, 'out-long'), '--param', 'key=name', '--param', 'value=qty', '--csv-multiline', '--max-record-size', '1MiB', '--max-attempts', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TORPEDO_ERR_RECORD_TOO_LARGE.*long\.csv at byte 9: a line longer than the maximum record size/);
  const open = join(dir, 'open.csv');
  writeFileSync(open, `name,qty\n"${'xx\n'.repeat(700_000)}`);
  const o = await run([JOB, '--input', open, '--output', join(dir, 'out-open'), '--param', 'key=name', '--param', 'value=qty', '--csv-multiline', '--max-record-size', '1MiB']);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /TORPEDO_ERR_BAD_RECORD.*open\.csv at byte 9.*Max Record Size/);
});
