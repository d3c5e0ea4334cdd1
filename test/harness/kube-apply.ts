import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { kubeRequest, statusMessage, type KubeEndpoint } from './kube-rest.ts';

/** A manifest document: what the harness needs of it to send it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

/** YAML files larger than this are refused: test manifests are small, a mistake is not. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const ESTABLISHED_POLL_MS = 50;
const DEFAULT_ESTABLISHED_TIMEOUT_MS = 30_000;

/** The non-empty documents of a (multi-document) YAML manifest file. */
export async function readManifests(path: string): Promise<Manifest[]> {
  const text = await readFile(path, 'utf8');
  if (text.length > MAX_MANIFEST_BYTES) {
    throw new Error(`readManifests: ${path} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  }
  const manifests: Manifest[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      throw new Error(`readManifests: ${path} is not valid YAML: ${document.errors[0]!.message}`);
    }
    const value = document.toJS() as Partial<Manifest> | null;
    if (value === null || value === undefined) continue;
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !value.metadata?.name) {
      throw new Error(`readManifests: ${path} holds a document without apiVersion, kind or metadata.name`);
    }
    manifests.push(value as Manifest);
  }
  return manifests;
}

/**
 * Creates every object of the manifest files as written (CRDs first), waits until each
 * CustomResourceDefinition is Established, then creates the other objects in file order;
 * namespaced objects without a namespace go to `default`.
 * @throws Error with the apiserver's message when an object is refused.
 */
export async function applyManifestFiles(
  endpoint: KubeEndpoint,
  files: readonly string[],
  timeoutMs = DEFAULT_ESTABLISHED_TIMEOUT_MS,
): Promise<void> {
  const manifests = (await Promise.all(files.map(readManifests))).flat();
  const isCrd = (manifest: Manifest) =>
    manifest.kind === 'CustomResourceDefinition' && manifest.apiVersion === 'apiextensions.k8s.io/v1';
  const crds = manifests.filter(isCrd);
  await Promise.all(crds.map((crd) => create(endpoint, CRD_PATH, crd)));
  await Promise.all(crds.map((crd) => waitEstablished(endpoint, crd.metadata.name, timeoutMs)));
  for (const manifest of manifests.filter((manifest) => !isCrd(manifest))) {
    await create(endpoint, await collectionPath(endpoint, manifest), manifest);
  }
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

async function create(endpoint: KubeEndpoint, path: string, manifest: Manifest): Promise<void> {
  const response = await kubeRequest(endpoint, 'POST', path, manifest);
  if (response.status !== 201) {
    throw new Error(`applyManifestFiles: ${manifest.kind} ${manifest.metadata.name}: ${statusMessage(response)}`);
  }
}

/** The collection URL path of a manifest's kind, found through API discovery. */
async function collectionPath(endpoint: KubeEndpoint, manifest: Manifest): Promise<string> {
  const groupVersionPath = manifest.apiVersion.includes('/')
    ? `/apis/${manifest.apiVersion}`
    : `/api/${manifest.apiVersion}`;
  const response = await kubeRequest(endpoint, 'GET', groupVersionPath);
  if (response.status !== 200) {
    throw new Error(
      `applyManifestFiles: the apiserver does not serve ${manifest.apiVersion}: ${statusMessage(response)}`,
    );
  }
  const { resources } = JSON.parse(response.body) as {
    resources: { name: string; kind: string; namespaced: boolean }[];
  };
  const resource = resources.find((r) => r.kind === manifest.kind && !r.name.includes('/'));
  if (resource === undefined) {
    throw new Error(`applyManifestFiles: the apiserver serves no kind ${manifest.kind} in ${manifest.apiVersion}`);
  }
  const namespace = manifest.metadata.namespace ?? 'default';
  return resource.namespaced
    ? `${groupVersionPath}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`
    : `${groupVersionPath}/${resource.name}`;
}

interface CrdConditions {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

async function waitEstablished(endpoint: KubeEndpoint, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await kubeRequest(endpoint, 'GET', `${CRD_PATH}/${encodeURIComponent(name)}`);
    if (response.status !== 200) throw new Error(`applyManifestFiles: reading CRD ${name}: ${statusMessage(response)}`);
    const conditions = (JSON.parse(response.body) as CrdConditions).status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) {
      const summary = conditions.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`).join(', ');
      throw new Error(
        `applyManifestFiles: CRD ${name} not Established after ${timeoutMs} ms: ${summary || 'no conditions'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ESTABLISHED_POLL_MS));
  }
}
