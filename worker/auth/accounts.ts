/**
 * Proving a username and password (or a robot secret given as the password). Failed attempts
 * are throttled (throttle.ts). Successful checks are remembered for a short time, keyed by a
 * SHA-256 of the credentials, so clients that send Basic on every /v2 request (curl,
 * conformance tools) do not pay PBKDF2 each time. The accounts that registry tokens name are
 * remembered the same way (`currentIdentity`), so a token of a deleted user, a demoted admin or
 * a revoked robot stops working without a store read per request. Changes made through this
 * instance clear the memory at once; other instances notice within CACHE_SECONDS.
 */
import type { ObjectStore } from '../storage/types.ts';
import { sha256, toHex } from './bytes.ts';
import { burnPasswordCheck, hashIterations, hashPassword, verifyPassword } from './password.ts';
import type { Identity } from './policy.ts';
import { looksLikeRobotSecret, RobotTokenStore } from './robot-tokens.ts';
import { LoginThrottle } from './throttle.ts';
import { isValidAccount, UserStore, type UserRecord } from './users.ts';

export const CACHE_SECONDS = 30;
const MAX_CACHE = 1000;

export type LoginResult =
  | { ok: true; identity: Identity }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfter: number };

export class Accounts {
  readonly users: UserStore;
  readonly robots: RobotTokenStore;
  private readonly cache = new Map<string, { identity: Identity; expires: number }>();
  private readonly subjects = new Map<string, { identity: Identity | null; expires: number }>();

  constructor(
    store: ObjectStore,
    private readonly iterations: number,
    readonly throttle = new LoginThrottle(),
  ) {
    this.users = new UserStore(store);
    this.robots = new RobotTokenStore(store);
  }

  /** Forget remembered logins (after any change to users or tokens). */
  invalidate(): void {
    this.cache.clear();
    this.subjects.clear();
  }

  /** `identityOf`, remembered for CACHE_SECONDS (absent accounts too): for every token-bearing request. */
  async currentIdentity(subject: string, robotId?: string): Promise<Identity | null> {
    const key = `${subject}\u0000${robotId ?? ''}`;
    const held = this.subjects.get(key);
    if (held && held.expires > Date.now()) return held.identity;
    const identity = await this.identityOf(subject, robotId);
    if (this.subjects.size >= MAX_CACHE) this.subjects.clear();
    this.subjects.set(key, { identity, expires: Date.now() + CACHE_SECONDS * 1000 });
    return identity;
  }

  async login(username: string, password: string, address: string | null): Promise<LoginResult> {
    const robot = looksLikeRobotSecret(password);
    // Robot secrets have 256 random bits: throttle them per address only, so nobody can lock
    // a robot out by guessing at its owner's account.
    const account = robot ? null : username;
    const retryAfter = this.throttle.retryAfter(account, address);
    if (retryAfter > 0) return { ok: false, reason: 'throttled', retryAfter };

    const cacheKey = toHex(await sha256(`${username}\u0000${password}`));
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > Date.now()) return { ok: true, identity: cached.identity };

    const identity = robot ? await this.checkRobot(password) : await this.checkPassword(username, password);
    if (!identity) {
      this.throttle.recordFailure(account, address);
      return { ok: false, reason: 'invalid' };
    }
    if (account) this.throttle.recordSuccess(account, address);
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(cacheKey, { identity, expires: Date.now() + CACHE_SECONDS * 1000 });
    return { ok: true, identity };
  }

  private async checkPassword(username: string, password: string): Promise<Identity | null> {
    const user = isValidAccount(username) ? await this.users.get(username) : null;
    if (!user) return burnPasswordCheck(password, this.iterations).then(() => null);
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    return { kind: 'user', user: await this.upgradeHash(user, password) };
  }

  /**
   * A hash made with fewer iterations than this deployment's setting (an older default, or a
   * lower BERTH_PBKDF2_ITERATIONS) is made anew now that the password is known. The stamp stays:
   * the password did not change, so refresh tokens and sessions live on. The record is read again
   * just before the write and left alone if its hash changed meanwhile (a concurrent password
   * change wins); a failed write only means the upgrade waits for the next login.
   */
  private async upgradeHash(user: UserRecord, password: string): Promise<UserRecord> {
    const iterations = hashIterations(user.passwordHash);
    if (iterations === null || iterations >= this.iterations) return user;
    try {
      const passwordHash = await hashPassword(password, this.iterations);
      const current = await this.users.get(user.account);
      if (!current || current.passwordHash !== user.passwordHash) return user;
      const upgraded = { ...current, passwordHash };
      await this.users.put(upgraded);
      return upgraded;
    } catch {
      return user;
    }
  }

  private async checkRobot(secret: string): Promise<Identity | null> {
    const token = await this.robots.verify(secret);
    const owner = token ? await this.users.get(token.owner) : null;
    return token && owner ? { kind: 'robot', token, owner } : null;
  }

  /** The identity a signed token's subject stands for now (user may be gone or changed). */
  async identityOf(subject: string, robotId?: string): Promise<Identity | null> {
    const user = subject ? await this.users.get(subject) : null;
    if (!user) return null;
    if (!robotId) return { kind: 'user', user };
    const token = await this.robots.get(robotId);
    if (!token || token.owner !== user.account) return null;
    if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now()) return null;
    return { kind: 'robot', token, owner: user };
  }
}
