/**
 * infra/docker: the Dockerfile keeps the properties the README promises (official Node base as
 * a build argument, non-root user, /data volume, health check, SIGTERM) and compose.yaml wires
 * Berth to the bucket it creates. The image itself is built and run in test/e2e/container-image.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const dockerfile = readFileSync('infra/docker/Dockerfile', 'utf8');
const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l)).map((l) => l.trim());

it('the Dockerfile starts from the official Node image by default, as a build argument', () => {
  assert.equal(instructions[0], 'ARG NODE_IMAGE=node:20-bookworm-slim');
  assert.deepEqual(instructions.filter((l) => l.startsWith('FROM ')), ['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
});

it('the final stage runs as a numeric non-root user with /data as its volume and a health check', () => {
  const final = instructions.slice(instructions.lastIndexOf('FROM ${NODE_IMAGE}'));
  const user = final.find((l) => l.startsWith('USER '));
  assert.equal(user, 'USER 10001:10001');
  assert.ok(final.includes('VOLUME /data'));
  assert.ok(final.includes('STOPSIGNAL SIGTERM'));
  assert.match(final.find((l) => l.startsWith('HEALTHCHECK ')) ?? '', /healthcheck\.mjs/);
  assert.match(dockerfile, /HOST=0\.0\.0\.0/);
  assert.match(dockerfile, /BERTH_DATA_DIR=\/data/);
});

it('compose.yaml points Berth at the bucket it creates, with the same credentials', () => {
  const compose = parse(readFileSync('infra/docker/compose.yaml', 'utf8')) as {
    services: Record<string, { environment?: Record<string, string>; entrypoint?: string[]; image?: string }>;
  };
  const { berth, minio, bucket } = compose.services;
  assert.ok(berth && minio && bucket);
  const env = berth.environment!;
  assert.equal(env.BERTH_STORAGE, 's3');
  assert.equal(env.BERTH_S3_ENDPOINT, 'http://minio:9000');
  assert.equal(env.BERTH_S3_ACCESS_KEY_ID, minio.environment!.MINIO_ROOT_USER);
  assert.equal(env.BERTH_S3_SECRET_ACCESS_KEY, minio.environment!.MINIO_ROOT_PASSWORD);
  assert.match(bucket.entrypoint!.join(' '), new RegExp(`mc mb --ignore-existing store/${env.BERTH_S3_BUCKET}\\b`));
  assert.equal(berth.image, 'berth:local');
});
