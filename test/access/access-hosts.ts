// The three hosts an access case runs through, behind one interface, each in front of its own
// pair of upstreams: the broker (the built CLI), the router (a real Envoy with the built CLI's
// ext_proc router in front of the same broker) and the worker (the built bundle in workerd through
// Miniflare). A config is applied by hot reload on the CLI hosts and by a new Miniflare on the
// worker (its config is a binding); audit records are read from the CLI's audit file and from
// workerd's console.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { stringify } from 'yaml';
import { renderEnvoyBootstrap } from '../../infra/envoy/render-bootstrap.mjs';
import { toAnswer, type Answer } from '../attacker/answers.ts';
import {
  freePort,
  startEnvoy,
  startGateway,
  TEST_SIGNING_KEY,
  type RunningEnvoy,
  type RunningGateway,
} from '../harness/index.ts';
import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  SESSION_OBJECT_BINDING,
  WORKER_BUNDLE,
  assertWorkerBuilt,
} from '../workerd/start-worker.ts';
import { SERVERS, startAccessUpstreams, type AccessUpstreams } from './access-upstreams.ts';

export type HostName = 'broker' | 'router' | 'worker';
export const HOST_NAMES: readonly HostName[] = ['broker', 'router', 'worker'];

/** The public host Envoy's router forces on requests it leaves to the broker. */
const PUBLIC_HOST = 'mcp.example.com';

/** A request's headers; an array value is sent as that many header lines. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[]>>;

/** The access sections of a config (auth, policy, virtualServers, audit), without `servers`. */
export type AccessSections = Readonly<Record<string, unknown>>;

/** An audit record as a host wrote it (one JSON line). */
export type AuditLine = Readonly<Record<string, unknown>>;

/** What a host is started with besides its config (the environment and flags tests vary). */
export interface HostStartOptions {
  /** Environment of the CLI hosts, and bindings of the worker (e.g. TRUSTED_HEADER_PUBLIC_KEY). */
  readonly env?: Readonly<Record<string, string>>;
  /** `--enforce-capability-filtering` on the CLI hosts, ENFORCE_CAPABILITY_FILTERING=true on the worker. */
  readonly enforceCapabilityFiltering?: boolean;
}

/** One host in front of its own upstreams. */
export interface AccessHost {
  readonly name: HostName;
  readonly upstreams: AccessUpstreams;
  /** POSTs `body` to /mcp with `headers` and reads the answer whole. */
  post(headers: RequestHeaders, body: string): Promise<Answer>;
  /** Puts `sections` in force (with this host's servers and audit destination); resolves once applied. */
  configure(sections: AccessSections): Promise<void>;
  /**
   * Writes a config without waiting for it to apply (one the host may refuse): the CLI hosts'
   * file, which they hot-reload; the worker's binding, with which it restarts.
   */
  writeConfig(sections: AccessSections): Promise<void>;
  /** Every audit record the host has written so far, in order. */
  audit(): AuditLine[];
  /** Everything the host has logged. */
  logs(): string;
  /** The audit file's raw text (CLI hosts) or the worker's console output. */
  auditText(): string;
  stop(): Promise<void>;
}

/** The full config YAML of a host: its servers (with Envoy's hostnames), the sections, and the audit destination. */
export function configYaml(
  upstreams: AccessUpstreams,
  sections: AccessSections,
  auditFile: string | undefined,
): string {
  const servers = SERVERS.map((server) => ({
    name: server.name,
    url: upstreams.url(server),
    prefix: server.prefix,
    hostname: server.hostname,
  }));
  const audit = sections['audit'] as Record<string, unknown> | undefined;
  const withAudit =
    audit === undefined || auditFile === undefined
      ? sections
      : { ...sections, audit: { ...audit, destination: auditFile } };
  return stringify({ servers, ...withAudit });
}

/** Starts the three hosts (in parallel), each with `sections` in force. */
export async function startAccessHosts(
  sections: AccessSections,
  options: HostStartOptions = {},
): Promise<Record<HostName, AccessHost>> {
  const started = await Promise.allSettled([
    startBroker(sections, options),
    startRouter(sections, options),
    startWorker(sections, options),
  ]);
  const hosts = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(hosts.map((host) => host.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [broker, router, worker] = hosts as [AccessHost, AccessHost, AccessHost];
  return { broker, router, worker };
}

/** The CLI flags and environment of `options`. */
function cliOptions(options: HostStartOptions) {
  return {
    env: { ...options.env },
    args: options.enforceCapabilityFiltering === true ? ['--enforce-capability-filtering'] : [],
  };
}

async function startBroker(sections: AccessSections, options: HostStartOptions): Promise<AccessHost> {
  const upstreams = await startAccessUpstreams();
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-access-broker-'));
  const auditFile = join(dir, 'audit.jsonl');
  const { env, args } = cliOptions(options);
  const config = configYaml(upstreams, sections, auditFile);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config, env, args });
  } catch (error) {
    await upstreams.stop();
    throw error;
  }
  return cliHost('broker', gateway, gateway.baseUrl, upstreams, { auditFile, config }, async () => {
    await gateway.stop();
    await upstreams.stop();
    await rm(dir, { recursive: true, force: true });
  });
}

