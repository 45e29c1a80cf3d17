export * from './digest.ts';
export * from './errors.ts';
export * from './manifest.ts';
export * from './media-types.ts';
export * from './pagination.ts';
export * from './range.ts';
export * from './reference.ts';
