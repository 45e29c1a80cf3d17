/**
 * The ES256 key registry tokens are signed with. Either given (BERTH_JWT_PRIVATE_KEY, PKCS8 PEM
 * or JWK) or generated once and stored at `auth/signing-key` with create-if-absent, so every
 * instance (every Worker isolate, every Lambda) signs and verifies with the same key: the one
 * whose write won is the one everybody reads back.
 *
 * With it comes the deployment's issuer, the `iss` of every token it signs and the only one it
 * accepts: `berth:<id>`, the id drawn once and stored at `auth/issuer` the same way. Two
 * deployments given the same key (one key pasted into several environments) still have their
 * own buckets, hence their own issuers, so neither accepts the other's tokens, whatever `Host`
 * a request names (the audience is the service name, which may come from the request).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { ObjectStore } from '../storage/types.ts';
import { keyOf } from '../registry/keys.ts';
import { randomBytes, streamText, toBase64Url } from './bytes.ts';

export const TOKEN_ALGORITHM = 'ES256';
const TOKEN_ISSUER_PREFIX = 'berth:';

export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** JWK thumbprint (RFC 7638) of the public key; tokens name it in their `kid` header. */
  kid: string;
  /** `iss` of this deployment's tokens (see above). */
  issuer: string;
}

type KeyPair = Omit<SigningKey, 'issuer'>;

async function fromPrivateJwk(jwk: JWK): Promise<KeyPair> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new Error('the JWT signing key must be an EC P-256 private key (ES256)');
  }
  const { d: _private, key_ops: _ops, ext: _ext, ...publicJwk } = jwk;
  const privateKey = await importJWK({ ...jwk, key_ops: undefined, ext: undefined }, TOKEN_ALGORITHM);
  const publicKey = await importJWK(publicJwk, TOKEN_ALGORITHM);
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new Error('not an EC key');
  return { privateKey, publicKey, kid: await calculateJwkThumbprint(publicJwk) };
}

async function fromConfigured(text: string): Promise<KeyPair> {
  if (text.startsWith('{')) return fromPrivateJwk(JSON.parse(text) as JWK);
  // Env files often carry PEMs with literal "\n".
  const pem = text.replace(/\\n/g, '\n');
  const key = await importPKCS8(pem, TOKEN_ALGORITHM, { extractable: true });
  return fromPrivateJwk(await exportJWK(key));
}

async function generateAndStore(store: ObjectStore): Promise<KeyPair> {
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

/** This deployment's issuer id: read from the bucket, or drawn and stored (create-if-absent) on first use. */
async function loadIssuer(store: ObjectStore): Promise<string> {
  const key = keyOf({ kind: 'authIssuer' });
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await store.get(key);
    if (existing) {
      const id = (await streamText(existing.body)).trim();
      if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) throw new Error('the stored token issuer id (auth/issuer) is malformed');
      return `${TOKEN_ISSUER_PREFIX}${id}`;
    }
    const id = toBase64Url(randomBytes(16));
    if (await store.put(key, id, { ifNoneMatch: true, contentType: 'text/plain' })) return `${TOKEN_ISSUER_PREFIX}${id}`;
  }
  throw new Error('could not create or read the token issuer id');
}

export async function loadSigningKey(store: ObjectStore, configured: string | undefined): Promise<SigningKey> {
  const [pair, issuer] = await Promise.all([configured ? fromConfigured(configured) : generateAndStore(store), loadIssuer(store)]);
  return { ...pair, issuer };
}
