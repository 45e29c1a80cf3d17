/**
 * Bench tables: samples per system, summarised as median, min and max, with ratios against
 * the reference registry and against the raw store. Every ratio reads "bigger is better for
 * Berth": throughput ratios are berth/other, time ratios are other/berth.
 */

export type Better = 'higher' | 'lower';

export interface Table {
  id: string;
  title: string;
  unit: string;
  better: Better;
  samples: Record<string, number[]>;
  /** Which system each Berth row is compared with as its raw store. */
  raw?: Record<string, string>;
  note?: string;
}

export const REFERENCE = 'reference';

export interface Row {
  system: string;
  n: number;
  median: number;
  min: number;
  max: number;
  vsRef?: number;
  vsRaw?: number;
  rawSystem?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Ratio of medians, oriented so that > 1 means `system` did better than `other`. */
export function ratio(table: Table, system: string, other: string): number | undefined {
  const a = table.samples[system];
  const b = table.samples[other];
  if (!a?.length || !b?.length) return undefined;
  const ma = median(a);
  const mb = median(b);
  return table.better === 'higher' ? ma / mb : mb / ma;
}

export function rows(table: Table): Row[] {
  return Object.entries(table.samples)
    .filter(([, values]) => values.length > 0)
    .map(([system, values]) => {
      const row: Row = { system, n: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values) };
      if (system !== REFERENCE) row.vsRef = ratio(table, system, REFERENCE);
      const rawSystem = table.raw?.[system];
      if (rawSystem) {
        row.rawSystem = rawSystem;
        row.vsRaw = ratio(table, system, rawSystem);
      }
      return row;
    });
}

export function add(table: Table, system: string, value: number): void {
  (table.samples[system] ??= []).push(value);
}

export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(digits);
}
