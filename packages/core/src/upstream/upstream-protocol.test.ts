import { describe, expect, it } from 'vitest';
import {
  isUnsupportedProtocolError,
  protocolErrorFromInitializeResult,
  protocolErrorFromRpcError,
} from './upstream-protocol.ts';

describe('protocolErrorFromRpcError', () => {
  it('reports an upstream whose supported versions are only 2026-07-28', () => {
    const error = protocolErrorFromRpcError(-32602, { supported: ['2026-07-28'], requested: '2025-11-25' });

    expect(error?.message).toBe('upstream speaks only MCP 2026-07-28 but did not answer server/discover');
    expect(isUnsupportedProtocolError(error)).toBe(true);
  });

  it('names the versions of an upstream that supports none the gateway serves', () => {
    expect(protocolErrorFromRpcError(-32602, { supportedVersions: ['2024-10-07'] })?.message).toBe(
      'upstream supports only protocol versions 2024-10-07, none of which this gateway serves',
    );
  });

  it('leaves other errors, and upstreams that share a version, alone', () => {
    expect(protocolErrorFromRpcError(-32602, { supported: ['2026-07-28', '2025-06-18'] })).toBeUndefined();
    expect(protocolErrorFromRpcError(-32000, undefined)).toBeUndefined();
  });

  it('treats -32022 without a version list as a 2026-07-28-only upstream', () => {
    expect(protocolErrorFromRpcError(-32022, null)?.message).toBe(
      'upstream speaks only MCP 2026-07-28 but did not answer server/discover',
    );
  });
});

describe('protocolErrorFromInitializeResult', () => {
  it('accepts every legacy version and rejects others by name', () => {
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
      expect(protocolErrorFromInitializeResult({ protocolVersion: version })).toBeUndefined();
    }
    expect(protocolErrorFromInitializeResult({ protocolVersion: '2024-10-07' })?.message).toBe(
      'upstream negotiated unsupported protocol version 2024-10-07',
    );
    expect(protocolErrorFromInitializeResult({})?.message).toBe(
      'upstream negotiated unsupported protocol version null',
    );
  });
});
