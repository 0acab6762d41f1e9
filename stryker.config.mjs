// Mutation testing of the cluster logic: `npm run mutate` (not part of `npm test`; README,
// "Development", has the last score and how long it took).
//
// How it runs. Every mutant of the files in `mutate` is tried against the in-process unit
// tests that call those modules directly (test/unit/master/,
// test/unit/chunk-server/cluster/: real lmdb in a temp dir, real sockets on 127.0.0.1, no child
// processes). Coverage is per test file ('perTest'), so a mutant runs only the files that
// reach it. The sandbox compiles the instrumented sources and those tests to plain JS once
// (buildCommand, stryker.tsconfig.json -> .stryker-build/ inside the sandbox): a test file
// then starts in about a second instead of being transpiled again for every mutant.
// Mutants inside pino calls (log text and fields) are ignored (stryker.plugins.mjs): a log
// line is what an operator reads, not what a caller of the cluster sees.
//
// Budget, measured on this 2-core machine while four other sessions ran their tests: a
// full run of these 1,079 mutants takes about 15 minutes with two runners (about 1.5 s per
// mutant per runner: a second per test file started); a run that also held validate.ts and
// namespace.ts (1,585 mutants, their tests on lmdb) was on course for 45 minutes under the
// same load and was stopped. In scope are the cluster's decisions: repair (who is current,
// stale, lost; where copies go; what is deleted), placement (the rankings and the score
// repair and clients share), the chunk map, the node registry, the handlers that turn
// requests into those decisions, and on the chunk server the calls that pick replica
// targets and forward appends, the member list and the chunk reports.
//
// Left out, and why (mutants, and what would be needed to add them):
// - src/master/repair-scheduler.ts (250, with the state it keeps in pending-copies.ts,
//   pending-deletes.ts and decommissions.ts): the I/O side of repair around the pure
//   decision: when a copy is instructed, given up after instruction_timeout_s, retried;
//   settle windows after a start; deletes waiting for a report; decommission's end. Measured in (run of 5f83dd8,
//   2026-12-02): 54.6 % (120 killed, 70 survived, 30 without coverage), because what those
//   mutants change shows only through the child-process cluster tests (test/e2e/cluster/heal,
//   gc, stale, decommission-restart: 20-60 s each, for every mutant). The decisions it feeds
//   are all in replica-policy.ts, which is in scope.
// - src/master/validate.ts (280), src/master/namespace/namespace.ts (226): input checking and the lmdb
//   record rather than decisions, and over the budget together with the rest (above);
//   test/unit/master/validate.test.ts and namespace/namespace.test.ts test them in `npm test`.
// - src/master/config.ts (117): its in-process tests share test/unit/master/master-cli.test.ts
//   with child-process ones (bin/master), which would run for every mutant.
// - src/net/rpc.ts (216), master-client.ts (163), instructions.ts (181): socket, timer
//   and retry glue. Their mutants mostly change deadlines and backoff, which their tests
//   (test/e2e/cluster/rpc.test.ts, master-client.test.ts, and the child-process cluster tests)
//   can only observe by waiting for them: seconds to minutes per mutant.
// - src/master/main.ts (77), cli.ts (34): process wiring (listen, intervals, commander);
//   observable only through a started master or bin/master in a child process.
//
// The two mutations issue 15 names: "re-replication no longer stops at the factor" is
// mutant `k <= need` in decide() (replica-policy.ts), killed by test/unit/master/replica-policy-unit.test.ts
// ("re-replication stops at the factor, with more servers than the factor"); forwarding
// appends to get_replica_locations' servers instead of the chunk's holders (replication.ts)
// is killed by test/e2e/cluster/replication-unit.test.ts ("appends go to the chunk's holders")
// and by the child-process test test/e2e/cluster/replication.test.ts.
//
// Survivors that no test can kill (equivalent mutants) are listed at the end of this file,
// by file, with why.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: ['.stryker-build/test/unit/master/**/*.test.js', '.stryker-build/test/unit/chunk-server/cluster/*.test.js'],
    nodeArgs: [],
    forceBail: true,
  },
  mutate: [
    'src/master/replica-policy.ts',
    'src/master/placement-policy.ts',
    'src/master/chunk-map.ts',
    'src/master/nodes.ts',
    'src/master/commands/*.ts',
    'src/chunk-server/cluster/replication.ts',
    'src/chunk-server/cluster/members.ts',
    'src/chunk-server/cluster/chunk-reports.ts',
  ],
  buildCommand: 'npx tsc -p stryker.tsconfig.json',
  coverageAnalysis: 'perTest',
  plugins: ['@stryker-mutator/tap-runner', './stryker.plugins.mjs'],
  ignorers: ['log-calls'],
  // Two cores shared with other work: two runners.
  concurrency: 2,
  // A mutant that loops forever is cut off after this much more than the test took unmutated.
  timeoutMS: 8000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', '.tap', 'data', 'reports', 'docs'],
  cleanTempDir: true,
};

