/**
 * Whether a registry client that follows a redirect sends its registry credentials along.
 *
 * Go's net/http, under docker, podman, skopeo, containerd and the OCI conformance suite, copies
 * `Authorization` onto a redirect when the target's host name is the original one or a subdomain
 * of it; ports and schemes do not count (net/http `shouldCopyHeaderOnRedirect`). A presigned URL
 * already carries its own signature, and S3 (and MinIO, and the local test server) answer 400 to
 * a request with two authentication mechanisms. So a blob pull redirected to a store on the
 * registry's own host name (127.0.0.1:9000 behind 127.0.0.1:5000, or minio.registry.example.com
 * behind registry.example.com) fails; Berth streams the blob itself instead (routes/blobs.ts).
 */

/** Host names compare case-insensitively and without a trailing dot (RFC 1034 §3.1). */
function normalHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** True when a client redirected from `registryHost` to `targetUrl` keeps its Authorization header. */
export function redirectKeepsCredentials(registryHost: string, targetUrl: string): boolean {
  let target: string;
  try {
    target = normalHost(new URL(targetUrl).hostname);
  } catch {
    return false;
  }
  const origin = normalHost(registryHost);
  return target === origin || target.endsWith(`.${origin}`);
}
