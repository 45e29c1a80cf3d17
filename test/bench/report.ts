/** Renders bench tables as aligned text (console) and as markdown (test/bench/RESULTS.md). */
import { fmt, rows, type Table } from './stats.ts';

const HEADER = ['system', 'n', 'median', 'min', 'max', 'vs ref', 'vs raw'];

function cells(table: Table): string[][] {
  return rows(table).map((r) => [
    r.system,
    String(r.n),
    fmt(r.median),
    fmt(r.min),
    fmt(r.max),
    r.vsRef === undefined ? '' : `${fmt(r.vsRef)}×`,
    r.vsRaw === undefined ? '' : `${fmt(r.vsRaw)}× ${r.rawSystem}`,
  ]);
}

export function textTable(table: Table): string {
  const body = cells(table);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const better = table.better === 'higher' ? 'higher is better' : 'lower is better';
  return [`\n${table.title} [${table.unit}, ${better}]${table.note ? ` (${table.note})` : ''}`, line(HEADER), ...body.map(line)].join('\n');
}

export function markdownTable(table: Table): string {
  const better = table.better === 'higher' ? 'higher is better' : 'lower is better';
  return [
    `### ${table.title}`,
    '',
    `${table.unit}, ${better}.${table.note ? ` ${table.note}` : ''}`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...cells(table).map((row) => `| ${row.join(' | ')} |`),
    '',
  ].join('\n');
}
