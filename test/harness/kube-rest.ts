import { request } from 'node:https';

/** Where and as whom the harness talks to its kube-apiserver. */
export interface KubeEndpoint {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  readonly ca: string;
  /** A bearer token. */
  readonly token: string;
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** Answers larger than this are cut off: the harness reads readiness, discovery and single objects. */
const MAX_RESPONSE_CHARS = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One HTTPS request to the apiserver with a JSON body as-is. The harness sends manifests
 * this way, not through client-node's typed serializer, which drops fields its models
 * spell differently (`x-kubernetes-int-or-string` in a CRD schema, for one).
 */
export function kubeRequest(
  endpoint: KubeEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${endpoint.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request(
      `${endpoint.url}${path}`,
      { method, ca: endpoint.ca, headers, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => {
          if (text.length < MAX_RESPONSE_CHARS) text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The apiserver's message from a Status body, or the body's start. */
export function statusMessage(response: KubeResponse): string {
  try {
    const status = JSON.parse(response.body) as { message?: unknown };
    if (typeof status.message === 'string') return `${response.status} ${status.message}`;
  } catch {
    // Not JSON: fall through.
  }
  return `${response.status} ${response.body.slice(0, 500)}`;
}
