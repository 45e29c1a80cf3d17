/**
 * One object read as a run of bounded ranged reads, answered as a single stream.
 *
 * Why: the local R2 simulator behind `wrangler dev` holds each read of an object in flight
 * whole, in memory (1.3 GB of workerd for one 1 GiB layer), and serves the bucket's other reads
 * behind it: while docker streams a big layer, the 172-byte layer beside it waits for the whole
 * big one (measured: 4-16 s), and now and then that wait never ends. Reading in slices bounds
 * both to one slice. The R2 service itself streams, so deployments read whole objects (no
 * slicing unless BERTH_R2_READ_SLICE_MB says so).
 *
 * Every slice after the first is conditional on the first one's etag, so an object replaced
 * mid-read errors the stream rather than splicing two objects together.
 */
export interface Slice {
  /** The total size of the object, from the first answer. */
  size: number;
  etag: string;
  body: ReadableStream<Uint8Array>;
}

/** Reads `length` bytes at `offset`; `etag` (after the first slice) must still match. */
export type ReadSlice<S extends Slice = Slice> = (offset: number, length: number, etag: string | undefined) => Promise<S | null>;

export interface SlicedRead<S extends Slice = Slice> {
  /** The first slice's answer: what the object is. */
  first: S;
  /** All of `[offset, offset + length)`, slice after slice. */
  body: ReadableStream<Uint8Array>;
}

/**
 * Reads `[offset, end)` of an object (`length` undefined: to its end) in slices of `sliceBytes`.
 * The slices are poured into a plain TransformStream: workerd cannot pipe one of its native
 * IdentityTransformStreams into another native stream (the response's), and this path serves
 * local development only.
 */
export async function slicedRead<S extends Slice>(
  read: ReadSlice<S>,
  range: { offset: number; length?: number },
  sliceBytes: number,
): Promise<SlicedRead<S> | null> {
  const firstLength = range.length === undefined ? sliceBytes : Math.min(sliceBytes, range.length);
  const first = await read(range.offset, firstLength, undefined);
  if (!first) return null;
  const end = range.length === undefined ? first.size : Math.min(first.size, range.offset + range.length);
  const firstEnd = Math.min(end, range.offset + firstLength);
  if (firstEnd >= end) return { first, body: first.body };

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  void (async () => {
    try {
      await first.body.pipeTo(writable, { preventClose: true });
      for (let offset = firstEnd; offset < end; offset += sliceBytes) {
        const next = await read(offset, Math.min(sliceBytes, end - offset), first.etag);
        if (!next) throw new Error(`the object changed or vanished after ${offset} of ${end} bytes`);
        await next.body.pipeTo(writable, { preventClose: true });
      }
      await writable.close();
    } catch (error) {
      // A reader that cancelled has already errored the pipe; otherwise tell it why.
      await writable.abort(error).catch(() => undefined);
    }
  })();
  return { first, body: readable };
}
