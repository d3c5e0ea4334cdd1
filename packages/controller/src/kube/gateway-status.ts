import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '@mcp-gateway/core';
import { parseGatewayPins, type GatewayPins } from '../model/tool-pins-status.ts';

/** Where and how often the controller reads the gateways' GET /status. */
export interface GatewayStatusOptions {
  /** URL of a gateway's status, `{namespace}` replaced by its namespace. Default {@link DEFAULT_GATEWAY_STATUS_URL}. */
  readonly urlTemplate?: string;
  /** Pause between two rounds. Default 30 s. */
  readonly intervalMs?: number;
  /** Longest wait for one answer. Default 5 s. */
  readonly timeoutMs?: number;
  /** Largest answer read. Default 4 MiB. */
  readonly maxBytes?: number;
}

/** The gateway Service's broker port in the extension's namespace. */
export const DEFAULT_GATEWAY_STATUS_URL = 'http://mcp-gateway.{namespace}.svc.cluster.local:8080/status';
export const DEFAULT_GATEWAY_STATUS_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** The outcome of one read of a gateway's status. */
export type GatewayStatusResult =
  { readonly ok: true; readonly answer: unknown } | { readonly ok: false; readonly message: string };

/**
 * GETs a gateway's /status and parses it as JSON: refused when it takes longer than `timeoutMs`,
 * answers other than 200, or is larger than `maxBytes`. `host` is sent as the Host header: the
 * gateway answers /status only under the host names it serves (its public host included), not
 * under its Service's name.
 */
export function readGatewayStatus(
  url: string,
  host: string | undefined,
  options: { readonly timeoutMs?: number; readonly maxBytes?: number } = {},
): Promise<GatewayStatusResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, message: `"${url}" is not a URL` });
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(target, {
      method: 'GET',
      headers: { accept: 'application/json', ...(host !== undefined ? { host } : {}) },
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A deadline for the whole answer, not only between two packets: a trickling gateway is cut too.
    const deadline = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    const fail = (message: string) => {
      clearTimeout(deadline);
      request.destroy();
      resolve({ ok: false, message });
    };
    request.on('error', (error) => fail(error.message));
    request.on('response', (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`answered HTTP ${response.statusCode}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(`answer larger than ${maxBytes} bytes`);
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail(error.message));
      response.on('end', () => {
        clearTimeout(deadline);
        if (size > maxBytes) return;
        try {
          resolve({ ok: true, answer: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch {
          resolve({ ok: false, message: 'answer is not JSON' });
        }
      });
    });
    request.end();
  });
}

/** A gateway whose status is read: its namespace and the Host it answers to. */
export interface GatewayStatusTarget {
  readonly namespace: string;
  readonly host: string;
}

/** The reports read so far. */
export interface GatewayStatusPoller {
  /** The pinned servers a namespace's gateway last reported; undefined before its first good answer. */
  pins(namespace: string): ReadonlyMap<string, GatewayPins> | undefined;
  stop(): void;
}

/**
 * Reads the status of each target gateway every interval (the first round at once). A report
 * whose pins differ from the last one replaces it and `onChange` is called with the namespace.
 * A gateway that cannot be read, or answers something that is not a status report, leaves its
 * last report in place; the problem is logged when it first appears or changes, and its end once.
 */
export function startGatewayStatusPoller(options: {
  readonly status: GatewayStatusOptions;
  readonly logger: Logger;
  readonly targets: () => readonly GatewayStatusTarget[];
  readonly onChange: (namespace: string) => void;
}): GatewayStatusPoller {
  const { status, logger } = options;
  const template = status.urlTemplate ?? DEFAULT_GATEWAY_STATUS_URL;
  const reports = new Map<string, { readonly key: string; readonly pins: ReadonlyMap<string, GatewayPins> }>();
  const problems = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function readOne(target: GatewayStatusTarget): Promise<void> {
    const url = template.replaceAll('{namespace}', encodeURIComponent(target.namespace));
    const result = await readGatewayStatus(url, target.host, status);
    const pins = result.ok ? parseGatewayPins(result.answer) : undefined;
    if (pins === undefined) {
      const message = result.ok ? 'answer is not a gateway status report' : result.message;
      if (problems.get(target.namespace) !== message) {
        problems.set(target.namespace, message);
        logger.warn('cannot read the gateway status; registration statuses kept as they are', {
          namespace: target.namespace,
          url,
          error: message,
        });
      }
      return;
    }
    if (problems.delete(target.namespace)) logger.info('gateway status read again', { namespace: target.namespace });
    const key = JSON.stringify([...pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (reports.get(target.namespace)?.key === key) return;
    reports.set(target.namespace, { key, pins });
    if (!stopped) options.onChange(target.namespace);
  }

  async function round(): Promise<void> {
    try {
      const targets = options.targets();
      const current = new Set(targets.map((t) => t.namespace));
      for (const namespace of [...reports.keys(), ...problems.keys()]) {
        if (!current.has(namespace)) {
          reports.delete(namespace);
          problems.delete(namespace);
        }
      }
      await Promise.all(targets.map(readOne));
    } catch (error) {
      logger.error('gateway status round failed', { error: error instanceof Error ? error.message : String(error) });
    }
    if (!stopped) {
      timer = setTimeout(() => void round(), status.intervalMs ?? DEFAULT_GATEWAY_STATUS_INTERVAL_MS);
      timer.unref();
    }
  }

  timer = setTimeout(() => void round(), 0);
  timer.unref();
  return {
    pins: (namespace) => reports.get(namespace)?.pins,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
