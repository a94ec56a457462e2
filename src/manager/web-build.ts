import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../paths.ts';

/** The UI's sources (a Vite + Preact app with its own tsconfig). */
export const WEB_DIR = join(ROOT, 'web');
/** Built UIs, one directory per source version; under node_modules so that git and `npm ci` leave them alone. */
export const WEB_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'torpedo-web');

/** Packages whose version is part of a build's identity (what ends up in the bundle, and the bundler). */
const BUILD_PACKAGES = ['vite', 'preact', 'chart.js'];
/** A marker written last: a directory without it is an interrupted build. */
const COMPLETE = '.complete';

const pending = new Map<string, Promise<string>>();

/**
 * The directory of the built UI (index.html, assets/), building it first when there is none for
 * the current sources. Builds are keyed by a hash of web/'s files and the versions of the build's
 * packages rather than by modification times, so a checkout that touches files without changing
 * them does not rebuild, and switching back to an earlier version finds its build. Checking costs
 * a read of web/ (a few milliseconds); a build takes a few seconds.
 *
 * Called by the UI routes when the manager starts, and by scripts/build-web.ts (so that `npm test`
 * builds once, before the tests). Safe to call concurrently, in one process or several: each build
 * goes to a temporary directory that is renamed into place; the first rename wins.
 */
export function ensureWebBuild(o: { log?: (line: string) => void } = {}): Promise<string> {
  const key = webSourceKey();
  const dir = join(WEB_CACHE_DIR, key);
  if (existsSync(join(dir, COMPLETE))) return Promise.resolve(dir);
  let p = pending.get(key);
  if (p === undefined) {
    p = build(key, dir, o.log ?? (() => {}));
    pending.set(key, p);
    p.finally(() => pending.delete(key)).catch(() => {});
  }
  return p;
}

/** A hash of every file under web/ (paths and contents) and of the build packages' versions. */
export function webSourceKey(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) hash.update(`${relative(WEB_DIR, p)}\0`).update(readFileSync(p)).update('\0');
    }
  };
  walk(WEB_DIR);
  for (const name of BUILD_PACKAGES) hash.update(`${name}@${packageVersion(name)}\0`);
  return hash.digest('hex').slice(0, 16);
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

async function build(key: string, dir: string, log: (line: string) => void): Promise<string> {
  const started = performance.now();
  mkdirSync(WEB_CACHE_DIR, { recursive: true });
  const tmp = join(WEB_CACHE_DIR, `.build-${key}-${process.pid}-${Date.now()}`);
  try {
    const { build: viteBuild } = await import('vite');
    await viteBuild({
      root: WEB_DIR,
      configFile: false, // web/vite.config.ts is for the dev server; JSX settings come from web/tsconfig.json
      logLevel: 'warn',
      base: '/',
      build: { outDir: tmp, emptyOutDir: true, assetsDir: 'assets', sourcemap: true, reportCompressedSize: false, chunkSizeWarningLimit: 400 },
    });
    writeFileSync(join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(join(dir, COMPLETE))) throw e;
    }
    log(`built the web UI in ${((performance.now() - started) / 1000).toFixed(1)} s (${relative(ROOT, dir)})`);
    prune(key);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Removes other versions' builds and abandoned temporary directories older than an hour. */
function prune(keep: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(WEB_CACHE_DIR)) {
    if (name === keep) continue;
    const p = join(WEB_CACHE_DIR, name);
    try {
      if (statSync(p).mtimeMs < hourAgo) rmSync(p, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
