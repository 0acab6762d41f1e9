import t from 'tap';
import { joinAddress, parseAddress, splitAddress } from '../../../src/net/address.js';
import { PeerError } from '../../../src/net/peer-errors.js';

t.test('addresses', async (t) => {
  t.same(parseAddress('localhost:5000'), { host: 'localhost', port: 5000 });
  t.same(parseAddress('[::1]:7'), { host: '::1', port: 7 });
  for (const bad of ['nohost', ':5', 'h:0', 'h:65536', 'h:x']) t.throws(() => parseAddress(bad), PeerError, bad);
});

t.test('splitAddress says null where parseAddress throws; brackets are not part of the host', async (t) => {
  t.same(splitAddress('10.0.0.1:65535'), { host: '10.0.0.1', port: 65535 });
  t.same(splitAddress('[fe80::1%eth0]:5000'), { host: 'fe80::1%eth0', port: 5000 });
  // An unbracketed IPv6 host still splits at the last colon, as it always did.
  t.same(splitAddress('::1:5000'), { host: '::1', port: 5000 });
  for (const bad of ['', 'nohost', ':5', '[]:5', 'h:', 'h:1.5', 'h:-1']) t.equal(splitAddress(bad), null, bad);
});

t.test('joinAddress is the inverse of splitAddress', async (t) => {
  for (const [host, port, joined] of [
    ['localhost', 5000, 'localhost:5000'],
    ['127.0.0.1', 1, '127.0.0.1:1'],
    ['::1', 7, '[::1]:7'],
  ] as const) {
    t.equal(joinAddress(host, port), joined);
    t.same(splitAddress(joined), { host, port });
  }
});
