/**
 * A report as a flat list of figures, so that the JSON, the CSV and the printable page show the same numbers and
 * one rule decides which of them may leave the partnership.
 *
 * Kinds: `count` counts people, referrals or cases (small ones can identify someone); `tally` counts things that
 * are not people (meetings, units, days); `share` is a fraction from 0 to 1; `hours` and `units` are averages or
 * percentiles worked out from counts.
 */
export type FigureKind = 'count' | 'tally' | 'share' | 'hours' | 'units';

export interface Figure {
  /** Where it sits in the JSON, e.g. `referrals.byAgency.hampshire-police`; also its id in the CSV. */
  path: string;
  section: string;
  label: string;
  kind: FigureKind;
  /** null where there is nothing to work it out from (the median of no cases). */
  value: number | null;
  /** The counts a derived figure comes from: it is suppressed with any of them. */
  from?: string[];
  /** A cell of a breakdown whose cells add up to the figure at this path (agencies add up to all referrals). */
  partOf?: string;
}

/** Counts from 1 to 4 are withheld from anything that leaves the partnership. */
export const SMALL_COUNT_LIMIT = 5;
export const SUPPRESSED_COUNT = '<5';
export const SUPPRESSED_DERIVED = 'suppressed';

const isSmall = (figure: Figure) => figure.kind === 'count' && figure.value !== null && figure.value > 0 && figure.value < SMALL_COUNT_LIMIT;

/**
 * The paths that a shareable copy withholds, in report order:
 * 1. every count from 1 to 4 (zero identifies no one, and hiding it would hide that a service met its target);
 * 2. where exactly one cell of a breakdown is withheld but its total is shown, the smallest other non-zero cell too,
 *    or the withheld one could be worked out by subtraction;
 * 3. every share, average or percentile worked out from a withheld count (a rate of 3 in 1,300 gives the 3 away).
 */
export function suppressedPaths(figures: Figure[]): string[] {
  const suppressed = new Set(figures.filter(isSmall).map((figure) => figure.path));
  const groups = new Map<string, Figure[]>();
  for (const figure of figures) if (figure.partOf) groups.set(figure.partOf, [...(groups.get(figure.partOf) ?? []), figure]);
  for (const [total, cells] of groups) {
    if (suppressed.has(total) || cells.filter((cell) => suppressed.has(cell.path)).length !== 1) continue;
    const next = cells
      .filter((cell) => !suppressed.has(cell.path) && (cell.value ?? 0) > 0)
      .sort((a, b) => (a.value ?? 0) - (b.value ?? 0))[0];
    if (next) suppressed.add(next.path);
  }
  for (const figure of figures) {
    if (figure.kind !== 'count' && figure.from?.some((path) => suppressed.has(path))) suppressed.add(figure.path);
  }
  return figures.filter((figure) => suppressed.has(figure.path)).map((figure) => figure.path);
}

/** What a figure shows: its number, or the placeholder when it is withheld. */
export function shownValue(figure: Figure, suppressed: ReadonlySet<string>): number | string | null {
  if (!suppressed.has(figure.path)) return figure.value;
  return figure.kind === 'count' ? SUPPRESSED_COUNT : SUPPRESSED_DERIVED;
}

/** The figures nested by their paths, as the JSON answer shows them. */
export function nest(figures: Figure[], suppressed: ReadonlySet<string> | null): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const figure of figures) {
    const keys = figure.path.split('.');
    let node = root;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = suppressed ? shownValue(figure, suppressed) : figure.value;
  }
  return root;
}

/** The middle value (the mean of the two middle ones for an even number); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = ascending(values);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest rank: the smallest value with at least p% of the values at or below it; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = ascending(values);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

// A typed array sorts numbers natively, several times faster than a comparator over ten years of contact delays.
function ascending(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : round(numerator / denominator, 4);
}

export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
