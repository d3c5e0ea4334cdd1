// A throwaway private certificate authority made with the openssl command line, and server
// certificates for 127.0.0.1 signed by it, for suites that need an upstream over real TLS.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The openssl binary; `OPENSSL` overrides it. */
const OPENSSL = process.env['OPENSSL'] ?? 'openssl';

/**
 * Our own config file, so that the extensions do not depend on the machine's openssl.cnf.
 * `req` needs a distinguished-name section even when `-subj` gives the name.
 */
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** ECDSA P-256 keys: quick to generate and accepted by every TLS stack involved. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A server certificate (leaf only) and its private key, both PEM. */
export interface ServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A private CA living in its own temp directory until `remove()`. */
export interface PrivateCa {
  /** The CA certificate, PEM: what a client adds to its trust. */
  readonly certPem: string;
  /** The CA certificate's file, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly certPath: string;
  /** Issues a certificate for 127.0.0.1 and localhost (subjectAltName IP and DNS), valid two days. */
  issueServerCertificate(): Promise<ServerCertificate>;
  /** Deletes the directory with the keys. */
  remove(): Promise<void>;
}

/** Creates a self-signed CA named `commonName` (valid two days) with the openssl command line. */
export async function createPrivateCa(commonName: string): Promise<PrivateCa> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-ca-'));
  const file = (name: string) => join(dir, name);
  try {
    await writeFile(file('openssl.cnf'), OPENSSL_CNF);
    await openssl([
      'req',
      '-x509',
      '-config',
      file('openssl.cnf'),
      '-extensions',
      'ca_ext',
      ...NEW_KEY,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let issued = 0;
  return {
    certPem: await readFile(file('ca.pem'), 'utf8'),
    certPath: file('ca.pem'),
    async issueServerCertificate() {
      issued += 1;
      const name = `server-${issued}`;
      await openssl([
        'req',
        '-new',
        '-config',
        file('openssl.cnf'),
        ...NEW_KEY,
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
        '-subj',
        '/CN=127.0.0.1',
      ]);
      await openssl([
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        '2',
        '-extfile',
        file('openssl.cnf'),
        '-extensions',
        'server_ext',
        '-out',
        file(`${name}.pem`),
      ]);
      return {
        certPem: await readFile(file(`${name}.pem`), 'utf8'),
        keyPem: await readFile(file(`${name}.key`), 'utf8'),
      };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run(OPENSSL, args);
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`openssl ${args[0] ?? ''} failed: ${typeof stderr === 'string' ? stderr.trim() : String(error)}`, {
      cause: error,
    });
  }
}
