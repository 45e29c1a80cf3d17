/** The registry domain over one store: what the routes call. */
import type { ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import { Blobs } from './blobs.ts';
import { Manifests } from './manifests.ts';
import { Uploads } from './uploads.ts';

export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly manifests: Manifests;

  constructor(
    readonly store: ObjectStore,
    readonly config: RegistryConfig,
  ) {
    this.blobs = new Blobs(store);
    this.uploads = new Uploads(store, config, this.blobs);
    this.manifests = new Manifests(store, config, this.blobs);
  }
}
