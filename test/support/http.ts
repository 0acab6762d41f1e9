// Fixtures for tests of the HTTP side: plain requests and Prometheus text parsing.
import { request } from 'node:http';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => any;
}

export interface HttpOptions {
  chunked?: boolean;
  host?: string;
  /** Sent as they are, after the defaults. */
  headers?: Record<string, string>;
  /** false: a change (PUT, POST, DELETE) goes without the console page's proof header. */
  proof?: boolean;
}

/**
 * One HTTP request to 127.0.0.1:port; the body is sent with a Content-Length unless `chunked`.
 * A change carries the proof the console's page sends (x-gfs-console: 1) unless `proof: false`.
 */
export function http(port: number, method: string, path: string, body?: Buffer | string, o: HttpOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (method !== 'GET' && method !== 'HEAD' && o.proof !== false) headers['x-gfs-console'] = '1';
    Object.assign(headers, o.headers);
    if (body !== undefined && !o.chunked) headers['content-length'] = Buffer.byteLength(body);
    const req = request({ host: o.host ?? '127.0.0.1', port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const all = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, json: () => JSON.parse(all.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The value of one sample of Prometheus text, or undefined; `labels` must match exactly the sample's labels. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

/** Names of the metric families in Prometheus text (from its # TYPE lines). */
export function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
}
