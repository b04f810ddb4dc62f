/**
 * A benchmark process of its own (so that its CPU is its own), spoken to a line at a time: the
 * parent writes commands on its stdin and reads its answers, one per line, from its stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export class BenchChild {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #failed: Error | undefined;
  readonly #exited: Promise<number | null>;

  /** Runs bench/`script` with `args`; `env` adds to this process's environment. */
  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.#child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', resolve(here, script), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let buffer = '';
    this.#child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const waiting = this.#waiting;
        this.#waiting = undefined;
        if (waiting) waiting(line);
        else this.#lines.push(line);
      }
    });
    this.#exited = new Promise((r) =>
      this.#child.once('exit', (code) => {
        this.#failed = new Error(`bench/${script} exited (${code}) with no answer`);
        r(code);
      }),
    );
  }

  /** The next line it prints; rejects if it exits first. */
  next(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolveLine, reject) => {
      this.#waiting = resolveLine;
      void this.#exited.then(() => {
        if (this.#waiting === resolveLine) reject(this.#failed);
      });
    });
  }

  /** Sends a command and waits for its one-line answer. */
  async ask(command: string): Promise<string> {
    this.#child.stdin?.write(`${command}\n`);
    return this.next();
  }

  /** Closes its stdin (the signal to finish) and waits for it to exit. */
  async end(): Promise<void> {
    this.#child.stdin?.end();
    await this.#exited;
  }
}

/** Calls `handle` for each line on stdin (in order, one at a time); resolves when stdin closes. */
export async function serveCommands(handle: (line: string) => Promise<string | undefined>): Promise<void> {
  let buffer = '';
  for await (const chunk of process.stdin) {
    buffer += (chunk as Buffer).toString();
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const answer = await handle(line);
      if (answer !== undefined) process.stdout.write(`${answer}\n`);
    }
  }
}
