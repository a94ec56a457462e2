import { Watch, type V1Pod } from '@kubernetes/client-node';
import { describeError, kubeCall, statusOf, type KubeClients } from './kube-client.ts';

export type PodEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Ask the server to end a watch after this long; a new one starts where it left off. */
const WATCH_SECONDS = 240;
/** No event, not even a bookmark, for this long: the connection is presumed dead and replaced. */
const SILENCE_MS = (WATCH_SECONDS + 30) * 1000;
const RETRY_MS = 1000;

/**
 * Follows the pods matching a label selector: lists them, then watches from the list's
 * resourceVersion, and starts over whenever the watch ends — re-watching from the last version
 * seen, or re-listing when the server says that version is gone (410: too old). After a re-list,
 * pods that vanished in the gap are reported DELETED, so a consumer misses no death.
 *
 * `onEvent` is called for every change, in order; `start()` resolves after the first list.
 */
export class PodWatch {
  readonly #clients: KubeClients;
  readonly #selector: string;
  readonly #onEvent: (type: PodEvent, pod: V1Pod) => void;
  readonly #log: (line: string) => void;
  readonly #known = new Map<string, V1Pod>();
  #version = '';
  #controller: AbortController | undefined;
  #silence: NodeJS.Timeout | undefined;
  #stopped = false;
  /** How many times the watch was (re)started and the pods re-listed; for tests and logs. */
  watches = 0;
  lists = 0;

  constructor(clients: KubeClients, selector: string, onEvent: (type: PodEvent, pod: V1Pod) => void, log: (line: string) => void = () => {}) {
    this.#clients = clients;
    this.#selector = selector;
    this.#onEvent = onEvent;
    this.#log = log;
  }

  async start(): Promise<void> {
    await this.#list();
    void this.#watch();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#silence);
    this.#controller?.abort();
  }

  async #list(): Promise<void> {
    const { core, namespace } = this.#clients;
    const list = await kubeCall(`list pods ${this.#selector}`, () => core.listNamespacedPod({ namespace, labelSelector: this.#selector }));
    this.lists++;
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name ?? '';
      seen.add(name);
      const before = this.#known.get(name);
      this.#known.set(name, pod);
      if (before === undefined) this.#emit('ADDED', pod);
      else if (before.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.#emit('MODIFIED', pod);
    }
    for (const [name, pod] of [...this.#known]) {
      if (!seen.has(name)) {
        this.#known.delete(name);
        this.#emit('DELETED', pod);
      }
    }
    this.#version = list.metadata?.resourceVersion ?? '';
  }

  async #watch(): Promise<void> {
    if (this.#stopped) return;
    this.watches++;
    const { config, namespace } = this.#clients;
    let gone = false;
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(config)
        .watch(
          `/api/v1/namespaces/${namespace}/pods`,
          { labelSelector: this.#selector, resourceVersion: this.#version, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS },
          (type, object: V1Pod & { code?: number }) => {
            this.#quiet();
            if (type === 'ERROR') {
              // The server no longer has our version (410 Gone), or some other failure: list again.
              gone = true;
              this.#log(`pod watch: the server ended the watch: ${object.code ?? ''} ${JSON.stringify((object as { message?: string }).message ?? '')}`);
              this.#controller?.abort();
              return;
            }
            const rv = object.metadata?.resourceVersion;
            if (rv !== undefined) this.#version = rv;
            if (type === 'BOOKMARK') return;
            const name = object.metadata?.name ?? '';
            if (type === 'DELETED') this.#known.delete(name);
            else this.#known.set(name, object);
            this.#emit(type as PodEvent, object);
          },
          resolve,
        )
        .then((c) => {
          this.#controller = c;
          if (this.#stopped) c.abort();
        });
    });
    this.#quiet();
    const err = await ended;
    clearTimeout(this.#silence);
    if (this.#stopped) return;
    if (statusOf(err) === 410) gone = true;
    else if (err !== null && err !== undefined && !gone) this.#log(`pod watch ended: ${describeError(err)}; watching again`);
    for (;;) {
      if (this.#stopped) return;
      try {
        if (gone) await this.#list();
        break;
      } catch (e) {
        this.#log(`pod watch: listing pods failed: ${describeError(e)}; trying again`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
    // A watch that failed outright (not just ended) waits a little before the next.
    if (err !== null && err !== undefined && !gone) await new Promise((r) => setTimeout(r, RETRY_MS));
    void this.#watch();
  }

  /** Restarts the silence timer: a watch that hears nothing for too long is replaced. */
  #quiet(): void {
    clearTimeout(this.#silence);
    this.#silence = setTimeout(() => {
      this.#log('pod watch: no news for too long; watching again');
      this.#controller?.abort();
    }, SILENCE_MS);
    this.#silence.unref();
  }

  #emit(type: PodEvent, pod: V1Pod): void {
    try {
      this.#onEvent(type, pod);
    } catch (e) {
      this.#log(`pod watch: handling ${type} ${pod.metadata?.name ?? ''} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
}
