// Builds the bundle of src/ that bin/torpedo runs, when any source is newer than it. Also called by
// the CLI and the manager before they start sandboxed processes (job probes, workers): those may
// not write, so they must find the bundle up to date.
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Returns the path of the bundle's entry, rebuilding it first if a source file is newer. */
export async function ensureBundle() {
  const outDir = join(root, 'node_modules', '.cache', 'torpedo');
  const entry = join(outDir, 'main.mjs');
  const newest = (dir) => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  let built = 0;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    // Not built yet.
  }
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'examples', 'index.ts')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  if (built < sources) {
    const { build } = await import('esbuild');
    const tmp = `${outDir}-build-${process.pid}`;
    mkdirSync(tmp, { recursive: true });
    mkdirSync(outDir, { recursive: true });
    await build({
      entryPoints: { main: join(root, 'src', 'cli', 'main.ts') },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      outdir: tmp,
      entryNames: '[name]',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      logLevel: 'error',
    });
    writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
    // Readable by every sandbox's uid, whatever the umask of the process that builds it (the
    // manager's is 077).
    for (const dir of [dirname(outDir), outDir]) chmodSync(dir, 0o755);
    for (const f of readdirSync(tmp)) chmodSync(join(tmp, f), 0o644);
    // Chunks have content hashes: move them first, the entry (what `built` checks) last.
    for (const f of readdirSync(tmp).sort((a, b) => (a === 'main.mjs') - (b === 'main.mjs'))) renameSync(join(tmp, f), join(outDir, f));
    rmSync(tmp, { recursive: true, force: true });
  }
  const { ensureKernels } = await import('./kernels.mjs');
  await ensureKernels();
  return entry;
}
