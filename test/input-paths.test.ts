import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

/**
 * Input paths end to end, through the real CLI (issue 20): symbolic links that resolve are
 * followed; dangling links, link loops and directories that contain themselves are refused with
 * an error naming the path, exit 2 and no stack, leaving an existing output as it was even with
 * --force; a file that vanishes or shrinks while the job runs fails its map task with
 * TORPEDO_ERR_INPUT_CHANGED naming it, never a success on fewer bytes.
 */

let dir: string;
before(() => {
  dir = tempDir('torpedo-input-paths-');
});
after(() => removeDir(dir));

/** A fresh directory under the test's own, named after the case. */
function caseDir(name: string): string {
  const d = join(dir, name.replace(/\W+/g, '-'));
  mkdirSync(d, { recursive: true });
  return d;
}

/** An output directory from an earlier run, which a refused run must leave as it was. */
function previousOutput(d: string): string {
  const out = join(d, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'part-r-00000'), 'earlier\t1\n');
  writeFileSync(join(out, '_SUCCESS'), '');
  return out;
}

/** The word counts of a wordcount output, as a map. */
function counts(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readParts(out).join('').split('\n')) {
    if (line === '') continue;
    const [word, n] = line.split('\t') as [string, string];
    m.set(word, Number(n));
  }
  return m;
}

const BAD_INPUTS: readonly { name: string; make: (d: string) => { input: string; path: string }; why: RegExp }[] = [
  {
    name: 'a symbolic link loop inside a directory',
    make: (d) => {
      const input = join(d, 'in');
      mkdirSync(input);
      writeFileSync(join(input, 'ok.txt'), 'fine words\n');
      symlinkSync('b', join(input, 'a'));
      symlinkSync('a', join(input, 'b'));
      return { input, path: join(input, 'a') };
    },
    why: /is a symbolic link loop/,
  },
  {
    name: 'a dangling symbolic link inside a directory',
    make: (d) => {
      const input = join(d, 'in');
      mkdirSync(input);
      writeFileSync(join(input, 'ok.txt'), 'fine words\n');
      symlinkSync('nowhere.txt', join(input, 'gone.txt'));
      return { input, path: join(input, 'gone.txt') };
    },
    why: /is a dangling symbolic link: its target "nowhere\.txt" does not exist/,
  },
  {
    name: 'a directory that contains itself through a link',
    make: (d) => {
      const input = join(d, 'in');
      mkdirSync(join(input, 'sub'), { recursive: true });
      writeFileSync(join(input, 'sub', 'f.txt'), 'fine words\n');
      symlinkSync('..', join(input, 'sub', 'up'));
      return { input, path: join(input, 'sub', 'up') };
    },
    why: /is a directory loop: a symbolic link leads back to "[^"]*\/in", which contains it/,
  },
  {
    name: 'a symbolic link loop given as the input',
    make: (d) => {
      symlinkSync('self', join(d, 'self'));
      return { input: join(d, 'self'), path: join(d, 'self') };
    },
    why: /is a symbolic link loop/,
  },
  {
    name: 'a dangling symbolic link given as the input',
    make: (d) => {
      symlinkSync(join(d, 'missing.txt'), join(d, 'link.txt'));
      return { input: join(d, 'link.txt'), path: join(d, 'link.txt') };
    },
    why: /is a dangling symbolic link/,
  },
  {
    name: 'an input that does not exist',
    make: (d) => ({ input: join(d, 'absent'), path: join(d, 'absent') }),
    why: /does not exist/,
  },
];

