import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkParts, expectedPartSize, isComplete, MAX_OBJECT_SIZE, planParts } from '../../worker/registry/direct-plan.ts';

const MiB = 1024 * 1024;

describe('direct upload part plan', () => {
  it('uses the configured part size, raised to the store minimum', () => {
    assert.deepEqual(planParts(20 * MiB, 8 * MiB, 5 * MiB, 10_000), { partSize: 8 * MiB, partCount: 3 });
    assert.deepEqual(planParts(20 * MiB, 1 * MiB, 5 * MiB, 10_000), { partSize: 5 * MiB, partCount: 4 });
    assert.deepEqual(planParts(1, 8 * MiB, 5 * MiB, 10_000), { partSize: 8 * MiB, partCount: 1 });
  });

  it('raises the part size (whole MiB) when the parts would exceed the store limit', () => {
    const plan = planParts(100_000 * MiB, 8 * MiB, 5 * MiB, 10_000);
    assert.deepEqual(plan, { partSize: 10 * MiB, partCount: 10_000 });
    const odd = planParts(80_000 * MiB + 1, 8 * MiB, 5 * MiB, 10_000);
    assert.equal(odd?.partSize, 9 * MiB);
    assert.ok((odd?.partCount ?? Infinity) <= 10_000);
  });

  it('refuses empty, fractional and unstorable sizes', () => {
    assert.equal(planParts(0, 8 * MiB, 5 * MiB, 10_000), null);
    assert.equal(planParts(1.5, 8 * MiB, 5 * MiB, 10_000), null);
    assert.equal(planParts(MAX_OBJECT_SIZE + 1, 8 * MiB, 5 * MiB, 10_000), null);
    assert.ok((planParts(MAX_OBJECT_SIZE, 8 * MiB, 5 * MiB, 10_000)?.partCount ?? Infinity) <= 10_000);
  });

  it('expects every part but the last at the part size', () => {
    const plan = { partSize: 8, partCount: 3 };
    assert.deepEqual([1, 2, 3].map((n) => expectedPartSize(plan, 20, n)), [8, 8, 4]);
  });

  it('reports missing and wrong-size parts, ignoring parts past the plan', () => {
    const plan = { partSize: 8, partCount: 3 };
    const part = (partNumber: number, size: number) => ({ partNumber, size, etag: `e${partNumber}` });
    assert.ok(isComplete(checkParts(plan, 20, [part(1, 8), part(2, 8), part(3, 4), part(4, 1)])));
    const check = checkParts(plan, 20, [part(3, 4), part(1, 7)]);
    assert.deepEqual(check, { missing: [2], wrongSize: [{ partNumber: 1, size: 7, expected: 8 }] });
    assert.equal(isComplete(check), false);
  });
});
