import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import t from 'tap';
import { writePieces } from '../../../src/net/frame-writer.js';
import type { FileBody, Piece } from '../../../src/wire/payload.js';
import { makeCerts } from '../../support/certs.js';
import { tempDir } from '../../support/temp.js';

type T = { teardown(fn: () => unknown): void };

/** A connected pair: `ours` writes, `theirs` is the peer (paused: it reads only when told). */
async function pair(t: T): Promise<{ ours: Socket; theirs: Socket }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const ours = connect({ host: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0 });
  const theirs = await accepted;
  theirs.pause();
  t.teardown(() => {
    ours.destroy();
    theirs.destroy();
    return new Promise((r) => server.close(r));
  });
  return { ours, theirs };
}

function file(bytes: Buffer, block: number): FileBody {
  return {
    kind: 'file',
    size: bytes.length,
    async pipe(sink) {
      for (let at = 0; at < bytes.length; at += block) await sink(bytes.subarray(at, at + block));
    },
    close: async () => undefined,
  };
}

function readAll(socket: Socket, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  return new Promise((resolve) => {
    socket.on('data', (c: Buffer) => {
      parts.push(c);
      have += c.length;
      if (have >= bytes) resolve(Buffer.concat(parts));
    });
    socket.resume();
  });
}

t.test('pieces arrive in order, file blocks included, and the write resolves', async (t) => {
  const { ours, theirs } = await pair(t);
  const big = Buffer.alloc(8 << 20, 7);
  const pieces: Piece[] = [Buffer.from('head'), file(Buffer.from('0123456789'), 3), big, Buffer.from('tail')];
  const got = readAll(theirs, 4 + 10 + big.length + 4);
  await writePieces(ours, pieces);
  t.same(await got, Buffer.concat([Buffer.from('head0123456789'), big, Buffer.from('tail')]));
});

t.test('a peer that does not read: the deadline expires and the write rejects', async (t) => {
  const { ours } = await pair(t);
  let expired = 0;
  const deadline = {
    ms: 200,
    expired: () => {
      expired++;
      ours.destroy();
    },
  };
  await t.rejects(writePieces(ours, [Buffer.alloc(64 << 20)], deadline), { message: 'drain timed out' });
  t.equal(expired, 1);
});

t.test('the socket closing ends the wait', async (t) => {
  const { ours } = await pair(t);
  const writing = writePieces(ours, [file(Buffer.alloc(64 << 20), 1 << 20)]);
  setTimeout(() => ours.destroy(), 100);
  await t.rejects(writing, { message: /socket closed|write/ });
});

t.test('over TLS a large in-memory piece goes out in slices, whole and in order', async (t) => {
  const dir = await tempDir(t);
  await makeCerts(dir, ['w']);
  const [key, cert, ca] = await Promise.all(['w.key', 'w.pem', 'ca.pem'].map((f) => readFile(join(dir, f))));
  const head = Buffer.from('head');
  const body = randomBytes(5 * 1024 * 1024 + 3);
  const tail = Buffer.from('tail');
  const total = head.length + body.length + tail.length;
  const received = new Promise<Buffer>((resolve) => {
    const server = tls.createServer({ key, cert }, (s) => {
      const parts: Buffer[] = [];
      let n = 0;
      s.on('data', (c: Buffer) => {
        parts.push(c);
        n += c.length;
        if (n >= total) {
          resolve(Buffer.concat(parts));
          s.destroy();
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const ours = tls.connect({ host: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0, ca });
      ours.once('secureConnect', () => void writePieces(ours, [head, body, tail]));
      t.teardown(() => {
        ours.destroy();
        return new Promise((r) => server.close(r));
      });
    });
  });
  t.ok((await received).equals(Buffer.concat([head, body, tail])), 'the bytes arrive as written');
});
