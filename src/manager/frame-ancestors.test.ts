import assert from 'node:assert/strict';
import { it } from 'node:test';
import { withFrameAncestorsNone } from './frame-ancestors.ts';

it("withFrameAncestorsNone adds frame-ancestors 'none' and keeps the rest of a policy", () => {
  assert.equal(withFrameAncestorsNone(undefined), "frame-ancestors 'none'");
  assert.equal(withFrameAncestorsNone(''), "frame-ancestors 'none'");
  assert.equal(withFrameAncestorsNone("default-src 'self'; img-src data:;"), "default-src 'self'; img-src data:; frame-ancestors 'none'");
  assert.equal(withFrameAncestorsNone("default-src 'self'; frame-ancestors 'self' https://x.example; base-uri 'none'"), "default-src 'self'; base-uri 'none'; frame-ancestors 'none'");
  assert.equal(withFrameAncestorsNone("frame-ancestors 'none'"), "frame-ancestors 'none'");
});
