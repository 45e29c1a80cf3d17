/**
 * HTTPS for the Node server: BERTH_TLS_CERT and BERTH_TLS_KEY name PEM files (the certificate
 * may be a chain). Both files are watched (stat polling, so renames, symlink swaps and mounted
 * secrets count) and re-read on change or on SIGHUP; new connections get the new pair at once,
 * open ones keep theirs. A pair that does not load (half-written, key and certificate that do
 * not match during a rotation) is logged and the previous pair stays in use.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import { ConfigError, type EnvLike } from '../config.ts';
import { errorFields, type Logger } from '../observe/logger.ts';

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** For logs: who the certificate is for and until when. */
  summary: { subject: string; validTo: string; fingerprint256: string };
}

const WATCH_INTERVAL_MS = 1000;

/** Both paths or neither: one alone is a mistake worth stopping for. */
export function tlsFilesFromEnv(env: EnvLike): TlsFiles | undefined {
  const cert = env.BERTH_TLS_CERT?.trim();
  const key = env.BERTH_TLS_KEY?.trim();
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError('BERTH_TLS_CERT and BERTH_TLS_KEY must be set together (PEM file paths)');
  return { cert, key };
}

/** Reads and checks a pair; throws with a reason naming the file when it cannot serve. */
export function loadTlsPair(files: TlsFiles): TlsPair {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  const cert = read(files.cert, 'BERTH_TLS_CERT');
  const key = read(files.key, 'BERTH_TLS_KEY');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`BERTH_TLS_CERT ${files.cert} is not a PEM certificate`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(`BERTH_TLS_KEY ${files.key} does not fit BERTH_TLS_CERT: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { cert, key, summary: { subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo, fingerprint256: x509.fingerprint256 } };
}

/** Starts watching; returns the function that stops it. */
export function reloadTlsOnChange(server: TlsServer, files: TlsFiles, logger: Logger): () => void {
  let current = '';
  const reload = (why: string): void => {
    try {
      const pair = loadTlsPair(files);
      const identity = pair.summary.fingerprint256 + pair.key.toString('base64');
      const changed = identity !== current;
      // A poll that finds nothing new stays quiet; a SIGHUP always answers in the log.
      if (!changed && why !== 'SIGHUP') return;
      if (changed) server.setSecureContext({ cert: pair.cert, key: pair.key });
      current = identity;
      logger.info('tls certificate loaded', { why, changed, ...pair.summary });
    } catch (error) {
      logger.warn('tls certificate not reloaded; the previous one stays in use', { why, error: errorFields(error) });
    }
  };
  const first = loadTlsPair(files);
  current = first.summary.fingerprint256 + first.key.toString('base64');
  const onChange = (): void => reload('file changed');
  const onHup = (): void => reload('SIGHUP');
  watchFile(files.cert, { interval: WATCH_INTERVAL_MS }, onChange);
  watchFile(files.key, { interval: WATCH_INTERVAL_MS }, onChange);
  process.on('SIGHUP', onHup);
  return () => {
    unwatchFile(files.cert, onChange);
    unwatchFile(files.key, onChange);
    process.off('SIGHUP', onHup);
  };
}
