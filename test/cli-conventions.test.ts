// The CLI in the conventions users know (issue 19, section 5): `--version`, help that writes
// defaults as a person types them, one unit convention for sizes (src/protocol/units.ts), the
// client's messages in commands rather than REST, and Ctrl-C on `torpedo run` saying how to resume.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inCommandTerms } from '../src/cli/client/client-action.ts';
import { resumeCommand } from '../src/cli/run-command.ts';
import { DEFAULT_SPLIT_SIZE, JOB_SETTINGS } from '../src/protocol/job-settings.ts';
import { formatBytes, formatRate, formatSizeFlag, parseSizeText } from '../src/protocol/units.ts';
import { BIN, jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

const dir = tempDir('torpedo-conventions-');
after(() => removeDir(dir));

describe('sizes: one convention (IEC names for what is shown, both for what is typed)', () => {
  it('formatBytes shows powers of 1024 as KiB, MiB, GiB', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1 KiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(25 * 2 ** 20), '25 MiB');
    assert.equal(formatBytes(25e6), '23.8 MiB');
    assert.equal(formatBytes(150 * 2 ** 20), '150 MiB');
    assert.equal(formatBytes(3 * 2 ** 30 + 2 ** 29), '3.5 GiB');
    assert.equal(formatRate(2 ** 20), '1 MiB/s');
  });

  it('formatSizeFlag writes a size exactly, as a flag takes it, in the shortest unit', () => {
    assert.equal(formatSizeFlag(256 * 2 ** 20), '256MiB');
    assert.equal(formatSizeFlag(64e6), '64MB');
    assert.equal(formatSizeFlag(2 ** 30), '1GiB');
    assert.equal(formatSizeFlag(1500), '1500');
    for (const n of [256 * 2 ** 20, 64e6, 2 ** 30, 1500, 4096, 1e9]) assert.equal(parseSizeText(formatSizeFlag(n)), n);
  });

  it('sizes typed in either family read as the family says', () => {
    assert.equal(parseSizeText('64MB'), 64e6);
    assert.equal(parseSizeText('64MiB'), 64 * 2 ** 20);
    assert.equal(parseSizeText('1.5 gib'), 1.5 * 2 ** 30);
    assert.equal(parseSizeText('4096'), 4096);
    assert.equal(parseSizeText('64 MBs'), undefined);
  });

  it('the engine defaults are whole binary units, and the help says the split size default', () => {
    assert.equal(formatSizeFlag(DEFAULT_SPLIT_SIZE), '64MiB');
    assert.match(JOB_SETTINGS.splitSize.help, new RegExp(`default: ${formatSizeFlag(DEFAULT_SPLIT_SIZE)}\\b`));
    assert.equal(formatSizeFlag(JOB_SETTINGS.memoryBytes.default), '256MiB');
    assert.equal(formatSizeFlag(JOB_SETTINGS.maxRecordBytes.default), '256MiB');
  });

  it('one default for reducers: torpedo run, torpedo submit, the manager and the UI', () => {
    assert.equal(JOB_SETTINGS.reducers.default, 1);
    assert.equal((JOB_SETTINGS.reducers as { apiDefault?: number }).apiDefault, undefined);
  });
});

