// The packaging spec: packs tarballs and installs them into throwaway projects (npm run test:package).
export default {
  files: ['__test__/package/*.spec.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '5m',
  workerThreads: false,
};
