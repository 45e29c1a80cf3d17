/**
 * A body of known length handed to workerd: piped into a FixedLengthStream, which workerd pumps
 * itself when the source is one of its native streams (an R2 body), so no JavaScript runs per
 * chunk, and which keeps the Content-Length (the answer is not chunked). A body that ends short
 * or fails errors the answer instead of ending it cleanly. Runs only inside workerd.
 */
import type { RelayedBody } from '../platform.ts';

/** workerd's own stream class (not in the DOM library the project compiles with). */
interface WorkersStreams {
  FixedLengthStream: new (length: number) => TransformStream<Uint8Array, Uint8Array>;
}

/** `ended` says 'cancelled' when the client left or the body failed. */
export function relayFixedLength(body: ReadableStream<Uint8Array>, length: number): RelayedBody {
  const relay = new (globalThis as unknown as WorkersStreams).FixedLengthStream(length);
  const ended = body.pipeTo(relay.writable).then(
    () => 'done' as const,
    async (error: unknown) => {
      // A pipe that failed on its own (not because the client left) must still end the
      // response, or the client waits for bytes that never come.
      await relay.writable.abort(error).catch(() => undefined);
      return 'cancelled' as const;
    },
  );
  return { body: relay.readable, ended };
}
