// Certificates for the TLS tests, made at test time by scripts/dev-certs.sh (openssl): a
// cluster CA in `dir` and one certificate per name, valid for 127.0.0.1.
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { runText } from './processes.js';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Makes (or adds to) the CA in `dir` and a certificate for each name; `days: -1` makes expired ones. */
export async function makeCerts(dir: string, names: string[], o: { days?: number } = {}): Promise<void> {
  const env = { ...process.env, DAYS: String(o.days ?? 30) };
  const run = await runText('sh', [join(ROOT, 'scripts', 'dev-certs.sh'), dir, ...names], { env });
  if (run.code !== 0) throw new Error(`dev-certs.sh failed (${run.code}): ${run.stderr}`);
}

/** The files of `name`'s certificate made in `dir`. */
export function certFiles(dir: string, name: string): CertFiles {
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`), ca: join(dir, 'ca.pem') };
}

/** A [security] table turning TLS on with `files`; `allowed` lists the member names. */
export function tlsToml(mode: 'members' | 'all', files: CertFiles, allowed: string[] = []): string {
  const names = allowed.map((n) => JSON.stringify(n)).join(', ');
  return `[security]\ntls = "${mode}"\ntls_cert_file = "${files.cert}"\ntls_key_file = "${files.key}"\ntls_ca_file = "${files.ca}"\ntls_allowed_names = [${names}]\n`;
}
