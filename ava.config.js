// The main suite: unit and integration specs, run on whichever backend DISCV5_BACKEND selects
// (specs of the crypto layer run on both backends regardless).
export default {
  files: ['__test__/*.spec.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '2m',
  workerThreads: false,
};
