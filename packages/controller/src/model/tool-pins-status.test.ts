import { describe, expect, it } from 'vitest';
import type { McpServerRegistration } from './api-types.ts';
import { registration } from './test-objects.ts';
import {
  desiredPinStatus,
  MAX_DIFF_IN_STATUS,
  parseGatewayPins,
  toToolPinsStatus,
  toolsQuarantinedCondition,
  type GatewayPins,
} from './tool-pins-status.ts';

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;
const changed = { tool: 'delete_file', change: 'changed', approvedDigest: OLD, currentDigest: NEW, diff: '-a\n+b' };

/** A gateway /status answer with one pinned server `mcp-test/files` and one unpinned. */
function report(pinning: Record<string, unknown>) {
  return {
    servers: [
      { name: 'mcp-test/files', prefix: 'files_', ready: true, pinning },
      { name: 'mcp-test/other', prefix: '', ready: true },
    ],
    overallValid: true,
  };
}

describe('a gateway status report', () => {
  it('yields the pinned servers by name, leaving out the unpinned ones', () => {
    const pins = parseGatewayPins(
      report({ onChange: 'serveApproved', pinned: 12, storeAvailable: true, quarantined: [changed] }),
    );
    expect([...(pins?.keys() ?? [])]).toEqual(['mcp-test/files']);
    expect(pins?.get('mcp-test/files')).toEqual({
      onChange: 'serveApproved',
      pinned: 12,
      storeAvailable: true,
      quarantined: [changed],
    });
  });

  it('yields the approved digests sorted by tool name, leaving out entries that are not digests', () => {
    const pins = parseGatewayPins(
      report({
        onChange: 'serveApproved',
        pinned: 3,
        digests: { write_file: NEW, read_file: OLD, '': OLD, bad: 'md5:00', number: 7 },
        storeAvailable: true,
        quarantined: [],
      }),
    );
    const digests = pins?.get('mcp-test/files')?.digests;
    expect(digests).toEqual({ read_file: OLD, write_file: NEW });
    expect(Object.keys(digests ?? {})).toEqual(['read_file', 'write_file']);
  });

  it('has no digests when the gateway reports none (its first listing not decided, its store down)', () => {
    const pins = parseGatewayPins(
      report({ onChange: 'serveApproved', pinned: 0, storeAvailable: false, quarantined: [] }),
    );
    expect(pins?.get('mcp-test/files')).not.toHaveProperty('digests');
  });

  it('is no report when the answer has no servers list', () => {
    expect(parseGatewayPins({ error: 'nope' })).toBeUndefined();
    expect(parseGatewayPins('<html>')).toBeUndefined();
    expect(parseGatewayPins(null)).toBeUndefined();
  });

  it('keeps a renamed entry with the name it was approved under, and drops fields it does not know', () => {
    const renamed = { tool: 'remove', change: 'renamed', renamedFrom: 'rm', currentDigest: OLD, extra: 'x' };
    const pins = parseGatewayPins(
      report({ onChange: 'withhold', pinned: 1, storeAvailable: true, quarantined: [renamed] }),
    );
    expect(pins?.get('mcp-test/files')?.quarantined).toEqual([
      { tool: 'remove', change: 'renamed', renamedFrom: 'rm', currentDigest: OLD },
    ]);
  });
});

