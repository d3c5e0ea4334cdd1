import { describe, expect, it } from 'vitest';
import { loadExtProc } from './load-ext-proc.ts';
import { translateRequestHeaders } from './translate-request-headers.ts';

describe('loadExtProc', () => {
  it('serves the method Envoy calls', () => {
    const { service } = loadExtProc();
    expect(service['Process']?.path).toBe('/envoy.service.ext_proc.v3.ExternalProcessor/Process');
    expect(service['Process']?.requestStream).toBe(true);
    expect(service['Process']?.responseStream).toBe(true);
  });

  it('encodes header values as raw_value (field 3) and never as value', () => {
    const method = loadExtProc().service['Process'];
    if (method === undefined) throw new Error('no Process method');
    const wire = method.responseSerialize(translateRequestHeaders('mcp.example.com'));
    const decoded = method.responseDeserialize(wire) as {
      request_headers: { response: { header_mutation: { set_headers: { header: Record<string, unknown> }[] } } };
    };
    const header = decoded.request_headers.response.header_mutation.set_headers[0]?.header;
    expect(header?.['key']).toBe(':authority');
    expect(Buffer.from(header?.['raw_value'] as Uint8Array).toString()).toBe('mcp.example.com');
    expect(header?.['value']).toBeUndefined();
    // HeaderValue.raw_value is field 3, length-delimited: tag byte (3 << 3) | 2 = 0x1a.
    expect(
      Buffer.from(wire).includes(Buffer.from([0x1a, 'mcp.example.com'.length, ...Buffer.from('mcp.example.com')])),
    ).toBe(true);
  });
});
