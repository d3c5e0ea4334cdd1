import type { Schema, SchemaDraft } from '@cfworker/json-schema';

/**
 * JSON Schema meta-schemas for the drafts @cfworker/json-schema supports, written as one
 * document per draft for that validator. They accept exactly what the published meta-schemas
 * accept, with two deliberate changes:
 * - The vocabularies are merged into one `properties` object, and each `$dynamicRef: "#meta"` /
 *   `$recursiveRef: "#"` becomes `$ref: "#"`: that is where those references resolve when a
 *   schema is checked against the full meta-schema, and the validator has no `$dynamicRef`.
 * - `format` is left out: from 2019-09 on it is an annotation when checking schemas (format
 *   vocabulary off), and asserting `regex` or `uri` would reject usable schemas, such as
 *   patterns written for other regex engines.
 * Property types are listed in the order an error message shows them.
 * @see https://json-schema.org/draft/2020-12/schema
 * @see https://json-schema.org/draft/2020-12/json-schema-core#section-8.2.3.2
 */
export function createMetaSchema(draft: SchemaDraft): Schema {
  switch (draft) {
    case '2020-12':
      return metaSchema('https://json-schema.org/draft/2020-12/schema', {
        ...core2019(),
        $dynamicRef: str(),
        $dynamicAnchor: def('anchorString'),
        prefixItems: def('schemaArray'),
        items: self(),
        ...applicator(),
        ...validation(),
        ...later(),
        $recursiveAnchor: def('anchorString'),
        $recursiveRef: str(),
      });
    case '2019-09':
      return metaSchema('https://json-schema.org/draft/2019-09/schema', {
        ...core2019(),
        $anchor: { type: 'string', pattern: '^[A-Za-z][-A-Za-z0-9.:_]*$' },
        $recursiveRef: str(),
        $recursiveAnchor: bool(),
        items: { anyOf: [self(), def('schemaArray')] },
        additionalItems: self(),
        ...applicator(),
        ...validation(),
        ...later(),
      });
    case '7':
      return metaSchema('http://json-schema.org/draft-07/schema', {
        $id: str(),
        $schema: str(),
        $ref: str(),
        $comment: str(),
        ...metaData(),
        items: { anyOf: [self(), def('schemaArray')] },
        additionalItems: self(),
        ...applicator(),
        ...validation(),
        contentEncoding: str(),
        contentMediaType: str(),
      });
    case '4':
      return draft04();
  }
}

/** Keywords of 2019-09 and 2020-12 beyond the shared applicator and validation ones. */
function later(): Record<string, Schema> {
  return {
    ...metaData(),
    deprecated: bool(),
    unevaluatedItems: self(),
    unevaluatedProperties: self(),
    dependentSchemas: schemaMap(),
    maxContains: def('nonNegativeInteger'),
    minContains: def('nonNegativeInteger'),
    dependentRequired: { type: 'object', additionalProperties: def('stringArray') },
    contentEncoding: str(),
    contentMediaType: str(),
    contentSchema: self(),
  };
}

function core2019(): Record<string, Schema> {
  return {
    $id: { type: 'string', pattern: '^[^#]*#?$' },
    $schema: str(),
    $ref: str(),
    $anchor: def('anchorString'),
    $vocabulary: { type: 'object', additionalProperties: bool() },
    $comment: str(),
    $defs: schemaMap(),
  };
}

function metaData(): Record<string, Schema> {
  return { title: str(), description: str(), readOnly: bool(), writeOnly: bool(), examples: { type: 'array' } };
}

/** Applicators shared by draft-07, 2019-09 and 2020-12 (`items` differs and is set per draft). */
function applicator(): Record<string, Schema> {
  return {
    contains: self(),
    additionalProperties: self(),
    properties: schemaMap(),
    patternProperties: schemaMap(),
    definitions: schemaMap(),
    dependencies: { type: 'object', additionalProperties: { anyOf: [self(), def('stringArray')] } },
    propertyNames: self(),
    if: self(),
    then: self(),
    else: self(),
    allOf: def('schemaArray'),
    anyOf: def('schemaArray'),
    oneOf: def('schemaArray'),
    not: self(),
  };
}

