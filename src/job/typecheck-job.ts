import { createRequire } from 'node:module';
import { dirname, relative } from 'node:path';
import ts from 'typescript';
import { TorpedoError } from '../errors.ts';

/**
 * Type-checks a TypeScript job file (and what it imports) against torpedo's API types; throws
 * TORPEDO_ERR_JOB_SYNTAX with file:line:column of the first errors. Costs about a second, once,
 * in the process that submits the job.
 */
export function typecheckJob(path: string, apiEntry: string, relativeTo = process.cwd()): void {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    ...nodeTypes(apiEntry),
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    allowJs: false,
    paths: { torpedo: [apiEntry] },
  };
  const program = ts.createProgram([path], options);
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .filter((d) => d.file === undefined || !d.file.fileName.includes('/node_modules/'))
    .filter((d) => d.file === undefined || !d.file.fileName.startsWith(apiEntry.replace(/api\/index\.ts$/, '')));
  if (diagnostics.length === 0) return;
  const text = diagnostics
    .slice(0, 5)
    .map((d) => {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (d.file === undefined || d.start === undefined) return `error TS${d.code}: ${msg}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${relative(relativeTo, d.file.fileName)}:${line + 1}:${character + 1}: error TS${d.code}: ${msg}`;
    })
    .join('\n');
  throw new TorpedoError('TORPEDO_ERR_JOB_SYNTAX', text);
}

/**
 * Jobs may live anywhere: @types/node (a dependency of torpedo's) is found where torpedo finds it,
 * not beside the job file; installed in a project, npm hoists it out of torpedo's directory.
 * Without it (an install that left it out), jobs are checked without Node's types.
 */
function nodeTypes(apiEntry: string): Pick<ts.CompilerOptions, 'types' | 'typeRoots'> {
  try {
    return { types: ['node'], typeRoots: [dirname(dirname(createRequire(apiEntry).resolve('@types/node/package.json')))] };
  } catch {
    return { types: [] };
  }
}
