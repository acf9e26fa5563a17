import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Figure {
  figure: string;
  unit: string;
  median: number;
  runs: number[];
  target?: string;
  met?: boolean;
  note?: string;
}

const results: Figure[] = [];

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Prints one JSON line per figure and keeps it for the results file. `atLeast`/`atMost` state the target. */
export function report(
  figure: string,
  unit: string,
  runs: number[],
  target?: { atLeast?: number; atMost?: number },
  note?: string,
): Figure {
  const value = round(median(runs));
  const entry: Figure = { figure, unit, median: value, runs: runs.map(round) };
  if (target?.atLeast !== undefined) Object.assign(entry, { target: `>= ${target.atLeast}`, met: value >= target.atLeast });
  if (target?.atMost !== undefined) Object.assign(entry, { target: `<= ${target.atMost}`, met: value <= target.atMost });
  if (note) entry.note = note;
  results.push(entry);
  process.stdout.write(`${JSON.stringify(entry)}\n`);
  return entry;
}

export function writeResults(): string {
  const directory = path.resolve(__dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, 'latest.json');
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), node: process.version, figures: results }, null, 2),
  );
  return file;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
