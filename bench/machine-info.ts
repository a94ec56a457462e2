import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';

/** What RESULTS.md says about the machine, since the numbers mean little without it. */
export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memTotalBytes: number | undefined;
  readonly memAvailableBytes: number | undefined;
  readonly kernel: string;
  readonly os: string;
  readonly tools: readonly string[];
}

export function collectMachineInfo(daskVersion: string | undefined): MachineInfo {
  const cpuinfo = readOr('/proc/cpuinfo');
  const meminfo = readOr('/proc/meminfo');
  const kb = (field: string): number | undefined => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  return {
    cores: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memTotalBytes: kb('MemTotal'),
    memAvailableBytes: kb('MemAvailable'),
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readOr('/etc/os-release'))?.[1] ?? 'unknown',
    tools: [
      `node ${process.version}`,
      firstLine('sort', ['--version']),
      firstLine('cc', ['--version']),
      firstLine('/usr/bin/python3', ['--version']),
      daskVersion === undefined ? 'dask: not used' : `dask ${daskVersion}`,
    ],
  };
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function firstLine(program: string, args: readonly string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  return result.status === 0 ? (result.stdout.split('\n')[0] ?? program) : `${program}: unavailable`;
}
