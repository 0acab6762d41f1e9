// replicate_chunk down a chain of real chunk server processes (no master: each lists the
// others, and the dead address, as [chunk_server] peers).
import { createHash } from 'node:crypto';
import t from 'tap';
import { freePort, writeToml } from '../../support/configs.js';
import { bytes } from '../../support/data.js';
import { call } from '../../support/frames.js';
import { spawnServer } from '../../support/processes.js';
import { tempDir } from '../../support/temp.js';

t.test('chain replication', async (t) => {
  const dir = await tempDir(t);
  const ports = [await freePort(), await freePort(), await freePort()];
  const dead = `127.0.0.1:${await freePort()}`;
  const peers = [...ports.map((p) => `127.0.0.1:${p}`), dead];
  const config = await writeToml(dir, 'peers.toml', `[chunk_server]\npeers = ${JSON.stringify(peers)}\n`);
  const servers = await Promise.all(
    ['a', 'b', 'c'].map((id, i) => spawnServer(t, ['--config', config, '--server_id', id, '--port', String(ports[i]), '--data_dir', 'data', '--no_master'], dir)),
  );
  const [a, b, c] = servers.map((s) => ({ port: s.port, address: `127.0.0.1:${s.port}` }));
  const holds = async (port: number, id: string): Promise<Buffer | null> => {
    const r = await call(port, { command: 'retrieve_chunk', chunk_id: id });
    return r.status === 'ok' ? r.data : null;
  };

  await t.test('down a chain of three: stored on all three, ok only at the end', async (t) => {
    const data = bytes(300_000, 7);
    const id = createHash('sha256').update(data).digest('hex');
    // As the reference sends it: no chunk_id, so the chunk is keyed by sha256(data).
    const reply = await call(a!.port, { command: 'replicate_chunk', data, file_path: '/f', chunk_index: 0, replica_servers: [a!.address, b!.address, c!.address], current_replica: 0 });
    t.match(reply, { status: 'ok', chunk_id: id });
    for (const s of [a!, b!, c!]) t.same(await holds(s.port, id), data, `on ${s.address}`);

    t.match(
      await call(a!.port, { command: 'replicate_chunk', chunk_id: 'named', data, file_path: '/f', chunk_index: 1, replica_servers: [a!.address, b!.address, c!.address], current_replica: 0 }),
      { status: 'ok', chunk_id: 'named' },
      'a given chunk_id is kept down the chain',
    );
    for (const s of [a!, b!, c!]) t.same(await holds(s.port, 'named'), data);
  });

  await t.test('a dead last link: the documented error, local copies kept', async (t) => {
    const data = bytes(1000, 8);
    const reply = await call(a!.port, { command: 'replicate_chunk', chunk_id: 'x1', data, file_path: '/f', chunk_index: 0, replica_servers: [a!.address, b!.address, dead], current_replica: 0 });
    t.same(reply, { status: 'error', message: `replication_failed: ${dead}`, stored_locally: true }, 'names the dead link, not the neighbour');
    t.same(await holds(a!.port, 'x1'), data);
    t.same(await holds(b!.port, 'x1'), data);
  });

  await t.test('a dead middle link: the chain stops there', async (t) => {
    const data = bytes(1000, 9);
    const reply = await call(a!.port, { command: 'replicate_chunk', chunk_id: 'x2', data, file_path: '/f', chunk_index: 0, replica_servers: [a!.address, dead, c!.address], current_replica: 0 });
    t.same(reply, { status: 'error', message: `replication_failed: ${dead}`, stored_locally: true });
    t.same(await holds(a!.port, 'x2'), data);
    t.equal(await holds(c!.port, 'x2'), null);
  });

  await t.test('the last link, or a chain of one, just stores', async (t) => {
    const data = bytes(10, 10);
    t.match(await call(c!.port, { command: 'replicate_chunk', chunk_id: 'x3', data, replica_servers: [a!.address, b!.address, c!.address], current_replica: 2 }), { status: 'ok', chunk_id: 'x3' });
    t.equal(await holds(b!.port, 'x3'), null, 'nothing goes backwards');
    t.match(await call(a!.port, { command: 'replicate_chunk', chunk_id: 'x4', data, replica_servers: [a!.address], current_replica: 0 }), { status: 'ok', chunk_id: 'x4' });
  });

  await t.test('malformed chains are bad requests', async (t) => {
    const data = bytes(10);
    t.same(await call(a!.port, { command: 'replicate_chunk', data, replica_servers: 'x', current_replica: 0 }), { status: 'error', message: 'bad_request: replica_servers' });
    t.same(await call(a!.port, { command: 'replicate_chunk', data, replica_servers: [a!.address], current_replica: -1 }), { status: 'error', message: 'bad_request: current_replica' });
    t.same(await call(a!.port, { command: 'replicate_chunk', chunk_id: '../x', data, replica_servers: [], current_replica: 0 }), { status: 'error', message: 'invalid_chunk_id' });
  });
});
