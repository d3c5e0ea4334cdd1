import { describe, expect, it } from 'vitest';
import { otlpHeaders, otlpTarget, resourceAttributes } from './otel-env.ts';

describe('otlpTarget', () => {
  it('is off without an endpoint, or when the SDK or the exporter is turned off', () => {
    expect(otlpTarget({})).toBeUndefined();
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('prefers the traces endpoint, defaults to http/protobuf, and reads rpc:// as gRPC', () => {
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({
      endpoint: 'http://c:4318',
      signalSpecific: false,
      protocol: 'http/protobuf',
    });
    expect(
      otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/v1/t' }),
    ).toMatchObject({ endpoint: 'http://b/v1/t', signalSpecific: true });
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'rpc://c:4317' })?.protocol).toBe('grpc');
    expect(
      otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })
        ?.protocol,
    ).toBe('http/json');
  });

  it('refuses a protocol the specification does not name, naming the variable', () => {
    expect(() => otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL must be grpc, http\/protobuf or http\/json, not "udp"/,
    );
  });
});

describe('key=value lists', () => {
  it('are read with percent-decoded values, malformed pairs left out', () => {
    expect(resourceAttributes('deployment.environment=prod, team=a%20b,bad,=x,broken=%E0%A4%A')).toEqual({
      'deployment.environment': 'prod',
      team: 'a b',
    });
    expect(otlpHeaders({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3' })).toEqual({
      a: '1',
      b: '3',
    });
  });
});
