// Fails if any module under src/ or examples/ imports itself through a cycle (STYLE.md, habit 11).
// Every import counts, type-only ones too (`import type`, `export type … from`): a cycle through
// types still ties two modules into one. TypeScript's preProcessFile lists each file's imports
// without type-checking; relative ones are resolved against the file, the rest are packages.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const sources = (dir) =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
const files = new Set([...sources('src'), ...sources('examples')]);
const graph = new Map();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.')).map((name) => resolve(dirname(file), name));
  graph.set(file, [...new Set(targets.filter((t) => files.has(t)))]);
}
const state = new Map(); // file → 'visiting' | 'done'
const cycles = [];
const name = (f) => relative(root, f);
const visit = (file, stack) => {
  state.set(file, 'visiting');
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].map(name).join(' → '));
    else if (!state.has(next)) visit(next, [...stack, next]);
  }
  state.set(file, 'done');
};
for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
if (cycles.length > 0) {
  console.error(`import cycles (type-only imports count):\n${cycles.join('\n')}`);
  process.exit(1);
}
console.log(`no import cycles among ${graph.size} modules (type-only imports included)`);
