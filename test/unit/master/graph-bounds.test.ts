// Issue 14, item 7: registrations at the master are bounded in number (Nodes).
import t from 'tap';
import { MSG } from '../../../src/errors.js';
import { Nodes } from '../../../src/master/nodes.js';

t.test('registrations beyond the bound are refused with a documented error', async (t) => {
  const nodes = new Nodes({ deadAfterMs: 2000, clientTimeoutMs: 1000, maxClients: 2, maxServers: 1 });
  nodes.registerClient('a', [0, 0]);
  nodes.registerClient('b', [0, 0]);
  t.throws(() => nodes.registerClient('c', [0, 0]), { message: MSG.tooManyClients });
  nodes.registerClient('a', [1, 1]);
  t.pass('a known client registers again');
  nodes.registerServer('s1:1', [0, 0]);
  t.throws(() => nodes.registerServer('s2:1', [0, 0]), { message: MSG.tooManyServers });
});
