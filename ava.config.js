// The main suite: unit and integration specs, run on whichever backend DISCV5_BACKEND selects
// (specs of the crypto layer run on both backends regardless). helpers/setup.ts makes any unhandled
// rejection or uncaught exception in a test process fail the run.
export default {
  files: ['__test__/*.spec.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  require: ['./__test__/helpers/setup.ts'],
  timeout: '2m',
  workerThreads: false,
};