/** Validation keywords shared by draft-07, 2019-09 and 2020-12. */
function validation(): Record<string, Schema> {
  return {
    type: typeKeyword(),
    enum: { type: 'array' },
    multipleOf: { type: 'number', exclusiveMinimum: 0 },
    maximum: num(),
    exclusiveMaximum: num(),
    minimum: num(),
    exclusiveMinimum: num(),
    maxLength: def('nonNegativeInteger'),
    minLength: def('nonNegativeInteger'),
    pattern: str(),
    maxItems: def('nonNegativeInteger'),
    minItems: def('nonNegativeInteger'),
    uniqueItems: bool(),
    maxProperties: def('nonNegativeInteger'),
    minProperties: def('nonNegativeInteger'),
    required: def('stringArray'),
    format: str(),
  };
}

function draft04(): Schema {
  const schema = metaSchema('http://json-schema.org/draft-04/schema', {
    id: str(),
    $schema: str(),
    title: str(),
    description: str(),
    multipleOf: { type: 'number', minimum: 0, exclusiveMinimum: true },
    maximum: num(),
    exclusiveMaximum: bool(),
    minimum: num(),
    exclusiveMinimum: bool(),
    maxLength: def('nonNegativeInteger'),
    minLength: def('nonNegativeInteger'),
    pattern: str(),
    additionalItems: { anyOf: [bool(), self()] },
    items: { anyOf: [self(), def('schemaArray')] },
    maxItems: def('nonNegativeInteger'),
    minItems: def('nonNegativeInteger'),
    uniqueItems: bool(),
    maxProperties: def('nonNegativeInteger'),
    minProperties: def('nonNegativeInteger'),
    required: { ...stringArray(), minItems: 1 },
    additionalProperties: { anyOf: [bool(), self()] },
    definitions: schemaMap(),
    properties: schemaMap(),
    patternProperties: schemaMap(),
    dependencies: { type: 'object', additionalProperties: { anyOf: [self(), { ...stringArray(), minItems: 1 }] } },
    enum: { type: 'array', minItems: 1, uniqueItems: true },
    type: typeKeyword(),
    format: str(),
    allOf: def('schemaArray'),
    anyOf: def('schemaArray'),
    oneOf: def('schemaArray'),
    not: self(),
  });
  // Draft-04 has no boolean schemas, and its exclusive bounds are flags on minimum/maximum.
  schema.type = 'object';
  schema.dependencies = { exclusiveMaximum: ['maximum'], exclusiveMinimum: ['minimum'] };
  return schema;
}

function metaSchema(id: string, properties: Record<string, Schema>): Schema {
  return {
    $id: id,
    type: ['object', 'boolean'],
    properties,
    $defs: {
      anchorString: { type: 'string', pattern: '^[A-Za-z_][-A-Za-z0-9._]*$' },
      nonNegativeInteger: { type: 'integer', minimum: 0 },
      schemaArray: { type: 'array', minItems: 1, items: self() },
      simpleTypes: { enum: ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'] },
      stringArray: stringArray(),
    },
  };
}

function typeKeyword(): Schema {
  return {
    anyOf: [def('simpleTypes'), { type: 'array', items: def('simpleTypes'), minItems: 1, uniqueItems: true }],
  };
}

function stringArray(): Schema {
  return { type: 'array', items: str(), uniqueItems: true };
}

function schemaMap(): Schema {
  return { type: 'object', additionalProperties: self() };
}

/** A subschema: the meta-schema itself. */
function self(): Schema {
  return { $ref: '#' };
}

function def(name: string): Schema {
  return { $ref: `#/$defs/${name}` };
}

function str(): Schema {
  return { type: 'string' };
}

function num(): Schema {
  return { type: 'number' };
}

function bool(): Schema {
  return { type: 'boolean' };
}
