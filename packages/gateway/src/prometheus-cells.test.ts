import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellCounter, CellHistogram } from './prometheus-cells.ts';

const NAMES = ['host', 'method', 'server', 'kind', 'name', 'outcome'] as const;

// Label values with the characters the exposition escapes. No `,` or `:`: prom-client's hash
// string (`name:value,` per label) makes one series of value sets that differ only around those,
// where the cells keep two; equal text needs value sets prom-client tells apart.
const valueArb = fc.string({ unit: fc.constantFrom('a', 'b', 'é', ' ', '"', '\\', '\n', '{', '='), maxLength: 4 });
// Positive bounds, as every bucket of the gateway's: prom-client counts a value above the last
// bound in a bucket whose bound is -1 (its "no bucket" index), which the cells do not copy.
const boundsArb = fc
  .uniqueArray(fc.double({ min: 1e-6, max: 40, noNaN: true }), { minLength: 1, maxLength: 15 })
  .map((bounds) => bounds.sort((a, b) => a - b));

type Step = { kind: 'inc' | 'observe'; series: number; value: number } | { kind: 'reset' };

/** Observed values: any, small integers, and each bound itself (the edge of its bucket). */
const observedArb = (buckets: number[]) =>
  fc.oneof(
    fc.double({ min: -2, max: 50, noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: 0, max: 40 }),
    fc.constantFrom(...buckets),
  );

const stepsArb = (buckets: number[]) =>
  fc.array(
    fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constantFrom('inc' as const, 'observe' as const),
          series: fc.nat(),
          value: observedArb(buckets),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
    ),
    { maxLength: 80 },
  );

/** A run: label names, a few value sets (so series repeat), buckets, and what happens in order. */
const runArb = fc
  .integer({ min: 1, max: NAMES.length })
  .chain((labelCount) =>
    fc
      .tuple(
        fc.array(fc.array(valueArb, { minLength: labelCount, maxLength: labelCount }), { minLength: 1, maxLength: 6 }),
        boundsArb,
      )
      .chain(([series, buckets]) =>
        stepsArb(buckets).map((steps) => ({ labelNames: NAMES.slice(0, labelCount), series, buckets, steps })),
      ),
  );

/** prom-client's Counter and Histogram in one registry, the cells in another, fed the same steps. */
async function expose(run: {
  labelNames: readonly string[];
  series: string[][];
  buckets: number[];
  steps: Step[];
}): Promise<{ prom: Registry; cells: Registry }> {
  const prom = new Registry();
  const cells = new Registry();
  const help = 'Things, by "label" \\ and\nline.';
  const counter = new Counter({ name: 'c_total', help, labelNames: run.labelNames, registers: [prom] });
  const histogram = new Histogram({
    name: 'h_seconds',
    help,
    labelNames: run.labelNames,
    buckets: run.buckets,
    registers: [prom],
  });
  const cellCounter = new CellCounter({ name: 'c_total', help, labelNames: run.labelNames, registers: [cells] });
  const cellHistogram = new CellHistogram({
    name: 'h_seconds',
    help,
    labelNames: run.labelNames,
    buckets: run.buckets,
    registers: [cells],
  });
  for (const step of run.steps) {
    if (step.kind === 'reset') {
      prom.resetMetrics();
      cells.resetMetrics();
      continue;
    }
    const values = run.series[step.series % run.series.length]!;
    const labels = Object.fromEntries(run.labelNames.map((name, i) => [name, values[i]!]));
    if (step.kind === 'inc') {
      counter.inc(labels);
      (cellCounter.inc as (...values: string[]) => void)(...values);
    } else {
      histogram.observe(labels, step.value);
      (cellHistogram.observe as (value: number, ...values: string[]) => void)(step.value, ...values);
    }
  }
  return { prom, cells };
}

describe('cell metrics', () => {
  it("expose the text and values prom-client's Counter and Histogram expose for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        const { prom, cells } = await expose(run);
        expect(await cells.metrics()).toBe(await prom.metrics());
        const [json, promJson] = [await cells.getMetricsAsJSON(), await prom.getMetricsAsJSON()];
        expect(json).toStrictEqual(promJson);
        // Key order too, as a consumer printing them would see it.
        expect(JSON.stringify(json)).toBe(JSON.stringify(promJson));
      }),
      { numRuns: 300 },
    );
  });

  it('escape quotes, backslashes and newlines in label values and order labels as declared', async () => {
    const registry = new Registry();
    const histogram = new CellHistogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['server', 'name'] as const,
      buckets: [0.1, 1],
      registers: [registry],
    });
    histogram.observe(0.5, 's"1', 'a\\b\nc');
    expect(await registry.metrics()).toBe(
      [
        '# HELP h_seconds h',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{le="0.1",server="s\\"1",name="a\\\\b\\nc"} 0',
        'h_seconds_bucket{le="1",server="s\\"1",name="a\\\\b\\nc"} 1',
        'h_seconds_bucket{le="+Inf",server="s\\"1",name="a\\\\b\\nc"} 1',
        'h_seconds_sum{server="s\\"1",name="a\\\\b\\nc"} 0.5',
        'h_seconds_count{server="s\\"1",name="a\\\\b\\nc"} 1',
        '',
      ].join('\n'),
    );
  });

  it('show a set of label values only after its first observation', async () => {
    const registry = new Registry();
    const counter = new CellCounter({
      name: 'c_total',
      help: 'c',
      labelNames: ['method'] as const,
      registers: [registry],
    });
    expect(await registry.metrics()).toBe('# HELP c_total c\n# TYPE c_total counter\n');
    counter.inc('tools/call');
    expect(await registry.metrics()).toBe('# HELP c_total c\n# TYPE c_total counter\nc_total{method="tools/call"} 1\n');
  });

  it('reset drops every series, and a set of values starts again from zero', async () => {
    const registry = new Registry();
    const counter = new CellCounter({
      name: 'c_total',
      help: 'c',
      labelNames: ['method'] as const,
      registers: [registry],
    });
    const histogram = new CellHistogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['method'] as const,
      buckets: [1],
      registers: [registry],
    });
    counter.inc('a');
    counter.inc('a');
    histogram.observe(2, 'a');
    registry.resetMetrics();
    const empty = '# HELP c_total c\n# TYPE c_total counter\n\n# HELP h_seconds h\n# TYPE h_seconds histogram\n';
    expect(await registry.metrics()).toBe(empty);
    counter.inc('a');
    expect(await registry.metrics()).toContain('c_total{method="a"} 1\n');
  });

  it('keep apart value sets that prom-client merges into one series', async () => {
    const registry = new Registry();
    const counter = new CellCounter({
      name: 'c_total',
      help: 'c',
      labelNames: ['a', 'b'] as const,
      registers: [registry],
    });
    // prom-client hashes both to "a:1,b:2,b:3," and counts 2 for the first.
    counter.inc('1,b:2', '3');
    counter.inc('1', '2,b:3');
    expect(await registry.metrics()).toContain('c_total{a="1,b:2",b="3"} 1\nc_total{a="1",b="2,b:3"} 1\n');
  });

  it('refuse no labels and more than six', () => {
    const options = { name: 'c_total', help: 'c', registers: [new Registry()] };
    expect(() => new CellCounter({ ...options, labelNames: [] })).toThrow(/1 to 6 labels/);
    expect(() => new CellCounter({ ...options, labelNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] })).toThrow(
      /1 to 6 labels/,
    );
  });
});