async function startRouter(sections: AccessSections, options: HostStartOptions): Promise<AccessHost> {
  const upstreams = await startAccessUpstreams();
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-access-router-'));
  const auditFile = join(dir, 'audit.jsonl');
  const { env, args } = cliOptions(options);
  const config = configYaml(upstreams, sections, auditFile);
  let gateway: RunningGateway | undefined;
  let envoy: RunningEnvoy | undefined;
  const stop = async () => {
    await envoy?.stop();
    await gateway?.stop();
    await upstreams.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const routerPort = await freePort();
    const listenerPort = await freePort();
    gateway = await startGateway({
      config,
      env,
      args: ['--mcp-router-address', `127.0.0.1:${routerPort}`, '--mcp-gateway-public-host', PUBLIC_HOST, ...args],
    });
    envoy = await startEnvoy({
      config: renderEnvoyBootstrap({
        listenerPort,
        adminPort: await freePort(),
        brokerAddress: `127.0.0.1:${gateway.port}`,
        extProcAddress: `127.0.0.1:${routerPort}`,
        upstreams: SERVERS.map((server) => ({
          name: server.name,
          hostname: server.hostname,
          address: `127.0.0.1:${upstreams.port(server)}`,
          path: '/mcp',
        })),
      }),
    });
    return cliHost('router', gateway, envoy.listenerUrl(listenerPort), upstreams, { auditFile, config }, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A CLI gateway reached at `baseUrl` (itself, or Envoy in front of it) started with `files.config`, reconfigured by hot reload. */
function cliHost(
  name: HostName,
  gateway: RunningGateway,
  baseUrl: string,
  upstreams: AccessUpstreams,
  files: { readonly auditFile: string; readonly config: string },
  stop: () => Promise<void>,
): AccessHost {
  const { auditFile } = files;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let current = files.config;
  const auditText = () => {
    try {
      return readFileSync(auditFile, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    name,
    upstreams,
    post: (headers, body) => postRaw(agent, `${baseUrl}/mcp`, headers, body),
    async configure(sections) {
      const yaml = configYaml(upstreams, sections, auditFile);
      if (yaml === current) return;
      const applied = countOf(gateway.logs(), '"msg":"config applied"');
      await gateway.writeConfig(yaml);
      await until(`the ${name} applied its new config`, () =>
        countOf(gateway.logs(), '"msg":"config applied"') > applied ? true : undefined,
      );
      current = yaml;
    },
    async writeConfig(sections) {
      current = configYaml(upstreams, sections, auditFile);
      await gateway.writeConfig(current);
    },
    audit: () => auditLines(auditText()),
    auditText,
    logs: () => gateway.logs(),
    async stop() {
      agent.destroy();
      await stop();
    },
  };
}

async function startWorker(sections: AccessSections, options: HostStartOptions): Promise<AccessHost> {
  assertWorkerBuilt();
  const upstreams = await startAccessUpstreams();
  let output = '';
  let mf: Miniflare | undefined;
  let current = '';
  const bindings = {
    ...options.env,
    ...(options.enforceCapabilityFiltering === true ? { ENFORCE_CAPABILITY_FILTERING: 'true' } : {}),
  };
  const boot = async (config: string) => {
    await mf?.dispose();
    mf = undefined;
    const next = new Miniflare({
      modules: true,
      scriptPath: WORKER_BUNDLE,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: [...COMPATIBILITY_FLAGS],
      bindings: {
        MCP_GATEWAY_CONFIG: config,
        GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
        DISCOVERY_TOOLS_ENABLED: 'false',
        ...bindings,
      },
      durableObjects: SESSION_OBJECT_BINDING,
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      },
    });
    await next.ready;
    mf = next;
    current = config;
  };
  try {
    await boot(configYaml(upstreams, sections, undefined));
  } catch (error) {
    await upstreams.stop();
    throw error;
  }
  return {
    name: 'worker',
    upstreams,
    async post(headers, body) {
      // Repeated values as pairs: Miniflare's Headers joins them, as any HTTP server does.
      const requestHeaders: [string, string][] = [];
      for (const [key, value] of Object.entries(headers)) {
        for (const one of typeof value === 'string' ? [value] : value) requestHeaders.push([key, one]);
      }
      const response = await (mf as Miniflare).dispatchFetch('http://localhost/mcp', {
        method: 'POST',
        headers: requestHeaders,
        body,
      });
      const answerHeaders: Record<string, string> = {};
      response.headers.forEach((value, key) => (answerHeaders[key.toLowerCase()] = value));
      return toAnswer(response.status, answerHeaders, await response.text());
    },
    async configure(sections) {
      const config = configYaml(upstreams, sections, undefined);
      if (config !== current) await boot(config);
    },
    async writeConfig(sections) {
      await boot(configYaml(upstreams, sections, undefined));
    },
    audit: () => auditLines(output),
    auditText: () => output,
    logs: () => output,
    async stop() {
      await mf?.dispose();
      await upstreams.stop();
    },
  };
}

/** POSTs over node:http, so that an array header value goes out as several header lines (as Envoy forwards them). */
function postRaw(agent: Agent, url: string, headers: RequestHeaders, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing: OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(body) };
    for (const [key, value] of Object.entries(headers)) outgoing[key] = typeof value === 'string' ? value : [...value];
    const req = httpRequest(url, { method: 'POST', agent, headers: outgoing }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const answerHeaders: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) answerHeaders[key] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve(toAnswer(res.statusCode ?? 0, answerHeaders, Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The audit records among JSON lines (other lines, and a console's prefixes, skipped). */
export function auditLines(text: string): AuditLine[] {
  const out: AuditLine[] = [];
  for (const line of text.split('\n')) {
    const start = line.indexOf('{"event":"audit"');
    if (start === -1) continue;
    try {
      out.push(JSON.parse(line.slice(start)) as AuditLine);
    } catch {
      // A line cut short by a console's chunking is read again once whole.
    }
  }
  return out;
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Polls `check` every 25 ms until it gives a value; throws `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
