/**
 * The registry domain over one store: what the routes call. Routes never see the store itself
 * (principle: routes reach the store only through the registry domain).
 */
import type { ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import { Blobs } from './blobs.ts';
import { collectGarbage, type GcOptions, type GcReport } from './gc.ts';
import { Images } from './images.ts';
import { Listings } from './listings.ts';
import { DirectUploads } from './direct-uploads.ts';
import { Manifests } from './manifests.ts';
import { Promotion } from './promotion.ts';
import { Policies } from './policies.ts';
import { TagWrites, type Clock } from './tag-writes.ts';
import { Uploads } from './uploads.ts';
import { Webhooks } from './webhooks/dispatcher.ts';
import type { Logger } from '../observe/logger.ts';
import { applyRetention, type RetentionOptions, type RetentionReport } from './retention.ts';
import { storeProblem } from './health.ts';
import { Mirror, type MirrorOptions } from './mirror/mirror.ts';

export interface RegistryDomainOptions {
  /** The registry's clock (tag push times, retention ages, mirrored tag and token lifetimes); tests move it instead of sleeping. */
  clock?: Clock;
  /** The pull-through mirror's upstream fetch and log (registry/mirror/). */
  mirror?: MirrorOptions;
  /** Where webhook deliveries are logged (never their secrets or URLs' paths). */
  logger?: Logger;
  /** Node: webhook retries wait in this process, whatever their delay (webhooks/dispatcher.ts). */
  webhookTimers?: boolean;
}

export class Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly directUploads: DirectUploads;
  readonly manifests: Manifests;
  readonly listings: Listings;
  readonly promotion: Promotion;
  readonly policies: Policies;
  readonly clock: Clock;
  readonly mirror: Mirror;
  /** What people browse: tags with push times, sizes, platforms, config summaries (web UI). */
  readonly images: Images;
  readonly webhooks: Webhooks;

  constructor(
    private readonly store: ObjectStore,
    readonly config: RegistryConfig,
    options: RegistryDomainOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.blobs = new Blobs(store);
    this.uploads = new Uploads(store, config, this.blobs);
    this.directUploads = new DirectUploads(store, config, this.blobs);
    this.policies = new Policies(store);
    this.manifests = new Manifests(store, config, this.blobs, new TagWrites(store, this.policies, this.clock));
    this.listings = new Listings(store);
    this.promotion = new Promotion(this.manifests, this.blobs);
    this.images = new Images(store, this.manifests, this.blobs, this.listings);
    this.mirror = new Mirror(store, config, this.blobs, this.manifests, { now: () => this.clock().getTime(), ...options.mirror });
    this.webhooks = new Webhooks(store, { clock: this.clock, logger: options.logger, timers: options.webhookTimers });
  }

  /** Repository policies' retention rules, applied now (registry/retention.ts). */
  applyRetention(options: Omit<RetentionOptions, 'now'> & { now?: Date }): Promise<RetentionReport> {
    return applyRetention(this.store, this.policies, { ...options, now: options.now ?? this.clock() });
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
