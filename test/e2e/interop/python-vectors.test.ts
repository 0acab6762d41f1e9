// The Python side of protocol/: the conformance vectors against Python's msgpack, and the
// gfs_msgpack framing module's own tests, run with the interpreter the reference uses.
import t from 'tap';
import { runPython } from '../../support/python.js';

for (const script of ['protocol/python/test_vectors.py', 'protocol/python/test_gfs_msgpack.py']) {
  t.test(script, async (t) => {
    const run = await runPython(script);
    t.equal(run.code, 0, `${script} passes`, { stderr: run.stderr.slice(-4000) });
    t.match(run.stderr, /\nOK\b/, 'unittest reports OK');
    t.notMatch(run.stderr, /skipped/, 'nothing skipped');
  });
}
