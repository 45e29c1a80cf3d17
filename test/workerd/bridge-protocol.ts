/**
 * Wire format between the store bridge Worker (runs inside workerd) and the Node-side proxy.
 * node:test cannot run inside workerd, so the contract suite drives the real driver over HTTP:
 * one request per ObjectStore call, `POST /call/<method>`, JSON arguments in a header, binary
 * payloads (put bodies, parts, get results) as raw request/response bodies so nothing is base64'd.
 */
import type { ObjectInfo } from '../../worker/storage/types.ts';

export const ARGS_HEADER = 'x-store-args';
export const INFO_HEADER = 'x-store-info';
/** `json` (a `{ result }` body), `stream` (get: the object bytes) or `error`. */
export const RESULT_HEADER = 'x-store-result';
/** Marks a put body that was a string on the caller's side, so the driver sees a string too. */
export const BODY_KIND_HEADER = 'x-store-body-kind';

export const METHODS = [
  'head', 'get', 'put', 'delete', 'list',
  'createMultipart', 'uploadPart', 'completeMultipart', 'abortMultipart', 'presignGet',
] as const;
export type BridgeMethod = (typeof METHODS)[number];

export interface WireInfo extends Omit<ObjectInfo, 'lastModified'> {
  lastModified?: string;
}

export interface WireError {
  name: string;
  message: string;
  driver?: string;
  operation?: string;
  key?: string;
  cause?: string;
}

export function infoToWire(info: ObjectInfo): WireInfo {
  const { lastModified, ...rest } = info;
  return lastModified ? { ...rest, lastModified: lastModified.toISOString() } : rest;
}

export function infoFromWire(wire: WireInfo): ObjectInfo {
  const { lastModified, ...rest } = wire;
  return lastModified ? { ...rest, lastModified: new Date(lastModified) } : rest;
}

/** Header values must be ASCII: keys and metadata may hold any Unicode. */
export function encodeHeaderJson(value: unknown): string {
  return encodeURIComponent(JSON.stringify(value));
}

export function decodeHeaderJson<T>(value: string | null): T {
  if (value === null) throw new Error('store bridge: missing header');
  return JSON.parse(decodeURIComponent(value)) as T;
}
