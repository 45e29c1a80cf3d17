/**
 * Dot segments in a request target. URL parsers (Node's, workerd's, Hono's adapters) resolve `.`
 * and `..` before routing (RFC 3986 §5.2.4), so `/v2/x/../team/app/manifests/v1` would act on
 * `team/app` although the client named `x/../team/app`, and a proxy in front that allows or
 * routes by the raw path would see another repository than the one Berth serves. Berth refuses
 * such a target instead of guessing which one the client meant.
 */

/** A segment that URL parsing would resolve: `.` or `..`, also percent-encoded (`%2e`, `.%2E`…). */
function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

/**
 * True when the path part of `target` (an origin-form request target, `/path?query`) has a dot
 * segment. Backslashes count as separators, as the WHATWG URL parser treats them for http URLs.
 */
export function hasDotSegment(target: string): boolean {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return path.split(/[/\\]/).some(isDotSegment);
}
