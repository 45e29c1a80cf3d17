/**
 * ObjectStore on any S3-compatible API (AWS S3, R2's S3 endpoint, MinIO, the local test server).
 * Runs in Node and in workerd (`nodejs_compat`): only the SDK's default HTTP handler is used
 * (NodeHttpHandler in Node, FetchHttpHandler in workerd), configured through plain options.
 *
 * What it relies on from the backend, so nothing is promised that the backend cannot keep:
 * - Whole-object visibility on PutObject/CompleteMultipartUpload and strong read-after-write
 *   consistency (AWS since 2020, R2).
 * - `If-None-Match: *` on PutObject only when `conditionalWrite` is true (AWS since 2024, R2).
 *   Otherwise `put({ifNoneMatch})` is a HEAD followed by a PUT: two writers can both see
 *   "absent" and both write. Berth only asks for create-only writes of content-addressed
 *   records (blob data and manifests under their digest), where both writers write the same
 *   bytes, so the race loses nothing; `capabilities.conditionalWrite` says false so the registry
 *   can tell.
 */
import type {
  GetObjectCommandOutput,
  HeadObjectCommandOutput,
  S3Client,
  S3ClientConfig,
} from '@aws-sdk/client-s3';
import { NoSuchUploadError } from './errors.ts';
import { inMemoryObject, SMALL_OBJECT_BYTES } from './memory-body.ts';
import { DEFAULT_S3_REQUEST_TIMEOUT_MS, type S3StoreOptions } from './s3-config.ts';
import { attemptTimeoutMs, S3_MAX_ATTEMPTS, startBudget, type OperationBudget } from './s3-budget.ts';
import {
  StoreError,
  type ByteRange,
  type ListOptions,
  type ListResult,
  type MultipartPart,
  type ObjectInfo,
  type ObjectStore,
  type PresignOptions,
  type PutOptions,
  type StoredObject,
  type StoredPart,
} from './types.ts';

export type { S3StoreOptions } from './s3-config.ts';

const DRIVER = 's3';
const MiB = 1024 * 1024;
/** ListObjectsV2 returns at most 1000 keys per call. */
const S3_MAX_LIST = 1000;
/** PutObject bodies from this size on are sent UNSIGNED-PAYLOAD, like parts (see `unsignedPayload`). */
const UNSIGNED_PUT_MIN_BYTES = MiB;

type Sdk = typeof import('@aws-sdk/client-s3');

interface Clients {
  sdk: Sdk;
  client: S3Client;
  /** Signs presigned URLs for `publicBaseUrl` when set, else the same client. */
  presignClient: S3Client;
}

