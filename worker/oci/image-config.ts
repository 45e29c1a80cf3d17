/**
 * What a person wants to know from an image config (image-spec config.md; Docker's image JSON
 * has the same fields): when it was built, for which platform, what it runs and its labels.
 * Environment variables are reduced to their NAMES: values often hold secrets baked in at build
 * time, and a registry UI is not the place to reveal them.
 *
 * The config is untrusted JSON (anyone with push wrote it): every field is type-checked, lists
 * are capped and long strings cut, so a hostile config cannot blow up a page.
 */

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
  'os.version'?: string;
}

export interface ConfigSummary {
  /** RFC 3339 time the image was created, as the builder wrote it. */
  created?: string;
  platform?: string;
  author?: string;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  /** Names only, never values. */
  envNames: string[];
  labels: Record<string, string>;
  exposedPorts: string[];
  volumes: string[];
  stopSignal?: string;
  /** Number of history entries (build steps), when the config lists them. */
  historyLength?: number;
}

const MAX_ITEMS = 200;
const MAX_TEXT = 1000;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}

function strings(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.slice(0, MAX_ITEMS).filter((v): v is string => typeof v === 'string').map((v) => text(v) ?? '');
}

function keysOf(value: unknown): string[] {
  return isObject(value) ? Object.keys(value).slice(0, MAX_ITEMS).map((k) => text(k) ?? '') : [];
}

/** `linux/arm64/v8`, `windows/amd64 (10.0.17763.1)`, or '' when nothing is known. */
export function formatPlatform(platform: Platform | Record<string, unknown> | undefined): string {
  if (!platform) return '';
  const part = (name: string): string | undefined => text((platform as JsonObject)[name]);
  const main = [part('os'), part('architecture'), part('variant')].filter(Boolean).join('/');
  const version = part('os.version');
  return version ? `${main} (${version})` : main;
}

/** The summary of a parsed image config, or null when it is not a JSON object. */
export function summarizeConfig(json: unknown): ConfigSummary | null {
  if (!isObject(json)) return null;
  const config = isObject(json.config) ? json.config : {};
  const env = strings(config.Env) ?? [];
  const labels: Record<string, string> = {};
  if (isObject(config.Labels)) {
    for (const [key, value] of Object.entries(config.Labels).slice(0, MAX_ITEMS)) {
      if (typeof value === 'string') labels[text(key) ?? ''] = text(value) ?? '';
    }
  }
  const summary: ConfigSummary = {
    // The name ends at the first '=' (a variable without one has no value at all).
    envNames: env.map((entry) => entry.split('=', 1)[0] ?? '').filter(Boolean),
    labels,
    exposedPorts: keysOf(config.ExposedPorts),
    volumes: keysOf(config.Volumes),
  };
  // Optional facts are set only when present, so a summary never carries empty fields.
  const optional: Partial<ConfigSummary> = {
    created: text(json.created),
    platform: formatPlatform(json) || undefined,
    author: text(json.author),
    entrypoint: strings(config.Entrypoint),
    cmd: strings(config.Cmd),
    workingDir: text(config.WorkingDir),
    user: text(config.User),
    stopSignal: text(config.StopSignal),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(summary, { [key]: value });
  if (Array.isArray(json.history)) summary.historyLength = json.history.length;
  return summary;
}
