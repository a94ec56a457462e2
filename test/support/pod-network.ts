// A podman network of the test's own, for pods that run as containers (fake-kube-api.ts with
// `kubelet: 'podman'`): one private /24, created `--internal` (no default route in the containers,
// no NAT: they reach only addresses of the subnet) and without podman's DNS server.
//
// Safety, because these machines' network is closed and leaked traffic is flagged:
//  - before the network or any container exists, a blackhole route for the subnet is added on the
//    machine, so that a packet for it can never fall through to the default route. It has a high
//    metric: while the bridge exists, its own connected route for the same /24 (metric 0) wins for
//    traffic to the containers; a blackhole of the same metric would win instead, and connecting
//    to a container then fails with EINVAL (tried here);
//  - the host reaches the containers through the bridge, whose address is the gateway's
//    (`gateway`): a server that pods must reach (the fake API server) listens there, never on
//    0.0.0.0;
//  - the bridge exists only while a container is attached, so a pause container (`sleep`, as a
//    Kubernetes pod's infrastructure container) holds it from the start to the end;
//  - everything is removed in `destroy()`, which also runs at process exit; a detached watchdog
//    removes it if the test process is killed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { podman, podmanGlobal, podmanLimits } from './containers.ts';

/** Pods' containers carry this label, valued with the network's name: what destroy() removes. */
export const NETWORK_LABEL = 'torpedo-test-network';

export class PodNetwork {
  readonly name: string;
  readonly subnet: string;
  /** The bridge's address on the host: where the host serves what pods reach. */
  readonly gateway: string;
  readonly #prefix: string;
  #next = 10;
  #destroyed = false;
  readonly #onExit = (): void => this.destroySync();
  #watchdog: ChildProcess | undefined;

  private constructor(subnetIndex: number) {
    this.#prefix = `10.89.${subnetIndex}`;
    this.subnet = `${this.#prefix}.0/24`;
    this.gateway = `${this.#prefix}.1`;
    this.name = `tpd-${process.pid}-${randomBytes(2).toString('hex')}`;
  }

  /** Makes the network on 10.89.N.0/24 (private, unused on these machines) and starts its pause container. */
  static async create(image: string, subnetIndex = 77): Promise<PodNetwork> {
    const net = new PodNetwork(subnetIndex);
    let taken = execFileSync('ip', ['route', 'show', net.subnet], { encoding: 'utf8' }).trim();
    if (taken === `blackhole ${net.subnet} metric 4242` && !(await podman(['network', 'ls', '--format={{.Name}}'])).stdout.split('\n').some((n) => n.startsWith('tpd-'))) {
      // Ours, left by a run killed before its watchdog could remove it: no network of ours is left.
      execFileSync('ip', ['route', 'del', 'blackhole', net.subnet, 'metric', '4242']);
      taken = '';
    }
    if (taken !== '') throw new Error(`${net.subnet} is in use on this machine (${taken}): choose another subnet index`);
    // First the blackhole route: nothing for the subnet can ever leave by the default route.
    execFileSync('ip', ['route', 'add', 'blackhole', net.subnet, 'metric', '4242']);
    process.once('exit', net.#onExit);
    net.#watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${net.#cleanupScript()}`], { detached: true, stdio: 'ignore' });
    net.#watchdog.unref();
    try {
      const made = await podman(['network', 'create', '--internal', '--disable-dns', '--subnet', net.subnet, '--gateway', net.gateway, net.name]);
      if (made.code !== 0) throw new Error(`podman network create: ${made.stderr}`);
      const pause = await podman([
        'run', '--detach', '--rm', `--name=${net.name}-pause`, `--label=${NETWORK_LABEL}=${net.name}`, `--network=${net.name}`, `--ip=${net.#prefix}.2`,
        ...podmanLimits(), '--user=65534:65534', '--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges', '--timeout=900',
        '--entrypoint=["sleep","900"]', image,
      ]);
      if (pause.code !== 0) throw new Error(`the pause container: ${pause.stderr}`);
    } catch (e) {
      net.destroySync();
      throw e;
    }
    return net;
  }

  /** The next free address for a pod (10 … 254). */
  allocate(): string {
    if (this.#next > 254) throw new Error(`no address left on ${this.subnet}`);
    return `${this.#prefix}.${this.#next++}`;
  }

  /** Removes every container of the network, the network and the blackhole route. Idempotent. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.removeListener('exit', this.#onExit);
    execFileSync('sh', ['-c', this.#cleanupScript()], { stdio: 'ignore' });
    this.#watchdog?.kill();
  }

  #cleanupScript(): string {
    const p = ['podman', ...podmanGlobal()].join(' ');
    return [
      `${p} ps -aq --filter label=${NETWORK_LABEL}=${this.name} | xargs -r ${p} rm --force --time=0 > /dev/null 2>&1`,
      `${p} network rm --force ${this.name} > /dev/null 2>&1`,
      `ip route del blackhole ${this.subnet} metric 4242 2>/dev/null`,
      'true',
    ].join('; ');
  }
}