export function createS3Store(options: S3StoreOptions): ObjectStore {
  if (!options.bucket) throw new StoreError(DRIVER, 'configure', '', { cause: new Error('bucket is required') });
  if (!options.region) throw new StoreError(DRIVER, 'configure', '', { cause: new Error('region is required') });
  const bucket = options.bucket;
  const prefix = normalizePrefix(options.prefix ?? '');
  const conditionalWrite = options.conditionalWrite ?? true;
  const budgetMs = options.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS;
  let clients: Promise<Clients> | undefined;

  // The SDK is large: load it and build the clients on first use, not when the app starts.
  function getClients(): Promise<Clients> {
    clients ??= (async () => {
      const sdk = await import('@aws-sdk/client-s3');
      const client = new sdk.S3Client(clientConfig(options, options.endpoint));
      const presignClient = options.publicBaseUrl
        ? new sdk.S3Client(clientConfig(options, options.publicBaseUrl))
        : client;
      return { sdk, client, presignClient };
    })();
    clients.catch(() => {
      clients = undefined;
    });
    return clients;
  }

  const fullKey = (key: string): string => prefix + key;

  // Every SDK call goes through here so failures name the driver, operation and key, and every
  // operation runs within its time budget (s3-budget.ts).
  async function attempt<T>(operation: string, key: string, run: (c: Clients, budget: OperationBudget) => Promise<T>): Promise<T> {
    const budget = startBudget(budgetMs);
    try {
      return await run(await getClients(), budget);
    } catch (error) {
      if (error instanceof StoreError || error instanceof NoSuchUploadError) throw error;
      throw new StoreError(DRIVER, operation, key, { cause: error });
    } finally {
      budget.end();
    }
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    return attempt('head', key, async ({ sdk, client }, budget) => {
      try {
        const out = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: fullKey(key) }), budget.options('answer'));
        return toInfo(key, out, out.ContentLength ?? 0);
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    });
  }

  const store: ObjectStore = {
    name: DRIVER,
    capabilities: {
      presign: true,
      conditionalWrite,
      minPartSize: 5 * MiB,
      maxParts: 10_000,
    },

    head,

    get: (key, range?: ByteRange) => attempt('get', key, async ({ sdk, client }, budget): Promise<StoredObject | null> => {
      if (range?.length === 0) {
        // HTTP cannot express an empty range (RFC 9110 §14.1.2): answer it without asking.
        const info = await head(key);
        return info ? { info, body: emptyStream() } : null;
      }
      let out: GetObjectCommandOutput;
      try {
        out = await client.send(new sdk.GetObjectCommand({
          Bucket: bucket,
          Key: fullKey(key),
          Range: range ? toRangeHeader(range) : undefined,
        }), budget.options('answer'));
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
      // The answer is in: the body streams at the reader's pace (whole-reads.ts retries cut
      // bodies of small objects).
      budget.end();
      const size = totalSize(out.ContentRange) ?? out.ContentLength ?? 0;
      const info = toInfo(key, out, size);
      // Small records (links, tags, sessions, manifests) read whole, without a Web stream around
      // them. A body cut off mid-way comes back as a stream that fails, as it would have streamed:
      // the reader decides (whole-reads.ts reads a cut small object again).
      if (!range && out.Body && size <= SMALL_OBJECT_BYTES) {
        try {
          return inMemoryObject(info, new Uint8Array(await out.Body.transformToByteArray()));
        } catch (error) {
          return { info, body: failedStream(error) };
        }
      }
      const body = out.Body ? (out.Body.transformToWebStream() as ReadableStream<Uint8Array>) : emptyStream();
      return { info, body };
    }),

    put: (key, body, putOptions: PutOptions = {}) => attempt('put', key, async ({ sdk, client }, budget) => {
      if (putOptions.ifNoneMatch && !conditionalWrite) {
        // Best-effort emulation, see the header comment for why it is enough for Berth.
        if (await head(key)) return false;
      }
      // Encoded once here: given a string, the SDK would encode it again to sign and again to send.
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      try {
        const command = new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: fullKey(key),
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentType: putOptions.contentType,
          Metadata: putOptions.metadata,
          IfNoneMatch: putOptions.ifNoneMatch && conditionalWrite ? '*' : undefined,
        });
        const large = bytes.byteLength >= UNSIGNED_PUT_MIN_BYTES;
        if (large) {
          command.middlewareStack.add((next) => (args) => next(unsignedPayload(args)), UNSIGNED_PAYLOAD_STEP);
        }
        await client.send(command, budget.options(large ? 'transfer' : 'answer'));
        return true;
      } catch (error) {
        // 412: the key exists. 409 ConditionalRequestConflict: another conditional write to the
        // key is in flight; one of them wins, and for content-addressed keys both carry the
        // same bytes, so "someone else created it" is the right answer.
        if (putOptions.ifNoneMatch && (statusOf(error) === 412 || statusOf(error) === 409)) return false;
        throw error;
      }
    }),

    delete: (key) => attempt('delete', key, async ({ sdk, client }, budget) => {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: fullKey(key) }), budget.options('answer'));
    }),

    list: (listOptions: ListOptions) => attempt('list', listOptions.prefix, async ({ sdk, client }, budget): Promise<ListResult> => {
      const wanted = listOptions.limit ?? S3_MAX_LIST;
      if (wanted <= 0) return { objects: [], truncated: false };
      const out = await client.send(new sdk.ListObjectsV2Command({
        Bucket: bucket,
        Prefix: fullKey(listOptions.prefix),
        StartAfter: listOptions.startAfter === undefined ? undefined : fullKey(listOptions.startAfter),
        MaxKeys: Math.min(wanted, S3_MAX_LIST),
      }), budget.options('answer'));
      const objects: ObjectInfo[] = [];
      for (const entry of out.Contents ?? []) {
        if (!entry.Key?.startsWith(prefix)) continue;
        const info: ObjectInfo = { key: entry.Key.slice(prefix.length), size: entry.Size ?? 0 };
        if (entry.ETag) info.etag = entry.ETag;
        if (entry.LastModified) info.lastModified = entry.LastModified;
        objects.push(info);
      }
      return { objects, truncated: out.IsTruncated === true };
    }),

    createMultipart: (key) => attempt('createMultipart', key, async ({ sdk, client }, budget) => {
      const out = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: fullKey(key) }), budget.options('answer'));
      if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return out.UploadId;
    }),

    uploadPart: (key, uploadId, partNumber, body) => attempt('uploadPart', key, async ({ sdk, client }, budget): Promise<MultipartPart> => {
      try {
        const command = new sdk.UploadPartCommand({
          Bucket: bucket,
          Key: fullKey(key),
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.byteLength,
        });
        command.middlewareStack.add((next) => (args) => next(unsignedPayload(args)), UNSIGNED_PAYLOAD_STEP);
        const out = await client.send(command, budget.options('transfer'));
        if (!out.ETag) throw new Error('UploadPart returned no ETag');
        return { partNumber, etag: out.ETag };
      } catch (error) {
        throw asNoSuchUpload(error, key);
      }
    }),

    completeMultipart: (key, uploadId, parts) => attempt('completeMultipart', key, async ({ sdk, client }, budget) => {
      try {
        await client.send(new sdk.CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: fullKey(key),
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [...parts]
              .sort((a, b) => a.partNumber - b.partNumber)
              .map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
          },
          // The store assembles every part before it answers, which takes time in proportion to
          // the object (S3 documents up to minutes): the whole budget, like a transfer.
        }), budget.options('transfer'));
      } catch (error) {
        throw asNoSuchUpload(error, key);
      }
    }),

    abortMultipart: (key, uploadId) => attempt('abortMultipart', key, async ({ sdk, client }, budget) => {
      try {
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey(key), UploadId: uploadId }), budget.options('answer'));
      } catch (error) {
        // types.ts: aborting an unknown (or already finished) upload is not an error.
        if (!isNoSuchUpload(error)) throw error;
      }
    }),

    presignGet: (key, presign: PresignOptions) => attempt('presignGet', key, async ({ sdk, presignClient }) => {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const command = new sdk.GetObjectCommand({
        Bucket: bucket,
        Key: fullKey(key),
        ResponseContentType: presign.contentType,
      });
      return getSignedUrl(presignClient, command, { expiresIn: presign.expiresInSeconds });
    }),

    // Direct uploads (registry/direct-uploads.ts): the client PUTs the part to this URL itself.
    presignUploadPart: (key, uploadId, partNumber, presign: PresignOptions) => attempt('presignUploadPart', key, async ({ sdk, presignClient }) => {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const command = new sdk.UploadPartCommand({ Bucket: bucket, Key: fullKey(key), UploadId: uploadId, PartNumber: partNumber });
      // Clients send the part as a plain body; the payload hash is not part of the signature.
      return getSignedUrl(presignClient, command, { expiresIn: presign.expiresInSeconds });
    }),

    listParts: (key, uploadId) => attempt('listParts', key, async ({ sdk, client }, budget): Promise<StoredPart[]> => {
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      try {
        // At most 1000 parts per page (S3 ListParts); a 10,000-part upload takes 10 calls.
        for (;;) {
          const out = await client.send(new sdk.ListPartsCommand({
            Bucket: bucket,
            Key: fullKey(key),
            UploadId: uploadId,
            PartNumberMarker: marker,
          }), budget.options('answer'));
          for (const part of out.Parts ?? []) {
            if (part.PartNumber === undefined || !part.ETag) continue;
            parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
          }
          if (!out.IsTruncated || out.NextPartNumberMarker === undefined) break;
          marker = String(out.NextPartNumberMarker);
        }
      } catch (error) {
        throw asNoSuchUpload(error, key);
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    }),
  };
  return store;
}

