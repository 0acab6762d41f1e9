import type { Socket } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Dispatch } from '../net/connection.js';
import { MSG } from '../errors.js';
import { replyCode } from '../net/peer-errors.js';

// Seconds: from a 4 KiB store on a warm disk (~1 ms) to a 64 MiB chunk replicated three
// ways over a slow link.
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// The error codes a reply's message can start with (src/errors.ts): the `code` label takes
// only these, `ok`, or `other`, so no reply text can grow the label set.
const ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(MSG).filter((m) => /^[a-z_]+$/.test(m)),
  'bad_request',
  'unknown_command',
  'auth_failed',
  'replication_failed',
  'forward_refused',
  'io_error',
]);
// The reference's one message that is a sentence, not a code.
const SENTENCE_CODES: ReadonlyMap<string, string> = new Map([[MSG.noPreparedData, 'no_prepared_data']]);

/** The label of a reply: `ok`, its error code from the fixed set, or `other`. */
export function replyCodeLabel(reply: Record<string, unknown>): string {
  if (reply.status === 'ok') return 'ok';
  const sentence = typeof reply.message === 'string' ? SENTENCE_CODES.get(reply.message) : undefined;
  if (sentence) return sentence;
  const code = replyCode(reply.message)?.code;
  return code !== undefined && ERROR_CODES.has(code) ? code : 'other';
}

/**
 * Requests by command and outcome, their latency, and the bytes and connections of the TCP
 * side, for one server's registry. Command labels are limited to the server's own commands
 * (anything else counts as `unknown`), so a client cannot grow the label set.
 */
export class RequestMetrics {
  private readonly requests: Counter<'command' | 'outcome' | 'code'>;
  private readonly latency: Histogram<'command'>;
  private readonly accepted: Counter;
  private readonly sockets = new Set<Socket>();
  private closedRead = 0;
  private closedWritten = 0;

  constructor(
    registry: Registry,
    prefix: string,
    private readonly commands: ReadonlySet<string>,
  ) {
    this.requests = new Counter({
      name: `${prefix}_requests_total`,
      help: 'Requests answered, by command, outcome (ok, error) and code (ok, the error code, or other)',
      labelNames: ['command', 'outcome', 'code'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: `${prefix}_request_duration_seconds`,
      help: 'Time from a whole request frame to its reply, by command',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    });
    // Under [security] tls each accepted connection is one TLS handshake: with members and
    // clients keeping their connections (src/net/pool.ts) it grows far slower than requests.
    this.accepted = new Counter({
      name: `${prefix}_connections_total`,
      help: 'TCP connections accepted (under tls, each one TLS handshake)',
      registers: [registry],
    });
    const sockets = this.sockets;
    const self = this;
    new Gauge({
      name: `${prefix}_open_connections`,
      help: 'TCP connections open now',
      registers: [registry],
      collect() {
        this.set(sockets.size);
      },
    });
    // Counters fed at scrape time: the sockets keep their own byte counts.
    let reportedRead = 0;
    let reportedWritten = 0;
    new Counter({
      name: `${prefix}_received_bytes_total`,
      help: 'Bytes read from TCP connections',
      registers: [registry],
      collect() {
        const now = self.totals().read;
        this.inc(Math.max(0, now - reportedRead));
        reportedRead = Math.max(reportedRead, now);
      },
    });
    new Counter({
      name: `${prefix}_sent_bytes_total`,
      help: 'Bytes written to TCP connections',
      registers: [registry],
      collect() {
        const now = self.totals().written;
        this.inc(Math.max(0, now - reportedWritten));
        reportedWritten = Math.max(reportedWritten, now);
      },
    });
  }

  /** Every accepted socket, so its bytes and its life are counted. */
  watch(socket: Socket): void {
    this.accepted.inc();
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedRead += socket.bytesRead;
      this.closedWritten += socket.bytesWritten;
    });
  }

  /** `dispatch`, timed and counted. */
  wrap(dispatch: Dispatch): Dispatch {
    return async (decoded) => {
      const raw = typeof decoded === 'object' && decoded !== null ? (decoded as Record<string, unknown>).command : undefined;
      const command = typeof raw === 'string' && this.commands.has(raw) ? raw : 'unknown';
      const end = this.latency.startTimer({ command });
      const reply = await dispatch(decoded);
      end();
      this.requests.inc({ command, outcome: reply.status === 'ok' ? 'ok' : 'error', code: replyCodeLabel(reply) });
      return reply;
    };
  }

  private totals(): { read: number; written: number } {
    let read = this.closedRead;
    let written = this.closedWritten;
    for (const s of this.sockets) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { read, written };
  }
}
