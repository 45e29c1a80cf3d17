/**
 * Robot / personal access tokens: `berth_pat_<id>_<secret>`, usable as a password with any
 * username. The id names the stored record (`auth/tokens/<id>`), so a check is one read plus one
 * SHA-256; only the secret's SHA-256 is stored (the secret has 256 random bits, so a slow KDF
 * adds nothing) and compared in constant time.
 */
import type { ObjectStore } from '../storage/types.ts';
import { afterPrefix, keyOf } from '../registry/keys.ts';
import { listKeyPages } from '../registry/list-pages.ts';
import { constantTimeEqual, fromHex, randomBytes, sha256, streamText, toBase64Url, toHex } from './bytes.ts';
import { validateRules, type AccessRule } from './rules.ts';

export const TOKEN_PREFIX = 'berth_pat_';
const ID_PATTERN = /^[a-z0-9]{16}$/;
const SECRET_PATTERN = /^berth_pat_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface RobotToken {
  id: string;
  name: string;
  /** The account whose rights bound the token's; the token dies with it. */
  owner: string;
  scopes: AccessRule[];
  /** Hex SHA-256 of the whole secret. */
  secretHash: string;
  createdAt: string;
  /** ISO time; null = never expires. */
  expiresAt: string | null;
}

export type PublicRobotToken = Omit<RobotToken, 'secretHash'>;

export function publicView(token: RobotToken): PublicRobotToken {
  const { secretHash: _hidden, ...rest } = token;
  return rest;
}

export function looksLikeRobotSecret(password: string): boolean {
  return password.startsWith(TOKEN_PREFIX);
}

function newId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(16), (b) => alphabet[b % 36]).join('');
}

function parseRecord(text: string): RobotToken | null {
  try {
    const raw = JSON.parse(text) as Partial<RobotToken>;
    const scopes = validateRules(raw.scopes);
    if (typeof raw.id !== 'string' || typeof raw.owner !== 'string' || typeof raw.secretHash !== 'string' || !scopes) {
      return null;
    }
    return {
      id: raw.id,
      name: String(raw.name ?? ''),
      owner: raw.owner,
      scopes,
      secretHash: raw.secretHash,
      createdAt: String(raw.createdAt ?? ''),
      expiresAt: typeof raw.expiresAt === 'string' ? raw.expiresAt : null,
    };
  } catch {
    return null;
  }
}

export class RobotTokenStore {
  constructor(private readonly store: ObjectStore) {}

  async create(input: { name: string; owner: string; scopes: AccessRule[]; expiresAt: Date | null }): Promise<{
    token: RobotToken;
    secret: string;
  }> {
    const id = newId();
    const secret = `${TOKEN_PREFIX}${id}_${toBase64Url(randomBytes(32))}`;
    const token: RobotToken = {
      id,
      name: input.name,
      owner: input.owner,
      scopes: input.scopes,
      secretHash: toHex(await sha256(secret)),
      createdAt: new Date().toISOString(),
      expiresAt: input.expiresAt ? input.expiresAt.toISOString() : null,
    };
    await this.store.put(keyOf({ kind: 'authToken', id }), JSON.stringify(token), {
      ifNoneMatch: true,
      contentType: 'application/json',
    });
    return { token, secret };
  }

  async get(id: string): Promise<RobotToken | null> {
    if (!ID_PATTERN.test(id)) return null;
    const object = await this.store.get(keyOf({ kind: 'authToken', id }));
    return object ? parseRecord(await streamText(object.body)) : null;
  }

  /** The token a secret proves, or null (unknown, wrong secret, expired). */
  async verify(secret: string, now = Date.now()): Promise<RobotToken | null> {
    const match = SECRET_PATTERN.exec(secret);
    if (!match?.[1]) return null;
    const token = await this.get(match[1]);
    const stored = token ? fromHex(token.secretHash) : null;
    const presented = await sha256(secret);
    if (!token || !stored || !constantTimeEqual(presented, stored)) return null;
    if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return null;
    return token;
  }

  async revoke(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    await this.store.delete(keyOf({ kind: 'authToken', id }));
    return true;
  }

  async list(): Promise<RobotToken[]> {
    const prefix = keyOf({ kind: 'authTokens' });
    const tokens: RobotToken[] = [];
    for await (const keys of listKeyPages(this.store, prefix)) {
      for (const key of keys) {
        const token = await this.get(afterPrefix(key, prefix));
        if (token) tokens.push(token);
      }
    }
    return tokens;
  }
}
