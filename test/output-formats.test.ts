// --output-format and --output-compression, end to end: the real CLI and worker processes. Each
// format is checked against the same run's text output (or an independent reader); each codec is
// read back with the system's own zcat, zstdcat and bzcat and compared with the uncompressed
// run's bytes; runs are byte-identical; `torpedo verify` passes on compressed parts.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, jsonSummary, prose, removeDir, ROOT, runCli, SEED_DIR, tempDir } from './helpers.ts';

const STATS = join(ROOT, 'test', 'jobs', 'word-stats.mjs');
let dir: string;
/** Several splits of prose: a few part files of some size. */
let corpus: string;

before(() => {
  dir = tempDir('torpedo-output-formats-');
  corpus = join(dir, 'corpus');
  mkdirSync(corpus);
  writeFileSync(join(corpus, 'prose.txt'), prose(8000));
  writeFileSync(join(corpus, 'sample.txt'), readFileSync(join(SEED_DIR, 'sample.txt')));
});
after(() => removeDir(dir));

async function run(name: string, args: readonly string[]): Promise<string> {
  const out = join(dir, name);
  const r = await runCli(['run', ...args, '--input', corpus, '--output', out, '--reducers', '3', '--split-size', '64KB', '--workers', '2', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

/** The part files of an output, in order, as stored. */
function parts(out: string): string[] {
  return readdirSync(out).filter((f) => f.startsWith('part-r-')).sort();
}

const bytesOf = (out: string): Buffer[] => parts(out).map((p) => readFileSync(join(out, p)));

let plain: string;
before(async () => {
  plain = await run('plain', ['wordcount']);
});

describe('--output-format', () => {
  test('text is the default, byte for byte', async () => {
    const text = await run('text', ['wordcount', '--output-format', 'text']);
    assert.deepEqual(parts(text), ['part-r-00000', 'part-r-00001', 'part-r-00002']);
    assert.deepEqual(bytesOf(text), bytesOf(plain));
  });

  test('jsonl: one {"key","value"} object a line, the same records as text', async () => {
    const jsonl = await run('jsonl', ['wordcount', '--output-format', 'jsonl']);
    assert.deepEqual(parts(jsonl), parts(plain));
    for (const [i, part] of bytesOf(jsonl).entries()) {
      const lines = part.toString('utf8').trimEnd().split('\n');
      const expected = (bytesOf(plain)[i] as Buffer).toString('utf8').trimEnd().split('\n').map((l) => l.split('\t'));
      assert.equal(lines.length, expected.length);
      for (const [j, line] of lines.entries()) {
        assert.deepEqual(Object.keys(JSON.parse(line)), ['key', 'value']);
        assert.deepEqual(JSON.parse(line), { key: expected[j]?.[0], value: Number(expected[j]?.[1]) });
      }
    }
  });

  test('csv of scalar values: key,value with a header in each part', async () => {
    const csv = await run('csv-scalar', ['wordcount', '--output-format', 'csv']);
    for (const [i, part] of bytesOf(csv).entries()) {
      const expected = (bytesOf(plain)[i] as Buffer).toString('utf8').replaceAll('\t', ',');
      assert.equal(part.toString('utf8'), `key,value\n${expected}`);
    }
  });

  test('csv of flat objects: key and the fields of the first record, RFC 4180 quoting', async () => {
    const csv = await run('csv-objects', [STATS, '--output-format', 'csv']);
    const jsonl = await run('csv-objects-jsonl', [STATS, '--output-format', 'jsonl']);
    for (const [i, part] of bytesOf(csv).entries()) {
      const text = part.toString('utf8');
      assert.ok(text.startsWith('key,count,letters,note,rare\n'), text.slice(0, 80));
      // Each record as the independent reader below reads it back, against the same run in jsonl.
      const records = (bytesOf(jsonl)[i] as Buffer).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
      const rows = parseCsv(text);
      assert.deepEqual(rows[0], ['key', 'count', 'letters', 'note', 'rare']);
      assert.deepEqual(
        rows.slice(1),
        records.map((r) => [r.key, String(r.value['count']), String(r.value['letters']), r.value['note'], String(r.value['rare'])]),
      );
    }
    const the = bytesOf(csv).map((b) => b.toString('utf8')).join('').split('\nthe,')[1];
    assert.match(the ?? '', /^\d+,3,"the, ""THE""\nend",false\n/);
  });

  test('csv: a record with a field the first record lacks fails the job, naming the field', async () => {
    const r = await runCli(['run', STATS, '--param', 'ragged=1', '--output-format', 'csv', '--input', corpus, '--output', join(dir, 'ragged'), '--max-attempts', '1', '--no-progress']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--output-format csv: the record with key "the" does not fit: its value has the field "extra", which is not a column/);
  });

  test('an unknown format is refused before the job starts', async () => {
    const r = await runCli(['run', 'wordcount', '--output-format', 'xml', '--input', corpus, '--output', join(dir, 'xml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /xml/);
  });
});

const CODECS = [
  { codec: 'gzip', ext: '.gz', cat: 'zcat' },
  { codec: 'zstd', ext: '.zst', cat: 'zstdcat' },
  { codec: 'bzip2', ext: '.bz2', cat: 'bzcat' },
] as const;

describe('--output-compression', () => {
  for (const { codec, ext, cat } of CODECS) {
    test(`${codec}: part-r-NNNNN${ext}, read back by ${cat} as the uncompressed run's bytes; verify passes; a second run is byte-identical`, async () => {
      const out = await run(codec, ['wordcount', '--output-compression', codec]);
      assert.deepEqual(parts(out), ['part-r-00000', 'part-r-00001', 'part-r-00002'].map((p) => p + ext));
      for (const [i, p] of parts(out).entries()) {
        assert.deepEqual(execFileSync(cat, [join(out, p)]), bytesOf(plain)[i], `${cat} ${p}`);
      }
      const verify = await runCli(['verify', out]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /all 3 parts ok/);
      const again = await run(`${codec}-again`, ['wordcount', '--output-compression', codec]);
      assert.deepEqual(bytesOf(again), bytesOf(out));
    });
  }

  test('gzip headers carry no time: mtime 0 in every member', async () => {
    const out = join(dir, 'gzip');
    for (const b of bytesOf(out)) {
      assert.deepEqual([b[0], b[1], b[2]], [0x1f, 0x8b, 8]);
      assert.equal(b.readUInt32LE(4), 0, 'MTIME');
    }
  });

  test('a part larger than the write buffer (many gzip members, bzip2 streams) reads back whole', async () => {
    const big = join(dir, 'big');
    mkdirSync(big);
    // Distinct lines, so that the reduce output is several MiB: more than one 1 MiB buffer.
    writeFileSync(join(big, 'lines.txt'), Array.from({ length: 120_000 }, (_, i) => `line-${i}-${'x'.repeat(i % 40)} w${i % 7}`).join('\n') + '\n');
    const outs: Record<string, string> = {};
    for (const codec of ['none', 'gzip', 'zstd', 'bzip2']) {
      outs[codec] = join(dir, `big-${codec}`);
      const r = await runCli(['run', 'sort', '--input', big, '--output', outs[codec] as string, '--reducers', '1', '--output-compression', codec, '--no-progress']);
      assert.equal(r.code, 0, r.stderr);
    }
    const expected = readFileSync(join(outs['none'] as string, 'part-r-00000'));
    assert.ok(expected.length > 3 * 2 ** 20, `${expected.length} bytes`);
    for (const { codec, ext, cat } of CODECS) {
      assert.deepEqual(execFileSync(cat, [join(outs[codec] as string, `part-r-00000${ext}`)], { maxBuffer: 64 * 2 ** 20 }), expected, codec);
    }
  });

  test('jsonl and gzip together', async () => {
    const out = await run('jsonl-gzip', ['wordcount', '--output-format', 'jsonl', '--output-compression', 'gzip']);
    const jsonl = join(dir, 'jsonl');
    for (const [i, p] of parts(out).entries()) assert.deepEqual(execFileSync('zcat', [join(out, p)]), bytesOf(jsonl)[i]);
  });

  test('a master killed in the commit, after moving part-r-00000.gz: --resume finds it and finishes the commit', async () => {
    const out = join(dir, 'crash-in-commit');
    const flags = ['run', 'wordcount', '--input', corpus, '--output', out, '--reducers', '3', '--split-size', '64KB', '--workers', '2', '--output-compression', 'gzip', '--no-progress', '--json'];
    const child = spawn(process.execPath, [BIN, ...flags], { stdio: 'ignore', detached: true, env: { ...process.env, TORPEDO_TEST_CRASH_IN_COMMIT: '0' } });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c, signal) => resolve(signal === 'SIGKILL' ? -9 : c)));
    try {
      process.kill(-(child.pid as number), 'SIGKILL'); // the workers it left behind
    } catch {
      // none left
    }
    assert.equal(code, -9, 'the master died in the commit');
    assert.ok(existsSync(join(out, 'part-r-00000.gz')) && !existsSync(join(out, 'part-r-00001.gz')) && !existsSync(join(out, '_SUCCESS')));
    const r = await runCli([...flags, '--resume']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonSummary(r)['phases']['reduce']['reusedTasks'], 3);
    for (const [i, p] of parts(out).entries()) assert.deepEqual(execFileSync('zcat', [join(out, p)]), bytesOf(plain)[i]);
    assert.equal((await runCli(['verify', out])).code, 0);
  });

  test('a streaming job with --output-compression gzip', async () => {
    const out = join(dir, 'streaming-gzip');
    const r = await runCli(['run', '--mapper', 'cat', '--reducer', 'cat', '--input', join(ROOT, 'examples', 'data'), '--output', out, '--output-compression', 'gzip', '--reducers', '2', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const unzipped = join(dir, 'streaming-plain');
    const r2 = await runCli(['run', '--mapper', 'cat', '--reducer', 'cat', '--input', join(ROOT, 'examples', 'data'), '--output', unzipped, '--reducers', '2', '--no-progress']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(parts(out), ['part-r-00000.gz', 'part-r-00001.gz']);
    for (const [i, p] of parts(out).entries()) assert.deepEqual(execFileSync('zcat', [join(out, p)]), bytesOf(unzipped)[i]);
    assert.equal((await runCli(['verify', out])).code, 0);
  });
});

/** An RFC 4180 reader, independent of the writer's library: rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}
