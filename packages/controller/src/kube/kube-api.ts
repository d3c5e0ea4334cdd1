import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../model/api-types.ts';
import { FIELD_MANAGER } from '../names.ts';

/** A failed API request: the HTTP status and the API server's message. */
export class KubeApiError extends Error {
  /** HTTP status of the answer (404, 409, 422, …). */
  readonly status: number;
  /** The API server's machine-readable reason (`NotFound`, `Conflict`, `Invalid`, …). */
  readonly reason: string | undefined;

  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

/** A list answer. */
export interface KubeList<T> {
  readonly items: T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** The API calls the controller makes, on raw JSON objects. */
export interface KubeApi {
  get<T extends KubeObject>(path: string): Promise<T | undefined>;
  list<T extends KubeObject>(path: string, labelSelector?: string, fieldSelector?: string): Promise<KubeList<T>>;
  /** Server-side apply of `object` with the controller's field manager (forcing ownership). */
  apply(object: KubeObject & Record<string, unknown>): Promise<void>;
  /** Server-side apply of `{status}` on the object's status subresource. */
  applyStatus(object: KubeObject, status: Record<string, unknown>): Promise<void>;
  create<T extends KubeObject>(object: KubeObject & Record<string, unknown>): Promise<T>;
  replace<T extends KubeObject>(object: KubeObject & Record<string, unknown>): Promise<T>;
  /** JSON merge patch (RFC 7386) of an object. */
  mergePatch(path: string, patch: Record<string, unknown>): Promise<void>;
  /** Deletes; a missing object is not an error. */
  delete(path: string): Promise<void>;
}

/**
 * The REST path of an object (or, without a name, of its collection): `/api/v1/...` for the core
 * group, `/apis/<group>/<version>/...` otherwise; the resource is the lower-cased kind + "s",
 * which holds for every kind the controller touches.
 */
export function objectPath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = namespace !== undefined && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const resource = `${kind.toLowerCase()}s`;
  return `${base}${scope}/${resource}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

/** The path of an object from its own apiVersion, kind, namespace and name. */
export function pathOf(object: KubeObject): string {
  if (object.apiVersion === undefined || object.kind === undefined) {
    throw new Error(`object ${object.metadata.name} has no apiVersion or kind`);
  }
  return objectPath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
}

/** client-node's generic client, used for its configured transport (TLS, auth, dispatcher). */
class Transport extends k8s.KubernetesObjectApi {
  /**
   * client-node 2.x builds a new undici Agent (so a new TLS connection and context) for every
   * request; under load that kept hundreds of MB of idle keep-alive sockets alive. All requests
   * of this client share the first one instead (the auth headers are still applied per request).
   */
  private dispatcher: ReturnType<k8s.RequestContext['getDispatcher']>;

  async send(
    method: k8s.HttpMethod,
    path: string,
    query: Record<string, string>,
    body?: unknown,
    contentType?: string,
    parse = true,
  ): Promise<{ status: number; json: unknown }> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, method);
    for (const [key, value] of Object.entries(query)) ctx.setQueryParam(key, value);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    await this.configuration.authMethods.default?.applySecurityAuthentication(ctx);
    this.dispatcher ??= ctx.getDispatcher();
    if (this.dispatcher !== undefined) ctx.setDispatcher(this.dispatcher);
    const response = await this.configuration.httpApi.send(ctx).toPromise();
    const ok = response.httpStatusCode >= 200 && response.httpStatusCode < 300;
    const text = await response.body.text();
    // A successful apply answers with the whole object, which nobody reads.
    if (ok && !parse) return { status: response.httpStatusCode, json: undefined };
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.httpStatusCode, json };
  }
}

const APPLY = 'application/apply-patch+yaml';

/**
 * A KubeApi over a kubeconfig (client-node's transport, our paths and content types).
 * @param fieldManager The field manager of its writes. Default `mcp-gateway-controller`.
 */
export function createKubeApi(kubeConfig: k8s.KubeConfig, fieldManager: string = FIELD_MANAGER): KubeApi {
  const transport = kubeConfig.makeApiClient(Transport);
  async function call(
    method: k8s.HttpMethod,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
    contentType?: string,
    parse = true,
  ): Promise<unknown> {
    const { status, json } = await transport.send(method, path, query, body, contentType, parse);
    if (status >= 200 && status < 300) return json;
    const detail = json as { message?: string; reason?: string } | undefined;
    throw new KubeApiError(
      status,
      `${method} ${path}: ${status} ${typeof detail === 'object' ? (detail.message ?? '') : String(json)}`.trim(),
      typeof detail === 'object' ? detail.reason : undefined,
    );
  }
  const ssaQuery = { fieldManager, force: 'true' };
  return {
    async get<T extends KubeObject>(path: string) {
      try {
        return (await call(k8s.HttpMethod.GET, path)) as T;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    async list<T extends KubeObject>(path: string, labelSelector?: string, fieldSelector?: string) {
      const query = { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
      return (await call(k8s.HttpMethod.GET, path, query)) as KubeList<T>;
    },
    async apply(object) {
      await call(k8s.HttpMethod.PATCH, pathOf(object), ssaQuery, object, APPLY, false);
    },
    async applyStatus(object, status) {
      const body = {
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name, namespace: object.metadata.namespace },
        status,
      };
      await call(k8s.HttpMethod.PATCH, `${pathOf(object)}/status`, ssaQuery, body, APPLY, false);
    },
    async create<T extends KubeObject>(object: KubeObject & Record<string, unknown>) {
      const path = objectPath(object.apiVersion ?? '', object.kind ?? '', object.metadata.namespace);
      return (await call(k8s.HttpMethod.POST, path, { fieldManager }, object)) as T;
    },
    async replace<T extends KubeObject>(object: KubeObject & Record<string, unknown>) {
      return (await call(k8s.HttpMethod.PUT, pathOf(object), { fieldManager }, object)) as T;
    },
    async mergePatch(path, patch) {
      await call(k8s.HttpMethod.PATCH, path, { fieldManager }, patch, 'application/merge-patch+json');
    },
    async delete(path) {
      try {
        await call(k8s.HttpMethod.DELETE, path);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return;
        throw error;
      }
    },
  };
}
