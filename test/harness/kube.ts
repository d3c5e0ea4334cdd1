import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdir, readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { applyManifestFiles } from './kube-apply.ts';
import { kubeBinaries } from './kube-binaries.ts';
import { kubeRequest, type KubeEndpoint } from './kube-rest.ts';
import { startProcess, type RunningProcess } from './process.ts';

export { kubeBinaries, type KubeBinaries } from './kube-binaries.ts';

/** A real kube-apiserver backed by its own etcd, on loopback ports; no kubelet, no controllers. */
export interface KubeApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** A kubeconfig file for a cluster-admin (group system:masters), for client-node, helm and kubectl. */
  readonly kubeconfigPath: string;
  /** The same kubeconfig's YAML text. */
  readonly kubeconfig: string;
  /**
   * Creates the objects of manifest files (multi-document YAML) as written, CRDs first and
   * waited for until Established; namespaced objects without a namespace go to `default`.
   */
  applyFiles(paths: readonly string[]): Promise<void>;
  /** Stops kube-apiserver and etcd and removes their temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Further manifest files (multi-document YAML) to create; their CRDs are waited for until Established. */
  crdFiles?: readonly string[];
  /** How long kube-apiserver may take to answer /readyz. Default 60 000 ms. */
  timeoutMs?: number;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const READY_POLL_MS = 100;
const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * Starts etcd and kube-apiserver on free loopback ports in a temp directory, waits for
 * /readyz, then installs the Gateway API standard CRDs, the Istio EnvoyFilter CRD and
 * `options.crdFiles`, each waited for until Established. Authorization is RBAC; the
 * kubeconfig's token belongs to group system:masters. The ServiceAccount admission plugin
 * is off (no controller-manager creates default service accounts), so Deployments and Pods
 * are plain objects.
 * @throws Error naming `.ci/provision-kube` when the binaries are missing, or with the
 *   process output when etcd or kube-apiserver fails to start.
 */
export async function startKubeApiServer(options: StartKubeOptions = {}): Promise<KubeApiServer> {
  const binaries = kubeBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-kube-'));
  const processes: RunningProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The apiserver first, so it does not log etcd reconnect errors while going down.
    for (const running of processes.reverse()) await running.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const etcdUrl = await startEtcd(binaries.etcd, dir, processes);
    const token = randomBytes(24).toString('hex');
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const apiserver = await startApiserver(binaries.apiserver, { dir, etcdUrl, port, token });
    processes.push(apiserver);
    const ca = await waitForServingCert(apiserver, join(dir, 'pki', 'apiserver.crt'));
    const endpoint: KubeEndpoint = { url, ca, token };
    await waitReady(apiserver, endpoint, options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS);

    const kubeconfig = toKubeconfig(endpoint);
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    const baseCrds = (await readdir(binaries.crdDir)).filter((name) => name.endsWith('.yaml')).sort();
    await applyManifestFiles(endpoint, [
      ...baseCrds.map((name) => join(binaries.crdDir, name)),
      ...(options.crdFiles ?? []),
    ]);
    return { url, kubeconfigPath, kubeconfig, applyFiles: (paths) => applyManifestFiles(endpoint, paths), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startEtcd(binary: string, dir: string, processes: RunningProcess[]): Promise<string> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = await startProcess(
    binary,
    [
      `--name=default`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // A test cluster's data is thrown away: skipping fsync makes every write fast.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { readyWhen: { url: `${clientUrl}/health` } },
  );
  processes.push(etcd);
  return clientUrl;
}

interface ApiserverSetup {
  dir: string;
  etcdUrl: string;
  port: number;
  token: string;
}

async function startApiserver(binary: string, setup: ApiserverSetup): Promise<RunningProcess> {
  const { dir, etcdUrl, port, token } = setup;
  // ES256 service-account tokens: a P-256 key pair is generated in a millisecond.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const files = {
    saKey: join(dir, 'service-account.key'),
    saPub: join(dir, 'service-account.pub'),
    tokens: join(dir, 'tokens.csv'),
  };
  await mkdir(join(dir, 'pki'), { mode: 0o700 });
  await writeFile(files.saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(files.saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(files.tokens, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  return startProcess(binary, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--token-auth-file=${files.tokens}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--disable-admission-plugins=ServiceAccount',
    // No controller-manager and no real endpoints: nothing to reconcile for `kubernetes`.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    // API Priority and Fairness only queues requests under load; off, /readyz answers ~1.5 s sooner.
    '--enable-priority-and-fairness=false',
  ]);
}

/** kube-apiserver writes its self-signed serving cert (leaf, then CA) before it listens. */
async function waitForServingCert(apiserver: RunningProcess, path: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const pem = await readFile(path, 'utf8');
      if (pem.includes('END CERTIFICATE')) return pem;
    } catch {
      // Not written yet.
    }
    await assertAlive(apiserver, 'before writing its serving certificate');
    if (Date.now() > deadline) throw new Error(`kube-apiserver wrote no ${path} in 20 s\n${apiserver.output()}`);
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

async function waitReady(apiserver: RunningProcess, endpoint: KubeEndpoint, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    await assertAlive(apiserver, 'before /readyz answered 200');
    try {
      const { status, body } = await kubeRequest(endpoint, 'GET', '/readyz');
      if (status === 200) return;
      last = `${status} ${body.slice(0, 2_000)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(`kube-apiserver not ready after ${timeoutMs} ms (last /readyz: ${last})\n${tail(apiserver)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

async function assertAlive(running: RunningProcess, when: string): Promise<void> {
  const exited = await Promise.race([running.exited.then(() => true), Promise.resolve(false)]);
  if (exited) throw new Error(`kube-apiserver exited ${when}\n${tail(running)}`);
}

function tail(running: RunningProcess): string {
  const output = running.output();
  return output.length > 4_000 ? `…${output.slice(-4_000)}` : output;
}

function toKubeconfig({ url, ca, token }: KubeEndpoint): string {
  const caData = Buffer.from(ca).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: mcpgw-test',
    `    cluster: { server: "${url}", certificate-authority-data: "${caData}" }`,
    'users:',
    '  - name: admin',
    `    user: { token: "${token}" }`,
    'contexts:',
    '  - name: mcpgw-test',
    '    context: { cluster: mcpgw-test, user: admin, namespace: default }',
    'current-context: mcpgw-test',
    '',
  ].join('\n');
}
