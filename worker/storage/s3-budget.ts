/**
 * How long one S3 operation may take, all its attempts together.
 *
 * The SDK retries a failed attempt (3 attempts); with only a per-attempt timeout, a store that
 * never answers costs attempts × timeout before Berth can answer its client (90 s with a 30 s
 * timeout). Here `BERTH_S3_TIMEOUT_MS` is the budget of the whole operation:
 * - each attempt of an operation without a large body waits at most a third of it for the
 *   answer, so a black-holed request is retried twice and the three still fit the budget;
 * - an attempt that carries a part or a large object may use the whole budget (the bytes take
 *   time to send), and is retried only if the budget has time left;
 * - when the budget runs out, the operation is aborted (the SDK does not retry an abort), so a
 *   dead store is answered within the budget whatever the number of attempts.
 * The budget covers the wait for the store's answer; a streamed response body (a large GET)
 * is then bounded by the socket's inactivity timeout only.
 */

/** Attempts per operation (the SDK's default, stated so the arithmetic above holds). */
export const S3_MAX_ATTEMPTS = 3;

/** Per-request options the SDK's HTTP handlers read (Node's and fetch's alike). */
export interface SendOptions {
  abortSignal: AbortSignal;
  requestTimeout: number;
}

export type OperationKind = 'answer' | 'transfer';

export interface OperationBudget {
  /** Options for one `client.send`; `transfer` when the request carries a part or a large body. */
  options(kind: OperationKind): SendOptions;
  /** Stops the clock (once the answer is in and only a streamed body remains). */
  end(): void;
}

/** Per-attempt wait for an answer, for operations without a large body. */
export function attemptTimeoutMs(totalMs: number): number {
  return Math.max(1, Math.ceil(totalMs / S3_MAX_ATTEMPTS));
}

export function startBudget(totalMs: number): OperationBudget {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(`the store did not answer within ${totalMs} ms (BERTH_S3_TIMEOUT_MS), retries included`));
  }, totalMs);
  return {
    options: (kind) => ({
      abortSignal: controller.signal,
      requestTimeout: kind === 'transfer' ? totalMs : attemptTimeoutMs(totalMs),
    }),
    end: () => clearTimeout(timer),
  };
}
