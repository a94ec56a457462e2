import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobIdentity, ownerGroup, parseSandboxIds, randomSlot, SlotAllocator } from './sandbox-ids.ts';

const ids = parseSandboxIds('2000000000-2099999999');

test('a range must be large enough, above system users and below (uid_t)-1', () => {
  for (const bad of ['', '1-70000', '2000000000', '2000000000-2000001000', '4294967000-4294967295', 'a-b']) assert.throws(() => parseSandboxIds(bad), /TORPEDO_SANDBOX_IDS/, bad);
  assert.deepEqual(parseSandboxIds(' 100000-300000 '), { first: 100000, last: 300000, slots: 65536 });
});

test("a job's identity: the slot's uid and gid, and its owner's dataset group after every slot", () => {
  assert.deepEqual(jobIdentity(ids, 0, 1), { uid: 2000000000, gid: 2000000000, groups: [2000065537] });
  assert.deepEqual(jobIdentity(ids, 65535, undefined), { uid: 2000065535, gid: 2000065535, groups: [] });
  assert.throws(() => jobIdentity(ids, 65536, 1), /out of range/);
  assert.throws(() => ownerGroup(ids, 100_000_000), /no dataset group/);
  assert.ok(ownerGroup(ids, 5) > jobIdentity(ids, 65535, undefined).uid, 'groups never collide with job uids');
});

test('slots: the lowest free one, released for reuse; slots for jobs run by hand are in the upper half', () => {
  const slots = new SlotAllocator(ids);
  assert.deepEqual([slots.allocate(), slots.allocate(), slots.allocate()], [0, 1, 2]);
  slots.release(1);
  assert.equal(slots.allocate(), 1);
  assert.equal(slots.allocate(), 3);
  for (let i = 0; i < 100; i++) {
    const s = randomSlot(ids);
    assert.ok(s >= 32768 && s < 65536, String(s));
  }
});