// Survivors of the last full run (README has its score: 50 survivors, 2 without coverage), by file: equivalent mutants (no
// caller can tell them from the code), and the few left alive with the reason.
//
// src/master/replica-policy.ts
// - `r.length >= length` (classify, raising the length; and the longer-copy test),
//   `r.version >= version` (raising the version): equal values, or a case handled before.
// - `version === 0` -> false (in atLength and in ok): `version` is the largest of the recorded
//   version and those of the copies at the length, so it is 0 only when every such copy has
//   version 0, which `r.version === 0` already accepts.
// - `lastReport !== undefined` -> true: `undefined > n` is false anyway.
// - `orphanSince !== undefined` -> true: `now - undefined` is NaN, never >= the grace.
// - `need >= 0`: a chunk needing 0 copies gets none (the loop runs 0 times), and the excess
//   branch needs live > factor, that is need < 0.
// - `live.length > factor` -> true or `>=` (excess): at the factor it cuts slice(0, 0), none;
//   below it the chunk needs copies and never gets here.
// - `a <= b` in the excess and work orders: addresses and chunk ids are distinct.
// - `prefer = []` and `pendingTargets ... ?? []` -> ['Stryker was here']: no server has that
//   address.
// src/master/nodes.ts
// - `new RegistrationFull('servers')` -> '': the message is chosen by `kind === 'clients'`.
// - `clientId === null ? undefined : ...` -> false: clients.get(null) is undefined as well.
// - graph(): the conditions of `await setImmediate` every GRAPH_NODES_PER_TURN nodes (7
//   mutants) change only how often it yields, never the graph (never yielding is killed).
// - graph(): the pair key's order `<` -> `<=`/`>=`: any fixed order of the two ids gives the
//   same set of keys (a node is never its own neighbour); `from.type === 'chunk_server'` ->
//   true: a client-server pair is only ever produced from the client's side.
// - nearest(): two mutants that never end the insertion loop are timeouts (detected).
// src/master/chunk-map.ts
// - `r.digest !== null` -> true in `filled`: a null digest at the same length and version is
//   `same` and has returned before.
// src/master/commands/chunk-servers.ts
// - `req.chunk_changes.length > 0` -> true / `>= 0`, and `else if (map.reports(...))` -> true:
//   changes(address, [], now) is what the other branch does for a reporting server, and for a
//   server that sends no reports it changes nothing.
// src/master/commands/files.ts
// - `ns.get(...)?.chunk_locations[...] ?? []` (optional chaining, the default): right after
//   recordChunk the file and its chunk's entry exist.
// - `map.replicas(...)?.keys() ?? []` and `map.replicas(...) ?? []` -> ['Stryker was here']:
//   dropping a holder nobody has, or destructuring a string whose `length` is undefined,
//   does nothing.
// src/chunk-server/cluster/members.ts
// - `opts.fixed ?? []` -> ['Stryker was here']: replaced by the first fetch; no member has that
//   address. `fetch === null` -> false: a null fetch throws inside the try and is logged, the
//   list unchanged. The catch block emptied: it only logs. `fixed !== null ||` -> false (on a
//   miss): with a fixed list refresh() returns at once and the answer is the same false.
// src/chunk-server/cluster/replication.ts
// - catch blocks emptied (replicaTargets' candidate, changed, fanOut): they only log; in
//   appendReplicas the emptied catch leaves `holders` undefined, and `new Set(undefined)` is
//   empty, so nothing is forwarded either way.
// - `'store_chunk'`, `'append_chunk'` -> '': the operation's name in log lines only.
// - `reportChange?.(id)` -> `reportChange(id)`: the TypeError is caught and logged; changed()
//   never fails either way.
// Not equivalent, and not killed yet: the `mutation` flag (true -> false) of a primary's word
// in update_file_metadata and update_chunk_offset, and `r.length < offset` -> true / `<=`
// there (the time a copy was seen changing only decides between copies at the same length
// with different digests; a reference client's offset never shrinks a copy in practice); in
// replica-policy.ts a few tie comparators of the excess, work and target orders and of atLength,
// whose effect depends on V8's sort of equal elements.
