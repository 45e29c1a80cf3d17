/**
 * The subset of the Workers R2 binding API that `r2.ts` uses, declared here instead of loading
 * `@cloudflare/workers-types` globally: those globals redefine `Request`, `Response`, streams and
 * `crypto` and clash with the DOM lib the rest of the project compiles against.
 * Shapes follow @cloudflare/workers-types 4.20260426 (`R2Bucket`, `R2Object`, …).
 */

export interface R2Conditional {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

export type R2Range = { offset: number; length?: number } | { suffix: number };

export interface R2HTTPMetadata {
  contentType?: string;
}

export interface R2Object {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly httpMetadata?: R2HTTPMetadata;
  readonly customMetadata?: Record<string, string>;
}

export interface R2ObjectBody extends R2Object {
  readonly body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2PutOptions {
  onlyIf?: R2Conditional;
  httpMetadata?: R2HTTPMetadata;
  customMetadata?: Record<string, string>;
}

export interface R2ListOptions {
  prefix?: string;
  startAfter?: string;
  limit?: number;
  cursor?: string;
  include?: Array<'httpMetadata' | 'customMetadata'>;
}

export type R2Objects = { objects: R2Object[]; delimitedPrefixes: string[] } & (
  | { truncated: true; cursor: string }
  | { truncated: false }
);

export interface R2UploadedPart {
  partNumber: number;
  etag: string;
}

export interface R2MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  uploadPart(partNumber: number, value: ArrayBufferView | ArrayBuffer | string): Promise<R2UploadedPart>;
  abort(): Promise<void>;
  complete(parts: R2UploadedPart[]): Promise<R2Object>;
}

export interface R2Bucket {
  head(key: string): Promise<R2Object | null>;
  /** With an `onlyIf` that fails, resolves to the object without a body. */
  get(key: string, options?: { range?: R2Range; onlyIf?: R2Conditional }): Promise<R2ObjectBody | R2Object | null>;
  /** Resolves to null when an `onlyIf` precondition fails. */
  put(key: string, value: ArrayBufferView | ArrayBuffer | string, options?: R2PutOptions): Promise<R2Object | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: R2ListOptions): Promise<R2Objects>;
  createMultipartUpload(key: string, options?: { httpMetadata?: R2HTTPMetadata }): Promise<R2MultipartUpload>;
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
}
