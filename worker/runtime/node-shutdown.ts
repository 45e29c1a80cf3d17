/**
 * Graceful shutdown of the Node server. On SIGTERM (a container stop, a rolling update) or
 * SIGINT: stop accepting connections, answer `/readyz` with 503 so a load balancer moves away,
 * let the requests in flight finish for up to BERTH_SHUTDOWN_TIMEOUT_SECONDS, then close what
 * is left and exit. A second signal exits at once.
 *
 * Cutting an upload short cannot publish anything: a blob becomes visible only when its digest
 * was verified over every byte and its record written (registry/uploads.ts), so an interrupted
 * body leaves an unfinished session the cleanup job expires, never a partial blob.
 */
import type { Server } from 'node:http';
import type { Logger } from '../observe/logger.ts';

export interface Shutdown {
  /** True from the first signal on. */
  draining(): boolean;
}

export function handleShutdown(server: Server, options: { timeoutMs: number; logger: Logger; beforeExit?: () => void }): Shutdown {
  let draining = false;
  let inFlight = 0;
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
  });

  const exit = (code: number): never => {
    options.beforeExit?.();
    process.exit(code);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      options.logger.warn('second signal: exiting now', { signal, inFlight });
      exit(1);
    }
    draining = true;
    options.logger.info('shutting down: no new connections, waiting for requests in flight', { signal, inFlight, timeoutMs: options.timeoutMs });
    // close() stops accepting and closes idle keep-alive connections; busy ones close after
    // their response (Node answers them with Connection: close).
    server.close(() => {
      options.logger.info('shut down cleanly');
      exit(0);
    });
    server.closeIdleConnections();
    const timer = setTimeout(() => {
      options.logger.warn('shutdown timeout: closing the connections left', { inFlight });
      server.closeAllConnections();
      exit(0);
    }, options.timeoutMs);
    timer.unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { draining: () => draining };
}
