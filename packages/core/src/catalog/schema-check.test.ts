import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_SCHEMA_PROBLEMS, checkJsonSchema, checkPrompt, checkTool, toolNameWarnings } from './schema-check.ts';

const TYPE_NAMES = 'string, number, integer, boolean, array, object, null';

function tool(inputSchema: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'get_weather', inputSchema, ...extra };
}

describe('checkTool', () => {
  it('accepts a plain tool', () => {
    expect(
      checkTool(
        tool(
          { type: 'object', properties: { city: { type: 'string', description: 'City' } }, required: ['city'] },
          { title: 'Weather', description: 'Current weather', annotations: { readOnlyHint: true } },
        ),
      ),
    ).toEqual([]);
  });

  it('accepts a tool whose schema names draft 2020-12', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { tags: { type: 'array', prefixItems: [{ type: 'string' }], items: false } },
      additionalProperties: false,
    };
    expect(checkTool(tool(schema))).toEqual([]);
  });

  it('accepts $defs with a $ref to them, and an anchor reference', () => {
    const schema = {
      type: 'object',
      $defs: { Address: { $anchor: 'addr', type: 'object', properties: { street: { type: 'string' } } } },
      properties: { home: { $ref: '#/$defs/Address' }, work: { $ref: '#addr' }, self: { $ref: '#' } },
    };
    expect(checkTool(tool(schema))).toEqual([]);
  });

  it('accepts a valid outputSchema', () => {
    expect(
      checkTool(tool({ type: 'object' }, { outputSchema: { type: 'object', properties: { t: { type: 'number' } } } })),
    ).toEqual([]);
  });

  it('rejects a value that is not an object', () => {
    for (const value of [null, 'x', [], 1]) expect(checkTool(value)).toEqual(['tool must be an object']);
  });

  it('requires a non-empty string name', () => {
    expect(checkTool({ inputSchema: { type: 'object' } })).toEqual(['name must be a non-empty string']);
    expect(checkTool(tool({ type: 'object' }, { name: '' }))).toEqual(['name must be a non-empty string']);
    expect(checkTool(tool({ type: 'object' }, { name: 7 }))).toEqual(['name must be a non-empty string']);
  });

  it('does not treat name style as an error', () => {
    expect(checkTool(tool({ type: 'object' }, { name: `has space,${'x'.repeat(200)}` }))).toEqual([]);
  });

  it('requires inputSchema to be an object schema', () => {
    expect(checkTool({ name: 'a' })).toEqual(['inputSchema is required']);
    expect(checkTool(tool([]))).toEqual(['inputSchema must be a JSON object']);
    expect(checkTool(tool(true))).toEqual(['inputSchema must be a JSON object']);
    expect(checkTool(tool({ properties: {} }))).toEqual(['inputSchema.type must be "object"']);
    expect(checkTool(tool({ type: 'array' }))).toEqual(['inputSchema.type must be "object"']);
  });

  it('checks outputSchema like inputSchema', () => {
    expect(checkTool(tool({ type: 'object' }, { outputSchema: { type: 'string' } }))).toEqual([
      'outputSchema.type must be "object"',
    ]);
    expect(checkTool(tool({ type: 'object' }, { outputSchema: 'x' }))).toEqual(['outputSchema must be a JSON object']);
  });

  it('names an invalid property type', () => {
    const schema = { type: 'object', properties: { city: { type: 'text' } } };
    expect(checkTool(tool(schema))).toEqual([`inputSchema.properties.city.type must be one of ${TYPE_NAMES}`]);
  });

  it('names each problem in a schema', () => {
    const schema = {
      type: 'object',
      properties: { count: { type: 'integer', minimum: 'zero' }, 'odd key': { minLength: -1 }, list: { items: 5 } },
      required: ['count', 'count'],
    };
    expect(checkTool(tool(schema))).toEqual([
      'inputSchema.properties.count.minimum must be a number',
      'inputSchema.properties["odd key"].minLength must be at least 0',
      'inputSchema.properties.list.items must be an object or a boolean',
      'inputSchema.required must not contain duplicate items',
    ]);
  });

  it('reports the branch of a type union that fits the value', () => {
    const check = (type: unknown): string[] => checkTool(tool({ type: 'object', properties: { a: { type } } }));
    expect(check(['string', 'text'])).toEqual([`inputSchema.properties.a.type[1] must be one of ${TYPE_NAMES}`]);
    expect(check([])).toEqual(['inputSchema.properties.a.type must have at least 1 item']);
    expect(check(5)).toEqual(['inputSchema.properties.a.type must be a string or an array']);
  });

  it('reports a $ref that does not resolve', () => {
    const schema = {
      type: 'object',
      $defs: { A: { type: 'string' } },
      properties: { b: { $ref: '#/$defs/B' }, c: { $ref: '#nowhere' } },
    };
    expect(checkTool(tool(schema))).toEqual([
      'inputSchema.properties.b.$ref points to #/$defs/B, which is not defined in inputSchema',
      'inputSchema.properties.c.$ref points to #nowhere, which is not defined in inputSchema',
    ]);
  });

  it('checks type-level fields of the tool', () => {
    expect(checkTool(tool({ type: 'object' }, { title: 1, description: {}, annotations: [], _meta: 'x' }))).toEqual([
      'title must be a string',
      'description must be a string',
      'annotations must be an object',
      '_meta must be an object',
    ]);
  });

  it('reports a value that is not JSON instead of throwing', () => {
    expect(checkTool(tool({ type: 'object', description: undefined }))).toEqual([
      'inputSchema could not be checked (Instances of "undefined" type are not supported.)',
    ]);
  });

  it('never throws for arbitrary tools', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ name: fc.string(), inputSchema: fc.jsonValue() })), (value) => {
        const problems = checkTool(value);
        expect(Array.isArray(problems)).toBe(true);
        for (const problem of problems) expect(typeof problem).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkJsonSchema', () => {
  it('uses the draft named by $schema', () => {
    const draft04 = {
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      properties: { n: { minimum: 0, exclusiveMinimum: true } },
    };
    expect(checkJsonSchema(draft04, 'inputSchema')).toEqual([]);
    const { $schema: _dialect, ...sameWithoutDialect } = draft04;
    expect(checkJsonSchema(sameWithoutDialect, 'inputSchema')).toEqual([
      'inputSchema.properties.n.exclusiveMinimum must be a number',
    ]);
    expect(
      checkJsonSchema(
        { $schema: 'http://json-schema.org/draft-04/schema#', properties: { n: { exclusiveMinimum: true } } },
        'inputSchema',
      ),
    ).toEqual(['inputSchema.properties.n must have "minimum" when it has "exclusiveMinimum"']);
    const draft07 = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { a: { type: 'string' } },
      items: [{ $ref: '#/definitions/a' }],
    };
    expect(checkJsonSchema(draft07, 'inputSchema')).toEqual([]);
    expect(
      checkJsonSchema(
        { $schema: 'https://json-schema.org/draft/2019-09/schema', $recursiveAnchor: true },
        'inputSchema',
      ),
    ).toEqual([]);
  });

  it('does not treat an unknown $schema as an error', () => {
    const schema = {
      $schema: 'https://example.com/my-dialect',
      type: 'object',
      properties: { a: { type: 'anything' } },
    };
    expect(checkJsonSchema(schema, 'inputSchema')).toEqual([]);
  });

  it('rejects a $schema that is not a string', () => {
    expect(checkJsonSchema({ $schema: 1 }, 'inputSchema')).toEqual(['inputSchema.$schema must be a string']);
  });

  it('accepts patterns the validator could not compile, since format is an annotation', () => {
    expect(checkJsonSchema({ type: 'string', pattern: '(?P<name>x)' }, 's')).toEqual([]);
  });

  it('does not check references to other documents or inside a subschema with its own $id', () => {
    const schema = {
      properties: {
        a: { $ref: 'https://example.com/schema.json#/x' },
        b: { $id: 'https://example.com/b', $ref: '#/$defs/local' },
      },
    };
    expect(checkJsonSchema(schema, 's')).toEqual([]);
  });

  it('caps the number of problems', () => {
    const properties = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, { type: 'bad' }]));
    const problems = checkJsonSchema({ properties }, 's');
    expect(problems).toHaveLength(MAX_SCHEMA_PROBLEMS + 1);
    expect(problems.at(-1)).toBe('s has 10 more problems');
  });

  it('reports nesting too deep to check instead of throwing', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20_000; i++) schema = { properties: { a: schema } };
    expect(checkJsonSchema(schema, 's')).toEqual(['s is nested too deeply to check']);
  });
});

