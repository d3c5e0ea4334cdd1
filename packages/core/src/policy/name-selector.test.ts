import { describe, expect, it } from 'vitest';
import { compileGlob, compileSelector } from './name-selector.ts';

describe('compileGlob', () => {
  it.each([
    ['get_*', 'get_forecast', true],
    ['get_*', 'get_', true],
    ['get_*', 'set_forecast', false],
    ['*_admin', 'delete_admin', true],
    ['*_admin', 'admin', false],
    ['*', '', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'a-b-b-c', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['file:///data/*', 'file:///data/a/b.txt', true],
    ['file:///data/*.txt', 'file:///data/a/b.csv', false],
    ['**', 'x', true],
  ])('matches %j against %j: %s', (pattern, name, expected) => {
    expect(compileGlob(pattern).matches(name)).toBe(expected);
  });

  it('treats every character but the star literally', () => {
    expect(compileGlob('a.c*').matches('abcd')).toBe(false);
    expect(compileGlob('a.c*').matches('a.cd')).toBe(true);
    expect(compileGlob('(x)?[y]*').matches('(x)?[y]z')).toBe(true);
  });
});

describe('compileSelector', () => {
  it('keeps exact names apart from globs', () => {
    const selector = compileSelector(['get_forecast', 'admin_*']);
    expect([...selector.exact]).toEqual(['get_forecast']);
    expect(selector.globs.map((glob) => glob.pattern)).toEqual(['admin_*']);
  });

  it('matches a name listed exactly or selected by a glob, and no other', () => {
    const selector = compileSelector(['get_forecast', 'admin_*']);
    expect(selector.matches('get_forecast')).toBe(true);
    expect(selector.matches('admin_reset')).toBe(true);
    expect(selector.matches('get_forecast_hourly')).toBe(false);
  });
});
