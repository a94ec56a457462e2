import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Message } from 'esbuild';
import { TorpedoError } from '../errors.ts';
import { API_ENTRY } from '../paths.ts';

export interface CompiledJob {
  /** The bundled ES module, with an inline source map pointing at the user's files. */
  readonly code: string;
  /** How errors name the job. */
  readonly name: string;
}

/**
 * Bundles a job module (TypeScript or JavaScript, with its imports) into one ES module that
 * workers import, so that syntax errors surface here, before any task runs, with file:line. The
 * specifier `torpedo` resolves to this package's API wherever the job file lives. TypeScript
 * files are also type-checked unless `typecheck` is false.
 */
export async function compileJob(file: string, opts: { typecheck: boolean; name?: string; relativeTo?: string }): Promise<CompiledJob> {
  const relativeTo = opts.relativeTo ?? process.cwd();
  const path = resolve(file);
  const name = opts.name ?? file;
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `job file ${JSON.stringify(file)} does not exist`);
  }
  if (opts.typecheck && /\.(c|m)?tsx?$/.test(path)) {
    const { typecheckJob } = await import('./typecheck-job.ts');
    typecheckJob(path, API_ENTRY, relativeTo);
  }
  let result;
  try {
    result = await build({
      entryPoints: [path],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      sourcemap: 'inline',
      sourcesContent: false,
      // The bundle is copied to where workers read it (OUTPUT/_temporary/job.mjs), so its source
      // map must not name sources relative to where it was built: they are relative to
      // `relativeTo`, and `sourceRoot` makes them absolute again, wherever the bundle lies.
      absWorkingDir: resolve(relativeTo),
      sourceRoot: `${pathToFileURL(resolve(relativeTo)).href}/`,
      logLevel: 'silent',
      alias: { torpedo: API_ENTRY },
      // Let bundled CommonJS dependencies call require() for Node built-ins.
      banner: { js: "import { createRequire as __torpedoRequire } from 'node:module'; const require = __torpedoRequire(import.meta.url);" },
    });
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors ?? [];
    throw new TorpedoError('TORPEDO_ERR_JOB_SYNTAX', formatMessages(errors, (e as Error).message, relativeTo));
  }
  const out = result.outputFiles[0];
  if (out === undefined) throw new TorpedoError('TORPEDO_ERR_JOB_SYNTAX', `${name}: bundling produced no output`);
  return { code: out.text, name };
}

function formatMessages(errors: readonly Message[], fallback: string, relativeTo: string): string {
  if (errors.length === 0) return fallback;
  return errors
    .slice(0, 5)
    .map((m) => {
      const loc = m.location;
      const where = loc ? `${relative(relativeTo, resolve(loc.file)) || loc.file}:${loc.line}:${loc.column + 1}` : '';
      return `${where ? `${where}: ` : ''}error: ${m.text}${loc?.lineText ? `\n    ${loc.lineText}` : ''}`;
    })
    .join('\n');
}
