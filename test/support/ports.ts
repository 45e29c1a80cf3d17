/**
 * Every suite's fixed ports go through `testPort`, so several checkouts can run their suites on
 * one machine at once: BERTH_TEST_PORT_OFFSET (default 0) shifts them all by the same amount.
 * Each suite keeps its own range of the 15000-15999 block (see the suites' PORT constants).
 */
const offset = (() => {
  const raw = process.env.BERTH_TEST_PORT_OFFSET?.trim();
  if (!raw) return 0;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || value > 40000) {
    throw new Error(`BERTH_TEST_PORT_OFFSET must be a whole number from 0 to 40000, got "${raw}"`);
  }
  return value;
})();

export function testPort(base: number): number {
  return base + offset;
}
