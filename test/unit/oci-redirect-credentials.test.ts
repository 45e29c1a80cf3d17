/** When a redirected client (Go's rule) would carry its registry credentials to the store. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redirectKeepsCredentials } from '../../worker/oci/redirect-credentials.ts';

describe('redirectKeepsCredentials', () => {
  it('the same host name on another port or scheme keeps them', () => {
    assert.equal(redirectKeepsCredentials('127.0.0.1', 'http://127.0.0.1:5001/berth/data/x?X-Amz-Signature=1'), true);
    assert.equal(redirectKeepsCredentials('registry.example.com', 'https://registry.example.com:9000/b/k'), true);
    assert.equal(redirectKeepsCredentials('[::1]', 'http://[::1]:9000/b/k'), true);
  });

  it('a subdomain of the registry keeps them; a parent or a sibling does not', () => {
    assert.equal(redirectKeepsCredentials('registry.example.com', 'https://minio.registry.example.com/b/k'), true);
    assert.equal(redirectKeepsCredentials('registry.example.com', 'https://example.com/b/k'), false);
    assert.equal(redirectKeepsCredentials('registry.example.com', 'https://minio.example.com/b/k'), false);
    assert.equal(redirectKeepsCredentials('example.com', 'https://notexample.com/b/k'), false);
  });

  it('another name for the same machine does not (localhost vs 127.0.0.1)', () => {
    assert.equal(redirectKeepsCredentials('127.0.0.1', 'http://localhost:5001/berth/data/x'), false);
    assert.equal(redirectKeepsCredentials('localhost', 'http://127.0.0.1:5001/berth/data/x'), false);
  });

  it('compares host names without case or a trailing dot; an unparsable target keeps nothing', () => {
    assert.equal(redirectKeepsCredentials('Registry.Example.COM', 'https://registry.example.com./b'), true);
    assert.equal(redirectKeepsCredentials('registry.example.com', 'not a url'), false);
  });
});
