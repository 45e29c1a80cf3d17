/**
 * Per-blob progress of `berth push`: bytes, rate and ETA. On a terminal, one live bar per blob
 * (cli-progress's multi-bar); anywhere else (CI logs, pipes), plain lines: one when a blob
 * starts, one every few seconds while it moves, one when it is done, so a log shows progress
 * without carriage-return noise.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface Progress {
  start(id: string, label: string, total: number): void;
  advance(id: string, bytes: number): void;
  done(id: string, note: string): void;
  /** A line of its own (skipped blobs, mounts, the final digest line goes to stdout instead). */
  info(line: string): void;
  stop(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

interface Moving {
  label: string;
  total: number;
  sent: number;
  started: number;
}

/** Plain periodic lines (not a terminal). */
export class LineProgress implements Progress {
  private readonly moving = new Map<string, Moving>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    intervalMs = 5000,
  ) {
    this.timer = setInterval(() => this.report(), intervalMs);
    this.timer.unref();
  }

  start(id: string, label: string, total: number): void {
    this.moving.set(id, { label, total, sent: 0, started: performance.now() });
    this.write(`${label}: ${formatBytes(total)} to send`);
  }

  advance(id: string, bytes: number): void {
    const m = this.moving.get(id);
    if (m) m.sent += bytes;
  }

  done(id: string, note: string): void {
    const m = this.moving.get(id);
    this.moving.delete(id);
    if (!m) return this.write(note);
    const seconds = (performance.now() - m.started) / 1000;
    this.write(`${m.label}: ${note}, ${formatBytes(m.sent)} sent in ${seconds.toFixed(1)} s (${formatBytes(m.sent / Math.max(seconds, 0.001))}/s)`);
  }

  info(line: string): void {
    this.write(line);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private report(): void {
    for (const m of this.moving.values()) {
      const seconds = (performance.now() - m.started) / 1000;
      const rate = m.sent / Math.max(seconds, 0.001);
      const percent = m.total === 0 ? 100 : Math.floor((m.sent / m.total) * 100);
      this.write(
        `${m.label}: ${formatBytes(m.sent)} / ${formatBytes(m.total)} (${percent}%), ${formatBytes(rate)}/s, ETA ${formatSeconds((m.total - m.sent) / rate)}`,
      );
    }
  }
}

/** Live bars on a terminal. */
export class BarProgress implements Progress {
  private readonly bars = new Map<string, SingleBar>();
  private readonly multi = new MultiBar(
    {
      format: ' {label} [{bar}] {percentage}% | {sentText} / {totalText} | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    Presets.shades_classic,
  );
  private readonly started = new Map<string, number>();
  private readonly labels = new Map<string, string>();

  start(id: string, label: string, total: number): void {
    this.started.set(id, performance.now());
    this.labels.set(id, label);
    this.bars.set(id, this.multi.create(total, 0, { label, sentText: formatBytes(0), totalText: formatBytes(total), rate: formatBytes(0) }));
  }

  advance(id: string, bytes: number): void {
    const bar = this.bars.get(id);
    if (!bar) return;
    bar.increment(bytes);
    const sent = bar.getProgress() * bar.getTotal();
    const seconds = (performance.now() - (this.started.get(id) ?? performance.now())) / 1000;
    bar.update({ sentText: formatBytes(sent), rate: formatBytes(sent / Math.max(seconds, 0.001)) });
  }

  done(id: string, note: string): void {
    const bar = this.bars.get(id);
    if (bar) {
      bar.update(bar.getTotal(), { label: `${this.labels.get(id) ?? id}: ${note}` });
      bar.stop();
    } else {
      this.info(note);
    }
  }

  info(line: string): void {
    this.multi.log(`${line}\n`);
  }

  stop(): void {
    this.multi.stop();
  }
}

export function progressFor(stream: NodeJS.WriteStream = process.stderr): Progress {
  const interval = Number(process.env.BERTH_PROGRESS_INTERVAL_MS ?? 5000);
  return stream.isTTY ? new BarProgress() : new LineProgress(undefined, Number.isFinite(interval) && interval > 0 ? interval : 5000);
}