describe('toolNameWarnings', () => {
  it('warns about long names and unusual characters', () => {
    expect(toolNameWarnings('get_weather-v1.2')).toEqual([]);
    expect(toolNameWarnings('x'.repeat(129))).toEqual(['name is longer than 128 characters']);
    expect(toolNameWarnings('get weather')).toEqual(['name has characters outside A-Z, a-z, 0-9, _, - and .']);
  });
});

describe('checkPrompt', () => {
  it('accepts a prompt with arguments', () => {
    expect(
      checkPrompt({
        name: 'review',
        description: 'Review code',
        arguments: [{ name: 'code', required: true }, { name: 'style' }],
      }),
    ).toEqual([]);
  });

  it('requires an object with a non-empty string name', () => {
    expect(checkPrompt('x')).toEqual(['prompt must be an object']);
    expect(checkPrompt({ name: '' })).toEqual(['name must be a non-empty string']);
    expect(checkPrompt({ title: 'T' })).toEqual(['name must be a non-empty string']);
  });

  it('requires each argument to have a non-empty, unique string name', () => {
    expect(
      checkPrompt({
        name: 'p',
        arguments: [{ name: 'a' }, {}, { name: '' }, 'x', { name: 'a', required: 'yes', description: 1 }],
      }),
    ).toEqual([
      'arguments[1].name must be a non-empty string',
      'arguments[2].name must be a non-empty string',
      'arguments[3] must be an object',
      'arguments[4].name "a" repeats arguments[0].name',
      'arguments[4].description must be a string',
      'arguments[4].required must be a boolean',
    ]);
  });

  it('requires arguments to be an array', () => {
    expect(checkPrompt({ name: 'p', arguments: {} })).toEqual(['arguments must be an array']);
  });
});
