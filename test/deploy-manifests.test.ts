// The Kubernetes deployment (deploy/kubernetes/) and the image (deploy/Dockerfile), checked
// offline: no cluster and no container engine run here. Each overlay is copied to a temporary
// directory, given secrets by generate-secrets.sh there (never in the repository), rendered with
// `kubectl kustomize`, and every object is validated against the Kubernetes API's schemas twice:
// kubernetes-models (types, required fields, enums) and the models @kubernetes/client-node
// generates from the same OpenAPI description (fields that do not exist, e.g. a misspelt probe).
// Then what matters is asserted: minimal namespace-scoped RBAC, the data volume (ReadWriteMany, or
// local-path on one k3s node), probes, resources, non-root pods, secrets that are nowhere in git,
// NetworkPolicies, one image, self-registration closed; the k3s overlay's Ingress and Traefik
// settings; and the commands of docs/kubernetes.md's k3s walkthrough that need no cluster are run.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig } from '../src/manager/config.ts';
import { ROOT } from './helpers.ts';

const DEPLOY = join(ROOT, 'deploy', 'kubernetes');
const NAMESPACE = 'torpedo';
/** Every overlay, with its data volume; a directory under overlays/ that is not here fails the test. */
const OVERLAYS: Record<string, { accessModes: readonly string[]; storageClass: string }> = {
  local: { accessModes: ['ReadWriteMany'], storageClass: 'longhorn' },
  production: { accessModes: ['ReadWriteMany'], storageClass: 'longhorn' },
  k3s: { accessModes: ['ReadWriteOnce'], storageClass: 'local-path' },
};

