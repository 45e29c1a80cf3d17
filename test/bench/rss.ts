/**
 * Memory and CPU of server processes from /proc (Linux). Peak RSS is the kernel's VmHWM, which
 * `resetPeak` clears (writing 5 to /proc/<pid>/clear_refs) so one phase, such as the 2 GiB
 * push, can be measured on its own; a 100 ms poll of VmRSS backs it up where clear_refs is
 * not allowed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const MB = 1024 * 1024;

export class RssWatch {
  private readonly polled = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: number[]) {
    this.timer = setInterval(() => this.poll(), 100);
    this.timer.unref();
  }

  private poll(): void {
    for (const pid of this.pids) this.polled.set(pid, Math.max(this.polled.get(pid) ?? 0, statusField(pid, 'VmRSS')));
  }

  /** Starts a new peak window for `pid`. */
  resetPeak(pid: number): void {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not permitted: VmHWM keeps the peak since start, still an upper bound.
    }
    this.polled.set(pid, statusField(pid, 'VmRSS'));
  }

  /** Peak RSS in bytes since start or the last reset. */
  peak(pid: number): number {
    this.poll();
    return Math.max(this.polled.get(pid) ?? 0, statusField(pid, 'VmHWM'));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores) so far. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return (total - idle) / CLOCK_TICKS;
}

/** Process ids below `root` (children, grandchildren …) whose command name is `name`. */
export function descendantsNamed(root: number, name: string): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      names.set(Number(entry), stat.slice(open + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, n]) => n === name && below(pid)).map(([pid]) => pid);
}
