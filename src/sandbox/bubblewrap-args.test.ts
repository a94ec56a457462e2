import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bubblewrapArgs, type BubblewrapMode } from './bubblewrap-args.ts';
import { TOOL_LIMITS, type SandboxPolicy } from './sandbox-policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'torpedo-bwrap-args-'));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const d of ['home/jobs/j1/work/attempts', 'home/datasets/2', 'code']) mkdirSync(join(dir, d), { recursive: true });

const tools = { bwrap: '/usr/bin/bwrap', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv' };
const system = { readOnly: ['/usr'], links: [{ path: '/bin', target: 'usr/bin' }] };
const root: BubblewrapMode = { privileged: true, system, tools };
const user: BubblewrapMode = { privileged: false, system, tools, hardLimits: { openFiles: 512 } };

function policy(o: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return { identity: { uid: 2000000007, gid: 2000000007, groups: [2000065538] }, readOnly: [], readWrite: [], env: { A: '1' }, proc: true, limits: TOOL_LIMITS, ...o };
}

/** The values that follow each occurrence of `flag`. */
function after1(args: readonly string[], flag: string, n = 1): string[][] {
  const out: string[][] = [];
  args.forEach((a, i) => {
    if (a === flag) out.push(args.slice(i + 1, i + 1 + n));
  });
  return out;
}

test('as root: every namespace but the user one, then limits, then a uid of its own without capabilities', () => {
  const args = bubblewrapArgs(policy(), ['node', 'x.js'], root);
  for (const ns of ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts']) assert.ok(args.includes(ns), ns);
  assert.ok(!args.includes('--unshare-user'));
  const cmd = args.slice(args.indexOf('--') + 1);
  assert.deepEqual(cmd.slice(0, 1), ['/usr/bin/prlimit']);
  assert.ok(cmd.includes('--nproc=256') && cmd.includes(`--data=${TOOL_LIMITS.memoryBytes}`) && cmd.includes('--core=0'));
  const setpriv = cmd.slice(cmd.indexOf('/usr/bin/setpriv'));
  assert.deepEqual(setpriv.slice(0, 8), ['/usr/bin/setpriv', '--reuid=2000000007', '--regid=2000000007', '--groups=2000065538', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--']);
  assert.deepEqual(cmd.slice(-2), ['node', 'x.js']);
});

test('the environment is on no command line (confine gives it to bwrap), and the root of the sandbox is read-only', () => {
  const args = bubblewrapArgs(policy({ env: { PATH: '/usr/bin', TORPEDO_TOKEN: 'secret-token' } }), ['true'], root);
  assert.ok(!args.includes('--setenv') && !args.some((a) => a.includes('secret-token')), 'the token is not an argument: ps shows arguments to every user');
  assert.deepEqual(after1(args, '--remount-ro'), [['/']]);
  assert.ok(args.indexOf('--remount-ro') < args.indexOf('--'));
});

test('in a user namespace: no process limit (it would count the caller’s), the caller’s hard limits, and a uid inside', () => {
  const args = bubblewrapArgs(policy({ identity: 'caller', namespaceUser: { uid: 65534, gid: 65534 } }), ['true'], user);
  assert.ok(args.includes('--unshare-user') && args.includes('--disable-userns'));
  assert.deepEqual(after1(args, '--uid'), [['65534']]);
  assert.ok(!args.some((a) => a.startsWith('--nproc')));
  assert.ok(args.includes('--nofile=512'), 'capped by the hard limit');
  assert.throws(() => bubblewrapArgs(policy(), ['true'], user), /needs root/);
});

test('paths are mounted outermost first: hidden over visible, writable over read-only; parents are made passable', () => {
  const home = join(dir, 'home');
  const work = join(home, 'jobs', 'j1', 'work');
  const args = bubblewrapArgs(
    policy({ readOnly: [dir, work, join(dir, 'missing')], readWrite: [join(work, 'attempts')], hidden: [home], binds: [{ source: join(dir, 'code'), target: '/run/x' }] }),
    ['true'],
    root,
  );
  const order = args.map((a, i) => (['--ro-bind', '--bind', '--tmpfs'].includes(a) ? `${a} ${args[i + (a === '--tmpfs' ? 1 : 2)]}` : '')).filter(Boolean);
  assert.deepEqual(order, ['--ro-bind /usr', '--tmpfs /tmp', `--ro-bind ${dir}`, '--bind /run/x', `--tmpfs ${home}`, `--ro-bind ${work}`, `--bind ${join(work, 'attempts')}`]);
  assert.ok(!args.includes(join(dir, 'missing')), 'a missing read-only path is left out');
  // The hidden directory is empty and cannot be listed, only passed through.
  assert.equal(args[args.indexOf(home) - 2], '0711');
  for (const parent of [join(home, 'jobs'), join(home, 'jobs', 'j1')]) assert.ok(after1(args, '--dir').some(([d]) => d === parent), parent);
  assert.throws(() => bubblewrapArgs(policy({ readWrite: [join(dir, 'nope')] }), ['true'], root), /does not exist/);
});

test('a sandbox without a /tmp of its own has none, and no /proc unless asked', () => {
  const args = bubblewrapArgs(policy({ proc: false, limits: { ...TOOL_LIMITS, tmpBytes: 0 } }), ['true'], root);
  assert.ok(!args.includes('--proc'));
  assert.ok(!after1(args, '--tmpfs').some(([d]) => d === '/tmp'));
  const withTmp = bubblewrapArgs(policy(), ['true'], root);
  assert.deepEqual(after1(withTmp, '--size'), [[String(TOOL_LIMITS.tmpBytes)]]);
  assert.ok(withTmp.includes('--proc'));
});

test('a path named through a link: its real path is mounted, and the named one unless the link is inside another mount', () => {
  // A checkout whose data directory is a link elsewhere: the link is visible through the
  // checkout's mount and leads to the real path. Mounting the named path too, bwrap would follow
  // the link before the sandbox's root is in place, and fail ("Can't create file").
  const checkout = join(dir, 'checkout');
  const data = join(dir, 'elsewhere', 'data');
  mkdirSync(checkout, { recursive: true });
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'in.txt'), 'x\n');
  symlinkSync(data, join(checkout, 'data'));
  const targets = (readOnly: string[]): string[] => {
    const args = bubblewrapArgs(policy({ readOnly }), ['true'], root);
    return args.flatMap((a, i) => (a === '--ro-bind' ? [args[i + 2] as string] : []));
  };
  const throughCheckout = targets([checkout, join(checkout, 'data', 'in.txt')]);
  assert.ok(throughCheckout.includes(join(data, 'in.txt')), throughCheckout.join(' '));
  assert.ok(!throughCheckout.includes(join(checkout, 'data', 'in.txt')), throughCheckout.join(' '));
  // A link in a directory the sandbox does not show: mounted where it is named, too.
  const alone = targets([join(checkout, 'data', 'in.txt')]);
  assert.ok(alone.includes(join(data, 'in.txt')) && alone.includes(join(checkout, 'data', 'in.txt')), alone.join(' '));
});
