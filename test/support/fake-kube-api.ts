// A faithful fake of the part of the Kubernetes API torpedo uses, for tests on a machine without a
// cluster. It is one node:http server on 127.0.0.1 speaking the real REST paths and JSON:
//
//   /apis/batch/v1/namespaces/{ns}/jobs[/{name}[/status]]   list, watch, get, create, delete
//   /api/v1/namespaces/{ns}/pods[/{name}[/log]]             list, watch, get, delete, log
//   /api/v1/namespaces/{ns}/secrets[/{name}]                list, watch, get, create, delete
//   /apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies[/{name}]   the same
//
// with what clients rely on: resourceVersions; labelSelector filtering; `?watch=true` streams of
// newline-delimited ADDED/MODIFIED/DELETED events from a resourceVersion (with BOOKMARKs and
// timeoutSeconds); 410 Gone for a version older than the history it keeps; Status objects for
// errors (404 NotFound, 409 AlreadyExists/Conflict, 422 Invalid, 401, 403); delete with
// propagationPolicy (batch/v1 Jobs orphan their pods by default, as in Kubernetes), preconditions
// and grace periods; and the garbage collector (owner references). Objects are validated against
// the API's schema (kubernetes-models) and a few of the server's own rules before they are stored
// (422 Invalid otherwise: fake-kube-admission.ts). NetworkPolicies are stored, validated, owned
// and collected like any object, but NOT enforced: every pod shares the host's network.
//
// Behind it run two controllers:
//  - a Job controller: creates pods from the template up to `parallelism` (or the completions
//    left), replaces failed and deleted ones until `backoffLimit`, applies `podFailurePolicy` and
//    `activeDeadlineSeconds`, marks the Job Complete or Failed, and deletes it
//    `ttlSecondsAfterFinished` after; with `podSecurity: 'restricted'` it creates no pod that the
//    restricted Pod Security Standard refuses (deploy/ enforces it), and records why (`refusedPods`);
//  - a kubelet: runs each pod's container command AS A LOCAL PROCESS with the pod's environment
//    (downward-API fieldRefs, secretKeyRefs from stored Secrets, `$(VAR)` expansion in command and
//    args), restarts it in place under restartPolicy OnFailure, kills it (SIGTERM, then SIGKILL
//    after the grace period) when the pod is deleted, and keeps its log for pods/log. With
//    `kubelet: 'podman'` it runs each container instead as a podman container of the pod's image
//    (fake-kube-podman.ts), at an address of its own on the test's podman network (pod-network.ts):
//    its securityContext, env (the pod's own IP), claim subPaths bound at their mount paths, an
//    emptyDir as a fresh directory, the pod's fsGroup applied to the claim, its memory and cpu
//    limits where the host's cgroups have them; the API is then also served on the network's
//    gateway, and the pods' kubeconfig names that address. What follows is the process mode.
//
// What a container is, here: `torpedo …` runs `node bin/torpedo …` of this checkout and `node`
// this Node. A PVC (or its `subPath`) must be mounted at the path that directory has on this
// machine; a missing subPath is created as a directory, as the kubelet does. Where bubblewrap can
// make a mount namespace (`isolated`), each container runs in one (fake-kube-isolation.ts): the
// host's root as its image (read-only with readOnlyRootFilesystem), every claim covered, and only
// its own volume mounts bound back (read-only ones read-only), each emptyDir a fresh directory; so
// a pod sees only the directories it mounts. Elsewhere the mounts are only checked and recorded,
// and an emptyDir may only be /tmp (the host's). Every pod's mounts are recorded (`mounts`), and
// `mountPolicy` may refuse one (the pod fails, reason MountRefused). Pods share the host's network:
// every pod's IP is 127.0.0.1, so a pod that listens on a fixed port would collide with the next;
// the variables named in `freePortEnv` get a free port per pod instead of their value. Pods with
// a service account token get KUBECONFIG (a file naming this server, with a token that names the
// service account) instead of the in-cluster files. Not modelled: scheduling and resources (every
// pod starts at once; memory limits and OOM kills are not enforced), images, nodes, probes,
// runAsUser (containers run as the tests' user), user namespaces (hostUsers), NetworkPolicy
// enforcement, indexed Jobs, the Job controller's exponential backoff (a fixed `podBackoffMs`),
// and any other API. Requests can be checked against RBAC rules (`rbac`), and every request is recorded (`calls`).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { BIN, ROOT } from '../../src/paths.ts';
import { restrictedViolations, schemaProblem } from './fake-kube-admission.ts';
import { isolationAvailable, podCommand, type PodBind } from './fake-kube-isolation.ts';
import { PodRefused, podmanRunArgs } from './fake-kube-podman.ts';
import { podmanGlobal } from './containers.ts';
import type { PodNetwork } from './pod-network.ts';

export type Kind = 'jobs' | 'pods' | 'secrets' | 'networkpolicies';

/** A volume mount of a claim, as a pod's container had it when it started. */
export interface ClaimMount {
  readonly claim: string;
  /** The directory inside the claim ('' for the whole claim). */
  readonly subPath: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

export interface FakeKubeOptions {
  /** PVC name → its directory on this machine; pods must mount it at that same path. */
  readonly claims?: Readonly<Record<string, string>>;
  /** Environment variables whose value each pod gets replaced by a free port (pods share the host network). */
  readonly freePortEnv?: readonly string[];
  /** Watch events kept; a watch from a version older than these gets 410 Gone. */
  readonly keepEvents?: number;
  /** Delay before the Job controller creates a pod after one failed (Kubernetes: 10 s, doubling). */
  readonly podBackoffMs?: number;
  /** Longest grace period honoured when a pod is deleted, in ms (to keep tests quick). */
  readonly maxGraceMs?: number;
  /** Allowed requests per identity, as `verb resource` (e.g. `create jobs`, `get pods/log`); others get 403. Unset: anything goes. */
  readonly rbac?: Readonly<Record<string, readonly string[]>>;
  /** The image's environment, given to every container before the pod's own. */
  readonly imageEnv?: Readonly<Record<string, string>>;
  /** Run each container in a mount namespace of its own (default: wherever bubblewrap can). */
  readonly isolate?: boolean;
  /** Refuse a container's claim mount with a reason (the pod fails: MountRefused), or allow it (undefined). */
  readonly mountPolicy?: (pod: KubeObject, mount: ClaimMount) => string | undefined;
  /** `restricted`: the Job controller creates no pod that breaks that Pod Security Standard. */
  readonly podSecurity?: 'restricted';
  /**
   * How the kubelet runs a container: as a local process (the default), or as a podman container
   * of the pod's image on `network` (fake-kube-podman.ts), with its securityContext, env, volumes
   * and limits, at an address of its own; the API is then also served on the network's gateway.
   */
  readonly kubelet?: 'process' | 'podman';
  readonly network?: PodNetwork;
}

export interface Call {
  readonly identity: string;
  readonly verb: string;
  /** `pods`, `pods/log`, `jobs`, `jobs/status`, `secrets`. */
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
  readonly status: number;
}

/** Any stored object; the shapes are Kubernetes' own JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    generateName?: string;
    generation?: number;
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [k: string]: unknown;
};

interface StoredEvent {
  readonly rv: number;
  readonly kind: Kind;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

interface Watcher {
  readonly kind: Kind;
  readonly namespace: string;
  readonly selector: Selector;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

interface Container {
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: string;
  /** Set once the container process ended and was seen off. */
  ended: boolean;
  /** Free ports given to the `freePortEnv` variables. */
  ports?: Record<string, string>;
  /** In a mount namespace: what it hides and binds. */
  fs?: { readonly readOnlyRoot: boolean; readonly hide: readonly string[]; readonly binds: readonly PodBind[] };
  /** As a podman container: its name (one per run of the container). */
  podman?: string;
}

interface JobTrack {
  /** Uids of pods counted: succeeded, failed (towards backoffLimit), ignored by podFailurePolicy. */
  readonly succeeded: Set<string>;
  readonly failed: Set<string>;
  readonly ignored: Set<string>;
  lastFailureAt: number;
  finishedAt: number | undefined;
  failure: { reason: string; message: string } | undefined;
}

