import { readFileSync } from 'node:fs';
import { otlpSetting, type OtelEnv } from '@mcp-gateway/core/otel';

/** The collector's TLS material, read once at start. */
export interface OtlpTls {
  /** Trusted CA certificates (PEM), in place of the system's. */
  readonly ca?: Buffer | undefined;
  /** The gateway's client certificate and key (PEM), for mutual TLS. */
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

function file(env: OtelEnv, name: string): Buffer | undefined {
  const path = otlpSetting(env, name);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `OTEL_EXPORTER_OTLP_${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    );
  }
}

/**
 * OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY: PEM files, read
 * before anything listens; a file that cannot be read is an error naming the variable.
 */
export function otlpTls(env: OtelEnv): OtlpTls {
  const tls = { ca: file(env, 'CERTIFICATE'), cert: file(env, 'CLIENT_CERTIFICATE'), key: file(env, 'CLIENT_KEY') };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY go together');
  }
  return tls;
}
