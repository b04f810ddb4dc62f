/**
 * Backend selection: an explicit option wins, then DISCV5_BACKEND, then `auto`
 * (native if the addon loads, otherwise js).
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { jsBackend } from './js.js';
import type { BackendChoice, BackendImpl } from './types.js';

const log = createLogger('discv5:crypto');
const CHOICES: readonly BackendChoice[] = ['native', 'js', 'auto'];

export function parseBackendChoice(value: string | undefined, source: string): BackendChoice {
  if (value === undefined || value === '') return 'auto';
  if ((CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Discv5Error(ErrorCode.INVALID_BACKEND, `${source} must be one of ${CHOICES.join(', ')}, got "${value}"`);
}

/** Loads the native addon, or throws BACKEND_UNAVAILABLE. Absent in the pure-JS entry point. */
export type NativeLoader = () => BackendImpl;

export function selectBackend(
  option: BackendChoice | undefined,
  loadNative: NativeLoader | undefined,
  env: NodeJS.ProcessEnv = process.env,
): BackendImpl {
  const fromOption = option !== undefined;
  const choice = fromOption
    ? parseBackendChoice(option, 'backend option')
    : parseBackendChoice(env.DISCV5_BACKEND, 'DISCV5_BACKEND');
  let backend: BackendImpl;
  if (choice === 'js') {
    backend = jsBackend;
  } else if (loadNative === undefined) {
    // The pure-JS entry point is itself an explicit choice: a process-wide DISCV5_BACKEND=native
    // (meant for code that imports discv5-native) does not override it; an explicit option does.
    if (choice === 'native' && fromOption) {
      throw new Discv5Error(
        ErrorCode.BACKEND_UNAVAILABLE,
        'native backend requested from discv5-native/js, the pure-JS entry point; import discv5-native instead',
      );
    }
    backend = jsBackend;
  } else if (choice === 'native') {
    backend = loadNative();
  } else {
    try {
      backend = loadNative();
    } catch (err) {
      log.debug(`auto: native backend did not load, using js (${(err as Error).message})`);
      backend = jsBackend;
    }
  }
  log.debug(`crypto backend: ${backend.name} (requested ${choice})`);
  return backend;
}
