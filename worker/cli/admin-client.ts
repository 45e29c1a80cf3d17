/** The CLI's HTTP client for Berth's admin API: Basic auth, JSON in and out, one-line errors. */
import { CliError } from './args.ts';
import type { Credentials } from './context.ts';

export class AdminClient {
  private readonly authorization: string;

  constructor(private readonly credentials: Credentials) {
    this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.credentials.url}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        // Every admin write is JSON, with a body or without: the server refuses anything else (CSRF).
        headers: { Authorization: this.authorization, ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach ${this.credentials.url}: ${networkCause(error)}`, 1);
    }
    const text = await res.text();
    if (!res.ok) throw new CliError(`${method} ${path}: HTTP ${res.status} ${errorSummary(text)}${retryHint(res)}`, 1);
    return (text ? JSON.parse(text) : null) as T;
  }
}

/** `CODE: message; …` from an OCI/Berth error body, or the text itself. */
export function errorSummary(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: { code: string; message: string }[] };
    if (parsed.errors) return parsed.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch {
    // not JSON: show as is
  }
  return text.trim().split('\n')[0] ?? '';
}

function retryHint(res: Response): string {
  return res.status === 429 ? ` (retry after ${res.headers.get('retry-after')} s)` : '';
}

/** Why fetch failed, in a few words (undici hides the system error in `cause`). */
export function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
