import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';

export interface TransactionLog {
  readonly log: Logger;
  close(): void;
}

/**
 * The transaction log: its own pino destination, one JSON line per START / PREPARE / COMMIT
 * / ROLLBACK / EXPIRE. The file is opened on the first line, so a server that never sees a
 * transaction leaves no empty file; that it can be written is checked here, so a bad path
 * still fails at start-up. Lines are written synchronously (in the kernel before the reply
 * goes out, so a kill -9 loses none). A write failure never fails the request that logged
 * it: the outcome has already happened; it is reported once on the main log.
 */
export function openTransactionLog(path: string, serverId: string, mainLog: Logger): TransactionLog {
  mkdirSync(dirname(path), { recursive: true });
  accessSync(existsSync(path) ? path : dirname(path), constants.W_OK);
  let dest: ReturnType<typeof pino.destination> | null = null;
  let failed = false;
  const stream: DestinationStream = {
    write(line: string) {
      try {
        dest ??= pino.destination({ dest: path, sync: true });
        dest.write(line);
      } catch (err) {
        if (!failed) mainLog.error({ err, path }, 'cannot write the transaction log');
        failed = true;
      }
    },
  };
  return {
    log: pino({ level: 'info', base: { server_id: serverId } }, stream),
    close() {
      dest?.end();
    },
  };
}
