/**
 * When a failed delivery is tried again: quickly at first (a receiver restarting), then ever more
 * rarely, and never after the delivery window. Pure.
 *
 * Attempt 1 is immediate; attempt n+1 follows attempt n by RETRY_DELAYS_SECONDS[n-1]: 1 s, 5 s,
 * 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h (11 attempts over about 16 hours), all within
 * DELIVERY_WINDOW_SECONDS of the event.
 */

export const RETRY_DELAYS_SECONDS = [1, 5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800] as const;
export const DELIVERY_WINDOW_SECONDS = 24 * 3600;

/** When to try again after `attempts` failed attempts of a delivery created at `createdAt`, or null to give up. */
export function nextAttemptAt(attempts: number, createdAt: Date, lastAttemptAt: Date): Date | null {
  const delay = RETRY_DELAYS_SECONDS[attempts - 1];
  if (delay === undefined) return null;
  const next = new Date(lastAttemptAt.getTime() + delay * 1000);
  return next.getTime() - createdAt.getTime() > DELIVERY_WINDOW_SECONDS * 1000 ? null : next;
}
