/** The short-lived node that `ping`, `findnode` and `talk` ask through (with `discv4`: both protocols). */
import { createCrypto, Discv5 } from '../../index.js';
import { parseHostPort } from '../args.js';

/** Runs `fn` with a started node bound at `bind` (default: every IPv4 interface, a free port), stopped after. */
export async function withClient<T>(
  bind: string | undefined,
  fn: (node: Discv5) => Promise<T>,
  options: { discv4?: boolean } = {},
): Promise<T> {
  const crypto = createCrypto();
  const at = bind === undefined ? { ip: '0.0.0.0', port: 0 } : parseHostPort(bind, '--bind');
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    bind: at.ip.includes(':') ? { ip6: at } : { ip4: at },
    config: { refreshIntervalMs: 0 },
    ...(options.discv4 === true ? { discv4: {} } : {}),
  });
  await node.start();
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}
