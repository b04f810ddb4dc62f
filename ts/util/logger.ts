/**
 * A tiny namespaced logger. Debug lines are written to stderr when the DEBUG environment
 * variable names the namespace (`DEBUG=discv5:*`, `DEBUG=discv5:crypto`, or `DEBUG=*`).
 */
export interface Logger {
  readonly enabled: boolean;
  debug(message: string): void;
}

function matches(pattern: string, namespace: string): boolean {
  return pattern.split(/[\s,]+/).some((p) => {
    if (p === '') return false;
    if (p.endsWith('*')) return namespace.startsWith(p.slice(0, -1));
    return p === namespace;
  });
}

export function createLogger(namespace: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const enabled = matches(env.DEBUG ?? '', namespace);
  return {
    enabled,
    debug(message) {
      if (enabled) process.stderr.write(`${new Date().toISOString()} ${namespace} ${message}\n`);
    },
  };
}