const KINDS: Record<Kind, { group: string; version: string; kind: string; list: string; namespaced: true }> = {
  jobs: { group: 'batch', version: 'v1', kind: 'Job', list: 'JobList', namespaced: true },
  pods: { group: '', version: 'v1', kind: 'Pod', list: 'PodList', namespaced: true },
  secrets: { group: '', version: 'v1', kind: 'Secret', list: 'SecretList', namespaced: true },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', list: 'NetworkPolicyList', namespaced: true },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const POD_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const TOKEN_PREFIX = 'fake-token:';

class HttpError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export class FakeKubeApi {
  readonly calls: Call[] = [];
  /** Every object created through the API, as stored (defaults filled in), in order. */
  readonly created: KubeObject[] = [];
  /** The base URL, http://127.0.0.1:PORT. */
  url = '';
  /** With `kubelet: 'podman'`: the URL pods reach it at, on the network's gateway. */
  podUrl = '';
  /** With `kubelet: 'podman'`: resource limits this host's cgroups could not apply. */
  readonly skippedLimits = new Set<string>();
  /** With `kubelet: 'podman'`: each pod's address on the network, by pod key. */
  readonly #podIPs = new Map<string, string>();
  #podServer: Server | undefined;
  /**
   * How a watch from a too-old resourceVersion is refused: an ERROR event holding a 410 Status in a
   * 200 stream (what kube-apiserver does), or a plain HTTP 410 answer (which clients also meet).
   */
  goneAs: 'event' | 'status' = 'event';
  /** Pods whose image cannot be pulled: they stay Pending in ImagePullBackOff (images are otherwise not modelled). */
  unpullable: ((pod: KubeObject) => boolean) | undefined;
  /**
   * The scheduler, for tests of pods that never start: a pod for which this gives a message is left
   * unscheduled (Pending, PodScheduled False, reason Unschedulable, that message) for ever; others
   * go to the one fake node (scheduling and resources are otherwise not modelled).
   */
  unschedulable: ((pod: KubeObject) => string | undefined) | undefined;
  /**
   * A ResourceQuota on pods, by admission: a pod of a Job for which this gives a number is not
   * created while that many pods of the Job are not yet ended (the Job controller's create is
   * refused, `exceeded quota`, and it tries again).
   */
  podQuota: ((job: KubeObject) => number | undefined) | undefined;
  /** Whether containers run in mount namespaces of their own, seeing only their volume mounts. */
  readonly isolated: boolean;
  /** Pods the Job controller did not create because Pod Security admission refused them (once per Job). */
  readonly refusedPods: { readonly job: string; readonly message: string }[] = [];
  readonly #mounts = new Map<string, ClaimMount[]>();
  readonly #refused = new Set<string>();
  /** A directory for kubeconfig files, pod logs and pods' home directories; removed by close(). */
  readonly dir: string;
  readonly #o: FakeKubeOptions;
  readonly #server: Server;
  readonly #store = new Map<string, KubeObject>();
  #rv = 0;
  readonly #events: StoredEvent[] = [];
  /** Watches from a version below this get 410 Gone. */
  #oldestWatchable = 0;
  readonly #watchers = new Set<Watcher>();
  readonly #containers = new Map<string, Container>();
  readonly #jobs = new Map<string, JobTrack>();
  readonly #pending = new Set<string>();
  #syncQueued = false;
  readonly #ticker: NodeJS.Timeout;
  #closed = false;

  private constructor(o: FakeKubeOptions) {
    this.#o = o;
    this.dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
    if (o.kubelet === 'podman' && o.network === undefined) throw new Error("kubelet: 'podman' needs a network");
    this.isolated = o.kubelet === 'podman' ? false : (o.isolate ?? isolationAvailable());
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#ticker = setInterval(() => this.#sync(), 100);
  }

  static async start(o: FakeKubeOptions = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(o);
    await new Promise<void>((resolve) => api.#server.listen(0, '127.0.0.1', resolve));
    const address = api.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    api.url = `http://127.0.0.1:${address.port}`;
    if (o.network !== undefined && o.kubelet === 'podman') {
      // Only on the bridge's own address: nothing off the network reaches it there.
      const pods = (api.#podServer = createServer((req, res) => void api.#handle(req, res)));
      await new Promise<void>((resolve, reject) => pods.once('error', reject).listen(address.port, o.network?.gateway, resolve));
      api.podUrl = `http://${o.network.gateway}:${address.port}`;
    }
    return api;
  }

  /** Writes a kubeconfig for `identity` (its bearer token names it) and returns its path. */
  kubeconfig(identity: string, namespace = 'default', server = this.url): string {
    const file = join(this.dir, `kubeconfig-${identity.replace(/[^A-Za-z0-9_.-]/g, '_')}-${namespace}${server === this.url ? '' : '-pods'}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
        `users: [{name: user, user: {token: "${TOKEN_PREFIX}${identity}"}}]`,
        `contexts: [{name: fake, context: {cluster: fake, user: user, namespace: "${namespace}"}}]`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** A copy of every stored object of a kind (optionally one namespace's). */
  list(kind: Kind, namespace?: string): KubeObject[] {
    return [...this.#store.entries()]
      .filter(([k, o]) => k.startsWith(`${kind}/`) && (namespace === undefined || o.metadata.namespace === namespace))
      .map(([, o]) => clone(o));
  }

  get(kind: Kind, namespace: string, name: string): KubeObject | undefined {
    const o = this.#store.get(key(kind, namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  /** The claim mounts of a pod's container, as it started (undefined: it has not started). */
  mounts(namespace: string, pod: string): ClaimMount[] | undefined {
    const m = this.#mounts.get(key('pods', namespace, pod));
    return m === undefined ? undefined : [...m];
  }

  /** Every pod's claim mounts so far, by pod name, including pods that are gone. */
  allMounts(): Map<string, ClaimMount[]> {
    return new Map([...this.#mounts].map(([k, m]) => [k.split('/').slice(2).join('/'), [...m]]));
  }

  /** The pid of a running pod's container process. */
  pid(namespace: string, pod: string): number | undefined {
    return this.#containers.get(key('pods', namespace, pod))?.child?.pid;
  }

  /** With `kubelet: 'podman'`: the name of the podman container a pod's container runs as now. */
  containerName(namespace: string, pod: string): string | undefined {
    return this.#containers.get(key('pods', namespace, pod))?.podman;
  }

  /** Kills a pod's container process from outside the API, as a crash or the OOM killer would. */
  killContainer(namespace: string, pod: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.pid(namespace, pod);
    if (pid === undefined) throw new Error(`pod ${namespace}/${pod} has no running container`);
    killGroup(pid, signal);
  }

  /** Everything a pod's container wrote (stdout and stderr), across restarts. */
  log(namespace: string, pod: string): string {
    const file = this.#logFile(namespace, pod);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /**
   * Makes every resourceVersion handed out so far too old to watch from (as after an etcd
   * compaction) and ends the open watches: clients must re-list (after a 410 Gone) to go on.
   */
  expireHistory(): void {
    this.#rv++;
    this.#oldestWatchable = this.#rv;
    this.#events.length = 0;
    this.dropWatches();
  }

  /** Ends every open watch, as a dropped connection or an API server restart would. */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  /** Resolves with the first value `probe` returns that is not undefined. */
  async waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`fake-kube-api: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills every container process, ends watches and stops the server. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ticker);
    const exits: Promise<void>[] = [];
    for (const c of this.#containers.values()) {
      const child = c.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        exits.push(new Promise<void>((resolve) => child.once('exit', () => resolve())));
        killGroup(child.pid, 'SIGKILL');
      }
    }
    // A podman client killed leaves its container running: remove the containers themselves.
    const names = [...this.#containers.values()].flatMap((c) => (c.podman !== undefined ? [c.podman] : []));
    if (names.length > 0) await podmanRun(['rm', '--force', '--time=0', '--ignore', ...names]);
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3000))]);
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#podServer !== undefined) {
      this.#podServer.closeAllConnections();
      await new Promise<void>((resolve) => this.#podServer?.close(() => resolve()));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────────────────────────

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization ?? '';
    const identity = auth.startsWith(`Bearer ${TOKEN_PREFIX}`) ? auth.slice(`Bearer ${TOKEN_PREFIX}`.length) : '';
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const route = parseRoute(url.pathname);
    const q = url.searchParams;
    const verb =
      route === undefined ? req.method ?? '' : req.method === 'GET' ? (route.name === undefined ? (q.get('watch') === 'true' ? 'watch' : 'list') : 'get') : req.method === 'POST' ? 'create' : req.method === 'DELETE' ? (route.name === undefined ? 'deletecollection' : 'delete') : (req.method ?? '').toLowerCase();
    const resource = route === undefined ? url.pathname : route.sub !== undefined ? `${route.kind}/${route.sub}` : route.kind;
    const record = (status: number): void => {
      this.calls.push({ identity, verb, resource, namespace: route?.namespace ?? '', ...(route?.name !== undefined ? { name: route.name } : {}), status });
    };
    try {
      if (identity === '') throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      if (route === undefined) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
      const allowed = this.#o.rbac?.[identity];
      if (this.#o.rbac !== undefined && !(allowed ?? []).includes(`${verb} ${resource}`)) {
        throw new HttpError(
          403,
          'Forbidden',
          `${route.kind} is forbidden: User "${identity}" cannot ${verb} resource "${resource}" in API group "${KINDS[route.kind].group}" in the namespace "${route.namespace}"`,
        );
      }
      if (verb === 'watch') {
        record(this.#watch(route.kind, route.namespace, q, res));
        return;
      }
      const result = this.#serve(verb, route, q, body);
      record(result.status);
      if (typeof result.body === 'string') {
        res.writeHead(result.status, { 'content-type': 'text/plain' });
        res.end(result.body);
      } else {
        send(res, result.status, result.body);
      }
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, 'InternalError', (e as Error).stack ?? String(e));
      record(err.code);
      send(res, err.code, statusObject(err.code, err.reason, err.message, route));
    }
  }

  #serve(verb: string, route: Route, q: URLSearchParams, body: string): { status: number; body: unknown } {
    const { kind, namespace, name, sub } = route;
    switch (verb) {
      case 'list': {
        const selector = parseSelector(q.get('labelSelector') ?? '');
        const items = this.list(kind, namespace)
          .filter((o) => selector(o.metadata.labels ?? {}))
          .map((o) => {
            const { apiVersion: _a, kind: _k, ...rest } = o;
            return rest;
          });
        return { status: 200, body: { kind: KINDS[kind].list, apiVersion: apiVersion(kind), metadata: { resourceVersion: String(this.#rv) }, items } };
      }
      case 'get': {
        const o = this.#mustGet(kind, namespace, name as string);
        if (sub === 'log') return { status: 200, body: this.#podLog(o, q) };
        if (sub !== undefined && sub !== 'status') throw new HttpError(404, 'NotFound', `no subresource ${sub}`);
        return { status: 200, body: o };
      }
      case 'create': {
        if (sub !== undefined || name !== undefined) throw new HttpError(405, 'MethodNotAllowed', 'create on a named object');
        if (kind === 'pods') throw new HttpError(405, 'MethodNotAllowed', 'this fake only creates pods through Jobs');
        let obj: KubeObject;
        try {
          obj = JSON.parse(body) as KubeObject;
        } catch {
          throw new HttpError(400, 'BadRequest', 'the body is not JSON');
        }
        return { status: 201, body: this.#create(kind, namespace, obj) };
      }
      case 'delete': {
        if (sub !== undefined) throw new HttpError(405, 'MethodNotAllowed', `delete on ${sub}`);
        const options = body.trim() === '' ? {} : (JSON.parse(body) as { propagationPolicy?: string; gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } });
        const o = this.#mustGet(kind, namespace, name as string);
        const pre = options.preconditions;
        if (pre?.uid !== undefined && pre.uid !== o.metadata.uid) {
          throw new HttpError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${o.metadata.uid}`);
        }
        if (pre?.resourceVersion !== undefined && pre.resourceVersion !== o.metadata.resourceVersion) {
          throw new HttpError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${o.metadata.resourceVersion}`);
        }
        const orphan = q.get('orphanDependents');
        const policy = q.get('propagationPolicy') ?? options.propagationPolicy ?? (orphan === 'true' ? 'Orphan' : orphan === 'false' ? 'Background' : kind === 'jobs' ? 'Orphan' : 'Background');
        if (!['Orphan', 'Background', 'Foreground'].includes(policy)) throw new HttpError(400, 'BadRequest', `bad propagationPolicy ${policy}`);
        const grace = q.get('gracePeriodSeconds') ?? options.gracePeriodSeconds;
        this.#delete(kind, o, policy as 'Orphan' | 'Background' | 'Foreground', grace === undefined ? undefined : Number(grace));
        return { status: 200, body: this.#store.get(key(kind, namespace, o.metadata.name)) ?? statusObject(200, '', '', route) };
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', `${verb} is not supported by this fake`);
    }
  }

  #mustGet(kind: Kind, namespace: string, name: string): KubeObject {
    const o = this.#store.get(key(kind, namespace, name));
    if (o === undefined) throw new HttpError(404, 'NotFound', `${kind}${KINDS[kind].group !== '' ? `.${KINDS[kind].group}` : ''} "${name}" not found`);
    return clone(o);
  }

  // ── storage and watches ──────────────────────────────────────────────────────────────────────

  #create(kind: Kind, namespace: string, input: KubeObject): KubeObject {
    const meta = input.metadata ?? ({} as KubeObject['metadata']);
    let name = meta.name;
    if ((name === undefined || name === '') && meta.generateName !== undefined) name = meta.generateName + randomName(5);
    if (name === undefined || name === '' || !DNS_SUBDOMAIN.test(name) || name.length > 253) {
      throw new HttpError(422, 'Invalid', `${KINDS[kind].kind} "${name ?? ''}" is invalid: metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    if (meta.namespace !== undefined && meta.namespace !== namespace) {
      throw new HttpError(400, 'BadRequest', `the namespace of the provided object (${meta.namespace}) does not match the namespace sent on the request (${namespace})`);
    }
    const invalid = schemaProblem(kind, { ...input, apiVersion: input.apiVersion ?? apiVersion(kind), kind: input.kind ?? KINDS[kind].kind });
    if (invalid !== undefined) throw new HttpError(422, 'Invalid', `${KINDS[kind].kind} "${name}" is invalid: ${invalid}`);
    if (this.#store.has(key(kind, namespace, name))) throw new HttpError(409, 'AlreadyExists', `${kind} "${name}" already exists`);
    const obj: KubeObject = {
      ...clone(input),
      apiVersion: apiVersion(kind),
      kind: KINDS[kind].kind,
      metadata: { ...clone(meta), name, namespace, uid: randomUUID(), resourceVersion: '', creationTimestamp: now(), generation: 1 },
    };
    delete obj.metadata.generateName;
    if (kind === 'secrets') {
      obj.data = { ...(obj.data ?? {}) };
      for (const [k, v] of Object.entries(obj.stringData ?? {})) obj.data[k] = Buffer.from(v).toString('base64');
      delete obj.stringData;
    }
    if (kind === 'jobs') defaultJob(obj);
    this.#put(kind, obj, 'ADDED');
    this.created.push(clone(obj));
    // The garbage collector removes dependents whose owners are gone, including never-existing ones.
    if (this.#danglingOwner(obj)) setImmediate(() => this.#collectIfOrphaned(kind, namespace, name));
    this.#queueSync();
    return clone(obj);
  }

  #put(kind: Kind, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): void {
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#store.set(key(kind, obj.metadata.namespace, obj.metadata.name), obj);
    this.#publish({ rv: this.#rv, kind, type, object: clone(obj) });
  }

  #remove(kind: Kind, obj: KubeObject): void {
    const k = key(kind, obj.metadata.namespace, obj.metadata.name);
    const stored = this.#store.get(k);
    if (stored === undefined || stored.metadata.uid !== obj.metadata.uid) return;
    this.#store.delete(k);
    stored.metadata.resourceVersion = String(++this.#rv);
    this.#publish({ rv: this.#rv, kind, type: 'DELETED', object: clone(stored) });
    this.#collectDependents(stored.metadata.uid, 'Background');
    this.#queueSync();
  }

  /** Updates a stored object in place through `change`; publishes MODIFIED if it changed. */
  #update(kind: Kind, namespace: string, name: string, change: (o: KubeObject) => void): KubeObject | undefined {
    const stored = this.#store.get(key(kind, namespace, name));
    if (stored === undefined) return undefined;
    const next = clone(stored);
    change(next);
    if (JSON.stringify(next) === JSON.stringify(stored)) return stored;
    this.#put(kind, next, 'MODIFIED');
    this.#queueSync();
    return next;
  }

  #publish(event: StoredEvent): void {
    this.#events.push(event);
    const keep = this.#o.keepEvents ?? 10_000;
    if (this.#events.length > keep) {
      const dropped = this.#events.splice(0, this.#events.length - keep);
      this.#oldestWatchable = Math.max(this.#oldestWatchable, (dropped[dropped.length - 1] as StoredEvent).rv);
    }
    for (const w of this.#watchers) {
      if (w.kind === event.kind && w.namespace === event.object.metadata.namespace && w.selector(event.object.metadata.labels ?? {})) {
        w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
      }
    }
  }

  /** Serves a watch; returns 410 if the version asked for is too old (however that is told), else 200. */
  #watch(kind: Kind, namespace: string, q: URLSearchParams, res: ServerResponse): number {
    const selector = parseSelector(q.get('labelSelector') ?? '');
    const from = q.get('resourceVersion') ?? '';
    const since = from === '' || from === '0' ? undefined : Number(from);
    if (since !== undefined && (!Number.isInteger(since) || since < this.#oldestWatchable)) {
      const message = `too old resource version: ${from} (${this.#oldestWatchable})`;
      if (this.goneAs === 'status') {
        send(res, 410, statusObject(410, 'Expired', message));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: statusObject(410, 'Expired', message) })}\n`);
      }
      return 410;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (since === undefined) {
      for (const o of this.list(kind, namespace)) if (selector(o.metadata.labels ?? {})) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
    } else {
      for (const e of this.#events) {
        if (e.rv > since && e.kind === kind && e.object.metadata.namespace === namespace && selector(e.object.metadata.labels ?? {})) {
          res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
        }
      }
    }
    const watcher: Watcher = { kind, namespace, selector, res, bookmarks: q.get('allowWatchBookmarks') === 'true' };
    this.#watchers.add(watcher);
    const bookmark = watcher.bookmarks
      ? setInterval(() => {
          res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: KINDS[kind].kind, apiVersion: apiVersion(kind), metadata: { resourceVersion: String(this.#rv) } } })}\n`);
        }, 1000)
      : undefined;
    const seconds = Number(q.get('timeoutSeconds') ?? '1800');
    const timeout = setTimeout(() => res.end(), seconds * 1000);
    res.on('close', () => {
      clearInterval(bookmark);
      clearTimeout(timeout);
      this.#watchers.delete(watcher);
    });
    return 200;
  }

  // ── deletion and the garbage collector ───────────────────────────────────────────────────────

  #delete(kind: Kind, o: KubeObject, policy: 'Orphan' | 'Background' | 'Foreground', graceSeconds: number | undefined): void {
    const { namespace, name, uid } = o.metadata;
    if (policy === 'Orphan') {
      for (const [k, dep] of this.#store) {
        if (dep.metadata.ownerReferences?.some((r) => r.uid === uid)) {
          const depKind = k.split('/')[0] as Kind;
          this.#update(depKind, dep.metadata.namespace, dep.metadata.name, (d) => {
            d.metadata.ownerReferences = d.metadata.ownerReferences?.filter((r) => r.uid !== uid);
            if (d.metadata.ownerReferences?.length === 0) delete d.metadata.ownerReferences;
          });
        }
      }
    }
    if (policy === 'Foreground') {
      // The owner stays, marked, until its dependents are gone.
      this.#update(kind, namespace, name, (x) => {
        x.metadata.deletionTimestamp ??= now();
        x.metadata.finalizers = [...new Set([...(x.metadata.finalizers ?? []), 'foregroundDeletion'])];
      });
      this.#collectDependents(uid, 'Foreground');
      this.#finishForeground(kind, namespace, name, uid);
      return;
    }
    if (kind === 'pods') this.#deletePod(o, graceSeconds);
    else this.#remove(kind, o);
  }

  #finishForeground(kind: Kind, namespace: string, name: string, uid: string): void {
    const dependents = [...this.#store.values()].some((d) => d.metadata.ownerReferences?.some((r) => r.uid === uid));
    if (dependents && !this.#closed) {
      setTimeout(() => this.#finishForeground(kind, namespace, name, uid), 50);
      return;
    }
    const o = this.#store.get(key(kind, namespace, name));
    if (o === undefined || o.metadata.uid !== uid) return;
    if (kind === 'pods') this.#deletePod(o, undefined);
    else this.#remove(kind, o);
  }

  /** Deletes every object owned by `uid` (unless another owner of it still exists). */
  #collectDependents(uid: string, policy: 'Background' | 'Foreground'): void {
    for (const [k, dep] of [...this.#store]) {
      if (!dep.metadata.ownerReferences?.some((r) => r.uid === uid)) continue;
      const others = dep.metadata.ownerReferences.filter((r) => r.uid !== uid && this.#exists(r.uid));
      if (others.length > 0) continue;
      const depKind = k.split('/')[0] as Kind;
      setImmediate(() => {
        const now = this.#store.get(k);
        if (now !== undefined && now.metadata.uid === dep.metadata.uid && now.metadata.deletionTimestamp === undefined) this.#delete(depKind, now, policy, undefined);
      });
    }
  }

  #collectIfOrphaned(kind: Kind, namespace: string, name: string): void {
    const o = this.#store.get(key(kind, namespace, name));
    if (o !== undefined && this.#danglingOwner(o) && !o.metadata.ownerReferences?.some((r) => this.#exists(r.uid))) this.#delete(kind, o, 'Background', undefined);
  }

  #danglingOwner(o: KubeObject): boolean {
    return (o.metadata.ownerReferences ?? []).some((r) => !this.#exists(r.uid));
  }

  #exists(uid: string): boolean {
    for (const o of this.#store.values()) if (o.metadata.uid === uid) return true;
    return false;
  }

  // ── the Job controller ───────────────────────────────────────────────────────────────────────

  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      this.#sync();
    });
  }

  #sync(): void {
    if (this.#closed) return;
    for (const job of [...this.#store.entries()].filter(([k]) => k.startsWith('jobs/')).map(([, o]) => o)) this.#syncJob(job);
    for (const [k, pod] of [...this.#store.entries()]) {
      if (k.startsWith('pods/') && !this.#containers.has(k) && pod.metadata.deletionTimestamp === undefined) this.#startPod(pod);
    }
    // Forget the bookkeeping of Jobs that are gone.
    for (const uid of [...this.#jobs.keys()]) if (!this.#exists(uid)) this.#jobs.delete(uid);
  }

  #syncJob(job: KubeObject): void {
    const { namespace, name, uid } = job.metadata;
    const spec = job.spec;
    let track = this.#jobs.get(uid);
    if (track === undefined) this.#jobs.set(uid, (track = { succeeded: new Set(), failed: new Set(), ignored: new Set(), lastFailureAt: 0, finishedAt: undefined, failure: undefined }));
    if (job.metadata.deletionTimestamp !== undefined) return;
    if (track.finishedAt !== undefined) {
      const ttl = spec.ttlSecondsAfterFinished;
      if (typeof ttl === 'number' && Date.now() >= track.finishedAt + ttl * 1000) this.#delete('jobs', job, 'Background', undefined);
      return;
    }
    const pods = [...this.#store.values()].filter((p) => p.kind === 'Pod' && p.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller === true));
    const terminal = (p: KubeObject): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    for (const p of pods) {
      const puid = p.metadata.uid;
      if (track.succeeded.has(puid) || track.failed.has(puid) || track.ignored.has(puid)) continue;
      if (p.status?.phase === 'Succeeded') track.succeeded.add(puid);
      else if (p.status?.phase === 'Failed') this.#countFailure(job, track, p);
    }
    // Pods that vanished before ending (deleted while running) count as failed, as with Kubernetes' tracking finalizers.
    for (const puid of this.#podsSeen(uid)) {
      if (!pods.some((p) => p.metadata.uid === puid) && !track.succeeded.has(puid) && !track.failed.has(puid) && !track.ignored.has(puid)) {
        track.failed.add(puid);
        track.lastFailureAt = Date.now();
      }
    }
    this.#rememberPods(uid, pods);
    const restarts = pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m: number, c: { restartCount?: number }) => m + (c.restartCount ?? 0), 0), 0);
    const active = pods.filter((p) => !terminal(p) && p.metadata.deletionTimestamp === undefined);
    const terminating = pods.filter((p) => !terminal(p) && p.metadata.deletionTimestamp !== undefined);
    if (track.failure === undefined && track.failed.size + (spec.template.spec.restartPolicy === 'OnFailure' ? restarts : 0) > spec.backoffLimit) {
      track.failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    }
    const startedAt = job.status?.startTime !== undefined ? Date.parse(job.status.startTime) : Date.now();
    if (track.failure === undefined && typeof spec.activeDeadlineSeconds === 'number' && Date.now() >= startedAt + spec.activeDeadlineSeconds * 1000) {
      track.failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    const completions: number | undefined = spec.completions;
    const succeeded = track.succeeded.size;
    let complete = false;
    if (track.failure === undefined) {
      if (completions !== undefined && completions !== null) complete = succeeded >= completions;
      else complete = succeeded > 0 && active.length === 0 && terminating.length === 0;
    }
    if (track.failure !== undefined) {
      for (const p of active) this.#delete('pods', p, 'Background', undefined);
    } else if (!complete && spec.suspend !== true) {
      const want = completions !== undefined && completions !== null ? Math.min(spec.parallelism, completions - succeeded) : succeeded > 0 ? 0 : spec.parallelism;
      const busy = active.length + (spec.podReplacementPolicy === 'Failed' ? terminating.length : 0);
      const backoffOver = Date.now() >= track.lastFailureAt + (this.#o.podBackoffMs ?? 200);
      if (busy < want && backoffOver) for (let i = busy; i < want; i++) this.#createPod(job);
    }
    const finished = track.failure !== undefined || complete;
    this.#update('jobs', namespace, name, (j) => {
      const st = (j.status ??= {});
      st.startTime ??= now();
      st.active = finished ? 0 : active.length;
      st.ready = active.filter((p) => p.status?.phase === 'Running').length;
      st.terminating = terminating.length;
      st.succeeded = succeeded;
      st.failed = track.failed.size;
      if (finished && st.conditions === undefined) {
        const t = now();
        st.conditions =
          track.failure !== undefined
            ? [
                { type: 'FailureTarget', status: 'True', reason: track.failure.reason, message: track.failure.message, lastProbeTime: t, lastTransitionTime: t },
                { type: 'Failed', status: 'True', reason: track.failure.reason, message: track.failure.message, lastProbeTime: t, lastTransitionTime: t },
              ]
            : [
                { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: t, lastTransitionTime: t },
                { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: t, lastTransitionTime: t },
              ];
        if (track.failure === undefined) st.completionTime = t;
      }
    });
    if (finished) track.finishedAt = Date.now();
  }

  readonly #seen = new Map<string, Set<string>>();

  #podsSeen(jobUid: string): Set<string> {
    return this.#seen.get(jobUid) ?? new Set();
  }

  #rememberPods(jobUid: string, pods: readonly KubeObject[]): void {
    const seen = this.#seen.get(jobUid) ?? new Set<string>();
    for (const p of pods) seen.add(p.metadata.uid);
    this.#seen.set(jobUid, seen);
  }

  /** Applies the Job's podFailurePolicy to a failed pod: FailJob, Ignore, or Count (the default). */
  #countFailure(job: KubeObject, track: JobTrack, pod: KubeObject): void {
    const puid = pod.metadata.uid;
    const statuses: { name: string; state?: { terminated?: { exitCode: number } } }[] = pod.status?.containerStatuses ?? [];
    for (const [index, rule] of ((job.spec.podFailurePolicy?.rules ?? []) as any[]).entries()) {
      let matches = false;
      if (rule.onExitCodes !== undefined) {
        const { containerName, operator, values } = rule.onExitCodes as { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
        matches = statuses.some((c) => {
          const code = c.state?.terminated?.exitCode;
          if (code === undefined || code === 0 || (containerName !== undefined && c.name !== containerName)) return false;
          return operator === 'In' ? values.includes(code) : !values.includes(code);
        });
      } else if (rule.onPodConditions !== undefined) {
        const conditions: { type: string; status: string }[] = pod.status?.conditions ?? [];
        matches = (rule.onPodConditions as { type: string; status?: string }[]).some((pc) => conditions.some((c) => c.type === pc.type && c.status === (pc.status ?? 'True')));
      }
      if (!matches) continue;
      if (rule.action === 'Ignore') {
        track.ignored.add(puid);
        return;
      }
      if (rule.action === 'FailJob') {
        const code = statuses.find((c) => c.state?.terminated !== undefined)?.state?.terminated?.exitCode;
        track.failure = { reason: 'PodFailurePolicy', message: `Container ${statuses[0]?.name ?? ''} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching FailJob rule at index ${index}` };
      }
      break;
    }
    track.failed.add(puid);
    track.lastFailureAt = Date.now();
  }

  #createPod(job: KubeObject): void {
    const template = job.spec.template;
    const { namespace, name, uid } = job.metadata;
    const violations = this.#o.podSecurity === 'restricted' ? restrictedViolations(template.spec) : [];
    if (violations.length > 0) {
      // The Job controller's create is refused (403); it tries again, as Kubernetes does, and stays without pods.
      if (!this.#refused.has(uid)) this.refusedPods.push({ job: name, message: `pods "${name}-xxxxx" is forbidden: violates PodSecurity "restricted:latest": ${violations.join(', ')}` });
      this.#refused.add(uid);
      return;
    }
    const quota = this.podQuota?.(job);
    if (quota !== undefined && this.#ownPods(uid).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length >= quota) return;
    let podName = '';
    do podName = `${name}-${randomName(5)}`;
    while (this.#store.has(key('pods', namespace, podName)));
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: now(),
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations !== undefined ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...clone(template.spec), nodeName: 'fake-node', serviceAccountName: template.spec.serviceAccountName ?? 'default' },
      status: { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }] },
    };
    const unschedulable = this.unschedulable?.(pod);
    if (unschedulable !== undefined) {
      delete pod.spec.nodeName;
      pod.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: unschedulable, lastTransitionTime: now() }];
      this.#pending.add(key('pods', namespace, podName)); // the kubelet never sees it
    }
    this.#put('pods', pod, 'ADDED');
    this.#queueSync();
  }

  /** The pods a Job (by uid) owns. */
  #ownPods(jobUid: string): KubeObject[] {
    return [...this.#store.values()].filter((o) => o.kind === 'Pod' && o.metadata.ownerReferences?.some((r) => r.uid === jobUid) === true);
  }

  // ── the kubelet ──────────────────────────────────────────────────────────────────────────────

  #startPod(pod: KubeObject): void {
    const k = key('pods', pod.metadata.namespace, pod.metadata.name);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || this.#pending.has(k)) return;
    const containers = pod.spec.containers as any[];
    if (containers.length !== 1) return this.#failPod(pod, 'FakeUnsupported', 'the fake runs pods of exactly one container');
    const c = containers[0];
    if (this.unpullable?.(pod) === true) {
      this.#pending.add(k); // for ever
      this.#update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
        p.status.containerStatuses = [
          { name: c.name, image: c.image, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } } },
        ];
      });
      return;
    }
    let argv: string[];
    let env: Record<string, string>;
    let fs: Container['fs'];
    if (this.#o.network !== undefined && !this.#podIPs.has(k)) this.#podIPs.set(k, this.#o.network.allocate());
    try {
      fs = this.#checkMounts(pod, c);
      env = this.#containerEnv(pod, c);
      argv = [...(c.command ?? ['torpedo']), ...(c.args ?? [])];
    } catch (e) {
      if (e instanceof ConfigError) {
        // Like CreateContainerConfigError: the kubelet tries again (the Secret may come later).
        this.#update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
          p.status.containerStatuses = [{ name: c.name, image: c.image, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'CreateContainerConfigError', message: e.message } } }];
        });
        this.#pending.add(k);
        setTimeout(() => {
          this.#pending.delete(k);
          this.#queueSync();
        }, 200);
        return;
      }
      return this.#failPod(pod, e instanceof MountRefused ? 'MountRefused' : 'FakeUnsupported', (e as Error).message);
    }
    const container: Container = { child: undefined, restarts: 0, startedAt: now(), ended: false, ...(fs !== undefined ? { fs } : {}) };
    this.#containers.set(k, container);
    void this.#run(pod, c.name, argv, env, container);
  }

  async #run(pod: KubeObject, containerName: string, argv: readonly string[], baseEnv: Record<string, string>, container: Container): Promise<void> {
    const { namespace, name } = pod.metadata;
    // The pod's own ports, once: its variables keep them across container restarts.
    if (container.ports === undefined) {
      container.ports = {};
      for (const v of this.#o.freePortEnv ?? []) if (baseEnv[v] !== undefined) container.ports[v] = String(await freePort());
    }
    const env = { ...baseEnv, ...container.ports };
    const current = this.#store.get(key('pods', namespace, name));
    if (this.#closed || current === undefined || current.metadata.uid !== pod.metadata.uid || current.metadata.deletionTimestamp !== undefined) {
      container.ended = true;
      return;
    }
    const log = openSync(this.#logFile(namespace, name), 'a');
    let child: ChildProcess;
    let ip = '127.0.0.1';
    if (this.#o.kubelet === 'podman' && this.#o.network !== undefined) {
      ip = this.#podIPs.get(key('pods', namespace, name)) ?? '';
      const c = (pod.spec.containers as any[]).find((x) => x.name === containerName);
      // Kubernetes' `command` replaces the image's ENTRYPOINT, `args` its CMD; both are expanded.
      const command = c.command === undefined ? undefined : (c.command as string[]).map((a) => expand(a, env));
      container.podman = `${this.#o.network.name}-${name}-${container.restarts}`;
      let runArgs: string[];
      try {
        const binds = [...(container.fs?.binds ?? [])];
        if (env['KUBECONFIG'] === POD_KUBECONFIG) {
          const identity = `system:serviceaccount:${namespace}:${pod.spec.serviceAccountName ?? 'default'}`;
          binds.push({ source: this.kubeconfig(identity, namespace, this.podUrl), target: POD_KUBECONFIG, readOnly: true });
        }
        runArgs = podmanRunArgs({ pod, container: c, name: container.podman, network: this.#o.network, ip, env, binds, argv: { ...(command !== undefined ? { command } : {}), args: ((c.args ?? []) as string[]).map((a) => expand(a, env)) }, skipped: this.skippedLimits });
      } catch (e) {
        closeSync(log);
        container.ended = true;
        if (e instanceof PodRefused) return this.#failPod(pod, 'CreateContainerConfigError', e.message);
        throw e;
      }
      child = spawn('podman', [...podmanGlobal(), 'run', ...runArgs], { stdio: ['ignore', log, log] });
    } else {
      child = this.#spawnProcess(name, argv, env, container, log);
    }
    closeSync(log);
    container.child = child;
    container.startedAt = now();
    if (child.pid !== undefined) {
      const pid = child.pid;
      LIVE_GROUPS.add(pid);
      child.once('exit', () => LIVE_GROUPS.delete(pid));
    }
    child.on('error', () => {}); // reported through 'exit' with a code
    this.#update('pods', namespace, name, (p) => {
      p.status.phase = 'Running';
      p.status.podIP = ip;
      p.status.podIPs = [{ ip }];
      p.status.hostIP = this.#o.network?.gateway ?? '127.0.0.1';
      p.status.startTime ??= container.startedAt;
      p.status.conditions = [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ];
      p.status.containerStatuses = [
        {
          name: containerName,
          image: (p.spec.containers[0] as { image: string }).image,
          ready: true,
          started: true,
          restartCount: container.restarts,
          ...(p.status.containerStatuses?.[0]?.lastState !== undefined ? { lastState: p.status.containerStatuses[0].lastState } : {}),
          state: { running: { startedAt: container.startedAt } },
        },
      ];
    });
    child.on('exit', (code, signal) => this.#exited(pod, containerName, argv, baseEnv, container, code, signal));
  }

  /** The container as a local process (in a mount namespace of its own where `isolated`). */
  #spawnProcess(name: string, argv: readonly string[], env: Record<string, string>, container: Container, log: number): ChildProcess {
    const [cmd, ...args] = argv.map((a) => expand(a, env));
    const exe = cmd === 'torpedo' ? [process.execPath, BIN] : cmd === 'node' ? [process.execPath] : [cmd as string];
    const home = join(this.dir, 'home', name);
    mkdirSync(home, { recursive: true });
    let command = [...exe, ...args];
    if (container.fs !== undefined) {
      // The pod's home and its service account's kubeconfig are the only files of the fake it sees.
      const own: PodBind[] = [{ source: home, target: home, readOnly: false }];
      if (env['KUBECONFIG'] !== undefined) own.push({ source: env['KUBECONFIG'], target: env['KUBECONFIG'], readOnly: true });
      command = podCommand({ ...container.fs, binds: [...container.fs.binds, ...own], cwd: home }, command);
    }
    const argv0 = [...PDEATHSIG, ...command];
    return spawn(argv0[0] as string, argv0.slice(1), { cwd: home, env: { HOME: home, ...env }, stdio: ['ignore', log, log], detached: true });
  }

  #exited(pod: KubeObject, containerName: string, argv: readonly string[], env: Record<string, string>, container: Container, code: number | null, signal: NodeJS.Signals | null): void {
    const { namespace, name } = pod.metadata;
    const k = key('pods', namespace, name);
    const exitCode = code ?? 128 + (signal !== null ? (constants.signals[signal] ?? 0) : 0);
    const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: container.startedAt, finishedAt: now(), containerID: `fake://${container.child?.pid ?? 0}` };
    const current = this.#store.get(k);
    if (current === undefined || current.metadata.uid !== pod.metadata.uid) return;
    const deleting = current.metadata.deletionTimestamp !== undefined;
    const restartPolicy = current.spec.restartPolicy ?? 'Always';
    const restart = !deleting && !this.#closed && (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0));
    if (restart) {
      container.restarts++;
      this.#update('pods', namespace, name, (p) => {
        p.status.containerStatuses = [
          { ...p.status.containerStatuses[0], ready: false, started: false, restartCount: container.restarts, lastState: { terminated }, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } } },
        ];
        p.status.conditions = [{ type: 'Ready', status: 'False' }];
      });
      setTimeout(() => {
        const still = this.#store.get(k);
        if (still !== undefined && still.metadata.uid === pod.metadata.uid && still.metadata.deletionTimestamp === undefined) void this.#run(still, containerName, argv, env, container);
      }, this.#o.podBackoffMs ?? 200);
      return;
    }
    container.ended = true;
    const updated = this.#update('pods', namespace, name, (p) => {
      p.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
      p.status.conditions = [
        { type: 'Ready', status: 'False', reason: 'PodCompleted' },
        { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' },
      ];
      p.status.containerStatuses = [{ ...p.status.containerStatuses[0], ready: false, started: false, state: { terminated } }];
    });
    if (deleting && updated !== undefined) this.#remove('pods', updated);
  }

  #deletePod(pod: KubeObject, graceSeconds: number | undefined): void {
    const k = key('pods', pod.metadata.namespace, pod.metadata.name);
    const container = this.#containers.get(k);
    const child = container?.child;
    const running = child !== undefined && child.exitCode === null && child.signalCode === null && container?.ended !== true;
    const grace = graceSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const ctr = container?.podman;
    if (!running || grace === 0) {
      if (running && ctr !== undefined) void podmanRun(['rm', '--force', '--time=0', '--ignore', ctr]);
      else if (running && child?.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      this.#remove('pods', pod);
      return;
    }
    this.#update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.metadata.deletionTimestamp ??= new Date(Date.now() + grace * 1000).toISOString();
      p.metadata.deletionGracePeriodSeconds = grace;
    });
    if (ctr !== undefined) {
      // SIGTERM to the container's PID 1, SIGKILL after the grace period: what a kubelet does.
      void podmanRun(['stop', `--time=${Math.ceil(Math.min(grace * 1000, this.#o.maxGraceMs ?? 2000) / 1000)}`, '--ignore', ctr]);
    } else if (child.pid !== undefined) {
      killGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      const kill = setTimeout(() => killGroup(pid, 'SIGKILL'), Math.min(grace * 1000, this.#o.maxGraceMs ?? 2000));
      child.once('exit', () => clearTimeout(kill));
    }
  }

  #failPod(pod: KubeObject, reason: string, message: string): void {
    this.#update('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.status.phase = 'Failed';
      p.status.reason = reason;
      p.status.message = message;
    });
  }

  /**
   * The container's volume mounts as the kubelet would make them: a claim's directory (or its
   * subPath, created if missing) only at the path it has here, an emptyDir a fresh directory (only
   * /tmp without isolation). Records the claim mounts; throws what stops the container.
   */
  #checkMounts(pod: KubeObject, c: { volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[]; securityContext?: { readOnlyRootFilesystem?: boolean } }): Container['fs'] {
    const binds: PodBind[] = [];
    const seen: ClaimMount[] = [];
    const podman = this.#o.kubelet === 'podman';
    for (const m of c.volumeMounts ?? []) {
      const volume = (pod.spec.volumes ?? []).find((v: { name: string }) => v.name === m.name);
      if (volume === undefined) throw new Error(`volumeMounts: no volume ${m.name}`);
      const readOnly = m.readOnly === true;
      if (volume.persistentVolumeClaim !== undefined) {
        const claim = volume.persistentVolumeClaim.claimName as string;
        const dir = this.#o.claims?.[claim];
        if (dir === undefined) throw new Error(`persistentvolumeclaim "${claim}" not found`);
        const subPath = m.subPath ?? '';
        const source = join(dir, subPath);
        if (!existsSync(source)) mkdirSync(source, { recursive: true });
        const samePath = existsSync(m.mountPath) && realpathSync(source) === realpathSync(m.mountPath);
        // A container has its own filesystem: a claim may be mounted anywhere in it.
        if (!samePath && !podman) throw new Error(`fake-kube-api mounts a claim only at its own path: ${claim}${subPath !== '' ? ` subPath ${subPath}` : ''} is ${source}, not ${m.mountPath}`);
        const mount: ClaimMount = { claim, subPath, mountPath: m.mountPath, readOnly };
        const refused = this.#o.mountPolicy?.(pod, mount);
        if (refused !== undefined) throw new MountRefused(`${claim}${subPath !== '' ? ` subPath ${subPath}` : ' (the whole claim)'} at ${m.mountPath}: ${refused}`);
        seen.push(mount);
        if (podman) applyFsGroup(dir, pod.spec.securityContext);
        binds.push({ source: realpathSync(source), target: resolve(m.mountPath), readOnly });
      } else if (volume.emptyDir !== undefined) {
        if (!this.isolated && !podman && m.mountPath !== '/tmp') throw new Error(`fake-kube-api mounts an emptyDir only at /tmp, not ${m.mountPath}`);
        const source = join(this.dir, 'volumes', pod.metadata.uid, m.name);
        mkdirSync(source, { recursive: true });
        // As the kubelet makes an emptyDir: writable by whatever user the container runs as.
        if (podman) chmodSync(source, 0o777);
        binds.push({ source, target: resolve(m.mountPath), readOnly });
      } else {
        throw new Error(`fake-kube-api does not support the volume ${m.name}`);
      }
    }
    this.#mounts.set(key('pods', pod.metadata.namespace, pod.metadata.name), seen);
    if (podman) return { readOnlyRoot: c.securityContext?.readOnlyRootFilesystem === true, hide: [], binds };
    if (!this.isolated) return undefined;
    const hide = [this.dir, ...Object.values(this.#o.claims ?? {}).map((d) => realpathSync(d))];
    // torpedo is part of the image: a volume mounted over a directory holding this checkout (an
    // emptyDir at /tmp, when the checkout is under /tmp) must not cover it.
    const root = realpathSync(ROOT);
    if (binds.some((b) => root.startsWith(`${b.target}/`))) binds.push({ source: root, target: root, readOnly: true });
    return { readOnlyRoot: c.securityContext?.readOnlyRootFilesystem === true, hide, binds };
  }

  /** The container's environment as the kubelet makes it: image, pod variables in order, expansions. */
  #containerEnv(pod: KubeObject, c: { env?: any[] }): Record<string, string> {
    // A container has its image's PATH and the hostname podman gives it (the pod's name).
    const podman = this.#o.kubelet === 'podman';
    const env: Record<string, string> = podman ? { ...(this.#o.imageEnv ?? {}) } : { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOSTNAME: pod.metadata.name, ...(this.#o.imageEnv ?? {}) };
    if (pod.spec.automountServiceAccountToken !== false) {
      const identity = `system:serviceaccount:${pod.metadata.namespace}:${pod.spec.serviceAccountName ?? 'default'}`;
      // In a container: a file naming this server on the network's gateway, bound in by #run.
      env['KUBECONFIG'] = podman ? POD_KUBECONFIG : this.kubeconfig(identity, pod.metadata.namespace);
    }
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = expand(v.value, env);
      else if (v.valueFrom?.fieldRef !== undefined) env[v.name] = this.#field(pod, v.valueFrom.fieldRef.fieldPath);
      else if (v.valueFrom?.secretKeyRef !== undefined) {
        const { name, key: k, optional } = v.valueFrom.secretKeyRef;
        const secret = this.#store.get(key('secrets', pod.metadata.namespace, name));
        const data = secret?.data?.[k];
        if (data === undefined) {
          if (optional === true) continue;
          throw new ConfigError(secret === undefined ? `secret "${name}" not found` : `couldn't find key ${k} in Secret ${pod.metadata.namespace}/${name}`);
        }
        env[v.name] = Buffer.from(data, 'base64').toString('utf8');
      } else {
        env[v.name] = '';
      }
    }
    return env;
  }

  #field(pod: KubeObject, path: string): string {
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    if (label !== null) return pod.metadata.labels?.[label[1] as string] ?? '';
    switch (path) {
      case 'metadata.name':
        return pod.metadata.name;
      case 'metadata.namespace':
        return pod.metadata.namespace;
      case 'metadata.uid':
        return pod.metadata.uid;
      case 'status.podIP':
        return this.#podIPs.get(key('pods', pod.metadata.namespace, pod.metadata.name)) ?? '127.0.0.1';
      case 'status.hostIP':
        return this.#o.network?.gateway ?? '127.0.0.1';
      case 'spec.nodeName':
        return 'fake-node';
      case 'spec.serviceAccountName':
        return pod.spec.serviceAccountName ?? 'default';
      default:
        throw new Error(`fake-kube-api does not resolve fieldRef ${path}`);
    }
  }

  #logFile(namespace: string, pod: string): string {
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    return join(this.dir, 'logs', `${namespace}_${pod}.log`);
  }

  #podLog(pod: KubeObject, q: URLSearchParams): string {
    const container = q.get('container');
    const names = (pod.spec.containers as { name: string }[]).map((c) => c.name);
    if (container !== null && !names.includes(container)) throw new HttpError(400, 'BadRequest', `container ${container} is not valid for pod ${pod.metadata.name}`);
    if (!this.#containers.has(key('pods', pod.metadata.namespace, pod.metadata.name))) {
      throw new HttpError(400, 'BadRequest', `container "${names[0] ?? ''}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    }
    let text = this.log(pod.metadata.namespace, pod.metadata.name);
    const tail = q.get('tailLines');
    if (tail !== null) {
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      text = lines.slice(-Number(tail)).map((l) => `${l}\n`).join('');
    }
    return text;
  }
}

/**
 * The `rbac` option from Role and RoleBinding manifests (e.g. deploy/kubernetes/base/*-rbac.yaml):
 * each ServiceAccount subject, as `system:serviceaccount:NS:NAME`, gets every `verb resource` of
 * its Roles. Only the resources and verbs this fake serves matter; `*` is not expanded.
 */
export function rbacFromManifests(texts: readonly string[], namespace: string): Record<string, string[]> {
  const docs = texts.flatMap((t) => loadAllYaml(t) as any[]).filter((d) => d !== null && typeof d === 'object');
  const roles = new Map<string, string[]>();
  for (const role of docs.filter((d) => d.kind === 'Role')) {
    const rules: string[] = [];
    for (const rule of role.rules ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs ?? []) rules.push(`${verb} ${resource}`);
    roles.set(role.metadata.name, rules);
  }
  const rbac: Record<string, string[]> = {};
  for (const binding of docs.filter((d) => d.kind === 'RoleBinding' && d.roleRef?.kind === 'Role')) {
    for (const subject of binding.subjects ?? []) {
      if (subject.kind !== 'ServiceAccount') continue;
      const identity = `system:serviceaccount:${subject.namespace ?? namespace}:${subject.name}`;
      rbac[identity] = [...(rbac[identity] ?? []), ...(roles.get(binding.roleRef.name) ?? [])];
    }
  }
  return rbac;
}

/**
 * A `mountPolicy` for torpedo's layout of the data claim: a pod mounts only its own job's
 * directory, `jobs/<its torpedo/job-id label>` (or a directory in it), and, read-only, datasets
 * (`datasets/…`); never the whole claim, never another job's directory.
 */
export function torpedoMountPolicy(pod: KubeObject, m: ClaimMount): string | undefined {
  const id = pod.metadata.labels?.['torpedo/job-id'] ?? '';
  if (m.subPath === '') return 'a pod of a job may not mount the whole claim';
  if (m.subPath === `jobs/${id}` || m.subPath.startsWith(`jobs/${id}/`)) return undefined;
  if (m.subPath.startsWith('datasets/') && m.readOnly) return undefined;
  return `neither the job's own directory (jobs/${id}) nor a dataset mounted read-only`;
}

class ConfigError extends Error {}

/** A claim mount that `mountPolicy` refused. */
class MountRefused extends Error {}

/** Containers die with the test process, even if it is killed: setpriv (util-linux) asks the kernel. */
const PDEATHSIG = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--'] : [];

/** Process groups of running containers: killed if the test process exits without close(). */
const LIVE_GROUPS = new Set<number>();
process.once('exit', () => {
  for (const pid of LIVE_GROUPS) killGroup(pid, 'SIGKILL');
});

// ── helpers ───────────────────────────────────────────────────────────────────────────────────

interface Route {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string | undefined;
  readonly sub: string | undefined;
}

function parseRoute(path: string): Route | undefined {
  const m = /^\/(api\/v1|apis\/batch\/v1|apis\/networking\.k8s\.io\/v1)\/namespaces\/([^/]+)\/(jobs|pods|secrets|networkpolicies)(?:\/([^/]+)(?:\/([^/]+))?)?\/?$/.exec(path);
  if (m === null) return undefined;
  const kind = m[3] as Kind;
  // Each kind is served under its own group's prefix only.
  if (m[1] !== (KINDS[kind].group === '' ? 'api/v1' : `apis/${apiVersion(kind)}`)) return undefined;
  return { kind, namespace: decodeURIComponent(m[2] as string), name: m[4] !== undefined ? decodeURIComponent(m[4]) : undefined, sub: m[5] };
}

type Selector = (labels: Record<string, string>) => boolean;

/** Equality- and set-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`. */
export function parseSelector(text: string): Selector {
  const parts = text.split(/,(?![^(]*\))/).map((p) => p.trim()).filter(Boolean);
  const tests = parts.map((p): Selector => {
    let m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(p);
    if (m !== null) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v;
    }
    m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(p);
    if (m !== null) {
      const [, k, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in' ? (l) => l[k] !== undefined && values.includes(l[k] as string) : (l) => l[k] === undefined || !values.includes(l[k] as string);
    }
    if (p.startsWith('!')) return (l) => l[p.slice(1)] === undefined;
    return (l) => l[p] !== undefined;
  });
  return (labels) => tests.every((t) => t(labels));
}

/** What the API server fills in on a new Job. */
function defaultJob(job: KubeObject): void {
  const spec = (job.spec ??= {});
  if (spec.template?.spec === undefined) throw new HttpError(422, 'Invalid', `Job.batch "${job.metadata.name}" is invalid: spec.template: Required value`);
  const restartPolicy = spec.template.spec.restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    throw new HttpError(422, 'Invalid', `Job.batch "${job.metadata.name}" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`);
  }
  if (spec.podFailurePolicy !== undefined && restartPolicy !== 'Never') {
    throw new HttpError(422, 'Invalid', `Job.batch "${job.metadata.name}" is invalid: spec.template.spec.restartPolicy: Invalid value: "${restartPolicy}": only "Never" is supported when podFailurePolicy is specified`);
  }
  if (job.metadata.name.length > 63) throw new HttpError(422, 'Invalid', `Job.batch "${job.metadata.name}" is invalid: metadata.name: must be no more than 63 characters`);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed';
  const uid = job.metadata.uid;
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template.metadata = spec.template.metadata ?? {};
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': job.metadata.name,
    'controller-uid': uid,
    'job-name': job.metadata.name,
  };
  job.status = {};
}

