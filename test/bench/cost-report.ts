/**
 * Renders the per-operation costs (costs.ts): server CPU per operation for every system side by
 * side, and Berth's store calls per operation by ObjectStore method, as text and markdown.
 */
import type { CostResult } from './costs.ts';
import { fmt, REFERENCE } from './stats.ts';

const cpuOf = (r: CostResult, op: string, system: string): number | undefined => r.costs.find((c) => c.op === op && c.system === system)?.cpuMs;

function systemsOf(r: CostResult): string[] {
  return [...new Set(r.costs.map((c) => c.system))];
}

function opsOf(r: CostResult): string[] {
  return [...new Set(r.costs.map((c) => c.op))];
}

/** "12: get 5, put 4, head 3" (total first, then methods by count). */
export function callsCell(calls: Record<string, number> | undefined): string {
  if (!calls) return '';
  const entries = Object.entries(calls).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = entries.reduce((n, [, v]) => n + v, 0);
  return total === 0 ? '0' : `${total}: ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`;
}

function cpuRows(r: CostResult): { header: string[]; rows: string[][] } {
  const systems = systemsOf(r);
  const berths = systems.filter((s) => s !== REFERENCE);
  const header = ['operation', ...systems.map((s) => `${s} ms`), ...(systems.includes(REFERENCE) ? berths.map((s) => `${s} vs ref`) : []), 'reps'];
  const rows = opsOf(r).map((op) => {
    const ref = cpuOf(r, op, REFERENCE);
    const reps = r.costs.filter((c) => c.op === op).map((c) => c.reps);
    return [
      r.titles[op] ?? op,
      ...systems.map((s) => fmt(cpuOf(r, op, s), 3)),
      ...(systems.includes(REFERENCE) ? berths.map((s) => {
        const mine = cpuOf(r, op, s);
        return ref !== undefined && mine ? `${fmt(ref / mine)}×` : '';
      }) : []),
      `${Math.min(...reps)}-${Math.max(...reps)}`,
    ];
  });
  return { header, rows };
}

function callRows(r: CostResult): { header: string[]; rows: string[][] } {
  const systems = [...new Set(r.calls.map((c) => c.system))];
  const header = ['operation', ...systems.map((s) => `${s} store calls`)];
  const rows = [...new Set(r.calls.map((c) => c.op))].map((op) => [
    r.titles[op] ?? op,
    ...systems.map((s) => callsCell(r.calls.find((c) => c.op === op && c.system === s)?.calls)),
  ]);
  return { header, rows };
}

const CPU_NOTE =
  'Server CPU per operation: user + system CPU time of the server process (/proc/<pid>/stat, 10 ms ticks), ' +
  'summed over repetitions one at a time until at least the set amount of CPU was used, then divided. ' +
  'CPU time depends far less on machine load than throughput. "vs ref" > 1 means Berth used less CPU. ' +
  'Berth on S3 excludes the S3 server\'s own CPU. The reference registry ignores `n` on tags/list (every tag, every time).';

const CALLS_NOTE =
  'Store calls per operation: ObjectStore calls the operation made, counted by a twin of the server on the same ' +
  'store (test/bench/counted-server.ts), one run of the operation. On S3 each call is one S3 request, except ' +
  '`presignGet` (no request; the client then makes one GET to the store).';

function markdown(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

function text(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function costsMarkdown(r: CostResult): string {
  const cpu = cpuRows(r);
  const calls = callRows(r);
  return [
    '### Server CPU per operation',
    '',
    CPU_NOTE,
    '',
    ...markdown(cpu.header, cpu.rows),
    '',
    '### Store calls per operation',
    '',
    CALLS_NOTE,
    '',
    ...markdown(calls.header, calls.rows),
    '',
  ].join('\n');
}

export function costsText(r: CostResult): string {
  const cpu = cpuRows(r);
  const calls = callRows(r);
  return ['\nServer CPU per operation (ms)', ...text(cpu.header, cpu.rows), '\nStore calls per operation', ...text(calls.header, calls.rows)].join('\n');
}
