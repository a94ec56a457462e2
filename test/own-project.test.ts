// torpedo used from a project of one's own, the way docs/own-project.md says: the packed package
// installed as a dependency, a job that imports 'torpedo' type-checked by the project's own tsc
// with a standard NodeNext tsconfig, and `npx torpedo` running it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readParts, removeDir, ROOT, tempDir } from './helpers.ts';

let dir: string;
let app: string;

before(() => {
  dir = tempDir('torpedo-own-project-');
  // `npm pack` as a publish would: its prepack script makes the type declarations.
  const tarball = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop() as string;
  app = join(dir, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, 'torpedo'), { recursive: true });
  execFileSync('tar', ['xzf', join(dir, tarball), '--strip-components=1', '-C', join(modules, 'torpedo')]);
  // Offline, the dependencies are this checkout's, hard-linked where npm would hoist them.
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '.cache' || name === '.bin' || name === 'torpedo') continue;
    execFileSync('cp', ['-al', join(ROOT, 'node_modules', name), join(modules, name)]);
  }
  mkdirSync(join(modules, '.bin'));
  symlinkSync('../torpedo/bin/torpedo', join(modules, '.bin', 'torpedo'));
  symlinkSync('../typescript/bin/tsc', join(modules, '.bin', 'tsc'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-jobs', private: true, type: 'module', dependencies: { torpedo: '0.1.0' } }));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true }, include: ['*.ts'] }),
  );
  writeFileSync(
    join(app, 'wordcount.ts'),
    [
      "import { compareKeys, defineJob, hashBytes, identity, sum, type MapContext } from 'torpedo';",
      '',
      'export default defineJob<number>({',
      '  map(line: string, emit, ctx: MapContext) {',
      "    for (const word of line.split(/\\s+/)) if (word !== '') emit(word, 1);",
      "    ctx.count('lines');",
      '  },',
      '  reduce: sum,',
      '});',
      'export const helpers = [identity, compareKeys, hashBytes];',
      '',
    ].join('\n'),
  );
  writeFileSync(join(app, 'words.txt'), 'b a b\nc b\n');
});
after(() => removeDir(dir));

const npx = (args: readonly string[]) => spawnSync('npx', ['--offline', ...args], { cwd: app, encoding: 'utf8', timeout: 120_000 });

test('the package ships type declarations: tsc with NodeNext checks a job that imports torpedo, and finds its errors', () => {
  const ok = npx(['tsc', '-p', '.']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  writeFileSync(join(app, 'bad.ts'), "import { defineJob } from 'torpedo';\nexport default defineJob<number>({ map(line, emit) { emit(line, 'one'); }, reduce: (key, values) => values });\n");
  const bad = npx(['tsc', '-p', '.']);
  removeDir(join(app, 'bad.ts'));
  assert.equal(bad.status, 2, bad.stdout);
  assert.match(bad.stdout, /bad\.ts\(2,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
  assert.doesNotMatch(bad.stdout, /TS5097|node_modules/);
});

test('`npx torpedo` works from the project: --version, and a run of its own job', () => {
  const version = npx(['torpedo', '--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, '0.1.0\n');
  const run = npx(['torpedo', 'run', 'wordcount.ts', '--input', 'words.txt', '--output', 'out', '--reducers', '1', '--no-progress']);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.deepEqual(readParts(join(app, 'out')), ['a\t1\nb\t3\nc\t1\n']);
});
