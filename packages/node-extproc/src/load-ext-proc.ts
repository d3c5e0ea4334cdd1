import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { EXT_PROC_PROTO } from './ext-proc-proto.ts';

/**
 * Loader options: field names as on the wire, 64-bit integers and enums as strings, only the
 * fields that are set, and a virtual member naming each oneof's active field
 * (`message.request === 'request_body'`).
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

/** Full name of the service in ext_proc.proto. */
const SERVICE_NAME = 'envoy.service.ext_proc.v3.ExternalProcessor';

/** The loaded ext_proc service: its definition (servers) and client constructor (tests, tools). */
export interface ExtProcPackage {
  readonly service: ServiceDefinition;
  readonly Client: ServiceClientConstructor;
}

let loaded: ExtProcPackage | undefined;

/**
 * Loads the embedded ext_proc definitions once per process. proto-loader reads files only, so
 * the text goes through a private temporary file that is removed at once; the
 * google/protobuf imports resolve from protobufjs' bundled copies. Works from a bundle with
 * no .proto file beside it.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto
 */
export function loadExtProc(): ExtProcPackage {
  if (loaded !== undefined) return loaded;
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-extproc-'));
  try {
    const file = join(dir, 'ext_proc.proto');
    writeFileSync(file, EXT_PROC_PROTO);
    let node: unknown = loadPackageDefinition(loadSync(file, PROTO_LOADER_OPTIONS));
    for (const part of SERVICE_NAME.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
    const Client = node as ServiceClientConstructor | undefined;
    if (Client?.service === undefined) throw new Error(`ext_proc.proto defines no ${SERVICE_NAME}`);
    loaded = { service: Client.service, Client };
    return loaded;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
