/**
 * Loaded by ava (config `require`) into every test process before its spec file. An unhandled
 * rejection or an uncaught exception is a defect (Node ends the process on either), so the suite
 * must fail on it even when every assertion passed: it is written to stderr at once with its stack,
 * and the spec file's process ends with exit code 1, which ava reports as a failure of that file
 * ("exited with a non-zero exit code", counted in TAP's `# fail`) and which fails `ava` itself.
 * ava on its own reports only rejections still unhandled when the file ends, not those that a later
 * `.catch` adopted; Node in production would already have stopped on them.
 * (ava refuses hooks declared outside the spec file, so the failure is the file's, not one test's:
 * the stack on stderr says where it came from.)
 */
import process from 'node:process';

let escaped = 0;

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return `a non-Error value: ${JSON.stringify(err)}`;
  } catch {
    return `a non-Error value: ${String(err)}`;
  }
}

function record(kind: string, err: unknown): void {
  escaped++;
  process.exitCode = 1;
  process.stderr.write(`\n[test setup] ${kind} (the test process will exit 1):\n${describe(err)}\n`);
}

process.on('unhandledRejection', (reason) => record('unhandled rejection', reason));
// ava reports these too and ends the process; recorded here so that the exit code says so whatever ava does.
process.on('uncaughtExceptionMonitor', (err) => record('uncaught exception', err));
// Nothing may turn the exit code back to 0 after an escape.
process.on('exit', (code) => {
  if (escaped > 0 && code === 0) process.exitCode = 1;
});