describe('the command line', () => {
  it('torpedo --version prints package.json’s version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  });

  it('help writes defaults as a person types them: no raw byte counts, no (default: {}), (default: []) or (default: false)', async () => {
    const run = await runCli(['run', '--help']);
    assert.equal(run.code, 0, run.stderr);
    const help = run.stdout.replace(/\s+/g, ' ');
    assert.match(help, /--memory <size> .*?\(default: 256MiB\)/);
    assert.match(help, /--max-record-size <size> .*?\(default: 256MiB\)/);
    assert.match(help, /--split-size <size> bytes per map task \(default: 64MiB\)/);
    assert.match(help, /--reducers <n> .*?\(default: 1\)/);
    for (const command of [['run'], ['submit'], ['master'], ['verify'], ['datasets', 'upload'], ['users', 'add'], ['manager']]) {
      const r = await runCli([...command, '--help']);
      assert.equal(r.code, 0, `${command.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /\d{7,}/, `${command.join(' ')} --help shows a raw byte count`);
      assert.doesNotMatch(r.stdout, /\(default: (\{\}|\[\]|false)\)/, `${command.join(' ')} --help`);
    }
    const submit = (await runCli(['submit', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(submit, /--reducers <n> .*?\(default: 1\)/);
  });

  it('resumeCommand repeats the command with --resume, quoted for a shell', () => {
    assert.equal(resumeCommand(['run', 'wordcount', '-i', 'in', '-o', 'out']), 'torpedo run wordcount -i in -o out --resume');
    assert.equal(resumeCommand(['run', 'grep', '-p', 'pattern=it is', '-o', "it's", '--resume']), "torpedo run grep -p 'pattern=it is' -o 'it'\\''s' --resume");
  });
});

describe('the client speaks in commands, not REST', () => {
  it('the manager’s REST advice becomes the command’s', () => {
    assert.equal(inCommandTerms('a dataset named "books" exists; pass overwrite=true to replace it'), 'a dataset named "books" exists; use --overwrite to replace it');
    assert.equal(inCommandTerms('you have no dataset "books" (GET /datasets lists yours)'), 'you have no dataset "books" (`torpedo datasets ls` lists yours)');
    assert.equal(inCommandTerms('this request needs a token: Authorization: Bearer <token> (POST /auth/login)'), 'this needs you to be logged in');
  });

  it('the manager still says each phrase that the client rewrites (so that a rewording is noticed)', () => {
    const sources = ['src/manager/dataset-store.ts', 'src/manager/job-scheduler.ts', 'src/manager/auth/authenticate.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    for (const phrase of ['; pass overwrite=true to replace it', ' (GET /datasets lists yours)', ': Authorization: Bearer <token> (POST /auth/login)']) {
      assert.ok(sources.includes(phrase), `the manager no longer says ${JSON.stringify(phrase)}: update inCommandTerms`);
    }
  });
});

describe('Ctrl-C on torpedo run', () => {
  it('stops the job, keeps its committed tasks, says how to resume, and --resume finishes it', async () => {
    const input = join(dir, 'lines.txt');
    const lines = Array.from({ length: 40 }, (_, i) => `line ${String(i).padStart(2, '0')}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    // slow-map.mjs: 200 ms per line; 8 maps of 5 lines on 2 workers take about 4 s.
    const args = ['run', join(ROOT, 'test', 'jobs', 'slow-map.mjs'), '--input', input, '--output', out, '--maps', '8', '--workers', '2', '--no-progress'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const mapDir = join(out, '_temporary', 'map');
    const committed = (): number => (existsSync(mapDir) ? readdirSync(mapDir).filter((f) => f.endsWith('.run')).length : 0);
    for (let waited = 0; committed() === 0; waited += 50) {
      assert.ok(waited < 60_000, `no map task committed within a minute\n${stderr}`);
      await sleep(50);
    }
    const atSignal = committed();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted; the committed tasks are kept/);
    assert.ok(stderr.includes(resumeCommand(args)), `the message repeats the command with --resume:\n${stderr}`);
    assert.ok(existsSync(join(out, '_temporary', 'job.json')) && committed() >= atSignal, 'the committed tasks stay');

    const resumed = await runCli([...args, '--resume', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const s = jsonSummary(resumed);
    assert.equal(s['status'], 'succeeded');
    assert.ok(s['phases']['map']['reusedTasks'] >= atSignal, `reused ${s['phases']['map']['reusedTasks']} of the ${atSignal}+ committed maps`);
    assert.deepEqual(readParts(out).join('').split('\n').filter(Boolean).sort(), lines, 'every line once: a null value writes the key alone');
  });
});
