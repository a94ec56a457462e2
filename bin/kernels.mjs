// Compiles the WebAssembly kernels (kernels/*.ts, AssemblyScript) into node_modules/.cache/torpedo-kernels/
// when a source is newer than its module (about 1 s, once). Called with the bundle (bin/bundle.mjs),
// so that sandboxed workers, which may not write, find the modules built, and by the engine when a
// module is missing (tests run the sources directly).
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const kernelDir = join(root, 'node_modules', '.cache', 'torpedo-kernels');

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
};

/** Builds every kernel whose module is older than its source or than package.json. */
export async function ensureKernels() {
  const sourceDir = join(root, 'kernels');
  const lockTime = mtime(join(root, 'package.json'));
  for (const file of readdirSync(sourceDir).filter((f) => f.endsWith('.ts'))) {
    const source = join(sourceDir, file);
    const out = join(kernelDir, file.replace(/\.ts$/, '.wasm'));
    if (mtime(out) >= Math.max(mtime(source), lockTime)) continue;
    mkdirSync(kernelDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const { default: asc } = await import('assemblyscript/asc');
    // stub runtime: no garbage collector (the kernels manage their memory); noAssert: no bounds
    // assertions in the loops (the TypeScript side checks every argument it passes).
    const { error, stderr } = await asc.main([source, '-O3', '--runtime', 'stub', '--noAssert', '--outFile', tmp]);
    if (error) {
      rmSync(tmp, { force: true });
      throw new Error(`cannot compile ${source}: ${error.message}\n${stderr.toString()}`);
    }
    // Readable by every sandbox's uid, whatever the builder's umask (the manager's is 077).
    for (const dir of [dirname(kernelDir), kernelDir]) chmodSync(dir, 0o755);
    chmodSync(tmp, 0o644);
    renameSync(tmp, out);
  }
}
