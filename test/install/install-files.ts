// Paths of the install artifacts (CRDs, Helm chart, Dockerfiles) and typed readers for the
// CRD files, shared by the suites in test/install/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** infra/crds: the CRDs, the source of truth. */
export const CRD_DIR = fileURLToPath(new URL('../../infra/crds/', import.meta.url));
/** infra/helm/mcp-gateway: the chart. */
export const CHART_DIR = fileURLToPath(new URL('../../infra/helm/mcp-gateway/', import.meta.url));
/** The chart's copies of the CRDs, which Helm installs before the templates. */
export const CHART_CRD_DIR = fileURLToPath(new URL('../../infra/helm/mcp-gateway/crds/', import.meta.url));
/** infra/docker: the Dockerfiles. */
export const DOCKER_DIR = fileURLToPath(new URL('../../infra/docker/', import.meta.url));
/** The repository root, where `docker build` runs and `.dockerignore` lives. */
export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** The three CRD file names, by kind. */
export const CRD_FILE_NAMES = {
  MCPGatewayExtension: 'mcp.kuadrant.io_mcpgatewayextensions.yaml',
  MCPServerRegistration: 'mcp.kuadrant.io_mcpserverregistrations.yaml',
  MCPVirtualServer: 'mcp.kuadrant.io_mcpvirtualservers.yaml',
} as const;

/** Absolute paths of the three CRD files, for `startKubeApiServer({ crdFiles })`. */
export const CRD_FILES: readonly string[] = Object.values(CRD_FILE_NAMES).map((name) => CRD_DIR + name);

/** An OpenAPI v3 schema node of a CRD, as far as these tests read it. */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  pattern?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
}

/** The parts of a CustomResourceDefinition these tests read. */
export interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

/** Reads one CRD file, which must hold exactly one YAML document. */
export function readCrd(path: string): Crd {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  if (documents.length !== 1) {
    throw new Error(`${path} must hold exactly one YAML document`);
  }
  const [document] = documents;
  if (document!.errors.length > 0) throw new Error(`${path}: ${document!.errors[0]!.message}`);
  return document!.toJS() as Crd;
}

/** The schema of `spec` in the CRD's only version. */
export function specSchema(crd: Crd): SchemaNode {
  const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'];
  if (spec === undefined) throw new Error(`${crd.metadata.name} has no spec schema`);
  return spec;
}
