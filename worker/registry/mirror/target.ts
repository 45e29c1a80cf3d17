/** What a mirrored request is about: where Berth caches it and what the upstream calls it. */
import type { Upstream } from './upstream.ts';

export interface MirrorTarget {
  /** The repository in Berth that caches it (`hub/library/alpine`). */
  repo: string;
  /** The name on the upstream (`library/alpine`). */
  remote: string;
  upstream: Upstream;
}

/** Where a mirror's events go (a stale tag served, a fill refused); never a secret. */
export type MirrorLog = (event: string, fields: Record<string, unknown>) => void;