/** Every kind the manifests may contain; anything else (a ClusterRole…) fails the test. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** The rules each Role must have, exactly (order aside): what the manager and masters need. */
const ROLES: Record<string, readonly { apiGroup: string; resource: string; verbs: readonly string[] }[]> = {
  'torpedo-manager': [
    { apiGroup: 'batch', resource: 'jobs', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
    { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch'] },
    { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
    { apiGroup: '', resource: 'secrets', verbs: ['create', 'get', 'delete'] },
    { apiGroup: 'networking.k8s.io', resource: 'networkpolicies', verbs: ['create', 'delete'] },
  ],
  'torpedo-master': [
    { apiGroup: 'batch', resource: 'jobs', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
    { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
  ],
};

/** The manager's environment: the contract with the Kubernetes launcher (src/kubernetes/). */
const MANAGER_ENV: Record<string, string | { secret: string; key: string; optional?: true } | { field: string }> = {
  NODE_ENV: 'production',
  TORPEDO_HOST: '0.0.0.0',
  TORPEDO_PORT: '7777',
  TORPEDO_HOME: '/data',
  TORPEDO_LAUNCHER: 'kubernetes',
  // Closed on every overlay: the manager's own default is open (docs/kubernetes.md, "Self-registration").
  TORPEDO_ALLOW_REGISTRATION: 'false',
  DATABASE_URL: { secret: 'torpedo-database', key: 'DATABASE_URL' },
  TORPEDO_JWT_SECRET: { secret: 'torpedo-manager', key: 'TORPEDO_JWT_SECRET' },
  TORPEDO_ADMIN_PASSWORD: { secret: 'torpedo-manager', key: 'TORPEDO_ADMIN_PASSWORD' },
  TORPEDO_METRICS_TOKEN: { secret: 'torpedo-manager', key: 'TORPEDO_METRICS_TOKEN', optional: true },
  TORPEDO_K8S_NAMESPACE: { field: 'metadata.namespace' },
  TORPEDO_K8S_DATA_CLAIM: 'torpedo-data',
  TORPEDO_K8S_MASTER_SERVICE_ACCOUNT: 'torpedo-master',
  TORPEDO_K8S_WORKER_SERVICE_ACCOUNT: 'torpedo-worker',
  TORPEDO_K8S_RUN_AS_USER: '10001',
  TORPEDO_K8S_RUN_AS_GROUP: '10001',
  // TORPEDO_K8S_IMAGE: checked against the overlay's image.
};

type Obj = Record<string, any>;

// ---- running kubectl and the script ------------------------------------------------------------

let kubectlChecked = false;

/** Fails with what to install when kubectl (with kustomize ≥ v5) is missing. */
function requireKubectl(): void {
  if (kubectlChecked) return;
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const install =
    'these tests render deploy/kubernetes with `kubectl kustomize` (offline, no cluster needed): install kubectl ≥ 1.27 ' +
    '(Debian: the `kubectl` package from the Kubernetes apt repository https://pkgs.k8s.io/core:/stable:/v1.32/deb/ or ' +
    'Google Cloud SDK repository; Debian\'s own `kubernetes-client` is 1.20, too old) or put a kubectl binary on PATH';
  if (r.error !== undefined) throw new Error(`kubectl not found (${r.error.message}): ${install}`);
  if (r.status !== 0) throw new Error(`\`kubectl version --client\` failed: ${r.stderr}\n${install}`);
  const version = (JSON.parse(r.stdout) as { kustomizeVersion?: string }).kustomizeVersion ?? '';
  const major = Number(/^v(\d+)/.exec(version)?.[1] ?? 0);
  if (major < 5) throw new Error(`kubectl's kustomize is ${version || 'unknown'}, v5 or later is needed: ${install}`);
  kubectlChecked = true;
}

/** A copy of deploy/kubernetes without any secrets/ directory (a developer's real ones stay put). */
function copyDeploy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-deploy-'));
  cpSync(DEPLOY, join(dir, 'kubernetes'), { recursive: true, filter: (src) => basename(src) !== 'secrets' });
  return join(dir, 'kubernetes');
}

function generateSecrets(copy: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('bash', [join(copy, 'generate-secrets.sh'), ...args], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

function render(copy: string, overlay: string): Obj[] {
  requireKubectl();
  const r = spawnSync('kubectl', ['kustomize', join(copy, 'overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `kubectl kustomize overlays/${overlay} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((doc) => {
    assert.deepEqual(doc.errors, [], `the rendered YAML of ${overlay} does not parse`);
    return doc.toJS() as Obj;
  });
}

/** The overlay's `images:` entry for `torpedo`, as containers will name it. */
function configuredImage(copy: string, overlay: string): string {
  const k = parse(readFileSync(join(copy, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as Obj;
  const entries = (k['images'] as Obj[]).filter((i) => i['name'] === 'torpedo');
  assert.equal(entries.length, 1, `overlays/${overlay} should set the torpedo image once`);
  const i = entries[0]!;
  const name = String(i['newName'] ?? 'torpedo');
  return i['digest'] !== undefined ? `${name}@${String(i['digest'])}` : `${name}:${String(i['newTag'] ?? 'latest')}`;
}

// ---- looking things up in the rendered objects ---------------------------------------------------

function find(objs: readonly Obj[], kind: string, name: string): Obj {
  const o = objs.find((x) => x['kind'] === kind && x['metadata']?.['name'] === name);
  assert.ok(o, `no ${kind} ${name}`);
  return o;
}

function workloads(objs: readonly Obj[]): Obj[] {
  return objs.filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet');
}

function containersOf(workload: Obj): Obj[] {
  const spec = workload['spec']['template']['spec'] as Obj;
  return [...((spec['initContainers'] as Obj[] | undefined) ?? []), ...(spec['containers'] as Obj[])];
}

function envOf(container: Obj): Map<string, Obj> {
  return new Map(((container['env'] as Obj[] | undefined) ?? []).map((e) => [String(e['name']), e]));
}

function component(o: Obj): string | undefined {
  return o['metadata']?.['labels']?.['app.kubernetes.io/component'] as string | undefined;
}

function selects(selector: Obj | undefined, labels: Obj): boolean {
  return Object.entries((selector?.['matchLabels'] as Obj | undefined) ?? {}).every(([k, v]) => labels[k] === v);
}

/** A pod selector for torpedo pods of one component, as the NetworkPolicies write it. */
function isComponent(selector: Obj | undefined, name: string): boolean {
  return selects(selector, { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': name }) && Object.keys(selector?.['matchLabels'] ?? {}).length > 0;
}

function ports(rule: Obj): string[] {
  return ((rule['ports'] as Obj[] | undefined) ?? []).map((p) => `${String(p['protocol'] ?? 'TCP')}/${String(p['port'])}`).sort();
}

const DNS = ['TCP/53', 'UDP/53'];
const API = ['TCP/443', 'TCP/6443'];

/**
 * Fields the Kubernetes API does not define, found by walking the object alongside
 * @kubernetes/client-node's generated models (kubernetes-models' validation does not report them).
 */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array !== null) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] } | undefined>)[type];
  if (typeof model?.getAttributeTypeMap !== 'function' || typeof value !== 'object') return;
  const attributes = model.getAttributeTypeMap();
  for (const [k, v] of Object.entries(value)) {
    const a = attributes.find((x) => x.baseName === k);
    if (a === undefined) out.push(`${path}.${k}`);
    else unknownFields(v, a.type, `${path}.${k}`, out);
  }
}

/**
 * Validates one object with kubernetes-models. kustomize wraps a Secret's long base64 values at 76
 * columns; the API server's decoder (Go's encoding/base64) skips newlines, kubernetes-models' check
 * of the `byte` format does not, so they are removed first.
 */
function validate(o: Obj): void {
  const id = `${String(o['kind'])} ${String(o['metadata']?.['name'])}`;
  const model = MODELS[`${String(o['apiVersion'])}/${String(o['kind'])}`];
  assert.ok(model, `${id}: ${String(o['apiVersion'])} ${String(o['kind'])} is not a kind these manifests should contain`);
  let data = o;
  if (o['kind'] === 'Secret' && o['data'] !== undefined) {
    data = { ...o, data: Object.fromEntries(Object.entries(o['data'] as Record<string, string>).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')])) };
  }
  assert.doesNotThrow(() => new model(data).validate(), `${id} is not valid`);
}

/** client-node's model name for an object: apps/v1 Deployment → V1Deployment. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

// ---- the tests ---------------------------------------------------------------------------------------

const copies: string[] = [];
function newCopy(): string {
  const c = copyDeploy();
  copies.push(c);
  return c;
}
after(() => {
  for (const c of copies) rmSync(join(c, '..'), { recursive: true, force: true });
});

// First, on its own, so that a machine without kubectl gets one failing test saying what to install
// (the suites below are then cancelled by their `before`).
test('kubectl with kustomize v5 or later is installed', requireKubectl);

for (const overlay of Object.keys(OVERLAYS)) {
  describe(`deploy/kubernetes/overlays/${overlay}`, () => {
    let copy: string;
    let objs: Obj[];
    let image: string;
    before(() => {
      requireKubectl();
      copy = newCopy();
      const g = generateSecrets(copy, overlay);
      assert.equal(g.status, 0, g.output);
      objs = render(copy, overlay);
      image = configuredImage(copy, overlay);
    });

    test('every object is a known kind, valid against the API schemas, labelled, in the torpedo namespace', () => {
      assert.ok(objs.length > 10, `only ${objs.length} objects`);
      for (const o of objs) {
        const id = `${String(o['kind'])} ${String(o['metadata']?.['name'])}`;
        validate(o);
        const unknown: string[] = [];
        unknownFields(o, modelName(String(o['apiVersion']), String(o['kind'])), id, unknown);
        assert.deepEqual(unknown, [], `${id} has fields the Kubernetes API does not define`);
        assert.equal(o['metadata']['labels']?.['app.kubernetes.io/name'], 'torpedo', `${id}: app.kubernetes.io/name`);
        assert.equal(o['metadata']['labels']?.['app.kubernetes.io/part-of'], 'torpedo', `${id}: app.kubernetes.io/part-of`);
        if (o['kind'] === 'Namespace') assert.equal(o['metadata']['name'], NAMESPACE);
        else assert.equal(o['metadata']['namespace'], NAMESPACE, `${id}: namespace`);
      }
      for (const w of workloads(objs)) {
        const labels = w['spec']['template']['metadata']['labels'] as Obj;
        assert.ok(selects(w['spec']['selector'], labels), `${String(w['metadata']['name'])}: its selector does not match its pods`);
        assert.equal(labels['app.kubernetes.io/name'], 'torpedo');
        assert.equal(labels['app.kubernetes.io/part-of'], 'torpedo');
        assert.ok(labels['app.kubernetes.io/component'], `${String(w['metadata']['name'])}: pods need app.kubernetes.io/component`);
      }
    });

    test('RBAC: Roles and RoleBindings only, exactly the minimal rules, no wildcard', () => {
      assert.ok(!objs.some((o) => o['kind'] === 'ClusterRole' || o['kind'] === 'ClusterRoleBinding'));
      const roles = objs.filter((o) => o['kind'] === 'Role');
      assert.deepEqual(roles.map((r) => r['metadata']['name']).sort(), Object.keys(ROLES).sort());
      for (const role of roles) {
        const name = String(role['metadata']['name']);
        const rules = (role['rules'] as Obj[]).flatMap((r) => {
          assert.equal(r['resourceNames'], undefined);
          assert.equal(r['nonResourceURLs'], undefined);
          for (const list of [r['apiGroups'], r['resources'], r['verbs']] as string[][]) assert.ok(!list.some((x) => x.includes('*')), `${name}: wildcard`);
          return (r['apiGroups'] as string[]).flatMap((apiGroup) => (r['resources'] as string[]).map((resource) => ({ apiGroup, resource, verbs: [...(r['verbs'] as string[])].sort() })));
        });
        const key = (x: { apiGroup: string; resource: string }): string => `${x.apiGroup}/${x.resource}`;
        const expected = ROLES[name]!.map((x) => ({ ...x, verbs: [...x.verbs].sort() }));
        assert.deepEqual(rules.sort((a, b) => key(a).localeCompare(key(b))), expected.sort((a, b) => key(a).localeCompare(key(b))), `${name}'s rules`);
      }
      const bindings = objs.filter((o) => o['kind'] === 'RoleBinding');
      assert.equal(bindings.length, 2);
      for (const b of bindings) {
        const name = String(b['metadata']['name']);
        assert.deepEqual(b['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
        assert.deepEqual(b['subjects'], [{ kind: 'ServiceAccount', name, namespace: NAMESPACE }]);
        find(objs, 'ServiceAccount', name);
      }
      const worker = find(objs, 'ServiceAccount', 'torpedo-worker');
      assert.equal(worker['automountServiceAccountToken'], false, 'the worker account must not mount an API token');
      assert.ok(!bindings.some((b) => (b['subjects'] as Obj[]).some((s) => s['name'] === 'torpedo-worker')), 'no Role for workers');
    });

    test(`the data volume is a ${OVERLAYS[overlay]!.accessModes.join(', ')} claim of the overlay's storage class, mounted at /data`, () => {
      const pvc = find(objs, 'PersistentVolumeClaim', 'torpedo-data');
      assert.deepEqual(pvc['spec']['accessModes'], OVERLAYS[overlay]!.accessModes);
      const patch = parse(readFileSync(join(copy, 'overlays', overlay, 'data-volume.yaml'), 'utf8')) as Obj;
      assert.equal(pvc['spec']['storageClassName'], patch['spec']['storageClassName']);
      assert.equal(pvc['spec']['storageClassName'], OVERLAYS[overlay]!.storageClass, 'the overlay\'s storage class');
      const manager = find(objs, 'Deployment', 'torpedo-manager');
      const volume = (manager['spec']['template']['spec']['volumes'] as Obj[]).find((v) => v['persistentVolumeClaim']?.['claimName'] === 'torpedo-data');
      assert.ok(volume, 'the manager mounts torpedo-data');
      const mounts = containersOf(manager)[0]!['volumeMounts'] as Obj[];
      assert.ok(mounts.some((m) => m['name'] === volume['name'] && m['mountPath'] === '/data'));
    });

    test('the manager: replicas, probes, resources, a locked-down non-root pod, its Service', () => {
      const manager = find(objs, 'Deployment', 'torpedo-manager');
      const k = parse(readFileSync(join(copy, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as Obj;
      const configured = (k['replicas'] as Obj[]).find((r) => r['name'] === 'torpedo-manager')?.['count'] as number;
      assert.equal(manager['spec']['replicas'], configured);
      assert.ok(manager['spec']['replicas'] >= 2, 'at least two manager replicas');
      assert.equal(manager['spec']['replicas'], overlay === 'production' ? 3 : 2);
      const pod = manager['spec']['template']['spec'] as Obj;
      assert.equal(pod['serviceAccountName'], 'torpedo-manager');
      const [c] = containersOf(manager);
      assert.ok(c);
      assert.deepEqual(c['args'], ['manager']);
      const port = (c['ports'] as Obj[]).find((p) => p['containerPort'] === 7777);
      assert.ok(port, 'container port 7777');
      const probePort = (probe: Obj): unknown => (probe['httpGet']['port'] === port['name'] ? 7777 : probe['httpGet']['port']);
      assert.equal(c['readinessProbe']?.['httpGet']?.['path'], '/readyz');
      assert.equal(probePort(c['readinessProbe']), 7777);
      assert.equal(c['livenessProbe']?.['httpGet']?.['path'], '/healthz');
      assert.equal(probePort(c['livenessProbe']), 7777);
      const service = find(objs, 'Service', 'torpedo-manager');
      assert.ok(selects(service['spec'], manager['spec']['template']['metadata']['labels']) || selects({ matchLabels: service['spec']['selector'] }, manager['spec']['template']['metadata']['labels']));
      const sp = (service['spec']['ports'] as Obj[]).find((p) => p['port'] === 80);
      assert.ok(sp && (sp['targetPort'] === 7777 || sp['targetPort'] === port['name']), 'Service port 80 → 7777');
      // Every mount outside the data volume is writable only because it is an emptyDir.
      const volumes = new Map((pod['volumes'] as Obj[]).map((v) => [v['name'], v]));
      assert.ok((c['volumeMounts'] as Obj[]).some((m) => m['mountPath'] === '/tmp' && volumes.get(m['name'])?.['emptyDir'] !== undefined), 'an emptyDir on /tmp');
      assert.equal(find(objs, 'PodDisruptionBudget', 'torpedo-manager')['spec']['maxUnavailable'], 1);
    });

    test('every pod runs as non-root with no privileges, and every container has requests and limits', () => {
      for (const w of workloads(objs)) {
        const name = String(w['metadata']['name']);
        const pod = w['spec']['template']['spec'] as Obj;
        assert.equal(pod['securityContext']?.['runAsNonRoot'], true, `${name}: runAsNonRoot`);
        assert.ok(pod['securityContext']?.['runAsUser'] > 0, `${name}: a numeric non-root user`);
        assert.equal(pod['securityContext']?.['seccompProfile']?.['type'], 'RuntimeDefault', `${name}: seccomp`);
        for (const c of containersOf(w)) {
          const id = `${name}/${String(c['name'])}`;
          const sc = c['securityContext'] as Obj | undefined;
          assert.equal(sc?.['allowPrivilegeEscalation'], false, `${id}: allowPrivilegeEscalation`);
          assert.deepEqual(sc?.['capabilities'], { drop: ['ALL'] }, `${id}: capabilities`);
          assert.equal(sc?.['readOnlyRootFilesystem'], true, `${id}: readOnlyRootFilesystem`);
          assert.notEqual(sc?.['runAsNonRoot'], false, id);
          assert.notEqual(sc?.['privileged'], true, id);
          for (const kind of ['requests', 'limits']) {
            for (const r of ['cpu', 'memory']) assert.ok(c['resources']?.[kind]?.[r] !== undefined, `${id}: resources.${kind}.${r}`);
          }
        }
      }
      const ns = find(objs, 'Namespace', NAMESPACE);
      assert.equal(ns['metadata']['labels']['pod-security.kubernetes.io/enforce'], 'restricted');
    });

    test('the manager\'s environment is the launcher\'s contract, and every reference resolves', () => {
      const manager = find(objs, 'Deployment', 'torpedo-manager');
      const env = envOf(containersOf(manager)[0]!);
      for (const [name, want] of Object.entries(MANAGER_ENV)) {
        const e = env.get(name);
        assert.ok(e, `the manager has no ${name}`);
        if (typeof want === 'string') assert.equal(e['value'], want, name);
        else if ('secret' in want) assert.deepEqual(e['valueFrom'], { secretKeyRef: { name: want.secret, key: want.key, ...(want.optional ? { optional: true } : {}) } }, name);
        else assert.deepEqual(e['valueFrom'], { fieldRef: { fieldPath: want.field } }, name);
      }
      // The image's user (deploy/Dockerfile), the manager's pod and the pods the launcher creates.
      const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
      assert.ok(user, 'deploy/Dockerfile sets USER uid:gid');
      const pod = manager['spec']['template']['spec']['securityContext'] as Obj;
      assert.deepEqual([String(pod['runAsUser']), String(pod['runAsGroup'])], [user[1], user[2]]);
      assert.deepEqual([env.get('TORPEDO_K8S_RUN_AS_USER')?.['value'], env.get('TORPEDO_K8S_RUN_AS_GROUP')?.['value']], [user[1], user[2]]);
      assert.equal(find(objs, 'ServiceAccount', String(env.get('TORPEDO_K8S_MASTER_SERVICE_ACCOUNT')!['value']))['metadata']['name'], 'torpedo-master');
      assert.ok(find(objs, 'PersistentVolumeClaim', String(env.get('TORPEDO_K8S_DATA_CLAIM')!['value'])));
      // Secrets, claims and service accounts that pods name exist, with the keys they read.
      for (const w of workloads(objs)) {
        const pod = w['spec']['template']['spec'] as Obj;
        if (pod['serviceAccountName'] !== undefined) find(objs, 'ServiceAccount', String(pod['serviceAccountName']));
        for (const v of (pod['volumes'] as Obj[] | undefined) ?? []) if (v['persistentVolumeClaim']) find(objs, 'PersistentVolumeClaim', String(v['persistentVolumeClaim']['claimName']));
        for (const c of containersOf(w)) {
          for (const e of envOf(c).values()) {
            const ref = e['valueFrom']?.['secretKeyRef'] as Obj | undefined;
            if (ref === undefined) continue;
            const secret = find(objs, 'Secret', String(ref['name']));
            assert.ok(secret['data']?.[String(ref['key'])], `Secret ${String(ref['name'])} has no ${String(ref['key'])}`);
          }
        }
      }
      // Every Service selects the pods of a workload.
      for (const s of objs.filter((o) => o['kind'] === 'Service')) {
        assert.ok(workloads(objs).some((w) => selects({ matchLabels: s['spec']['selector'] }, w['spec']['template']['metadata']['labels'])), `Service ${String(s['metadata']['name'])} selects nothing`);
      }
    });

    test('every torpedo container and TORPEDO_K8S_IMAGE are the one image the overlay sets', () => {
      const manager = find(objs, 'Deployment', 'torpedo-manager');
      assert.equal(envOf(containersOf(manager)[0]!).get('TORPEDO_K8S_IMAGE')?.['value'], image);
      for (const w of workloads(objs)) {
        for (const c of containersOf(w)) {
          if (component(w) === 'database') assert.match(String(c['image']), /^postgres:15[.-]/, 'PostgreSQL 15');
          else assert.equal(c['image'], image, `${String(w['metadata']['name'])}/${String(c['name'])}`);
        }
      }
    });

    test('PostgreSQL: one replica with its own volume, a headless Service, uid 999, pg_isready probes', () => {
      const db = find(objs, 'StatefulSet', 'torpedo-postgres');
      assert.equal(db['spec']['replicas'], 1);
      assert.equal(db['spec']['serviceName'], 'torpedo-postgres');
      assert.equal(db['spec']['template']['spec']['securityContext']['runAsUser'], 999);
      assert.equal(db['spec']['volumeClaimTemplates'].length, 1);
      const [c] = containersOf(db);
      assert.ok(c);
      assert.equal(c['readinessProbe']['exec']['command'][0], 'pg_isready');
      assert.equal(c['livenessProbe']['exec']['command'][0], 'pg_isready');
      assert.ok(envOf(c).get('POSTGRES_PASSWORD')?.['valueFrom']?.['secretKeyRef'], 'the password comes from a Secret');
      const svc = find(objs, 'Service', 'torpedo-postgres');
      assert.equal(svc['spec']['clusterIP'], 'None');
      assert.deepEqual((svc['spec']['ports'] as Obj[]).map((p) => p['port']), [5432]);
      const secret = find(objs, 'Secret', 'torpedo-database');
      const url = Buffer.from(String(secret['data']['DATABASE_URL']), 'base64').toString();
      const password = Buffer.from(String(secret['data']['POSTGRES_PASSWORD']), 'base64').toString();
      assert.equal(url, `postgres://torpedo:${password}@torpedo-postgres:5432/torpedo`);
    });

    test('NetworkPolicies: nothing for workers (their own per-job policy lets them reach their master); masters only take workers; the database only managers', () => {
      const policies = objs.filter((o) => o['kind'] === 'NetworkPolicy');
      const policyFor = (name: string): Obj => {
        const p = policies.filter((x) => isComponent(x['spec']['podSelector'], name));
        assert.equal(p.length, 1, `one NetworkPolicy for ${name} pods`);
        assert.deepEqual([...p[0]!['spec']['policyTypes']].sort(), ['Egress', 'Ingress'], `${name}: both directions`);
        return p[0]!['spec'] as Obj;
      };
      const deny = policies.find((p) => Object.keys(p['spec']['podSelector']).length === 0);
      assert.ok(deny && deny['spec']['ingress'] === undefined && deny['spec']['egress'] === undefined, 'a default deny for the namespace');

      // Policies only add: a static rule for workers would let every job's workers reach every master.
      const worker = policyFor('worker');
      assert.equal(worker['ingress'], undefined, 'no ingress to workers');
      assert.equal(worker['egress'], undefined, 'no egress for workers but their own job\'s policy');
      const compileLabels = { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': 'compile' };
      for (const p of policies.filter((x) => selects(x['spec']['podSelector'], compileLabels))) {
        assert.ok(p['spec']['ingress'] === undefined && p['spec']['egress'] === undefined, `${p['metadata']['name']} allows compile pods something`);
      }

      const master = policyFor('master');
      assert.equal(master['ingress'].length, 1);
      assert.equal(master['ingress'][0]['from'].length, 1);
      assert.ok(isComponent(master['ingress'][0]['from'][0]['podSelector'], 'worker'));
      assert.deepEqual(ports(master['ingress'][0]), ['TCP/7070']);
      assert.deepEqual((master['egress'] as Obj[]).map(ports).sort(), [API, DNS].sort());

      const database = policyFor('database');
      assert.equal(database['ingress'].length, 1);
      assert.equal(database['ingress'][0]['from'].length, 1);
      assert.ok(isComponent(database['ingress'][0]['from'][0]['podSelector'], 'manager'));
      assert.deepEqual(ports(database['ingress'][0]), ['TCP/5432']);
      assert.equal(database['egress'], undefined, 'no egress from the database');

      const manager = policyFor('manager');
      assert.deepEqual((manager['ingress'] as Obj[]).map(ports), [['TCP/7777']]);
      const egress = manager['egress'] as Obj[];
      assert.deepEqual(egress.map(ports).sort(), [['TCP/5432'], API, DNS].sort());
      assert.ok(isComponent(egress.find((r) => ports(r)[0] === 'TCP/5432')!['to'][0]['podSelector'], 'database'));
    });

    test('secrets: generated, different on every run, nowhere in git, kept unless --force', () => {
      const k = parse(readFileSync(join(copy, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as Obj;
      for (const g of k['secretGenerator'] as Obj[]) {
        assert.equal(g['literals'], undefined, `secretGenerator ${String(g['name'])} must not hold literal values`);
        for (const f of [...((g['envs'] as string[] | undefined) ?? []), ...((g['files'] as string[] | undefined) ?? [])]) {
          assert.match(f, /^secrets\//, `${String(g['name'])} reads ${f}, outside the git-ignored secrets/`);
          const ignored = spawnSync('git', ['check-ignore', '-q', join('deploy', 'kubernetes', 'overlays', overlay, f)], { cwd: ROOT });
          assert.equal(ignored.status, 0, `${f} is not ignored by git`);
        }
      }
      const values = (list: readonly Obj[]): string[] =>
        list.filter((o) => o['kind'] === 'Secret').flatMap((s) => Object.values((s['data'] ?? {}) as Record<string, string>).map((v) => Buffer.from(v, 'base64').toString()));
      const first = values(objs);
      assert.equal(first.length, 5);
      for (const v of first) {
        assert.ok(v.length >= 24, 'long enough to be random');
        const grep = spawnSync('git', ['grep', '-q', '-F', '-e', v], { cwd: ROOT });
        assert.equal(grep.status, 1, `a secret value is in a file git tracks (git grep: ${String(grep.status)})`);
      }
      // Run again: the files are kept; with --force, every value is new.
      const again = generateSecrets(copy, overlay);
      assert.equal(again.status, 0, again.output);
      assert.match(again.output, /kept .*manager\.env/);
      assert.deepEqual(values(render(copy, overlay)), first);
      const forced = generateSecrets(copy, '--force', overlay);
      assert.equal(forced.status, 0, forced.output);
      const second = values(render(copy, overlay));
      for (const v of second) assert.ok(!first.includes(v), 'a value survived --force');
      // A manager.env from before TORPEDO_METRICS_TOKEN gets one added and keeps its other values.
      const managerEnv = join(copy, 'overlays', overlay, 'secrets', 'manager.env');
      const older = readFileSync(managerEnv, 'utf8').split('\n').filter((l) => !l.startsWith('TORPEDO_METRICS_TOKEN=')).join('\n');
      writeFileSync(managerEnv, older);
      const upgraded = generateSecrets(copy, overlay);
      assert.equal(upgraded.status, 0, upgraded.output);
      assert.match(upgraded.output, /added TORPEDO_METRICS_TOKEN/);
      assert.ok(readFileSync(managerEnv, 'utf8').startsWith(older));
      assert.match(readFileSync(managerEnv, 'utf8'), /^TORPEDO_METRICS_TOKEN=[0-9a-f]{64}$/m);
      // Another checkout gets other values.
      const other = newCopy();
      assert.equal(generateSecrets(other, overlay).status, 0);
      for (const v of values(render(other, overlay))) assert.ok(!first.includes(v) && !second.includes(v));
    });
  });
}

describe('deploy/kubernetes: settings made in one place', () => {
  before(requireKubectl);

  test('the overlay\'s image entry sets the containers and TORPEDO_K8S_IMAGE; its data-volume.yaml the storage class', () => {
    const copy = newCopy();
    assert.equal(generateSecrets(copy, 'local').status, 0);
    const k = join(copy, 'overlays', 'local', 'kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace('newTag: dev', 'digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'));
    const v = join(copy, 'overlays', 'local', 'data-volume.yaml');
    writeFileSync(v, readFileSync(v, 'utf8').replace('storageClassName: longhorn', 'storageClassName: nfs-client'));
    const objs = render(copy, 'local');
    const image = 'torpedo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    assert.equal(configuredImage(copy, 'local'), image);
    const manager = find(objs, 'Deployment', 'torpedo-manager');
    assert.equal(containersOf(manager)[0]!['image'], image);
    assert.equal(envOf(containersOf(manager)[0]!).get('TORPEDO_K8S_IMAGE')?.['value'], image);
    assert.equal(find(objs, 'PersistentVolumeClaim', 'torpedo-data')['spec']['storageClassName'], 'nfs-client');
  });

  test('components/external-database: no in-cluster PostgreSQL, DATABASE_URL as given, the manager may reach it', () => {
    const copy = newCopy();
    const url = 'postgres://torpedo:s3cret@db.example.com:5432/torpedo?sslmode=require';
    const g = generateSecrets(copy, 'production', '--database-url', url);
    assert.equal(g.status, 0, g.output);
    // As docs/kubernetes.md says: uncomment the two lines in the production overlay.
    const k = join(copy, 'overlays', 'production', 'kustomization.yaml');
    const text = readFileSync(k, 'utf8');
    const enabled = text.replace('# components:\n#   - ../../components/external-database', 'components:\n  - ../../components/external-database');
    assert.notEqual(enabled, text, 'the production overlay should carry the commented-out component');
    writeFileSync(k, enabled);
    const objs = render(copy, 'production');
    for (const o of objs) validate(o);
    assert.ok(!objs.some((o) => component(o) === 'database'), 'no database objects are left');
    const secret = find(objs, 'Secret', 'torpedo-database');
    assert.deepEqual(Object.keys(secret['data']), ['DATABASE_URL']);
    assert.equal(Buffer.from(String(secret['data']['DATABASE_URL']), 'base64').toString(), url);
    const policy = find(objs, 'NetworkPolicy', 'torpedo-manager');
    assert.deepEqual((policy['spec']['egress'] as Obj[]).map(ports).sort(), [['TCP/5432'], API, DNS].sort());
    // Without --force, an existing database.env is not replaced by another URL.
    const again = generateSecrets(copy, 'production', '--database-url', 'postgres://other/db');
    assert.equal(again.status, 1);
    assert.match(again.output, /--force/);
  });

  test('generate-secrets.sh refuses an unknown overlay and a URL that is not PostgreSQL\'s', () => {
    const copy = newCopy();
    assert.equal(generateSecrets(copy, 'nowhere').status, 2);
    assert.equal(generateSecrets(copy, 'local', '--database-url', 'mysql://x/y').status, 2);
  });
});

// ---- the k3s overlay, self-registration, and the k3s walkthrough's commands ---------------------------

/** The manager's environment as its pod would get it: values, Secrets' keys, the namespace. */
function managerEnvironment(objs: readonly Obj[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of envOf(containersOf(find(objs, 'Deployment', 'torpedo-manager'))[0]!).values()) {
    const name = String(e['name']);
    const secretRef = e['valueFrom']?.['secretKeyRef'] as Obj | undefined;
    const fieldRef = e['valueFrom']?.['fieldRef'] as Obj | undefined;
    if (secretRef !== undefined) {
      const value = find(objs, 'Secret', String(secretRef['name']))['data']?.[String(secretRef['key'])] as string | undefined;
      if (value === undefined) assert.equal(secretRef['optional'], true, `${name}: Secret key missing`);
      else env[name] = Buffer.from(value, 'base64').toString();
    } else if (fieldRef !== undefined) {
      assert.equal(fieldRef['fieldPath'], 'metadata.namespace');
      env[name] = NAMESPACE;
    } else {
      env[name] = String(e['value']);
    }
  }
  return env;
}

/** One `## ` section of docs/kubernetes.md, from its heading to the next. */
function docSection(heading: string): string {
  const doc = readFileSync(join(ROOT, 'docs', 'kubernetes.md'), 'utf8');
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/kubernetes.md has no section "${heading}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
}

describe('deploy/kubernetes/overlays/k3s: one node, local-path storage, Traefik with TLS', () => {
  let copy: string;
  let objs: Obj[];
  before(() => {
    requireKubectl();
    copy = newCopy();
    const g = generateSecrets(copy, 'k3s');
    assert.equal(g.status, 0, g.output);
    objs = render(copy, 'k3s');
  });

  test('every overlay directory is one these tests render and check', () => {
    const dirs = readdirSync(join(DEPLOY, 'overlays'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    assert.deepEqual(dirs.sort(), Object.keys(OVERLAYS).sort());
  });

  test('storage: the data claim and PostgreSQL\'s are ReadWriteOnce of local-path (no RWX on one node)', () => {
    const pvc = find(objs, 'PersistentVolumeClaim', 'torpedo-data');
    assert.deepEqual(pvc['spec']['accessModes'], ['ReadWriteOnce']);
    assert.equal(pvc['spec']['storageClassName'], 'local-path');
    // The manager, and (by the launcher's settings) every master and worker, mount this one claim.
    const manager = find(objs, 'Deployment', 'torpedo-manager');
    assert.equal(managerEnvironment(objs)['TORPEDO_K8S_DATA_CLAIM'], 'torpedo-data');
    assert.ok((manager['spec']['template']['spec']['volumes'] as Obj[]).some((v) => v['persistentVolumeClaim']?.['claimName'] === 'torpedo-data'));
    const db = find(objs, 'StatefulSet', 'torpedo-postgres');
    const [template] = db['spec']['volumeClaimTemplates'] as Obj[];
    assert.deepEqual(template!['spec']['accessModes'], ['ReadWriteOnce']);
    assert.equal(template!['spec']['storageClassName'], 'local-path');
    assert.ok(!objs.some((o) => o['kind'] === 'PersistentVolumeClaim' && (o['spec']['accessModes'] as string[]).includes('ReadWriteMany')));
  });

  test('reached only through the Ingress: no NodePort or LoadBalancer, the manager admits pods only', () => {
    for (const s of objs.filter((o) => o['kind'] === 'Service')) {
      assert.ok(s['spec']['type'] === undefined || s['spec']['type'] === 'ClusterIP', `Service ${String(s['metadata']['name'])} is ${String(s['spec']['type'])}`);
    }
    const policy = find(objs, 'NetworkPolicy', 'torpedo-manager');
    assert.deepEqual(policy['spec']['ingress'], [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 7777 }] }]);
  });

  test('the Ingress: class traefik, HTTPS entry point only, TLS for its host with the Secret torpedo-tls, to the manager\'s Service', () => {
    const ingresses = objs.filter((o) => o['kind'] === 'Ingress');
    assert.equal(ingresses.length, 1);
    const ingress = ingresses[0]!;
    validate(ingress);
    const unknown: string[] = [];
    unknownFields(ingress, 'V1Ingress', 'Ingress', unknown);
    assert.deepEqual(unknown, []);
    const spec = ingress['spec'] as Obj;
    assert.equal(spec['ingressClassName'], 'traefik');
    assert.equal(ingress['metadata']['annotations']['traefik.ingress.kubernetes.io/router.entrypoints'], 'websecure', 'no route on plain HTTP');
    assert.equal(ingress['metadata']['annotations']['traefik.ingress.kubernetes.io/router.tls'], 'true');
    assert.equal(spec['defaultBackend'], undefined);
    const tls = spec['tls'] as Obj[];
    assert.equal(tls.length, 1);
    assert.equal(tls[0]!['secretName'], 'torpedo-tls');
    const rules = spec['rules'] as Obj[];
    assert.ok(rules.length > 0);
    const service = find(objs, 'Service', 'torpedo-manager');
    for (const rule of rules) {
      assert.ok((tls[0]!['hosts'] as string[]).includes(String(rule['host'])), `${String(rule['host'])} has no TLS`);
      for (const path of rule['http']['paths'] as Obj[]) {
        assert.equal(path['path'], '/');
        assert.equal(path['pathType'], 'Prefix');
        const backend = path['backend']['service'] as Obj;
        assert.equal(backend['name'], 'torpedo-manager');
        const port = (service['spec']['ports'] as Obj[]).find((p) => p['name'] === backend['port']['name'] || p['port'] === backend['port']['number']);
        assert.ok(port, 'the backend names a port of the Service');
        assert.equal(port['targetPort'], 'http');
      }
    }
    // The Secret is made by hand (`kubectl create secret tls`), so that no key is in git.
    assert.ok(!objs.some((o) => o['kind'] === 'Secret' && o['metadata']['name'] === 'torpedo-tls'));
  });

  test('behind Traefik the manager keeps idle connections longer than Traefik\'s 90 s', () => {
    const config = loadConfig(managerEnvironment(objs));
    assert.ok(config.http.keepAliveTimeoutMs > 90_000, `keep-alive ${config.http.keepAliveTimeoutMs} ms`);
  });

  test('traefik-config.yaml: a HelmChartConfig for k3s\'s Traefik that lifts the entry point\'s read timeout', () => {
    const file = join(DEPLOY, 'overlays', 'k3s', 'traefik-config.yaml');
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    assert.equal(docs.length, 1);
    const o = docs[0]!.toJS() as Obj;
    assert.equal(o['apiVersion'], 'helm.cattle.io/v1');
    assert.equal(o['kind'], 'HelmChartConfig');
    assert.deepEqual(o['metadata'], { name: 'traefik', namespace: 'kube-system' });
    const values = parse(String(o['spec']['valuesContent'])) as Obj;
    assert.ok((values['additionalArguments'] as string[]).includes('--entryPoints.websecure.transport.respondingTimeouts.readTimeout=0s'));
    // Not a resource of the overlay: it would be moved into the torpedo namespace, and it is the cluster's.
    const k = parse(readFileSync(join(DEPLOY, 'overlays', 'k3s', 'kustomization.yaml'), 'utf8')) as Obj;
    assert.ok(!(k['resources'] as string[]).includes('traefik-config.yaml'));
  });
});

describe('self-registration is closed on every overlay', () => {
  before(requireKubectl);

  test('the manager, reading each overlay\'s environment, allows no self-registration', () => {
    for (const overlay of Object.keys(OVERLAYS)) {
      const copy = newCopy();
      assert.equal(generateSecrets(copy, overlay).status, 0);
      const config = loadConfig(managerEnvironment(render(copy, overlay)));
      assert.equal(config.allowRegistration, false, `overlays/${overlay} opens self-registration`);
    }
  });

  test('the patch docs/kubernetes.md gives opens it', () => {
    const [block] = codeBlocks(docSection('Self-registration'), 'yaml');
    assert.ok(block !== undefined, 'no patch in the section');
    const entries = parse(block) as Obj[];
    assert.equal(entries.length, 1);
    const copy = newCopy();
    assert.equal(generateSecrets(copy, 'k3s').status, 0);
    const file = join(copy, 'overlays', 'k3s', 'kustomization.yaml');
    const k = parse(readFileSync(file, 'utf8')) as Obj;
    (k['patches'] as Obj[]).push(...entries);
    writeFileSync(file, stringify(k));
    assert.equal(loadConfig(managerEnvironment(render(copy, 'k3s'))).allowRegistration, true);
  });
});

/**
 * Commands of the k3s walkthrough that cannot run here, by their start, and why. Every other command
 * there must be one the test below runs, so that a command added to the walkthrough is either
 * checked or listed here.
 */
const NEEDS_A_CLUSTER: readonly [RegExp, string][] = [
  [/^curl -sfL https:\/\/get\.k3s\.io /, 'installs k3s: root and the network'],
  [/^kubectl (get|apply|-n torpedo rollout) /, 'a cluster'],
  [/^docker (build|save) /, 'Docker (test/container-image.test.ts builds the same Dockerfile with podman)'],
  [/^sudo |\| sudo /, 'root on the node or the client'],
  [/^curl --cacert /, 'the manager behind Traefik (test/k3s-https-client.test.ts runs it against a stand-in)'],
  [/^NODE_EXTRA_CA_CERTS=\S+ (TORPEDO_PASSWORD=\S+ )?npx torpedo /, 'the manager behind Traefik (test/k3s-https-client.test.ts runs these against a stand-in)'],
];

describe('docs/kubernetes.md, "Single-node k3s": its commands that need no cluster', () => {
  before(requireKubectl);

  test('run in a copy of the repository\'s deploy/ tree, in the order given', () => {
    const root = mkdtempSync(join(tmpdir(), 'torpedo-k3s-doc-'));
    try {
      cpSync(DEPLOY, join(root, 'deploy', 'kubernetes'), { recursive: true, filter: (src) => basename(src) !== 'secrets' });
      const lines = codeBlocks(docSection('Single-node k3s'), 'sh')
        .flatMap((b) => b.split('\n'))
        .map((l) => l.replace(/\s+#\s.*$/, '').trim())
        .filter((l) => l !== '');
      const sh = (command: string): string => {
        // KUBECONFIG names no file: nothing here may reach a cluster.
        const r = spawnSync('bash', ['-euo', 'pipefail', '-c', command], { cwd: root, encoding: 'utf8', env: { ...process.env, KUBECONFIG: join(root, 'no-kubeconfig') }, maxBuffer: 64 << 20 });
        assert.equal(r.status, 0, `\`${command}\` failed:\n${r.stderr}`);
        return r.stdout;
      };
      const ran: string[] = [];
      let rendered: Obj[] | undefined;
      for (const line of lines) {
        if (line === 'deploy/kubernetes/generate-secrets.sh k3s') {
          sh(line);
        } else if (line.startsWith('openssl req ')) {
          sh(line);
        } else if (line === 'kubectl kustomize deploy/kubernetes/overlays/k3s') {
          rendered = parseAllDocuments(sh(line)).map((d) => d.toJS() as Obj);
          for (const o of rendered) validate(o);
        } else if (line.startsWith('kubectl -n torpedo create secret tls ')) {
          const secret = parse(sh(`${line} --dry-run=client -o yaml`)) as Obj;
          validate(secret);
          assert.equal(secret['type'], 'kubernetes.io/tls');
          assert.equal(secret['metadata']['namespace'], NAMESPACE);
          assert.ok(rendered, 'the walkthrough renders the overlay before it makes the TLS Secret');
          const ingress = find(rendered, 'Ingress', 'torpedo-manager');
          assert.equal(secret['metadata']['name'], ingress['spec']['tls'][0]['secretName'], 'the Secret the Ingress names');
          // The certificate openssl made is valid for the Ingress's host, and the key is its own.
          const cert = new X509Certificate(Buffer.from(String(secret['data']['tls.crt']), 'base64'));
          for (const host of ingress['spec']['tls'][0]['hosts'] as string[]) assert.equal(cert.checkHost(host), host, `the certificate is not valid for ${host}`);
          assert.ok(cert.checkPrivateKey(createPrivateKey(Buffer.from(String(secret['data']['tls.key']), 'base64'))), 'tls.key is the certificate\'s key');
        } else {
          const why = NEEDS_A_CLUSTER.find(([re]) => re.test(line));
          assert.ok(why, `the walkthrough's \`${line}\` is neither run by this test nor listed as needing a cluster`);
          continue;
        }
        ran.push(line);
      }
      assert.equal(ran.length, 4, `ran: ${ran.join('; ')}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('deploy/Dockerfile (a static reading; test/container-image.test.ts builds and runs it)', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ');
  const stages = lines.split(/^FROM\s/m).slice(1);

  test('several stages; the last installs python3 and util-linux and runs as a non-root user', () => {
    assert.ok(stages.length >= 2, 'a multi-stage build');
    const runtime = stages.at(-1)!;
    assert.match(runtime, /apt-get install[^\n]*\bpython3\b/);
    assert.match(runtime, /apt-get install[^\n]*\butil-linux\b/);
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(users.length > 0, 'the final stage sets USER');
    const user = users.at(-1)!.split(':')[0]!;
    assert.match(user, /^\d+$/, 'a numeric USER, so that runAsNonRoot can check it');
    assert.notEqual(Number(user), 0);
    assert.match(runtime, /^ENTRYPOINT\s+\[.*"node",\s*"\/app\/bin\/torpedo"\]/m);
    // `torpedo` on PATH, for people in a shell (the launcher's pods pass `master …` / `worker …` as args to the ENTRYPOINT).
    assert.match(runtime, /ln -s \/app\/bin\/torpedo \/usr\/local\/bin\/torpedo/);
    assert.match(runtime, /^COPY --from=build /m);
  });

  test('the build context is an allow-list that leaves out node_modules and generated secrets', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(ignore[0], '*', 'everything is excluded first');
    for (const l of ignore.filter((x) => x.startsWith('!'))) assert.ok(!/deploy|node_modules|secrets|\.torpedo/.test(l), `${l} lets in what the image must not have`);
    // What bin/torpedo builds from at start (the bundle, the WebAssembly kernels, the web UI).
    const build = stages.find((s) => /^\S+ AS build\b/.test(s)) ?? '';
    for (const dir of ['bin', 'src', 'kernels', 'examples', 'web']) {
      assert.ok(ignore.includes(`!${dir}/`), `.dockerignore lets in ${dir}/`);
      assert.match(build, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'), `the build stage copies ${dir}/`);
    }
  });
});
