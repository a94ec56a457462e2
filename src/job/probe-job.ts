import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ErrorCode, TorpedoError } from '../errors.ts';
import { BIN, ROOT } from '../paths.ts';

const PROBE_TIMEOUT_MS = 15_000;
const COMPILE_TIMEOUT_MS = 120_000;

/**
 * Checks that a compiled job bundle loads and has `map` and `reduce`, by importing it in a
 * separate process under Node's permission model (it may read only torpedo and the bundle's
 * directory, and write nothing): the job's top-level code is untrusted and must not run in the
 * CLI's or the manager's process. A module that hangs while loading is stopped after 15 s.
 */
export async function probeJob(bundlePath: string, name: string, sandbox: boolean): Promise<{ hasSetup: boolean }> {
  const flags = sandbox
    ? ['--experimental-permission', '--disable-warning=ExperimentalWarning', `--allow-fs-read=${ROOT}`, `--allow-fs-read=${dirname(bundlePath)}`]
    : [];
  const result = await internalCommand([...flags, BIN, 'probe-job', bundlePath, '--name', name], PROBE_TIMEOUT_MS, `${name}: the job module`);
  return { hasSetup: result['hasSetup'] === true };
}

/** Compiles (and type-checks) a job in a child process, writing the bundle to `out`. */
export async function compileJobInChild(source: string, out: string, o: { typecheck: boolean; name: string; relativeTo: string }): Promise<void> {
  const args = [BIN, 'compile-job', source, '--out', out, '--name', o.name, '--relative-to', o.relativeTo, ...(o.typecheck ? ['--typecheck'] : [])];
  await internalCommand(args, COMPILE_TIMEOUT_MS, `${o.name}: compiling the job`);
}

async function internalCommand(args: readonly string[], timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  await ensureBundle();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err !== null && out === '') {
        const why = err.killed ? `did not finish within ${timeoutMs / 1000} s` : `failed: ${errOut.trim().split('\n').slice(-3).join(' ')}`;
        reject(new TorpedoError('TORPEDO_ERR_USER_CODE', `${what} ${why}`));
      } else {
        resolve(out);
      }
    });
  });
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; code?: ErrorCode; message?: string } & Record<string, unknown>;
  if (!result.ok) throw new TorpedoError(result.code ?? 'TORPEDO_ERR_USER_CODE', result.message ?? `${what} failed`);
  return result;
}

/**
 * Brings bin/torpedo's bundle of src/ up to date. Sandboxed processes (probes, workers) cannot
 * write it, so whoever starts them builds it first.
 */
export async function ensureBundle(): Promise<void> {
  if (process.env['TORPEDO_NO_BUNDLE'] === '1') return;
  const bundler = (await import(pathToFileURL(join(ROOT, 'bin', 'bundle.mjs')).href)) as { ensureBundle(): Promise<string> };
  await bundler.ensureBundle();
}
