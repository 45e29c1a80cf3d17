/**
 * The ES256 key registry tokens are signed with. Either given (BERTH_JWT_PRIVATE_KEY, PKCS8 PEM
 * or JWK) or generated once and stored at `auth/signing-key` with create-if-absent, so every
 * instance (every Worker isolate, every Lambda) signs and verifies with the same key: the one
 * whose write won is the one everybody reads back.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { ObjectStore } from '../storage/types.ts';
import { keyOf } from '../registry/keys.ts';
import { streamText } from './bytes.ts';

export const TOKEN_ALGORITHM = 'ES256';

export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** JWK thumbprint (RFC 7638) of the public key; tokens name it in their `kid` header. */
  kid: string;
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new Error('the JWT signing key must be an EC P-256 private key (ES256)');
  }
  const { d: _private, key_ops: _ops, ext: _ext, ...publicJwk } = jwk;
  const privateKey = await importJWK({ ...jwk, key_ops: undefined, ext: undefined }, TOKEN_ALGORITHM);
  const publicKey = await importJWK(publicJwk, TOKEN_ALGORITHM);
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new Error('not an EC key');
  return { privateKey, publicKey, kid: await calculateJwkThumbprint(publicJwk) };
}

async function fromConfigured(text: string): Promise<SigningKey> {
  if (text.startsWith('{')) return fromPrivateJwk(JSON.parse(text) as JWK);
  // Env files often carry PEMs with literal "\n".
  const pem = text.replace(/\\n/g, '\n');
  const key = await importPKCS8(pem, TOKEN_ALGORITHM, { extractable: true });
  return fromPrivateJwk(await exportJWK(key));
}

async function generateAndStore(store: ObjectStore): Promise<SigningKey> {
  const key = keyOf({ kind: 'authSigningKey' });
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await store.get(key);
    if (existing) return fromPrivateJwk(JSON.parse(await streamText(existing.body)) as JWK);
    const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true });
    const jwk = await exportJWK(privateKey);
    if (await store.put(key, JSON.stringify(jwk), { ifNoneMatch: true, contentType: 'application/json' })) {
      return fromPrivateJwk(jwk);
    }
    // Another instance won the race: loop and use its key.
  }
  throw new Error('could not create or read the JWT signing key');
}

export function loadSigningKey(store: ObjectStore, configured: string | undefined): Promise<SigningKey> {
  return configured ? fromConfigured(configured) : generateAndStore(store);
}
