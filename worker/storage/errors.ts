/**
 * Domain errors every driver raises in the same shape, so the registry can translate them
 * without knowing the backend; the HTTP edge translates them. `StoreError` (a backend failure) lives in
 * `types.ts`; this file holds the errors that carry meaning for the caller.
 */

/**
 * The multipart upload id is unknown to the store: never created, already completed or
 * aborted (S3 `NoSuchUpload`, R2 "upload not found"). The registry turns it into
 * BLOB_UPLOAD_UNKNOWN; `checkedStore` passes it through untouched.
 */
export class NoSuchUploadError extends Error {
  constructor(message = 'no such multipart upload', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NoSuchUploadError';
  }
}
