// Runs one S3 request in a process of its own through the real storageFor, with only the AWS
// variables given (a HOME and config files that do not exist, the instance metadata service off
// so that nothing leaves loopback), and returns the error it met: with none, no credentials at
// all; with wrong ones from the environment, what the SDK's own chain reads.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { removeDir, ROOT, tempDir } from '../helpers.ts';

export interface ChildError {
  readonly code: string;
  readonly reason: string;
  readonly message: string;
}

const SCRIPT = `
import { storageFor } from './src/storage/index.ts';
const { storage, key } = storageFor(process.argv[1]);
try {
  await storage.stat(key);
  console.log(JSON.stringify({ code: 'none', reason: 'none', message: 'the request succeeded' }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, reason: e.reason, message: e.message }));
}`;

export async function errorInChild(endpoint: string, uri: string, aws: Readonly<Record<string, string>> = {}): Promise<ChildError> {
  const home = tempDir('torpedo-nocreds-');
  try {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'none', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none', 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
      ...aws,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--no-warnings', '-e', SCRIPT, uri], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = out.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`the child exited ${code}: ${err}${out}`);
    return JSON.parse(line) as ChildError;
  } finally {
    removeDir(home);
  }
}
