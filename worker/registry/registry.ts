/**
 * The registry domain over one store: what the routes call. Routes never see the store itself
 * (principle: routes reach the store only through the registry domain).
 */
import type { ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import { Blobs } from './blobs.ts';
import { collectGarbage, type GcOptions, type GcReport } from './gc.ts';
import { Listings } from './listings.ts';
import { DirectUploads } from './direct-uploads.ts';
import { Manifests } from './manifests.ts';
import { Uploads } from './uploads.ts';
import { storeProblem } from './health.ts';

export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly directUploads: DirectUploads;
  readonly manifests: Manifests;
  readonly listings: Listings;

  constructor(
    private readonly store: ObjectStore,
    readonly config: RegistryConfig,
  ) {
    this.blobs = new Blobs(store);
    this.uploads = new Uploads(store, config, this.blobs);
    this.directUploads = new DirectUploads(store, config, this.blobs);
    this.manifests = new Manifests(store, config, this.blobs);
    this.listings = new Listings(store);
  }

  /** Online garbage collection (registry/gc.ts). */
  collectGarbage(options: GcOptions): Promise<GcReport> {
    return collectGarbage(this.store, options);
  }

  /** Null when the store answers (readiness probe), else why not. */
  storeProblem(timeoutMs: number): Promise<string | null> {
    return storeProblem(this.store, timeoutMs);
  }
}