describe('bad input paths are refused before anything is touched', () => {
  for (const c of BAD_INPUTS) {
    it(`${c.name}: exit 2, the path named, no stack, the earlier output kept despite --force`, async () => {
      const d = caseDir(c.name);
      const { input, path } = c.make(d);
      const out = previousOutput(d);
      const r = await runCli(['run', 'wordcount', '--input', input, '--output', out, '--force', '--no-progress']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^torpedo: error TORPEDO_ERR_INPUT_NOT_FOUND: input "/m);
      assert.ok(r.stderr.includes(JSON.stringify(path)), `the message names ${path}: ${r.stderr}`);
      assert.match(r.stderr, c.why);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000']);
      assert.equal(readFileSync(join(out, 'part-r-00000'), 'utf8'), 'earlier\t1\n');
    });
  }

  it('--json reports the refusal as JSON with its code', async () => {
    const d = caseDir('json');
    const { input, path } = BAD_INPUTS[1]!.make(d);
    const r = await runCli(['run', 'wordcount', '--input', input, '--output', join(d, 'out'), '--json', '--no-progress']);
    assert.equal(r.code, 2, r.stderr);
    const summary = jsonSummary(r);
    assert.equal(summary['status'], 'failed');
    assert.equal(summary['error'].code, 'TORPEDO_ERR_INPUT_NOT_FOUND');
    assert.ok((summary['error'].message as string).includes(JSON.stringify(path)));
    assert.ok(!existsSync(join(d, 'out')), 'no output directory was made');
  });
});

describe('symbolic links that resolve are followed', () => {
  it('links to files and directories, inside and outside the input, each file read once', async () => {
    const d = caseDir('links-followed');
    const input = join(d, 'in');
    const elsewhere = join(d, 'elsewhere');
    mkdirSync(join(input, 'real'), { recursive: true });
    mkdirSync(join(elsewhere, 'dir'), { recursive: true });
    writeFileSync(join(input, 'real', 'inside.txt'), 'inside\n');
    writeFileSync(join(elsewhere, 'far.txt'), 'far\n');
    writeFileSync(join(elsewhere, 'dir', 'deep.txt'), 'deep\n');
    symlinkSync(join(elsewhere, 'far.txt'), join(input, 'far.txt')); // a file outside
    symlinkSync(join(elsewhere, 'dir'), join(input, 'dir')); // a directory outside
    symlinkSync('real', join(input, 'same')); // a second name for a directory of the input
    symlinkSync(join('real', 'inside.txt'), join(input, 'again.txt')); // a second name for a file
    const out = join(d, 'out');
    const r = await runCli(['run', 'wordcount', '--input', input, '--output', out, '--no-progress', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...counts(out)].sort(), [['deep', 1], ['far', 1], ['inside', 1]]);
    assert.equal(jsonSummary(r)['counters']['map input bytes'], 'inside\n'.length + 'far\n'.length + 'deep\n'.length);
  });
});

/** A map job (test/jobs/changes-input.mjs) that cuts or deletes `b.txt` at a chosen record. */
const CHANGES_INPUT = join(ROOT, 'test', 'jobs', 'changes-input.mjs');

/** a.txt (one line, read first with one worker) and b.txt, 4 MB: four 1 MB chunks in one split. */
function changingInput(d: string): { input: string; b: string } {
  const input = join(d, 'in');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), 'alpha beta\n');
  writeFileSync(join(input, 'b.txt'), 'gamma delta epsilon\n'.repeat(200_000));
  return { input, b: join(input, 'b.txt') };
}

/** Runs the changing job: `trigger` is the file whose first record makes the change. */
function runChanging(d: string, input: string, b: string, params: Record<string, string>, extra: readonly string[] = []) {
  const flags = Object.entries({ target: b, ...params }).flatMap(([k, v]) => ['--param', `${k}=${v}`]);
  return runCli(['run', CHANGES_INPUT, '--input', input, '--output', join(d, 'out'), '--json', '--no-progress', '--no-sandbox', '--workers', '1', '--reducers', '1', '--split-size', '64MB', ...flags, ...extra]);
}

describe('input files that change while the job runs fail it, naming the file', () => {
  const expectChanged = (r: Awaited<ReturnType<typeof runCli>>, d: string, b: string, why: RegExp): void => {
    assert.equal(r.code, 1, r.stderr);
    const summary = jsonSummary(r);
    assert.equal(summary['status'], 'failed');
    assert.equal(summary['error'].code, 'TORPEDO_ERR_INPUT_CHANGED', JSON.stringify(summary['error']));
    const message = summary['error'].message as string;
    assert.ok(message.includes(JSON.stringify(b)), message);
    assert.match(message, why);
    assert.match(r.stderr, /torpedo: job failed: TORPEDO_ERR_INPUT_CHANGED /);
    assert.doesNotMatch(r.stderr, /ENOENT/);
    assert.ok(!existsSync(join(d, 'out', '_SUCCESS')), 'no success');
    assert.deepEqual(readParts(join(d, 'out')), [], 'no part files');
  };

  it('a file deleted before its map task opens it', async () => {
    const d = caseDir('deleted');
    const { input, b } = changingInput(d);
    const r = await runChanging(d, input, b, { trigger: 'a.txt', change: 'delete' });
    expectChanged(r, d, b, /has vanished since the job started/);
  });

  it('a file truncated before its map task opens it', async () => {
    const d = caseDir('truncated-before');
    const { input, b } = changingInput(d);
    const r = await runChanging(d, input, b, { trigger: 'a.txt', change: 'truncate', bytes: '100' });
    expectChanged(r, d, b, /has shrunk since the job started: it was 4000000 bytes, .* and is 100 bytes/);
  });

  it('a file truncated while its map task reads it', async () => {
    const d = caseDir('truncated-during');
    const { input, b } = changingInput(d);
    const r = await runChanging(d, input, b, { trigger: 'b.txt', change: 'truncate', bytes: '100' }, ['--max-attempts', '1']);
    expectChanged(r, d, b, /has shrunk while being read: it ends before byte \d+, but was 4000000 bytes/);
  });

  it('with retries, every attempt fails the same way and the job fails after them', async () => {
    const d = caseDir('truncated-retried');
    const { input, b } = changingInput(d);
    const r = await runChanging(d, input, b, { trigger: 'b.txt', change: 'truncate', bytes: '100' });
    expectChanged(r, d, b, /has shrunk since the job started/);
    assert.equal(jsonSummary(r)['phases']['map'].failedAttempts, 3);
  });
});