function statusObject(code: number, reason: string, message: string, route?: Route): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    ...(route?.name !== undefined ? { details: { name: route.name, kind: route.kind, ...(KINDS[route.kind].group !== '' ? { group: KINDS[route.kind].group } : {}) } } : {}),
    code,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** `$(VAR)` from `env`, `$$` as `$`; an unknown variable stays as written (the kubelet's rule). */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? whole)));
}

function key(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function apiVersion(kind: Kind): string {
  return KINDS[kind].group === '' ? KINDS[kind].version : `${KINDS[kind].group}/${KINDS[kind].version}`;
}

function clone<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function randomName(n: number): string {
  const bytes = randomBytes(n);
  return [...bytes].map((b) => POD_NAME_CHARS[b % POD_NAME_CHARS.length]).join('');
}

/** Where a pod container finds its service account's kubeconfig (instead of the in-cluster files). */
const POD_KUBECONFIG = '/var/run/secrets/torpedo-fake/kubeconfig';

/**
 * A pod's fsGroup applied to a claim's directory as the kubelet applies it to a volume: the group
 * owns everything, may read and write it, and directories are setgid (new files get the group).
 * With fsGroupChangePolicy OnRootMismatch, only when the root's group is not the fsGroup yet.
 */
function applyFsGroup(dir: string, sc: { fsGroup?: number; fsGroupChangePolicy?: string } | undefined): void {
  const gid = sc?.fsGroup;
  if (gid === undefined) return;
  if (sc?.fsGroupChangePolicy === 'OnRootMismatch' && statSync(dir).gid === gid) return;
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    chownSync(path, st.uid, gid);
    const execute = (st.mode & 0o100) !== 0 ? 0o010 : 0;
    chmodSync(path, (st.mode & 0o7777) | 0o060 | execute | (st.isDirectory() ? 0o2010 : 0));
    if (st.isDirectory()) for (const e of readdirSync(path)) walk(join(path, e));
  };
  walk(dir);
}

/** `podman ARGS` to its end, its failure ignored (a container already gone). */
function podmanRun(args: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('podman', [...podmanGlobal(), ...args], { stdio: 'ignore' });
    child.once('error', () => resolve());
    child.once('exit', () => resolve());
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
