/**
 * One delivery attempt: POST the envelope to the hook's URL, signed when the hook has a secret.
 * Success is a 2xx answer within ATTEMPT_TIMEOUT_MS. Redirects are not followed (targets.ts:
 * a receiver must not be able to point Berth elsewhere). The answer's body is not read beyond
 * what closing needs, and it is never logged (it could echo anything).
 */
import type { Attempt } from './deliveries.ts';
import { EVENT_MEDIA_TYPE } from './envelope.ts';
import type { WebhookRecord } from './hooks.ts';
import { SIGNATURE_HEADER, signBody } from './signature.ts';

export const ATTEMPT_TIMEOUT_MS = 10_000;
const USER_AGENT = 'Berth-Webhooks/1';

export interface SendInput {
  hook: WebhookRecord;
  body: string;
  /** `X-Berth-Delivery`: the same on every attempt of one delivery, for receivers that dedupe. */
  deliveryId: string;
  action: string;
  now: () => Date;
}

export async function sendOnce(input: SendInput): Promise<Attempt> {
  const started = input.now();
  const t0 = performance.now();
  const headers: Record<string, string> = {
    'Content-Type': EVENT_MEDIA_TYPE,
    'User-Agent': USER_AGENT,
    'X-Berth-Delivery': input.deliveryId,
    'X-Berth-Event': input.action,
  };
  if (input.hook.secret !== undefined) headers[SIGNATURE_HEADER] = await signBody(input.hook.secret, input.body);
  const elapsed = (): number => Math.round(performance.now() - t0);
  try {
    const res = await fetch(input.hook.url, {
      method: 'POST',
      headers,
      body: input.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    const attempt: Attempt = { at: started.toISOString(), status: res.status, ms: elapsed() };
    if (res.status >= 300 && res.status < 400) attempt.error = 'redirect not followed';
    return attempt;
  } catch (error) {
    return { at: started.toISOString(), error: failureReason(error), ms: elapsed() };
  }
}

export function succeeded(attempt: Attempt): boolean {
  return attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300;
}

/** A few words on why fetch failed (the system error hides in `cause`); never the URL. */
function failureReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${ATTEMPT_TIMEOUT_MS} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return (cause instanceof Error ? cause.message : String(cause)).slice(0, 200);
}
