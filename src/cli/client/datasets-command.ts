import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import type { ApiClient } from './api-client.ts';
import type { Dataset } from './api-types.ts';
import { clientAction, printJson, serverOptions, type JsonFlags, type ServerFlags } from './client-action.ts';
import { fileStream } from './file-stream.ts';
import { formatBytes, formatTime, table } from './format.ts';
import { saveBody } from './save-body.ts';
import { openClient } from './session.ts';

interface UploadFlags extends JsonFlags {
  readonly name?: string;
  readonly overwrite: boolean;
}

interface OwnerFlags extends ServerFlags {
  readonly owner?: string;
}

// Progress bars are imported when needed: cli-progress costs every process that loads the CLI
// bundle (each worker too) some 15 ms.

/** `torpedo datasets ls | upload | download | rm`: the inputs jobs on the manager read. */
export function registerDatasetsCommand(program: Command): void {
  const datasets = program.command('datasets').description('list, upload, download and delete your datasets on the manager');

  serverOptions(datasets.command('ls').description('list your datasets (admins: everyone’s)'), { json: true }).action(
    clientAction(async (flags: JsonFlags) => {
      const answer = await openClient(flags.server).json<{ datasets: Dataset[] }>('GET', '/datasets');
      if (flags.json) return printJson(answer);
      const rows = answer.datasets.map((d) => [d.name, d.owner, formatBytes(d.size), d.sha256.slice(0, 12), formatTime(d.createdAt)]);
      process.stdout.write(table(['NAME', 'OWNER', 'SIZE', 'SHA256', 'CREATED'], rows));
    }),
  );

  serverOptions(
    datasets
      .command('upload')
      .description('upload a file as a dataset (streamed: files larger than memory are fine)')
      .argument('<file>', 'the file to upload')
      .option('--name <name>', 'dataset name (default: the file name)')
      .option('--overwrite', 'replace a dataset of that name', false),
    { json: true },
  ).action(clientAction(upload));

  serverOptions(
    datasets
      .command('download')
      .description('download a dataset to a file, or to stdout')
      .argument('<name>', 'dataset name')
      .option('--out <file>', 'write to this file (default: stdout)')
      .option('--owner <user>', "admins: another user's dataset"),
    { json: false },
  ).action(clientAction(download));

  serverOptions(
    datasets.command('rm').description('delete a dataset').argument('<name>', 'dataset name').option('--owner <user>', "admins: another user's dataset"),
    { json: false },
  ).action(
    clientAction(async (name: string, flags: OwnerFlags) => {
      await openClient(flags.server).request('DELETE', `/datasets/${encodeURIComponent(name)}`, { query: { owner: flags.owner } });
      process.stdout.write(`removed dataset ${name}\n`);
    }),
  );
}

async function upload(file: string, flags: UploadFlags): Promise<void> {
  const dataset = await uploadDataset(openClient(flags.server), file, flags.name ?? basename(file), flags.overwrite);
  if (flags.json) return printJson(dataset);
  process.stdout.write(`uploaded ${dataset.name} (${formatBytes(dataset.size)}, sha256 ${dataset.sha256})\n`);
}

/** Streams a local file to POST /datasets with a progress bar on stderr; also `submit --upload`'s. */
export async function uploadDataset(client: ApiClient, file: string, name: string, overwrite: boolean): Promise<Dataset> {
  const size = fileSize(file);
  const { ByteProgress } = await import('./byte-progress.ts');
  const progress = new ByteProgress(process.stderr, `upload ${name}`, size);
  let dataset: Dataset;
  try {
    dataset = await client.json<Dataset>('POST', '/datasets', {
      query: { name, overwrite: overwrite ? 'true' : undefined },
      stream: fileStream(file, (n) => progress.add(n)),
      // A declared length lets the manager refuse an upload over its limit before any byte is sent.
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
  } finally {
    progress.stop();
  }
  return dataset;
}

async function download(name: string, flags: OwnerFlags & { readonly out?: string }): Promise<void> {
  const client = openClient(flags.server);
  const res = await client.request('GET', `/datasets/${encodeURIComponent(name)}`, { query: { owner: flags.owner } });
  const length = Number(res.headers.get('content-length') ?? NaN);
  const { ByteProgress } = await import('./byte-progress.ts');
  const progress = flags.out !== undefined ? new ByteProgress(process.stderr, `download ${name}`, Number.isFinite(length) ? length : undefined) : undefined;
  try {
    await saveBody(client, res, flags.out, progress);
  } finally {
    progress?.stop();
  }
}

function fileSize(file: string): number {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `cannot read ${file}: no such file`);
  }
  if (!stat.isFile()) throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `${file} is not a file`);
  return stat.size;
}
