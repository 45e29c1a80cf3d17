/**
 * User records in the bucket (`auth/users/<account>`, see registry/keys.ts). `stamp` is a random
 * value drawn anew whenever the account is created or its password or admin flag changes;
 * refresh tokens carry it and are honoured only while it is unchanged, so they die with the old
 * password, and an account deleted and created again under the same name does not inherit the
 * old one's refresh tokens (a counter restarting at 1 did).
 */
import type { ObjectStore } from '../storage/types.ts';
import { keyOf, afterPrefix } from '../registry/keys.ts';
import { listKeyPages } from '../registry/list-pages.ts';
import { randomBytes, streamText, toBase64Url } from './bytes.ts';
import { validateRules, type AccessRule } from './rules.ts';

export interface UserRecord {
  account: string;
  passwordHash: string;
  admin: boolean;
  rules: AccessRule[];
  /** Changes with the credentials (see above); '' in records from before stamps, which no token matches. */
  stamp: string;
  createdAt: string;
  updatedAt: string;
}

/** Lowercase, like repository components; no `..`, so the key stays one plain segment. */
const ACCOUNT_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function isValidAccount(account: string): boolean {
  return typeof account === 'string' && account.length <= 64 && ACCOUNT_PATTERN.test(account);
}

/** A fresh credential stamp: 128 random bits, never reused by a later record of the same name. */
export function newStamp(): string {
  return toBase64Url(randomBytes(16));
}

function parseUser(text: string): UserRecord | null {
  try {
    const raw = JSON.parse(text) as Partial<UserRecord>;
    const rules = validateRules(raw.rules ?? []);
    if (typeof raw.account !== 'string' || typeof raw.passwordHash !== 'string' || !rules) return null;
    return {
      account: raw.account,
      passwordHash: raw.passwordHash,
      admin: raw.admin === true,
      rules,
      stamp: typeof raw.stamp === 'string' ? raw.stamp : '',
      createdAt: String(raw.createdAt ?? ''),
      updatedAt: String(raw.updatedAt ?? ''),
    };
  } catch {
    return null;
  }
}

export class UserStore {
  constructor(private readonly store: ObjectStore) {}

  async get(account: string): Promise<UserRecord | null> {
    if (!isValidAccount(account)) return null;
    const object = await this.store.get(keyOf({ kind: 'authUser', account }));
    return object ? parseUser(await streamText(object.body)) : null;
  }

  /** With `create`, writes only when the account does not exist yet; returns whether it wrote. */
  async put(user: UserRecord, options: { create?: boolean } = {}): Promise<boolean> {
    return this.store.put(keyOf({ kind: 'authUser', account: user.account }), JSON.stringify(user), {
      ifNoneMatch: options.create === true,
      contentType: 'application/json',
    });
  }

  async delete(account: string): Promise<void> {
    if (isValidAccount(account)) await this.store.delete(keyOf({ kind: 'authUser', account }));
  }

  async list(): Promise<string[]> {
    const prefix = keyOf({ kind: 'authUsers' });
    const names: string[] = [];
    for await (const keys of listKeyPages(this.store, prefix)) names.push(...keys.map((key) => afterPrefix(key, prefix)));
    return names;
  }
}