function clientConfig(options: S3StoreOptions, endpoint: string | undefined): S3ClientConfig {
  const timeout = options.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS;
  return {
    region: options.region,
    endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // The default (WHEN_SUPPORTED) frames uploads as aws-chunked with trailing checksums, which
    // several S3-compatible servers store verbatim inside the object (seen with s3rver-based servers).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without these a store that never answers hangs the request forever: the SDK sets no socket
    // timeout and `requestTimeout` alone only logs a warning. Node's handler reads all four;
    // workerd's fetch handler reads `requestTimeout` and ignores the rest. Each send overrides
    // `requestTimeout` with its share of the operation's budget (s3-budget.ts); `socketTimeout`
    // bounds the silence of a streamed body after the answer.
    maxAttempts: S3_MAX_ATTEMPTS,
    requestHandler: {
      requestTimeout: attemptTimeoutMs(timeout),
      connectionTimeout: Math.min(attemptTimeoutMs(timeout), 10_000),
      socketTimeout: timeout,
      throwOnRequestTimeout: true,
    },
  };
}

/**
 * Marks a request (UploadPart, large PutObject) `x-amz-content-sha256: UNSIGNED-PAYLOAD`. Without
 * it the SigV4 signer hashes every byte of the body to put its SHA-256 in the signature: for a
 * pushed layer that is a second full SHA-256 pass on top of the one Berth already makes (about
 * 0.8 s of CPU per GiB here, as much as the registry's own digest check). The signer takes an
 * existing header's value as the payload hash instead of computing one (AWS SigV4 for S3,
 * "Transferring Payload in a Single Chunk"), and AWS S3, R2 and MinIO accept UNSIGNED-PAYLOAD;
 * the request itself (method, key, upload id, part number, length, headers) stays signed.
 *
 * Why giving up the payload hash loses nothing that matters:
 * - Client to Berth: Berth hashes the bytes as they arrive and refuses to publish a blob whose
 *   digest differs (registry/uploads.ts), so what is stored is what the client meant to send.
 * - Berth to the store: on real endpoints (https) TLS authenticates every byte, which is why the
 *   AWS SDKs themselves send unsigned payloads over TLS; store responses (GetObject) were never
 *   signed either. Over a plain-http endpoint the hop has TCP checksums only, exactly as reads
 *   do, and what is stored is still content-addressed: every puller checks the digest.
 * - No other per-byte checksum takes its place: with `requestChecksumCalculation: 'WHEN_REQUIRED'`
 *   (clientConfig) the SDK adds none to UploadPart or PutObject, which do not require one.
 * Small PutObject bodies (JSON records, most manifests) keep the signed hash: it costs nothing
 * measurable there.
 */
