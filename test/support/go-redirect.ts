/**
 * How Go's net/http (the client inside docker, podman, skopeo, containerd and the OCI conformance
 * suite) treats credentials on a redirect, for test clients that replay those clients: the
 * `Authorization` header is copied when the new host name is the old one or a subdomain of it,
 * whatever the port (`shouldCopyHeaderOnRedirect`). Written from Go's documented behaviour, apart
 * from Berth's own rule so a test cannot agree with Berth by construction.
 */
export function goCopiesAuthorization(from: URL, to: URL): boolean {
  const source = from.hostname.toLowerCase();
  const target = to.hostname.toLowerCase();
  return target === source || target.endsWith(`.${source}`);
}

/** Statuses Go's client follows for GET and HEAD. */
export const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
