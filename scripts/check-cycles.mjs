// Fails if any module under src/ or examples/ imports itself through a cycle (STYLE.md, habit 11).
// esbuild's metafile gives each file's imports; a depth-first search finds the cycles.
import { build } from 'esbuild';

const result = await build({
  entryPoints: ['src/cli/main.ts', 'src/api/index.ts'],
  bundle: true,
  write: false,
  metafile: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outdir: 'unused',
  logLevel: 'error',
});
const graph = new Map(
  Object.entries(result.metafile.inputs).map(([file, info]) => [file, info.imports.map((i) => i.path).filter((p) => p in result.metafile.inputs)]),
);
const state = new Map(); // file → 'visiting' | 'done'
const cycles = [];
const visit = (file, stack) => {
  state.set(file, 'visiting');
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
    else if (!state.has(next)) visit(next, [...stack, next]);
  }
  state.set(file, 'done');
};
for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
if (cycles.length > 0) {
  console.error(`import cycles:\n${cycles.join('\n')}`);
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} modules`);
