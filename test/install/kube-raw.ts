// A raw GET against the test API server, for what client-node does not expose directly:
// API discovery and the Table rendering kubectl prints (printer columns).
import { request } from 'node:https';
import { parse } from 'yaml';
import type { KubeApiServer } from '../harness/kube.ts';

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}

/** Bodies larger than this are refused: discovery documents and tables here are a few kB. */
const MAX_BODY_BYTES = 1024 * 1024;

/** GETs `path` from the API server as the admin user; resolves with the status and parsed JSON body. */
export function kubeGetJson(
  kube: KubeApiServer,
  path: string,
  accept = 'application/json',
): Promise<{ status: number; body: unknown }> {
  const config = parse(kube.kubeconfig) as KubeconfigFile;
  const ca = Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8');
  const token = config.users[0]!.user.token;
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, kube.url),
      { ca, headers: { authorization: `Bearer ${token}`, accept }, timeout: 10_000 },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          if (text.length > MAX_BODY_BYTES) req.destroy(new Error(`kubeGetJson: ${path} answered more than 1 MiB`));
        });
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch (error) {
            reject(new Error(`kubeGetJson: ${path} answered non-JSON: ${text.slice(0, 200)}`, { cause: error }));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`kubeGetJson: ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The message of the Status an API call failed with (client-node's ApiException body), or the error's text. */
export function failureMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (typeof status.message === 'string') return status.message;
    } catch {
      return body;
    }
  }
  if (body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The HTTP status code of a failed client-node call, or undefined when the call did not reach the server. */
export function failureCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
