import type { Metric, Registry } from 'prom-client';

/**
 * Labelled counters and histograms whose per-observation path is cheap: a series is a pre-built
 * cell found by its label values (one `Map` per label, in label order), then a few number
 * increments. prom-client's own Counter and Histogram validate the label names, build a hash
 * string from the sorted names and spread label objects on every observation (about 4.7 µs of
 * CPU per forwarded call in the gateway); here that work is done once per series, at its first
 * observation, and the cumulative buckets only at scrape. The metrics register in a prom-client
 * `Registry` like its own, which formats them: the exposition is the text prom-client's Counter
 * and Histogram give for the same observations (`prometheus-cells.test.ts` compares them).
 *
 * Nothing is validated per observation: label values are strings from bounded sets (the caller's
 * duty, as for prom-client) and observed values finite numbers. Unlike prom-client, two value sets
 * that its hash string would confuse (values with `,` or `:`) stay two series.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** The most labels a cell metric has: its lookup takes the values as positional arguments. */
export const MAX_CELL_LABELS = 6;

/** One string per label name, in the order of `labelNames`. */
export type CellLabelValues<Names extends readonly string[]> = { readonly [K in keyof Names]: string };

/** The options of a cell metric, named as prom-client's (`registers` is required here). */
export interface CellMetricOptions<Names extends readonly string[]> {
  readonly name: string;
  readonly help: string;
  /** 1 to MAX_CELL_LABELS names. */
  readonly labelNames: Names;
  readonly registers: readonly Registry[];
}

/** A histogram's options: `buckets` are the upper bounds, ascending (`+Inf` is implicit). */
export interface CellHistogramOptions<Names extends readonly string[]> extends CellMetricOptions<Names> {
  readonly buckets: readonly number[];
}

type Labels = Record<string, string>;
type Level = Map<string, unknown>;

/** The cells of one metric by label values: nested maps, and the cells in order of first use. */
class CellTree<C> {
  readonly cells: C[] = [];
  private root: Level = new Map();
  private readonly labelNames: readonly string[];
  private readonly make: (labels: Labels) => C;

  constructor(labelNames: readonly string[], make: (labels: Labels) => C) {
    if (labelNames.length < 1 || labelNames.length > MAX_CELL_LABELS) {
      throw new Error(`a cell metric has 1 to ${MAX_CELL_LABELS} labels, not ${labelNames.length}`);
    }
    this.labelNames = labelNames;
    this.make = make;
  }

  /** The cell of these values (as many as labels), made at first use. */
  find(v0: string, v1?: string, v2?: string, v3?: string, v4?: string, v5?: string): C {
    const depth = this.labelNames.length;
    let node = this.root.get(v0);
    if (depth > 1 && node !== undefined) node = (node as Level).get(v1!);
    if (depth > 2 && node !== undefined) node = (node as Level).get(v2!);
    if (depth > 3 && node !== undefined) node = (node as Level).get(v3!);
    if (depth > 4 && node !== undefined) node = (node as Level).get(v4!);
    if (depth > 5 && node !== undefined) node = (node as Level).get(v5!);
    return node === undefined ? this.add([v0, v1, v2, v3, v4, v5]) : (node as C);
  }

  clear(): void {
    this.root = new Map();
    this.cells.length = 0;
  }

  private add(values: readonly (string | undefined)[]): C {
    const names = this.labelNames;
    const last = names.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const value = values[i]!;
      let next = level.get(value) as Level | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    // Keys in label order: the exposition prints them as they are.
    const labels: Labels = {};
    for (let i = 0; i <= last; i++) labels[names[i]!] = values[i]!;
    const cell = this.make(labels);
    level.set(values[last]!, cell);
    this.cells.push(cell);
    return cell;
  }
}

/** One series of a cell counter: the shape prom-client's Counter exposes. */
interface CounterCell {
  value: number;
  readonly labels: Labels;
}

/** One series of a cell histogram: counts per bucket (not cumulative), sum and count. */
class HistogramCell {
  sum = 0;
  count = 0;
  readonly counts: Float64Array;
  readonly labels: Labels;
  private readonly bounds: Float64Array;