function unsignedPayload<A extends { request: unknown }>(args: A): A {
  const request = args.request as { headers?: Record<string, string> };
  if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return args;
}

/** The build step runs before finalizeRequest, where the signer reads the header. */
const UNSIGNED_PAYLOAD_STEP = { step: 'build', name: 'berthUnsignedPayload' } as const;

/** '' stays ''; anything else loses leading slashes and gains exactly one trailing slash. */
export function normalizePrefix(raw: string): string {
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** RFC 9110 §14.1.2 byte range; the caller guarantees length > 0 when given. */
function toRangeHeader(range: ByteRange): string {
  const last = range.length === undefined ? '' : String(range.offset + range.length - 1);
  return `bytes=${range.offset}-${last}`;
}

/** Total object size from `Content-Range: bytes a-b/total` (RFC 9110 §14.4). */
function totalSize(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /\/(\d+)\s*$/.exec(contentRange) : null;
  return match ? Number(match[1]) : undefined;
}

function toInfo(key: string, out: HeadObjectCommandOutput | GetObjectCommandOutput, size: number): ObjectInfo {
  const info: ObjectInfo = { key, size };
  if (out.ETag) info.etag = out.ETag;
  if (out.LastModified) info.lastModified = out.LastModified;
  if (out.ContentType) info.contentType = out.ContentType;
  if (out.Metadata && Object.keys(out.Metadata).length > 0) info.metadata = { ...out.Metadata };
  return info;
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
}

function failedStream(error: unknown): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.error(error) });
}

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape).$metadata?.httpStatusCode : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as SdkErrorShape;
  return typeof Code === 'string' ? Code : typeof name === 'string' ? name : undefined;
}

function isNotFound(error: unknown): boolean {
  // A missing bucket is a configuration error, not a missing object (HEAD has no body to tell
  // them apart, so it still reads as NotFound there).
  const code = codeOf(error);
  if (code === 'NoSuchBucket') return false;
  return code === 'NoSuchKey' || code === 'NotFound' || statusOf(error) === 404;
}

function isNoSuchUpload(error: unknown): boolean {
  return codeOf(error) === 'NoSuchUpload';
}

function asNoSuchUpload(error: unknown, key: string): unknown {
  return isNoSuchUpload(error)
    ? new NoSuchUploadError(`${DRIVER} store: no multipart upload for ${key}`, { cause: error })
    : error;
}
