import type { Command } from 'commander';
import { isTorpedoError } from '../errors.ts';
import type { PartCheck, PartVerdict } from '../protocol/output-manifest.ts';

interface VerifyFlags {
  json: boolean;
}

/** How each verdict is shown, padded to one column. */
const VERDICT_LABELS: Readonly<Record<PartVerdict, string>> = {
  ok: 'ok',
  'wrong-size': 'WRONG SIZE',
  'wrong-crc': 'WRONG CRC',
  missing: 'MISSING',
  unlisted: 'UNLISTED',
};
const LABEL_WIDTH = Math.max(...Object.values(VERDICT_LABELS).map((l) => l.length));

/**
 * `torpedo verify OUTPUT`: checks a job's output against the checksum manifest its commit wrote
 * in `_SUCCESS` (protocol/output-manifest.ts). Prints a line per part as it is checked, then a
 * summary; exit 0 if every part is as listed, 1 if any is not, 2 if the output cannot be
 * verified (no `_SUCCESS`, an empty one from an older version, a malformed one).
 */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("check a job's output against the sizes and CRC-32s listed in its _SUCCESS; exit 1 if a part is wrong, missing or unlisted")
    .argument('<output>', 'the output directory of a job')
    .option('--json', 'print one JSON report on stdout instead of lines', false)
    .action(async (output: string, flags: VerifyFlags) => {
      process.exitCode = await verify(output, flags);
    });
}

async function verify(output: string, flags: VerifyFlags): Promise<number> {
  const { verifyOutput } = await import('../protocol/output-manifest.ts');
  let checks: PartCheck[];
  try {
    checks = await verifyOutput(output, flags.json ? undefined : (check) => process.stdout.write(formatCheck(check)));
  } catch (e) {
    if (!isTorpedoError(e)) throw e;
    if (flags.json) process.stdout.write(`${JSON.stringify({ output, ok: false, error: { code: e.code, message: e.message } })}\n`);
    process.stderr.write(`torpedo: error ${e.code}: ${e.message}\n`);
    return 2;
  }
  const ok = checks.every((c) => c.verdict === 'ok');
  if (flags.json) process.stdout.write(`${JSON.stringify({ output, ok, parts: checks })}\n`);
  else process.stdout.write(formatVerdicts(output, checks));
  return ok ? 0 : 1;
}

/** One part's line: its verdict, name, and what was found against what the manifest says. */
export function formatCheck(c: PartCheck): string {
  const said = c.expected;
  const detail = ((): string => {
    switch (c.verdict) {
      case 'ok':
        return `${said?.bytes} bytes  crc32 ${said?.crc32}`;
      case 'wrong-size':
        return `${c.found?.bytes} bytes, the manifest says ${said?.bytes}`;
      case 'wrong-crc':
        return `crc32 ${c.found?.crc32}, the manifest says ${said?.crc32}`;
      case 'missing':
        return `${c.note ?? 'not there'}; the manifest lists ${said?.bytes} bytes`;
      case 'unlisted':
        return 'not in the manifest';
    }
  })();
  return `${VERDICT_LABELS[c.verdict].padEnd(LABEL_WIDTH)}  ${c.name}  ${detail}\n`;
}

/** The summary line: all parts ok, or how many of each kind of mismatch. */
export function formatVerdicts(output: string, checks: readonly PartCheck[]): string {
  const listed = checks.filter((c) => c.verdict !== 'unlisted').length;
  const wrong = new Map<PartVerdict, number>();
  for (const c of checks) if (c.verdict !== 'ok') wrong.set(c.verdict, (wrong.get(c.verdict) ?? 0) + 1);
  if (wrong.size === 0) return `${output}: all ${listed} parts ok\n`;
  const counts = [...wrong].map(([verdict, n]) => `${n} ${VERDICT_LABELS[verdict]}`).join(', ');
  return `${output}: verification failed (${listed} listed parts): ${counts}\n`;
}
