import type { Server } from 'node:net';

/**
 * Listens on host:port and resolves with the port bound (port 0 picks a free one); rejects
 * when the address is taken, without leaving an error listener behind.
 */
export function listenOn(server: Server, opts: { host: string; port: number; backlog?: number }): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : opts.port);
    });
  });
}
