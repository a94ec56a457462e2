import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { processAlive } from '../helpers.ts';

/**
 * A small cluster of network hosts on this machine, for tests of what crosses a network: each
 * host is a Linux network namespace with one interface `eth0` on a bridge that lives in a
 * "switch" namespace of its own, all in one /24 of the test's own. The filesystem is shared (it
 * stands in for the RWX volume); the network is not.
 *
 * Safety, because these machines' network is closed and leaked traffic is flagged:
 *  - before any host exists, a blackhole route for the test subnet is added on the machine, so a
 *    packet for it can never fall through to the default route; it is removed at the end;
 *  - the namespaces have no default route and no link to the machine's own network: they reach
 *    only each other's addresses;
 *  - links are cut only inside the namespaces (an interface set down in its own namespace, or a
 *    blackhole route for one peer inside a namespace), never by touching the machine's routes;
 *  - everything is removed in `destroy()`, which also runs at process exit; a detached watchdog
 *    removes it if the test process is killed; and namespaces left by an earlier crashed run are
 *    removed at the next start.
 */
export interface Host {
  readonly name: string;
  readonly netns: string;
  readonly ip: string;
}

const PREFIX = 'tpd-';

/** Why the cluster cannot be built here, or undefined if it can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  const probe = `${PREFIX}probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (e) {
    return `\`ip netns add\` failed: ${((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message}`;
  }
  return undefined;
}

export class NetnsCluster {
  readonly hosts: readonly Host[];
  readonly subnet: string;
  readonly #switch: string;
  readonly #tag: string;
  readonly #children = new Set<ChildProcess>();
  #destroyed = false;
  readonly #onExit = (): void => this.destroy();
  readonly #watchdog: ChildProcess;

  /**
   * Builds `count` hosts (host0 … host{count-1}) on 10.213.N.0/24, N from `subnetIndex`
   * (10.213.x.0/24 is private and unused on these machines).
   */
  constructor(count: number, subnetIndex = 7) {
    if (count < 1 || count > 200) throw new Error(`a cluster of ${count} hosts?`);
    removeStale();
    // The creating process's pid is in every name, so that a later run knows what is stale.
    this.#tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
    this.subnet = `10.213.${subnetIndex}.0/24`;
    this.#switch = `${PREFIX}${this.#tag}-sw`;
    // First the blackhole route, so that nothing for the subnet can ever leave by the default route.
    ip(['route', 'replace', 'blackhole', this.subnet]);
    process.once('exit', this.#onExit);
    const hosts: Host[] = [];
    for (let i = 0; i < count; i++) hosts.push({ name: `host${i}`, netns: `${PREFIX}${this.#tag}-h${i}`, ip: `10.213.${subnetIndex}.${i + 10}` });
    this.hosts = hosts;
    // Removes everything if this process dies without running destroy() (SIGKILL, a crash).
    this.#watchdog = spawn(
      'sh',
      ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${this.#cleanupScript()}`],
      { detached: true, stdio: 'ignore' },
    );
    this.#watchdog.unref();
    try {
      ip(['netns', 'add', this.#switch]);
      ip(['-n', this.#switch, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', this.#switch, 'link', 'set', 'br0', 'up']);
      for (const [i, h] of hosts.entries()) {
        ip(['netns', 'add', h.netns]);
        ip(['link', 'add', 'eth0', 'netns', h.netns, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', this.#switch]);
        ip(['-n', this.#switch, 'link', 'set', `p${i}`, 'master', 'br0']);
        ip(['-n', this.#switch, 'link', 'set', `p${i}`, 'up']);
        ip(['-n', h.netns, 'link', 'set', 'lo', 'up']);
        ip(['-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
        ip(['-n', h.netns, 'link', 'set', 'eth0', 'up']);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /** Starts a process on `host` (inside its network namespace); it is killed at destroy(). */
  spawn(host: Host, command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', host.netns, command, ...args], {
      env: { ...process.env, ...opts.env },
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.add(child);
    child.once('close', () => this.#children.delete(child));
    return child;
  }

  /** Cuts `host` off the network: its interface goes down inside its own namespace. */
  partition(host: Host): void {
    ip(['-n', host.netns, 'link', 'set', 'eth0', 'down']);
  }

  /** Undoes `partition`: the interface comes back up, with its address and subnet route. */
  heal(host: Host): void {
    ip(['-n', host.netns, 'link', 'set', 'eth0', 'up']);
  }

  /** Cuts the path between two hosts only: each drops the other's address, inside its namespace. */
  cut(a: Host, b: Host): void {
    ip(['-n', a.netns, 'route', 'add', 'blackhole', `${b.ip}/32`]);
    ip(['-n', b.netns, 'route', 'add', 'blackhole', `${a.ip}/32`]);
  }

  mend(a: Host, b: Host): void {
    ip(['-n', a.netns, 'route', 'del', 'blackhole', `${b.ip}/32`]);
    ip(['-n', b.netns, 'route', 'del', 'blackhole', `${a.ip}/32`]);
  }

  /** Kills every process on `host` with SIGKILL, as if the machine had gone away. */
  killHost(host: Host): number[] {
    const pids = execFileSync('ip', ['netns', 'pids', host.netns], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    return pids;
  }

  /** Kills every process started here, removes the namespaces and the blackhole route. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.removeListener('exit', this.#onExit);
    for (const c of this.#children) c.kill('SIGKILL');
    for (const h of this.hosts) {
      try {
        this.killHost(h);
      } catch {
        // namespace never made
      }
    }
    execFileSync('sh', ['-c', this.#cleanupScript()], { stdio: 'ignore' });
    this.#watchdog.kill();
  }

  #cleanupScript(): string {
    const spaces = [this.#switch, ...this.hosts.map((h) => h.netns)];
    return [
      ...spaces.map((n) => `for p in $(ip netns pids ${n} 2>/dev/null); do kill -9 $p; done; ip netns del ${n} 2>/dev/null`),
      `ip route del blackhole ${this.subnet} 2>/dev/null`,
      'true',
    ].join('; ');
  }
}

function ip(args: readonly string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`ip ${args.join(' ')}: ${((e as { stderr?: Buffer }).stderr ?? '').toString().trim()}`);
  }
}

/** Namespaces of an earlier run whose process is gone (its watchdog did not get to run). */
function removeStale(): void {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => {
      const pid = Number(/^tpd-(\d+)-/.exec(n)?.[1] ?? NaN);
      return pid > 0 && !processAlive(pid);
    });
  for (const n of names) {
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0)) process.kill(pid, 'SIGKILL');
      execFileSync('ip', ['netns', 'del', n], { stdio: 'pipe' });
    } catch {
      // another run's, still in use, or gone
    }
  }
}
