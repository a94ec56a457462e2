// The built-in word count with its input in S3 against the same job on a local file, in one run:
// a real radosgw on loopback (test/support/s3-server.ts, its in-memory store sized for the
// input), the bench's text uploaded as one object, and the two jobs run alternately. Prints a
// table of medians, the median of the runs' paired ratios, and the bytes and requests the job
// sent to the store (counted by a proxy between the master's storage gateway and the server).
//
//   node --import tsx bench/s3-inputs.ts [--size 1GB] [--runs 3]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Upload } from '@aws-sdk/lib-storage';
import { startFaultProxy } from '../test/support/s3-fault-proxy.ts';
import { s3ClientFor, startS3Server } from '../test/support/s3-server.ts';
import { ensureTextFile } from './data-cache.ts';
import { logToStderr as log } from './log.ts';
import { parseSize } from './parse-size.ts';
import { OUT_DIR, REPO_DIR } from './paths.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const { values } = parseArgs({ options: { size: { type: 'string', default: '1GB' }, runs: { type: 'string', default: '3' }, seed: { type: 'string', default: '42' } } });
const bytes = parseSize(values.size);
const runs = Number(values.runs);
const { file } = ensureTextFile(bytes, Number(values.seed), log);

const server = await startS3Server({ kind: 'radosgw', memoryBytes: Math.max(2 ** 30, Math.ceil(bytes * 1.5)) });
const proxy = await startFaultProxy(server.endpoint);
try {
  await server.createBucket('bench');
  const client = s3ClientFor(server);
  log(`uploading ${file} to s3://bench/text.txt …`);
  await new Upload({ client, params: { Bucket: 'bench', Key: 'text.txt', Body: createReadStream(file) }, partSize: 16 << 20, queueSize: 4 }).done();
  client.destroy();

  const env = { ...process.env, ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint };
  // Spawned, not run synchronously: the counting proxy runs in this process's event loop.
  const job = async (input: string, out: string): Promise<number> => {
    rmSync(out, { recursive: true, force: true });
    const t = performance.now();
    const child = spawn(process.execPath, ['bin/torpedo', 'run', 'wordcount', '--input', input, '--output', out, '--reducers', '4', '--workers', '2', '--force', '--no-progress'], { cwd: REPO_DIR, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`torpedo run on ${input} exited with ${code}`);
    return (performance.now() - t) / 1000;
  };
  const cases = [
    { label: 'torpedo: built-in wordcount, input a local file', input: file, out: join(OUT_DIR, 's3-bench-local'), seconds: [] as number[] },
    { label: 'torpedo: built-in wordcount, input an S3 object (radosgw)', input: 's3://bench/text.txt', out: join(OUT_DIR, 's3-bench-s3'), seconds: [] as number[] },
  ];
  let perJob = { requests: 0, bytesDown: 0 };
  for (let r = 1; r <= runs; r++) {
    for (const c of cases) {
      proxy.resetStats();
      const s = await job(c.input, c.out);
      c.seconds.push(s);
      const gets = proxy.stats().byMethod['GET'];
      if (c.input.startsWith('s3://')) perJob = { requests: Object.values(proxy.stats().byMethod).reduce((n, m) => n + m.requests, 0), bytesDown: gets?.bytesDown ?? 0 };
      log(`run ${r}/${runs} ${c.label}: ${s.toFixed(2)} s`);
    }
  }
  execFileSync('bash', ['-c', 'cmp <(cat "$1"/part-r-*) <(cat "$2"/part-r-*)', 'cmp', cases[0]!.out, cases[1]!.out]);
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = cases[1]!.seconds.map((s, i) => s / cases[0]!.seconds[i]!);
  console.log(`Input: ${(bytes / 1e9).toFixed(2)} GB of text, ${runs} runs each, alternating; outputs compared byte for byte.\n`);
  console.log('| case | median s | min s | MB/s |');
  console.log('|---|---:|---:|---:|');
  for (const c of cases) console.log(`| ${c.label} | ${median(c.seconds).toFixed(2)} | ${Math.min(...c.seconds).toFixed(2)} | ${(bytes / 1e6 / median(c.seconds)).toFixed(1)} |`);
  console.log(`\nS3 over local, median of the paired ratios: **${median(ratios).toFixed(2)} ×**. Per S3 job: ${perJob.requests} requests to the store, ${(perJob.bytesDown / 1e6).toFixed(1)} MB read, 0 written (the output is local).`);
} finally {
  await proxy.stop();
  await server.stop();
}
