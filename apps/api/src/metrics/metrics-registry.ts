/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and histograms kept in memory, gauges read
 * from their source at each scrape. A dependency would give the same text; this keeps the hot path to a map
 * lookup and a few additions per request, and keeps what can become a label under our eye.
 */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface GaugeSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples(): string[] | Promise<string[]>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    const counter = new Counter(name, checkLabels(labelNames));
    this.add({ name, help, type: 'counter', samples: () => counter.samples() });
    return counter;
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    const histogram = new Histogram(name, checkLabels(labelNames), buckets);
    this.add({ name, help, type: 'histogram', samples: () => histogram.samples() });
    return histogram;
  }

  /** A gauge whose samples are read when scraped; a family with no samples is left out. */
  gauge(name: string, help: string, collect: () => GaugeSample[] | Promise<GaugeSample[]>): void {
    this.add({ name, help, type: 'gauge', samples: async () => (await collect()).map((sample) => line(name, sample.labels ?? {}, sample.value)) });
  }

  async render(): Promise<string> {
    const blocks = await Promise.all(
      this.families.map(async (family) => {
        const samples = await family.samples();
        return samples.length === 0 ? '' : `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n${samples.join('\n')}\n`;
      }),
    );
    return blocks.join('');
  }

  private add(family: Family): void {
    if (!NAME.test(family.name)) throw new Error(`not a metric name: ${family.name}`);
    if (this.families.some((other) => other.name === family.name)) throw new Error(`metric registered twice: ${family.name}`);
    this.families.push(family);
  }
}

/** Label values are joined into one map key; \u0001 cannot occur in a method, a route pattern or a status. */
const keyOf = (values: readonly string[]) => values.join('\u0001');

export class Counter {
  private readonly series = new Map<string, { values: readonly string[]; count: number }>();

  constructor(private readonly name: string, private readonly labelNames: readonly string[]) {}

  inc(values: readonly string[], by = 1): void {
    const key = keyOf(values);
    const series = this.series.get(key);
    if (series) series.count += by;
    else this.series.set(key, { values, count: by });
  }

  samples(): string[] {
    return [...this.series.values()].map(({ values, count }) => line(this.name, labelsOf(this.labelNames, values), count));
  }
}

export class Histogram {
  private readonly series = new Map<string, { values: readonly string[]; buckets: number[]; sum: number; count: number }>();
  private readonly bounds: number[];

  constructor(private readonly name: string, private readonly labelNames: readonly string[], bounds: readonly number[]) {
    this.bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(values: readonly string[], value: number): void {
    const key = keyOf(values);
    let series = this.series.get(key);
    if (!series) {
      series = { values, buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    // Each observation counts in its own bucket only; the cumulative counts Prometheus wants are summed at scrape.
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) series.buckets[bucket] += 1;
    series.sum += value;
    series.count += 1;
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const { values, buckets, sum, count } of this.series.values()) {
      const labels = labelsOf(this.labelNames, values);
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += buckets[index];
        lines.push(line(`${this.name}_bucket`, { ...labels, le: formatNumber(bound) }, cumulative));
      });
      lines.push(line(`${this.name}_bucket`, { ...labels, le: '+Inf' }, count));
      lines.push(line(`${this.name}_sum`, labels, sum));
      lines.push(line(`${this.name}_count`, labels, count));
    }
    return lines;
  }
}

function checkLabels(labelNames: readonly string[]): readonly string[] {
  for (const label of labelNames) if (!LABEL.test(label) || label.startsWith('__') || label === 'le') throw new Error(`not a label name: ${label}`);
  return labelNames;
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name, index) => [name, values[index] ?? '']));
}

function line(name: string, labels: Readonly<Record<string, string>>, value: number): string {
  const pairs = Object.entries(labels).map(([label, text]) => `${label}="${escapeLabel(text)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

const escapeLabel = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
