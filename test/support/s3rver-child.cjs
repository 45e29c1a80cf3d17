'use strict';
/**
 * A real S3-compatible server for tests and `npm run dev:s3`: @20minutes/s3rver 4.0.4, run in its
 * own process by `s3-server.ts`, with the server bugs that would make Berth's tests blame Berth
 * fixed at load time. No file under node_modules is edited: `npm ci` stays reproducible and the
 * patches live here, next to the reason for each.
 *
 *   1. SigV4 canonical URI. The SDK signs bucket-level requests (CreateBucket, ListObjectsV2,
 *      DeleteObjects) as `/bucket/`; s3rver rebuilds the URI from its route params as `/bucket`
 *      and answers 403 SignatureDoesNotMatch. SigV4 for S3 signs the path exactly as sent, so the
 *      raw request path is used for V4 signatures (V2 is left alone).
 *   2. Objects written in place. s3rver streams a PUT straight into the object file, so a PUT cut
 *      off mid-body leaves a truncated object that HEAD and GET serve as valid, and an existing
 *      object is truncated by a failed overwrite. Real S3 and R2 publish whole objects only
 *      (worker/storage/types.ts contract): content goes to a temporary file renamed over the
 *      object only once the whole body has arrived.
 *   3. Multipart bookkeeping. UploadPart to an unknown upload id silently creates it; a repeated
 *      CompleteMultipartUpload answers 500; AbortMultipartUpload and ListParts are not implemented
 *      (405, or the object's GET). S3 answers 404 NoSuchUpload for unknown ids and implements
 *      both; ListParts here answers S3's ListPartsResult from the part files, paged like S3
 *      (`max-parts`, `part-number-marker`), so direct uploads can be completed and resumed.
 *   5. Listing order and ranges. ListObjects walks directories in filesystem order, not S3's
 *      UTF-8 byte order, so `StartAfter` pagination skips and repeats keys; `Range: bytes=0-0`
 *      returns the whole object (end 0 is read as "no end"); a GET racing an overwrite can take
 *      the old size with the new file (Content-Length mismatch, connection reset). Listing sorts
 *      keys by bytes, GET opens the file once and takes size and bytes from that one file, and
 *      metadata files are replaced by rename too.
 *   4. `If-None-Match: *` on PutObject is ignored. S3 answers 412 PreconditionFailed when the key
 *      exists. Implemented by serialising object PUTs per key inside this (single) process, so the
 *      check and the write cannot interleave. Off unless S3RVER_CONDITIONAL_WRITES=1, so tests can
 *      also exercise the driver's emulation for stores that ignore the header.
 *   6. Suffix ranges. `Range: bytes=-500` (the last 500 bytes, RFC 9110 §14.1.2) is read as
 *      bytes 0-500. It is turned into the explicit range S3 would serve before the controller
 *      parses it.
 *
 * s3rver's ListObjectsV2 continuation tokens use DES, which Node 20's OpenSSL 3 only offers with
 * `--openssl-legacy-provider`: the parent starts this file with that flag.
 *
 * Config comes from env: S3RVER_PORT, S3RVER_ADDRESS, S3RVER_DIR, S3RVER_BUCKET,
 * S3RVER_ACCESS_KEY_ID, S3RVER_SECRET_ACCESS_KEY. Prints one JSON line `{"ready":…}` on stdout when
 * listening; exits on SIGTERM/SIGINT or when stdin closes (the parent died).
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const lib = path.dirname(require.resolve('@20minutes/s3rver'));
const v4 = require(path.join(lib, 'signature/v4.js'));
const authPath = path.join(lib, 'middleware/authentication.js');
const originalAuthentication = require(authPath);
const FilesystemStore = require(path.join(lib, 'stores/filesystem.js'));
const S3Error = require(path.join(lib, 'models/error.js'));
const S3Object = require(path.join(lib, 'models/object.js'));
const { DUMMY_ACCOUNT } = require(path.join(lib, 'models/account.js'));

// Raw request path per request, keyed by the headers object s3rver passes to the signer. Not a
// property on the headers themselves: s3rver copies headers into object metadata.
const rawPaths = new WeakMap();
const conditionalWrites = process.env.S3RVER_CONDITIONAL_WRITES === '1';

// --- 1. SigV4 canonical URI ------------------------------------------------------------------
const originalStringToSign = v4.getStringToSign;
v4.getStringToSign = function getStringToSign(canonicalRequest, request) {
  const rawPath = rawPaths.get(canonicalRequest.headers);
  const patched = rawPath ? { ...canonicalRequest, uri: rawPath } : canonicalRequest;
  return originalStringToSign.call(this, patched, request);
};

// --- 3 and 4 run after authentication, so they only ever see authorised requests -------------
const keyLocks = new Map();
async function withKeyLock(id, run) {
  const previous = keyLocks.get(id) ?? Promise.resolve();
  let release;
  const mine = new Promise((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  keyLocks.set(id, tail);
  await previous;
  try {
    return await run();
  } finally {
    release();
    if (keyLocks.get(id) === tail) keyLocks.delete(id);
  }
}

function uploadDir(store, bucket, uploadId) {
  // Upload ids are hex from crypto.randomBytes; refuse anything else before touching paths.
  if (!/^[0-9a-f]{1,64}$/.test(uploadId)) throw noSuchUpload();
  return path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
}

function noSuchUpload() {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
}

async function afterAuthentication(ctx, next) {
  const { bucket, key } = ctx.params;
  if (!bucket || !key) return next();
  if (ctx.method === 'DELETE' && 'uploadId' in ctx.query) {
    const dir = uploadDir(ctx.store, bucket, ctx.query.uploadId);
    if (!fs.existsSync(path.join(dir, 'key'))) throw noSuchUpload();
    await fs.promises.rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'GET' && 'uploadId' in ctx.query) return listParts(ctx, bucket, key);
  // The SDK adds `x-id=PutObject`; any sub-resource (uploadId, tagging, acl) is not a plain PUT.
  const isObjectPut =
    ctx.method === 'PUT' &&
    !['uploadId', 'partNumber', 'tagging', 'acl'].some((name) => name in ctx.query) &&
    !('x-amz-copy-source' in ctx.headers);
  if (conditionalWrites && isObjectPut) {
    return withKeyLock(`${bucket}/${key}`, async () => {
      if (ctx.get('If-None-Match').trim() === '*' && (await ctx.store.existsObject(bucket, key))) {
        throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
          Condition: 'If-None-Match',
        });
      }
      return next();
    });
  }
  return next();
}

const xmlEscape = (text) => String(text).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function listParts(ctx, bucket, key) {
  const uploadId = ctx.query.uploadId;
  const dir = uploadDir(ctx.store, bucket, uploadId);
  if (!fs.existsSync(path.join(dir, 'key'))) throw noSuchUpload();
  const marker = Number(ctx.query['part-number-marker'] || 0);
  const maxParts = Math.min(Number(ctx.query['max-parts'] || 1000), 1000);
  const numbers = (await fs.promises.readdir(dir))
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .filter((n) => n > marker)
    .sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const parts = [];
  for (const number of page) {
    const file = path.join(dir, String(number));
    const [stat, md5] = await Promise.all([fs.promises.stat(file), fs.promises.readFile(`${file}.md5`, 'utf8').catch(() => '')]);
    parts.push(
      `<Part><PartNumber>${number}</PartNumber><LastModified>${stat.mtime.toISOString()}</LastModified>` +
        `<ETag>&quot;${xmlEscape(md5.trim())}&quot;</ETag><Size>${stat.size}</Size></Part>`,
    );
  }
  const truncated = numbers.length > page.length;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(uploadId)}</UploadId>` +
    `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker>` +
    `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`;
}

require.cache[authPath].exports = function authentication() {
  const original = originalAuthentication();
  return async function patchedAuthentication(ctx, next) {
    rawPaths.set(ctx.headers, ctx.req.url.split('?')[0]);
    return original(ctx, () => afterAuthentication(ctx, next));
  };
};

// --- 2. whole objects only ---------------------------------------------------------------------
FilesystemStore.prototype.putContent = async function putContent(targetPath, content) {
  const temporary = `${targetPath}.incoming-${crypto.randomBytes(6).toString('hex')}`;
  // A concurrent delete of a sibling may have removed the (then empty) directory.
  await fs.promises.mkdir(path.dirname(targetPath), { recursive: true });
  const md5 = crypto.createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      await fs.promises.writeFile(temporary, content);
    } else {
      const out = fs.createWriteStream(temporary);
      const counted = async function* () {
        for await (const chunk of content) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      };
      await require('node:stream/promises').pipeline(counted, out);
    }
    await fs.promises.rename(temporary, targetPath);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
  return [size, md5.digest('hex')];
};

// Metadata next to the object is replaced whole as well: a reader never parses half a JSON file.
async function writeFileAtomic(target, data) {
  const temporary = `${target}.incoming-${crypto.randomBytes(6).toString('hex')}`;
  try {
    await fs.promises.writeFile(temporary, data);
    await fs.promises.rename(temporary, target);
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
}

FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const json = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (S3Object.ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-')) json[name] = value;
  }
  if (md5) await writeFileAtomic(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeFileAtomic(this.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(json, null, 2));
};

// --- 5. GET: size and bytes from one open file; `bytes=0-0` is one byte -----------------------
FilesystemStore.prototype.getObject = async function getObject(bucket, key, options = {}) {
  let handle;
  try {
    handle = await fs.promises.open(this.getResourcePath(bucket, key, 'object'), 'r');
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
  try {
    const stat = await handle.stat();
    const metadata = await this.getMetadata(bucket, key);
    metadata['content-length'] = stat.size;
    metadata['last-modified'] = stat.mtime.toUTCString();
    const ranged = options.start !== undefined;
    if (!ranged) {
      return new S3Object(bucket, key, handle.createReadStream({ start: 0 }), metadata);
    }
    const start = options.start;
    const end = Math.min(options.end ?? Infinity, stat.size - 1);
    if (!(start >= 0) || start > end) {
      // Unsatisfiable (RFC 9110 §15.5.17): the controller answers InvalidRange for a range
      // without content.
      await handle.close();
      return Object.assign(new S3Object(bucket, key, null, metadata), { range: { start, end } });
    }
    const object = new S3Object(bucket, key, handle.createReadStream({ start, end }), metadata);
    return Object.assign(object, { range: { start, end } });
  } catch (error) {
    await handle.close().catch(() => {});
    if (error.code === 'ENOENT') return null;
    throw error;
  }
};

// --- 5. listing in UTF-8 byte order --------------------------------------------------------------
const OBJECT_SUFFIX = '._S3rver_object';

async function collectKeys(directory, relative, out) {
  let entries;
  try {
    entries = await fs.promises.readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) {
      if (relative === '' && entry.name === '._S3rver_uploads') continue;
      await collectKeys(path.join(directory, entry.name), `${relative}${entry.name}/`, out);
    } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
      out.push(relative + entry.name.slice(0, -OBJECT_SUFFIX.length));
    }
  }
}

FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const bucketPath = this.getBucketPath(bucket);
  // Only the directory holding the prefix's last complete segment can contain matches.
  const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
  const keys = [];
  await collectKeys(path.join(bucketPath, base), base, keys);
  const after = Buffer.from(startAfter);
  const candidates = keys
    .filter((key) => key.startsWith(prefix) && Buffer.compare(Buffer.from(key), after) > 0)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  const page = [];
  const commonPrefixes = [];
  let isTruncated = false;
  for (const key of candidates) {
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const common = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
    if (common !== undefined && commonPrefixes.includes(common)) continue;
    if (page.length + commonPrefixes.length >= maxKeys) {
      isTruncated = true;
      break;
    }
    if (common !== undefined) commonPrefixes.push(common);
    else page.push(key);
  }
  const objects = [];
  for (const key of page) {
    try {
      objects.push(new S3Object(bucket, key, null, await this.getMetadata(bucket, key)));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // deleted while listing
    }
  }
  return { objects, commonPrefixes, isTruncated };
};

// --- 6. suffix ranges ------------------------------------------------------------------------------
const objectController = require(path.join(lib, 'controllers/object.js'));
const originalGetObjectController = objectController.getObject;
objectController.getObject = async function getObject(ctx) {
  const suffix = /^bytes=-(\d+)$/.exec(ctx.headers.range || '');
  if (suffix) {
    try {
      const { size } = await fs.promises.stat(ctx.store.getResourcePath(ctx.params.bucket, ctx.params.key, 'object'));
      const length = Number(suffix[1]);
      // A suffix longer than the object is the whole object; an empty suffix is unsatisfiable.
      ctx.headers.range = length === 0 ? `bytes=${size}-` : `bytes=${Math.max(0, size - length)}-`;
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // a missing key answers NoSuchKey as before
    }
  }
  return originalGetObjectController.call(this, ctx);
};

// --- 3. multipart: unknown ids are NoSuchUpload, missing parts InvalidPart ----------------------
const originalPutPart = FilesystemStore.prototype.putPart;
FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  if (!fs.existsSync(path.join(uploadDir(this, bucket, uploadId), 'key'))) throw noSuchUpload();
  return originalPutPart.call(this, bucket, uploadId, partNumber, content);
};

const originalPutObjectMultipart = FilesystemStore.prototype.putObjectMultipart;
FilesystemStore.prototype.putObjectMultipart = async function putObjectMultipart(bucket, uploadId, parts) {
  const dir = uploadDir(this, bucket, uploadId);
  if (!fs.existsSync(path.join(dir, 'key'))) throw noSuchUpload();
  for (const part of parts) {
    if (!fs.existsSync(path.join(dir, String(part.number)))) {
      throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found.');
    }
  }
  return originalPutObjectMultipart.call(this, bucket, uploadId, parts);
};

// --- run -----------------------------------------------------------------------------------------
const S3rver = require('@20minutes/s3rver');

async function main() {
  const accessKeyId = process.env.S3RVER_ACCESS_KEY_ID || 'S3RVER';
  const secretAccessKey = process.env.S3RVER_SECRET_ACCESS_KEY || 'S3RVER';
  if (accessKeyId !== 'S3RVER') DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const directory = process.env.S3RVER_DIR;
  if (!directory) throw new Error('S3RVER_DIR is required');
  fs.mkdirSync(directory, { recursive: true });
  const bucket = process.env.S3RVER_BUCKET || 'berth';
  const server = new S3rver({
    address: process.env.S3RVER_ADDRESS || '127.0.0.1',
    port: Number(process.env.S3RVER_PORT || 4568),
    directory,
    silent: process.env.S3RVER_LOG !== '1',
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  process.stdout.write(`${JSON.stringify({ ready: true, port: address.port, bucket })}\n`);

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    server.httpServer.closeAllConnections?.();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`s3rver failed to start: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
