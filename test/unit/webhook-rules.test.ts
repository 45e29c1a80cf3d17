/**
 * The pure parts of webhooks (worker/registry/webhooks/): which targets are internal, the retry
 * schedule, the envelope's shape, the signature and the checks on a hook definition.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkTarget, isInternalHost } from '../../worker/registry/webhooks/targets.ts';
import { DELIVERY_WINDOW_SECONDS, nextAttemptAt, RETRY_DELAYS_SECONDS } from '../../worker/registry/webhooks/backoff.ts';
import { envelopeEvent, summarize, type RegistryEvent } from '../../worker/registry/webhooks/envelope.ts';
import { signBody } from '../../worker/registry/webhooks/signature.ts';
import { hookWants, validateWebhook, webhookView, type WebhookRecord } from '../../worker/registry/webhooks/hooks.ts';
import { newSeq } from '../../worker/registry/webhooks/deliveries.ts';

const NOW = new Date('2026-05-01T12:00:00Z');

describe('webhook targets', () => {
  it('internal hosts: loopback, private, link-local, CGNAT, ULA, mapped, local names', () => {
    for (const host of [
      '127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
      '0.0.0.0', '224.0.0.1', '[::1]', '[::]', '[fd00::1]', '[fe80::1]', '[::ffff:7f00:1]', '[::ffff:a00:1]',
      'localhost', 'api.localhost', 'printer.local', 'metadata.google.internal', 'nas.home.arpa', 'redis', 'LOCALHOST.',
    ]) assert.equal(isInternalHost(host), true, host);
    for (const host of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', 'hooks.example.com', '[2606:4700::1111]', '[::ffff:808:808]']) {
      assert.equal(isInternalHost(host), false, host);
    }
  });

  it('the URL parser normalises numeric tricks before the check', () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/', 'http://017700000001/']) {
      const result = checkTarget(url);
      assert.ok(result.ok && result.internal, url);
    }
  });

  it('refuses what a webhook must not be', () => {
    const reasons: [unknown, RegExp][] = [
      ['ftp://example.com/', /http or https/],
      ['file:///etc/passwd', /http or https/],
      ['javascript:alert(1)', /http or https/],
      ['https://user:pw@example.com/', /credentials/],
      ['https://example.com/#x', /fragment/],
      ['not a url', /not a valid URL/],
      [`https://example.com/${'x'.repeat(2100)}`, /at most 2048/],
      [42, /http\(s\) URL/],
    ];
    for (const [url, reason] of reasons) {
      const result = checkTarget(url);
      assert.equal(result.ok, false, String(url));
      if (!result.ok) assert.match(result.reason, reason);
    }
    const ok = checkTarget('https://hooks.example.com/berth?team=a');
    assert.ok(ok.ok && !ok.internal);
  });
});

describe('retry schedule', () => {
  it('backs off from 1 s to 8 h and gives up after the last delay or the window', () => {
    const created = NOW;
    let last = NOW;
    const gaps: number[] = [];
    for (let attempts = 1; ; attempts++) {
      const next = nextAttemptAt(attempts, created, last);
      if (!next) break;
      gaps.push((next.getTime() - last.getTime()) / 1000);
      last = next;
    }
    assert.deepEqual(gaps, [...RETRY_DELAYS_SECONDS]);
    assert.ok((last.getTime() - created.getTime()) / 1000 <= DELIVERY_WINDOW_SECONDS);
    // A delivery whose attempts ran late (a sweep every 30 minutes) still stops at the window.
    assert.equal(nextAttemptAt(3, created, new Date(created.getTime() + DELIVERY_WINDOW_SECONDS * 1000 - 10_000)), null);
  });

  it('delivery sequence numbers list newest first', () => {
    const older = newSeq(NOW);
    const newer = newSeq(new Date(NOW.getTime() + 1));
    assert.ok(newer < older);
    assert.match(older, /^\d{15}-[0-9a-f]{8}$/);
  });
});

describe('the envelope', () => {
  const event: RegistryEvent = {
    action: 'push', repository: 'prod/app', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 512, tag: 'v1', actor: 'ci', baseUrl: 'https://registry.example',
    request: { id: 'req-1', addr: '192.0.2.1', host: 'registry.example', method: 'PUT', useragent: 'docker/28' },
  };

  it('is shaped like Distribution\'s notification event', () => {
    const e = envelopeEvent(event, { id: 'evt-1', timestamp: NOW, instanceId: 'inst-1' });
    assert.deepEqual(e, {
      id: 'evt-1',
      timestamp: '2026-05-01T12:00:00.000Z',
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: event.digest, size: 512, length: 512, repository: 'prod/app',
        url: `https://registry.example/v2/prod/app/manifests/${event.digest}`, tag: 'v1',
      },
      request: event.request,
      actor: { name: 'ci' },
      source: { addr: 'registry.example', instanceID: 'inst-1' },
    });
    assert.equal(summarize(e), 'push prod/app:v1');
    const { tag: _t, actor: _a, ...byDigest } = event;
    const anonymous = envelopeEvent({ ...byDigest, action: 'pull' }, { id: 'x', timestamp: NOW, instanceId: 'i' });
    assert.deepEqual(anonymous.actor, {});
    assert.equal(summarize(anonymous), `pull prod/app@${event.digest}`);
  });

  it('is signed with HMAC-SHA256 of the exact body', async () => {
    const body = JSON.stringify({ events: [envelopeEvent(event, { id: 'e', timestamp: NOW, instanceId: 'i' })] });
    assert.equal(await signBody('s3cret-s3cret-s3cret', body), `sha256=${createHmac('sha256', 's3cret-s3cret-s3cret').update(body).digest('hex')}`);
  });
});

describe('hook definitions', () => {
  it('defaults to push events on every repository, keeps the secret out of views', () => {
    const hook = validateWebhook({ url: 'https://hooks.example.com/x', secret: 'sixteen-chars-ok' }, 'wh_0123456789abcdef', 'admin', NOW) as WebhookRecord;
    assert.deepEqual(hook.events, ['push']);
    assert.equal(hook.repos, '**');
    assert.equal(hook.allowInternal, false);
    const view = webhookView(hook);
    assert.equal('secret' in view, false);
    assert.equal(view.hasSecret, true);
    assert.equal(hookWants(hook, 'push', 'any/repo'), true);
    assert.equal(hookWants(hook, 'pull', 'any/repo'), false);
    const scoped = validateWebhook({ url: 'https://h.example.com/', events: ['delete', 'pull'], repos: 'prod/*' }, 'wh_0123456789abcdef', 'a', NOW) as WebhookRecord;
    assert.equal(hookWants(scoped, 'pull', 'prod/app'), true);
    assert.equal(hookWants(scoped, 'pull', 'prod/team/app'), false);
  });

  it('internal targets need allowInternal; bad fields are named', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ url: 'http://127.0.0.1:9000/' }, /127\.0\.0\.1 is an internal address/],
      [{ url: 'https://h.example.com/', events: [] }, /non-empty list/],
      [{ url: 'https://h.example.com/', events: ['push', 'tag'] }, /non-empty list of push, delete, pull/],
      [{ url: 'https://h.example.com/', repos: 'Prod/**' }, /repos must be a repository glob/],
      [{ url: 'https://h.example.com/', secret: 'short' }, /secret must be 16 to 256/],
      [{ url: 'https://h.example.com/', allowInternal: 'yes' }, /allowInternal must be true or false/],
    ];
    for (const [input, reason] of refused) {
      const result = validateWebhook(input, 'wh_0123456789abcdef', 'admin', NOW);
      assert.equal(typeof result, 'string', JSON.stringify(input));
      assert.match(result as string, reason);
    }
    const allowed = validateWebhook({ url: 'http://127.0.0.1:9000/', allowInternal: true }, 'wh_0123456789abcdef', 'admin', NOW);
    assert.equal(typeof allowed, 'object');
  });
});
