/**
 * The raw store rows: the same bytes straight into the same local S3 server with
 * @aws-sdk/client-s3, configured like Berth's driver (checksums WHEN_REQUIRED). A single
 * streamed PutObject, a multipart upload with Berth's defaults (8 MiB parts, 4 in flight; parts
 * are copied into a part buffer as Berth's part writer does) and a GetObject read to the end.
 */
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Payload } from './data.ts';
import type { S3Server } from '../support/s3-server.ts';

const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;

export interface RawS3 {
  put(key: string, body: Payload): Promise<number>;
  /** Total ms and the CompleteMultipartUpload alone. */
  multipart(key: string, body: Payload): Promise<{ ms: number; completeMs: number }>;
  get(key: string, size: number): Promise<number>;
  remove(key: string): Promise<void>;
}

export function rawS3(s3: S3Server): RawS3 {
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { requestTimeout: 300_000, connectionTimeout: 10_000, socketTimeout: 300_000, throwOnRequestTimeout: true },
  });
  const Bucket = s3.bucket;
  return {
    async put(key, body) {
      const started = performance.now();
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: Readable.from(body.chunks()), ContentLength: body.size }));
      return performance.now() - started;
    },
    async multipart(key, body) {
      const started = performance.now();
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
      const parts: { PartNumber: number; ETag: string }[] = [];
      const inFlight = new Set<Promise<void>>();
      let part = Buffer.allocUnsafe(PART_BYTES);
      let filled = 0;
      let number = 1;
      const flush = async (bytes: Buffer): Promise<void> => {
        const PartNumber = number++;
        const upload = client
          .send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber, Body: bytes, ContentLength: bytes.length }))
          .then((out) => void parts.push({ PartNumber, ETag: out.ETag ?? '' }));
        inFlight.add(upload);
        void upload.finally(() => inFlight.delete(upload)).catch(() => {});
        if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
      };
      for (const chunk of body.chunks()) {
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, PART_BYTES - filled);
          chunk.copy(part, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === PART_BYTES) {
            await flush(part);
            part = Buffer.allocUnsafe(PART_BYTES);
            filled = 0;
          }
        }
      }
      if (filled > 0) await flush(part.subarray(0, filled));
      await Promise.all(inFlight);
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      const completing = performance.now();
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      const done = performance.now();
      return { ms: done - started, completeMs: done - completing };
    },
    async get(key, size) {
      const started = performance.now();
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      let received = 0;
      for await (const chunk of out.Body as AsyncIterable<Buffer>) received += chunk.length;
      if (received !== size) throw new Error(`raw S3 GET: got ${received} bytes, expected ${size}`);
      return performance.now() - started;
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
  };
}
