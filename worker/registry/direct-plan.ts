/**
 * The pure rules of a direct upload (registry/direct-uploads.ts): how a blob of a given size is
 * cut into parts, and whether the parts a store reports make up exactly that blob.
 *
 * S3 and R2 take at most 10,000 parts of 5 MiB to 5 GiB, and R2 wants every part but the last
 * the same size (README "Platform limits"), so one part size is chosen per upload and every
 * non-final part must have exactly that size.
 */
import type { StoredPart } from '../storage/types.ts';

const MiB = 1024 * 1024;
/** S3's and R2's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's largest object (R2's is a little under it): 5 TiB. */
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/**
 * The part size: the configured one, raised (to a whole MiB) when the blob would need more parts
 * than the store allows. Null when the blob cannot be stored in `maxParts` parts of 5 GiB.
 */
export function planParts(size: number, configured: number, minPartSize: number, maxParts: number): PartPlan | null {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_OBJECT_SIZE) return null;
  let partSize = Math.max(configured, minPartSize, 1);
  if (Math.ceil(size / partSize) > maxParts) partSize = Math.ceil(size / maxParts / MiB) * MiB;
  if (partSize > MAX_PART_SIZE) return null;
  return { partSize, partCount: Math.ceil(size / partSize) };
}

/** The exact size part `partNumber` (1-based) must have. */
export function expectedPartSize(plan: PartPlan, size: number, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}

export interface PartCheck {
  /** Part numbers the blob needs that the store does not hold. */
  missing: number[];
  /** Parts held with another size than the plan's (a client bug or a tampered part). */
  wrongSize: { partNumber: number; size: number; expected: number }[];
}

/**
 * Compares what the store holds with the plan; both lists empty means complete. Parts numbered
 * past the plan are ignored: completion names parts 1…partCount only, and S3 and R2 drop the rest.
 */
export function checkParts(plan: PartPlan, size: number, stored: readonly StoredPart[]): PartCheck {
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const check: PartCheck = { missing: [], wrongSize: [] };
  for (let n = 1; n <= plan.partCount; n++) {
    const part = byNumber.get(n);
    if (!part) {
      check.missing.push(n);
      continue;
    }
    const expected = expectedPartSize(plan, size, n);
    if (part.size !== expected) check.wrongSize.push({ partNumber: n, size: part.size, expected });
  }
  return check;
}

export function isComplete(check: PartCheck): boolean {
  return check.missing.length === 0 && check.wrongSize.length === 0;
}
