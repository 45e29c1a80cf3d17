/** How the UI writes sizes, times, digests and artifact types: pure functions. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB" (binary units, as docker and the spec's sizes are bytes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "2026-12-01 23:06 UTC", or '' for a missing or unreadable time (builders write what they like). */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return '';
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "sha256:0123456789ab": enough to tell digests apart on a page; the full one is a link away. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 19) : digest.slice(0, colon + 13);
}

const ARTIFACT_LABELS: [RegExp, string][] = [
  [/cosign\.artifact\.sig|dev\.cosign\.simplesigning/, 'cosign signature'],
  [/notary|notation/, 'Notary signature'],
  [/sigstore\.bundle/, 'Sigstore bundle'],
  [/spdx/, 'SPDX SBOM'],
  [/cyclonedx/, 'CycloneDX SBOM'],
  [/in-toto/, 'in-toto attestation'],
];

/** A friendly name for well-known referrer artifact types; the type itself otherwise. */
export function artifactLabel(artifactType: string | undefined): string {
  if (!artifactType) return 'artifact';
  for (const [pattern, label] of ARTIFACT_LABELS) if (pattern.test(artifactType)) return label;
  return artifactType;
}
