import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { prefixName, prefixUri, prefixUriTemplate, unprefixName, unprefixUri } from './tool-prefix.ts';

const prefixArb = fc.stringMatching(/^[a-z0-9_]*$/);
const nonEmptyPrefixArb = fc.stringMatching(/^[a-z0-9_]+$/);
/** URIs with and without schemes and authorities, plus arbitrary strings. */
const uriArb = fc.oneof(
  fc.webUrl(),
  fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9+.-]*$/), fc.constantFrom(':', '://', ':///'), fc.string())
    .map((parts) => parts.join('')),
  fc.string({ unit: 'binary' }),
);
/** Two non-empty prefixes, neither of which starts with the other. */
const unrelatedPrefixesArb = fc
  .tuple(nonEmptyPrefixArb, nonEmptyPrefixArb)
  .filter(([a, b]) => !a.startsWith(b) && !b.startsWith(a));

describe('prefixName and unprefixName', () => {
  it('concatenates and strips the prefix', () => {
    expect(prefixName('s1_', 'echo')).toBe('s1_echo');
    expect(unprefixName('s1_', 's1_echo')).toBe('echo');
  });

  it('returns undefined when the served name lacks the prefix', () => {
    expect(unprefixName('s1_', 's2_echo')).toBeUndefined();
    expect(unprefixName('s1_', 's1')).toBeUndefined();
  });

  it('maps names identically under an empty prefix', () => {
    expect(prefixName('', 'echo')).toBe('echo');
    expect(unprefixName('', 'echo')).toBe('echo');
  });

  it('matches both servers when one prefix starts another, so callers try the longest first', () => {
    expect(unprefixName('a_', 'a_b_x')).toBe('b_x');
    expect(unprefixName('a_b_', 'a_b_x')).toBe('x');
  });

  it('round-trips every name', () => {
    fc.assert(
      fc.property(prefixArb, fc.string({ unit: 'binary' }), (prefix, name) => {
        expect(unprefixName(prefix, prefixName(prefix, name))).toBe(name);
      }),
    );
  });

  it('does not strip an unrelated prefix', () => {
    fc.assert(
      fc.property(unrelatedPrefixesArb, fc.string(), ([a, b], name) => {
        expect(unprefixName(b, prefixName(a, name))).toBeUndefined();
      }),
    );
  });
});

describe('prefixUri and unprefixUri', () => {
  it.each([
    ['test://static-text', 'test://s1_static-text'],
    ['file:///a/b', 'file://s1_/a/b'],
    ['https://example.com/x?y#z', 'https://s1_example.com/x?y#z'],
    ['urn:isbn:1', 'urn:s1_isbn:1'],
    ['mailto:a@b', 'mailto:s1_a@b'],
    ['relative/path', 's1_relative/path'],
    ['no_scheme:here', 's1_no_scheme:here'],
    ['', 's1_'],
  ])('serves %s as %s and maps it back', (uri, served) => {
    expect(prefixUri('s1_', uri)).toBe(served);
    expect(unprefixUri('s1_', served)).toBe(uri);
  });

  it('returns undefined when the served URI lacks the prefix', () => {
    expect(unprefixUri('s1_', 'test://s2_static-text')).toBeUndefined();
    expect(unprefixUri('s1_', 'test://static-text')).toBeUndefined();
    expect(unprefixUri('s1_', 's2_relative')).toBeUndefined();
  });

  it('maps URIs identically under an empty prefix', () => {
    expect(prefixUri('', 'test://x')).toBe('test://x');
    expect(unprefixUri('', 'test://x')).toBe('test://x');
  });

  it('stays reversible where prefixing could create a scheme', () => {
    expect(prefixUri('a', ':x')).toBe(':ax');
    expect(prefixUri('a', 'a:x')).toBe('a:ax');
    expect(unprefixUri('a', ':ax')).toBe(':x');
  });

  it('round-trips every URI', () => {
    fc.assert(
      fc.property(prefixArb, uriArb, (prefix, uri) => {
        expect(unprefixUri(prefix, prefixUri(prefix, uri))).toBe(uri);
      }),
      { numRuns: 500 },
    );
  });

  it('does not strip an unrelated prefix', () => {
    fc.assert(
      fc.property(unrelatedPrefixesArb, uriArb, ([a, b], uri) => {
        expect(unprefixUri(b, prefixUri(a, uri))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('prefixUriTemplate', () => {
  it('applies the URI rule to templates', () => {
    expect(prefixUriTemplate('s1_', 'test://template/{id}/data')).toBe('test://s1_template/{id}/data');
    expect(prefixUriTemplate('s1_', 'urn:item:{id}')).toBe('urn:s1_item:{id}');
    expect(prefixUriTemplate('s1_', '{+base}/x')).toBe('s1_{+base}/x');
    expect(prefixUriTemplate('', 'test://{id}')).toBe('test://{id}');
  });

  it('maps URIs expanded from a prefixed template back to the upstream expansion', () => {
    const template = prefixUriTemplate('s1_', 'test://template/{id}/data');
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._~-]*$/), (id) => {
        expect(unprefixUri('s1_', template.replace('{id}', id))).toBe(`test://template/${id}/data`);
      }),
    );
  });
});
