import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestSite } from '../../worker/http/origin.ts';

const ours = 'https://registry.example';
const site = (headers: Record<string, string>) => requestSite(new Headers(headers), ours);

describe('requestSite', () => {
  it('Origin decides when present, then Sec-Fetch-Site, then Referer', () => {
    assert.equal(site({ origin: ours }), 'same-origin');
    assert.equal(site({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }), 'cross-site');
    assert.equal(site({ origin: 'null' }), 'cross-site');
    assert.equal(site({ 'sec-fetch-site': 'same-site' }), 'cross-site');
    assert.equal(site({ 'sec-fetch-site': 'cross-site' }), 'cross-site');
    assert.equal(site({ 'sec-fetch-site': 'none' }), 'unknown', 'opened directly by the user');
    assert.equal(site({ referer: `${ours}/ui/` }), 'same-origin');
    assert.equal(site({ referer: 'https://evil.example/x' }), 'cross-site');
  });

  it('a client that is no browser says nothing: unknown', () => {
    assert.equal(site({}), 'unknown');
    assert.equal(site({ referer: 'not a url' }), 'unknown');
  });
});
