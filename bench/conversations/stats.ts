import v8 from "node:v8";
import { runInNewContext } from "node:vm";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nanoseconds, as a number (differences of a few seconds fit exactly in a double). */
export const nowNs = (): number => Number(process.hrtime.bigint());

let gcFn: (() => void) | null = null;

/**
 * A full garbage collection: global.gc under `node --expose-gc`, else the same function switched on
 * at run time (so that `npm run bench:conversations` works without the flag).
 */
export function fullGc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      v8.setFlagsFromString("--expose-gc");
      gcFn = runInNewContext("gc") as () => void;
    }
  }
  // Twice: the first pass can leave garbage that only a weak callback / finalizer freed.
  gcFn();
  gcFn();
}

export async function settledHeapUsed(): Promise<number> {
  await sleep(20);
  fullGc();
  await sleep(20);
  fullGc();
  return process.memoryUsage().heapUsed;
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `xs` (sorted in place). */
export function percentiles(xs: Float64Array | number[]): Percentiles {
  const a = xs instanceof Float64Array ? xs : Float64Array.from(xs);
  a.sort();
  const n = a.length;
  if (n === 0) return { n, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const at = (p: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  let sum = 0;
  for (const x of a) sum += x;
  return { n, p50: at(0.5), p99: at(0.99), max: a[n - 1]!, mean: sum / n };
}

export const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n)
    ? "-"
    : n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Microseconds from nanoseconds, with 1 decimal below 100 µs. */
export const us = (ns: number): string => {
  const v = ns / 1000;
  return `${fmt(v, v < 100 ? 1 : 0)} µs`;
};

export const pctText = (p: Percentiles, unit: (x: number) => string = us): string =>
  `p50 ${unit(p.p50)}, p99 ${unit(p.p99)}, max ${unit(p.max)}`;

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const log = (s: string) => process.stderr.write(`${s}\n`);
