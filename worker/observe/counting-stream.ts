/**
 * A pass-through stream that counts the bytes read through it and says once how it ended. It
 * pulls from its source only when its reader asks (high-water mark 0), so wrapping a body that
 * is never read reads nothing, and backpressure stays the source's.
 */
export type StreamEnd = 'done' | 'cancelled' | 'error';

export interface Counter {
  bytes: number;
}

/**
 * `source` may be a function: it is then called on the first read only, so a body nobody reads
 * is never even opened (on Node that leaves @hono/node-server free to drain it for keep-alive).
 */
export function countingStream(
  source: ReadableStream<Uint8Array> | (() => ReadableStream<Uint8Array> | null),
  counter: Counter,
  onEnd: (how: StreamEnd) => void = () => {},
): ReadableStream<Uint8Array> {
  let opened: ReadableStream<Uint8Array> | null | undefined = typeof source === 'function' ? undefined : source;
  const open = (): ReadableStream<Uint8Array> | null => (opened === undefined ? (opened = (source as () => ReadableStream<Uint8Array> | null)()) : opened);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let ended = false;
  const end = (how: StreamEnd): void => {
    if (ended) return;
    ended = true;
    onEnd(how);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!reader) {
            const stream = open();
            if (!stream) {
              controller.close();
              end('done');
              return;
            }
            reader = stream.getReader();
          }
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            end('done');
            return;
          }
          counter.bytes += value.byteLength;
          controller.enqueue(value);
        } catch (error) {
          end('error');
          throw error;
        }
      },
      async cancel(reason) {
        end('cancelled');
        if (reader) await reader.cancel(reason);
        else if (opened) await opened.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
