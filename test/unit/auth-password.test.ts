import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PBKDF2_ITERATIONS, hashPassword, verifyPassword } from '../../worker/auth/password.ts';
import { constantTimeEqual } from '../../worker/auth/bytes.ts';

describe('password hashing (PBKDF2-SHA256, WebCrypto)', () => {
  it('verifies the right password and refuses others', async () => {
    const hash = await hashPassword('correct horse', 10_000);
    assert.match(hash, /^pbkdf2-sha256\$10000\$[\w-]{22}\$[\w-]{43}$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct hors', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  it('salts every hash', async () => {
    assert.notEqual(await hashPassword('same', 10_000), await hashPassword('same', 10_000));
  });

  it('refuses malformed or out-of-bounds stored hashes without throwing', async () => {
    for (const bad of ['', 'plain', 'pbkdf2-sha256$abc$x$y', 'pbkdf2-sha256$999999999$AAAA$AAAA', 'md5$1$a$b', 'pbkdf2-sha256$1000$AA$short']) {
      assert.equal(await verifyPassword('x', bad), false, bad);
    }
  });

  it('refuses absurdly long passwords', async () => {
    await assert.rejects(hashPassword('x'.repeat(2000), 10_000));
    const hash = await hashPassword('ok-password', 10_000);
    assert.equal(await verifyPassword('x'.repeat(2000), hash), false);
  });

  it('constantTimeEqual compares contents and lengths', () => {
    assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 0])), false);
  });

  it(`costs a measurable amount of CPU at the default ${DEFAULT_PBKDF2_ITERATIONS} iterations`, async (t) => {
    const hash = await hashPassword('measure-me', DEFAULT_PBKDF2_ITERATIONS);
    const runs = 5;
    const start = process.cpuUsage();
    for (let i = 0; i < runs; i++) assert.equal(await verifyPassword('measure-me', hash), true);
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000 / runs;
    t.diagnostic(`one login (PBKDF2-SHA256 × ${DEFAULT_PBKDF2_ITERATIONS}): ${ms.toFixed(1)} ms CPU`);
    assert.ok(ms > 0);
  });
});