describe('status.toolPins', () => {
  const many: GatewayPins = {
    onChange: 'serveApproved',
    pinned: 40,
    storeAvailable: true,
    quarantined: Array.from({ length: 40 }, (_, i) => ({
      ...changed,
      tool: `tool_${i}`,
      diff: 'x'.repeat(10_000),
    })),
  };

  it('keeps at most 32 changes, counts the others, and cuts each diff at 4 KiB with a marker', () => {
    const pins = parseGatewayPins(report({ ...many }))?.get('mcp-test/files');
    const status = toToolPinsStatus('mcp-system', pins!);
    expect(status.quarantined).toHaveLength(32);
    expect(status.omitted).toBe(8);
    const diff = status.quarantined[0]?.diff ?? '';
    expect(diff.startsWith('x'.repeat(MAX_DIFF_IN_STATUS))).toBe(true);
    expect(diff.slice(MAX_DIFF_IN_STATUS)).toBe('\n... (diff cut at 4 KiB; GET /status of the gateway has it whole)');
    expect(diff.length).toBeLessThanOrEqual(4200);
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(32 * 4400);
  });

  it('makes ToolsQuarantined True naming the tools, with the count of the ones not named', () => {
    const condition = toolsQuarantinedCondition(toToolPinsStatus('mcp-system', many));
    expect(condition).toMatchObject({ type: 'ToolsQuarantined', status: 'True', reason: 'ToolsQuarantined' });
    expect(condition.message).toMatch(
      /^40 tool definitions wait for approval \(a changed one served as approved until then, the others withheld\): tool_0 \(changed\), /,
    );
    expect(condition.message).toContain('tool_9 (changed) and 30 more; approve by adding the currentDigest');
  });

  it('makes ToolsQuarantined False when nothing waits, Unknown when the pin store is unavailable', () => {
    const none = toToolPinsStatus('mcp-system', {
      onChange: 'withhold',
      pinned: 3,
      storeAvailable: true,
      quarantined: [],
    });
    expect(toolsQuarantinedCondition(none)).toMatchObject({
      status: 'False',
      reason: 'NoneQuarantined',
      message: 'every tool definition is approved (3 pinned)',
    });
    const down = toToolPinsStatus('mcp-system', { ...none, storeAvailable: false });
    expect(toolsQuarantinedCondition(down)).toMatchObject({ status: 'Unknown', reason: 'PinStoreUnavailable' });
  });
});

describe('the pin part of a registration status', () => {
  const files = (spec: Partial<McpServerRegistration['spec']>, status?: McpServerRegistration['status']) => ({
    ...registration('mcp-test', 'files', 'files-route', spec),
    ...(status !== undefined ? { status } : {}),
  });
  const pins: GatewayPins = { onChange: 'serveApproved', pinned: 2, storeAvailable: true, quarantined: [changed] };
  const reports = new Map([['mcp-system', new Map([['mcp-test/files', pins]])]]);

  it('comes from the first gateway namespace that reports the server', () => {
    const result = desiredPinStatus(files({ pinning: {} }), ['mcp-other', 'mcp-system'], (ns) => reports.get(ns));
    expect(result.toolPins).toEqual({ gatewayNamespace: 'mcp-system', ...pins });
    expect(result.condition?.status).toBe('True');
  });

  it('keeps what the status says while no gateway reports the server', () => {
    const toolPins = { gatewayNamespace: 'mcp-system', ...pins };
    const condition = {
      type: 'ToolsQuarantined',
      status: 'True' as const,
      reason: 'ToolsQuarantined',
      message: 'm',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const result = desiredPinStatus(
      files({ pinning: {} }, { toolPins, conditions: [condition] }),
      ['mcp-system'],
      () => undefined,
    );
    expect(result).toEqual({
      toolPins,
      condition: { type: 'ToolsQuarantined', status: 'True', reason: 'ToolsQuarantined', message: 'm' },
    });
  });

  it("takes the report's digests, and keeps the status's while a report has none", () => {
    const kept = { gatewayNamespace: 'mcp-system', ...pins, digests: { read_file: OLD } };
    const withDigests = new Map([['mcp-test/files', { ...pins, digests: { read_file: NEW } }]]);
    expect(
      desiredPinStatus(files({ pinning: {} }, { toolPins: kept }), ['mcp-system'], () => withDigests).toolPins?.digests,
    ).toEqual({ read_file: NEW });
    const down = new Map([['mcp-test/files', { ...pins, storeAvailable: false }]]);
    expect(desiredPinStatus(files({ pinning: {} }, { toolPins: kept }), ['mcp-system'], () => down).toolPins).toEqual({
      ...kept,
      storeAvailable: false,
    });
  });

  it('is empty without spec.pinning, whatever a gateway reports', () => {
    expect(desiredPinStatus(files({}), ['mcp-system'], (ns) => reports.get(ns))).toEqual({});
  });
});
