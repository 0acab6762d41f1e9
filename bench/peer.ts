// Loopback baseline: a process that answers each request with the bytes a retrieve reply
// carries, straight from memory. What a client receives from it over TCP is the ceiling a
// chunk server's retrieve can approach.
import { createServer } from 'node:net';
import { Unpackr } from 'msgpackr';
import { okDataReplyHead } from './bench-client.js';

const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false });
const MAX_REPLY_BYTES = 64 * 1024 * 1024;
// Touched once so that the baseline does not pay first-use page faults on every reply.
const payload = Buffer.alloc(MAX_REPLY_BYTES, 0x5a);

const server = createServer({ noDelay: true }, (socket) => {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const len = pending.readUInt32BE(0);
      const { size } = unpackr.unpack(pending.subarray(4, 4 + len)) as { size: number };
      pending = pending.subarray(4 + len);
      const n = Math.min(size, MAX_REPLY_BYTES);
      socket.cork();
      socket.write(okDataReplyHead(n));
      socket.write(payload.subarray(0, n));
      socket.uncork();
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
