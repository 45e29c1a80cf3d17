/** KeyedLimiter (worker/registry/concurrency.ts): at most N tasks per key at once, in order. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedLimiter } from '../../worker/registry/concurrency.ts';

it('runs at most `limit` tasks per key, the rest in arrival order, other keys unaffected', async () => {
  const limiter = new KeyedLimiter(2);
  const running: Record<string, number> = {};
  let peak = 0;
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const task = (key: string, name: string) => limiter.run(key, async () => {
    started.push(name);
    running[key] = (running[key] ?? 0) + 1;
    if (key === 'a') peak = Math.max(peak, running[key]!);
    await new Promise<void>((resolve) => gates.push(resolve));
    running[key]!--;
    return name;
  });
  const all = [task('a', 'a1'), task('a', 'a2'), task('a', 'a3'), task('a', 'a4'), task('b', 'b1')];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, ['a1', 'a2', 'b1'], 'a3 and a4 wait; b is another key');
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(await Promise.all(all), ['a1', 'a2', 'a3', 'a4', 'b1']);
  assert.deepEqual(started, ['a1', 'a2', 'b1', 'a3', 'a4']);
  assert.equal(peak, 2);
});

it('a failing task frees its slot', async () => {
  const limiter = new KeyedLimiter(1);
  await assert.rejects(limiter.run('k', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await limiter.run('k', async () => 'next'), 'next');
});
