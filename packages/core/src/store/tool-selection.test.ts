import { describe, expect, it } from 'vitest';
import {
  MAX_SELECTED_TOOL_NAME_LENGTH,
  MAX_SELECTED_TOOLS,
  assertToolSelection,
  fromStoredSelection,
  parseStoredSelection,
} from './tool-selection.ts';

const NOW = Date.UTC(2026, 0, 1);

describe('assertToolSelection', () => {
  it('accepts an empty list and one at both bounds', () => {
    expect(() => assertToolSelection([])).not.toThrow();
    expect(() =>
      assertToolSelection(Array.from({ length: MAX_SELECTED_TOOLS }, () => 'x'.repeat(MAX_SELECTED_TOOL_NAME_LENGTH))),
    ).not.toThrow();
  });

  it('refuses a name that is not a string, which a caller without types can send', () => {
    expect(() => assertToolSelection(['weather_get', 7] as unknown as string[])).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMS', message: 'tool 1 of the selection is not a string' }),
    );
  });
});

describe('fromStoredSelection', () => {
  it('returns the tools of a live selection', () => {
    expect(fromStoredSelection({ expiresAt: NOW + 1, tools: ['a', 'b'] }, NOW)).toEqual(['a', 'b']);
  });

  it.each([
    ['an expired selection', { expiresAt: NOW, tools: ['a'] }],
    ['an empty selection', { expiresAt: NOW + 1, tools: [] }],
    ['a bare list', ['a']],
    ['a string', 'a'],
    ['null', null],
    ['a missing deadline', { tools: ['a'] }],
    ['a deadline that is not a number', { expiresAt: String(NOW + 1), tools: ['a'] }],
    ['a deadline that is NaN', { expiresAt: Number.NaN, tools: ['a'] }],
    ['tools that are not a list', { expiresAt: NOW + 1, tools: 'a' }],
    ['a tool that is not a string', { expiresAt: NOW + 1, tools: ['a', 1] }],
    ['too many tools', { expiresAt: NOW + 1, tools: Array.from({ length: MAX_SELECTED_TOOLS + 1 }, () => 'a') }],
    ['a name that is too long', { expiresAt: NOW + 1, tools: ['x'.repeat(MAX_SELECTED_TOOL_NAME_LENGTH + 1)] }],
  ])('reads %s as no selection', (_, value) => {
    expect(fromStoredSelection(value, NOW)).toBeUndefined();
  });
});

describe('parseStoredSelection', () => {
  it('reads JSON of a live selection and anything else as no selection', () => {
    expect(parseStoredSelection(JSON.stringify({ expiresAt: NOW + 1, tools: ['a'] }), NOW)).toEqual(['a']);
    expect(parseStoredSelection('{"expiresAt":', NOW)).toBeUndefined();
    expect(parseStoredSelection('', NOW)).toBeUndefined();
  });
});
