// Mutation testing of the cluster logic: `npm run mutate` (not part of `npm test`).
// Mutates src/master/ and src/cluster/ and runs the tests that exercise them. Many of those
// tests drive real child processes (bin/chunkserver, bin/master run dist/), so the sandbox is
// built after instrumentation (buildCommand) and every mutant runs the whole list of test
// files, fastest and most telling first, stopping at the first failure: coverage analysis
// is off because a mutant reached only inside a child process would otherwise be reported
// as uncovered. The active mutant reaches the children through the environment
// (__STRYKER_ACTIVE_MUTANT__), which the instrumented code reads at start.
// `npm run mutate` sets TS_NODE_TRANSPILE_ONLY=1, as tap does: test files are compiled, not
// type-checked, on each run (`npm test` type-checks them once).
// It also sets TAP_TIMEOUT=300, the per-file limit `npm test` has through package.json (a
// test file run directly by node gets tap's 30 s default, less than the cluster tests need).
//
// Equivalent mutants (survivors no test can kill) are listed below, by file, with why.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: [
      'test/cluster/master-client.test.ts',
      'test/cluster/rpc.test.ts',
      'test/master/master.test.ts',
      'test/master/master-cli.test.ts',
      'test/cluster/chain.test.ts',
      'test/cluster/corrupt-report.test.ts',
      'test/cluster/placement.test.ts',
      'test/cluster/replication.test.ts',
      'test/cluster/master-link.test.ts',
    ],
    nodeArgs: ['--import=@tapjs/typescript/import', '--enable-source-maps'],
    forceBail: true,
  },
  mutate: ['src/master/**/*.ts', 'src/cluster/**/*.ts'],
  buildCommand: 'npx tsc -p tsconfig.json',
  coverageAnalysis: 'off',
  // Two cores shared with other work: one mutant at a time.
  concurrency: 1,
  // The first run of every test file, unmutated, takes minutes on a loaded machine.
  dryRunTimeoutMinutes: 30,
  timeoutMS: 60_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
