/**
 * Node-side ObjectStore that forwards every call to the store bridge Worker over HTTP, so the
 * contract suite (node:test) runs against a driver executing inside workerd. Errors come back
 * as the same classes the driver threw (NoSuchUploadError, StoreError) so `assert.rejects`
 * checks behave as they would in-process.
 */
import { NoSuchUploadError } from '../../worker/storage/errors.ts';
import {
  StoreError,
  type ListResult,
  type MultipartPart,
  type ObjectInfo,
  type ObjectStore,
  type StoreCapabilities,
} from '../../worker/storage/types.ts';
import {
  ARGS_HEADER, BODY_KIND_HEADER, INFO_HEADER, RESULT_HEADER,
  decodeHeaderJson, encodeHeaderJson, infoFromWire, type BridgeMethod, type WireError, type WireInfo,
} from './bridge-protocol.ts';

function rebuildError(wire: WireError): Error {
  if (wire.name === 'NoSuchUploadError') return new NoSuchUploadError(wire.message);
  if (wire.name === 'StoreError' && wire.driver && wire.operation) {
    return new StoreError(wire.driver, wire.operation, wire.key ?? '', { cause: new Error(wire.cause ?? 'unknown cause') });
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  return error;
}

async function toResult<T>(response: Response): Promise<T> {
  const kind = response.headers.get(RESULT_HEADER);
  if (kind === 'error') {
    const { error } = (await response.json()) as { error: WireError };
    throw rebuildError(error);
  }
  if (kind !== 'json') throw new Error(`store bridge: unexpected answer ${response.status} ${await response.text()}`);
  return ((await response.json()) as { result: T }).result;
}

export async function connectBridgeStore(baseUrl: string): Promise<ObjectStore> {
  async function send(method: BridgeMethod, args: unknown[], body?: Uint8Array | string): Promise<Response> {
    const headers: Record<string, string> = { [ARGS_HEADER]: encodeHeaderJson(args) };
    if (typeof body === 'string') headers[BODY_KIND_HEADER] = 'string';
    return fetch(`${baseUrl}/call/${method}`, {
      method: 'POST',
      headers,
      // fetch's BodyInit wants an ArrayBuffer-backed view; the store's bytes always are one.
      body: (typeof body === 'string' ? new TextEncoder().encode(body) : body) as Uint8Array<ArrayBuffer> | undefined,
    });
  }
  const call = async <T>(method: BridgeMethod, args: unknown[], body?: Uint8Array | string) =>
    toResult<T>(await send(method, args, body));

  const described = await toResult<{ name: string; capabilities: StoreCapabilities; presignGet: boolean }>(
    await fetch(`${baseUrl}/describe`),
  );

  const store: ObjectStore = {
    name: described.name,
    capabilities: described.capabilities,
    head: async (key) => {
      const wire = await call<WireInfo | null>('head', [key]);
      return wire ? infoFromWire(wire) : null;
    },
    get: async (key, range) => {
      const response = await send('get', range ? [key, range] : [key]);
      if (response.headers.get(RESULT_HEADER) !== 'stream') return toResult<null>(response);
      const info: ObjectInfo = infoFromWire(decodeHeaderJson<WireInfo>(response.headers.get(INFO_HEADER)));
      if (!response.body) throw new Error('store bridge: get answered without a body');
      return { info, body: response.body as ReadableStream<Uint8Array> };
    },
    put: (key, body, options) => call<boolean>('put', options ? [key, options] : [key], body),
    delete: (key) => call<void>('delete', [key]),
    list: async (options) => {
      const wire = await call<{ objects: WireInfo[]; truncated: boolean }>('list', [options]);
      const result: ListResult = { objects: wire.objects.map(infoFromWire), truncated: wire.truncated };
      return result;
    },
    createMultipart: (key, partSize) => call<string>('createMultipart', [key, partSize]),
    uploadPart: (key, uploadId, partNumber, body) => call<MultipartPart>('uploadPart', [key, uploadId, partNumber], body),
    completeMultipart: (key, uploadId, parts) => call<void>('completeMultipart', [key, uploadId, parts]),
    abortMultipart: (key, uploadId) => call<void>('abortMultipart', [key, uploadId]),
  };
  if (described.presignGet) {
    store.presignGet = (key, options) => call<string>('presignGet', [key, options]);
  }
  return store;
}
