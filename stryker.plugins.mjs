// Stryker plugins of `npm run mutate` (stryker.config.mjs says why each exists).
// Written as the plain objects that @stryker-mutator/api's declareValuePlugin returns, so this
// file imports nothing outside the project's own dependencies.

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** `log.info(...)`, `ctx.log.warn(...)`, `this.opts.log.debug(...)`: a pino call. */
function isLogCall(node) {
  if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression') return false;
  const { object, property } = node.callee;
  if (property.type !== 'Identifier' || !LEVELS.has(property.name)) return false;
  if (object.type === 'Identifier') return object.name === 'log';
  return object.type === 'MemberExpression' && object.property.type === 'Identifier' && object.property.name === 'log';
}

export const strykerPlugins = [
  {
    kind: 'Ignore',
    name: 'log-calls',
    value: {
      shouldIgnore(path) {
        return isLogCall(path.node) ? 'a log line: what an operator reads, not what a caller of the cluster sees' : undefined;
      },
    },
  },
];