  constructor(labels: Labels, bounds: Float64Array) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  /** Counts `value` in the first bucket whose upper bound is at least `value`, as prom-client does. */
  observe(value: number): void {
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && !(value <= bounds[i]!)) i++;
    if (i < n) this.counts[i]!++;
    this.sum += value;
    this.count += 1;
  }
}

// The per-observation functions take the label values as positional parameters, not a rest
// array: no allocation per observation. TypeScript cannot relate them to a generic tuple type,
// hence the casts; call sites are checked against the label names.

function incrementer<Names extends readonly string[]>(
  tree: CellTree<CounterCell>,
): (...values: CellLabelValues<Names>) => void {
  const inc = (v0: string, v1?: string, v2?: string, v3?: string, v4?: string, v5?: string): void => {
    tree.find(v0, v1, v2, v3, v4, v5).value += 1;
  };
  return inc as (...values: readonly string[]) => void as (...values: CellLabelValues<Names>) => void;
}

function observer<Names extends readonly string[]>(
  tree: CellTree<HistogramCell>,
): (value: number, ...values: CellLabelValues<Names>) => void {
  const observe = (value: number, v0: string, v1?: string, v2?: string, v3?: string, v4?: string, v5?: string) => {
    tree.find(v0, v1, v2, v3, v4, v5).observe(value);
  };
  return observe as (value: number, ...values: readonly string[]) => void as (
    value: number,
    ...values: CellLabelValues<Names>
  ) => void;
}

/** What prom-client's Registry reads of a metric (its `Metric` type names only its own classes). */
function register(metric: object, registers: readonly Registry[]): void {
  for (const registry of registers) registry.registerMetric(metric as Metric);
}

/** A labelled counter of cells, exposed as prom-client's Counter. */
export class CellCounter<Names extends readonly string[]> {
  name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly tree: CellTree<CounterCell>;

  constructor(options: CellMetricOptions<Names>) {
    this.name = options.name;
    this.help = options.help;
    this.tree = new CellTree(options.labelNames, (labels) => ({ value: 0, labels }));
    this.inc = incrementer(this.tree);
    register(this, options.registers);
  }

  /** Adds 1 to the series of these label values (in label order), made at its first use. */
  readonly inc: (...values: CellLabelValues<Names>) => void;

  /** The values in prom-client's Counter shape: the series in order of first use. */
  async get(): Promise<{ name: string; help: string; type: 'counter'; values: object[]; aggregator: 'sum' }> {
    const values = this.tree.cells.map((cell) => ({ value: cell.value, labels: cell.labels }));
    return { help: this.help, name: this.name, type: this.type, values, aggregator: this.aggregator };
  }

  /** Drops every series (a value set reappears at its next observation). */
  reset(): void {
    this.tree.clear();
  }
}

interface HistogramValue {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
}

/** A labelled histogram of cells, exposed as prom-client's Histogram. */
export class CellHistogram<Names extends readonly string[]> {
  name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly upperBounds: Float64Array;
  private readonly tree: CellTree<HistogramCell>;

  constructor(options: CellHistogramOptions<Names>) {
    this.name = options.name;
    this.help = options.help;
    const bounds = Float64Array.from(options.buckets);
    this.upperBounds = bounds;
    this.tree = new CellTree(options.labelNames, (labels) => new HistogramCell(labels, bounds));
    this.observe = observer(this.tree);
    register(this, options.registers);
  }

  /** Counts `value` in the series of these label values (in label order), made at its first use. */
  readonly observe: (value: number, ...values: CellLabelValues<Names>) => void;

  /** What the Registry formats: each series' buckets cumulated, `+Inf`, `_sum`, `_count`. */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramValue[];
    aggregator: 'sum';
  }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    for (const cell of this.tree.cells) {
      const shared = cell.labels;
      let cumulated = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulated += cell.counts[i]!;
        const labels = { le: this.upperBounds[i]! };
        values.push({ labels, sharedLabels: shared, value: cumulated, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: cell.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: shared, value: cell.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: shared, value: cell.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The values in prom-client's Histogram shape (`le` and the series' labels in one object). */
  async get(): ReturnType<CellHistogram<Names>['getForPromString']> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }

  /** Drops every series (a value set reappears at its next observation). */
  reset(): void {
    this.tree.clear();
  }
}
