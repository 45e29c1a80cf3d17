/**
 * What the runtime knows that the app cannot learn from a Request: the peer's address, the path
 * as the client sent it, and how to keep work running after the response. Each entry in
 * `worker/runtime/` passes its own; nothing below `worker/runtime/` reads a platform's objects
 * (`c.env.incoming`, `navigator`) itself.
 */
import type { Context } from 'hono';

export interface Platform {
  /** The runtime's name, for logs and metrics. */
  readonly name: 'node' | 'workers' | 'lambda' | 'test';
  /**
   * The address of the peer that sent the request, from a source the client cannot forge (the
   * socket, or an edge that overwrites the header). Proxy headers are judged later, by config.
   */
  clientAddress(c: Context): string | undefined;
  /**
   * The request target as the client sent it, before the runtime parsed it into a URL (which
   * resolves `.` and `..` segments), when the runtime keeps it; undefined otherwise.
   */
  requestTarget(c: Context): string | undefined;
  /**
   * Keeps `task` running after the response is sent (Workers: `waitUntil`). Failures are the
   * task's own business: it must catch and log them.
   */
  waitUntil(c: Context, task: Promise<unknown>): void;
  /**
   * Hands a response body of known length to the runtime to move natively, when it can, and says
   * how the move ended. Workers pump a piped native stream without running JavaScript per chunk
   * (no CPU time billed for the bytes); elsewhere this is absent and bodies are counted in JS.
   */
  relayBody?(c: Context, body: ReadableStream<Uint8Array>, length: number): RelayedBody;
}

/** A body handed to the runtime: what to answer with, and a promise of how sending it ended. */
export interface RelayedBody {
  body: ReadableStream<Uint8Array>;
  ended: Promise<'done' | 'cancelled'>;
}

/** For tests and embedders: no peer address, background work simply runs on. */
export const plainPlatform: Platform = {
  name: 'test',
  clientAddress: () => undefined,
  requestTarget: () => undefined,
  waitUntil: (_c, task) => void task.catch(() => undefined),
};

/**
 * The client's address. Behind a proxy that sets `X-Forwarded-For` (BERTH_TRUST_PROXY), the
 * last entry is the one our proxy appended; earlier ones are whatever the client sent.
 * Otherwise only the platform's peer address counts: headers are the caller's to forge.
 */
export function clientAddress(request: Request, trustProxy: boolean, peer: string | undefined): string | null {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return peer ?? null;
}
