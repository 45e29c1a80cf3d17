/**
 * One flight per key: concurrent callers asking for the same thing share the first caller's
 * work instead of each asking the upstream (ten pulls of one image fetch each blob once).
 * Per instance, in memory: a Worker isolate or a Lambda container has its own.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /**
   * The flight for `key`. When none is in the air, `start` runs now (synchronously, so no
   * second caller can slip in before it is registered) and this caller is the leader.
   */
  join(key: string, start: () => Promise<T>): { leader: boolean; result: Promise<T> } {
    const current = this.flights.get(key);
    if (current) return { leader: false, result: current };
    const result = start();
    this.flights.set(key, result);
    // Settled either way, the key is free again; the rejection is the callers' to handle.
    result.then(
      () => this.flights.delete(key),
      () => this.flights.delete(key),
    );
    return { leader: true, result };
  }

  /** Flights in the air (for tests and logs). */
  get size(): number {
    return this.flights.size;
  }
}
