/**
 * A headless Chromium for specs that must see a page as a browser does, driven over the DevTools
 * protocol with no npm dependency: Chromium is started with `--remote-debugging-pipe` and speaks
 * CDP as NUL-terminated JSON on its file descriptors 3 (ours to write) and 4 (ours to read), so
 * there is no port to find and no WebSocket to implement.
 *
 * The browser is Debian's (/usr/bin/chromium, else `chromium` in PATH). If it is missing and we are
 * root, Debian's chromium is installed with apt-get, once for all ava workers (a lock file
 * serialises them: helpers/debian.ts, as for PostgreSQL); otherwise the error says what to install.
 *
 * Every wait is bounded. Nothing is left behind: Chromium runs in a process group of its own, which
 * `close()` ends (politely, then with SIGKILL) before removing the temporary profile; a process
 * 'exit' handler and SIGTERM/SIGINT/SIGHUP do the same synchronously, and a small watchdog shell
 * holding a pipe from this process kills the group when the pipe closes, i.e. even after a SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import process from 'node:process';
import type { Readable, Writable } from 'node:stream';
import { childEnv, ensureDebianPackage, isExecutable, sleep, spawnWatchdog } from './debian.js';

export const DEBIAN_PACKAGE = 'chromium';
const INSTALL_HINT = `install Chromium: on Debian 12, as root, \`apt-get update && apt-get install -y --no-install-recommends ${DEBIAN_PACKAGE}\``;

/** /usr/bin/chromium, else `chromium` in PATH. */
export function findChromium(): string | undefined {
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    if (dir !== '' && isExecutable(join(dir, 'chromium'))) return join(dir, 'chromium');
  return undefined;
}

/** The browser, installed with apt-get first if it is missing and we are root. */
export function ensureChromium(): Promise<string> {
  return ensureDebianPackage({
    pkg: DEBIAN_PACKAGE,
    find: findChromium,
    what: 'browser specs',
    binaries: 'chromium',
    hint: INSTALL_HINT,
    helper: 'chromium',
    stepTimeoutMs: 900_000,
    lockTimeoutMs: 20 * 60_000,
  });
}

// Chromium groups alive in this process, ended synchronously when it exits or is signalled.
const live = new Map<number, string>();
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Whether a process of group `pgid` is still running (zombies aside: they hold no file open). */
function groupAlive(pgid: number): boolean {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // After the command's closing parenthesis: state, ppid, pgrp, ...
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
      } catch {} // gone meanwhile
    }
    return false;
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** SIGKILL to the whole group, a wait (at most 2 s) until it is gone, then the profile removed. */
function killGroupSync(pid: number, profile: string): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
  for (let i = 0; i < 100 && groupAlive(pid); i++) sleepSync(20);
  rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
}

function killAllSync(): void {
  for (const [pid, profile] of [...live]) {
    untrack(pid);
    killGroupSync(pid, profile);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(pid: number, profile: string): void {
  if (live.size === 0) {
    process.on('exit', killAllSync);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  live.set(pid, profile);
}

function untrack(pid: number): void {
  live.delete(pid);
  if (live.size === 0) {
    process.off('exit', killAllSync);
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

type Json = Record<string, unknown>;
/** The parts of the event params read here (Runtime, Log, Network, Fetch, Page events). */
interface EventParams {
  type?: string;
  args?: { value?: unknown; description?: string }[];
  entry?: { level: string; text: string };
  exceptionDetails?: { text?: string; exception?: { description?: string } };
  request?: { url: string };
  requestId?: string;
  message?: string;
}
interface CdpEvent {
  method: string;
  params: Json;
  sessionId?: string;
}

/** A CDP connection over Chromium's pipe: commands with a bounded wait, events to listeners. */
class Cdp {
  #next = 0;
  readonly #pending = new Map<number, { resolve(v: Json): void; reject(e: Error): void }>();
  readonly #listeners = new Set<(e: CdpEvent) => void>();
  #closed: Error | undefined;

  constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    let buffered = '';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
        const text = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        this.#dispatch(JSON.parse(text) as Json);
      }
    });
    input.on('error', () => {});
    out.on('error', () => {});
  }

  #dispatch(msg: Json): void {
    if (typeof msg.id === 'number') {
      const waiter = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) waiter?.reject(new Error(`CDP: ${error.message ?? JSON.stringify(error)}`));
      else waiter?.resolve((msg.result ?? {}) as Json);
    } else if (typeof msg.method === 'string') {
      const event = msg as unknown as CdpEvent;
      for (const l of [...this.#listeners]) l(event);
    }
  }

  send(method: string, params: Json = {}, sessionId?: string, timeoutMs = 20_000): Promise<Json> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = ++this.#next;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(listener: (e: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The first event matching, within `timeoutMs`. */
  waitFor(match: (e: CdpEvent) => boolean, what: string, timeoutMs = 30_000): Promise<CdpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`CDP: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((e) => {
        if (!match(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  fail(err: Error): void {
    this.#closed = err;
    for (const w of this.#pending.values()) w.reject(err);
    this.#pending.clear();
  }
}

/** What a page did while loaded: its console, its uncaught errors, every request it made. */
export interface PageLog {
  console: { level: string; text: string }[];
  errors: string[];
  /** Every request's URL, in order (from Network.requestWillBeSent). */
  requests: string[];
  /** Requests refused by the interception (everything but the allowed URL). */
  blocked: string[];
  /** alert/confirm/prompt dialogs the page opened (each dismissed at once). */
  dialogs: string[];
}

export interface Page {
  readonly log: PageLog;
  send(method: string, params?: Json): Promise<Json>;
  /** Evaluates an expression in the page; its value (JSON), or throws what the page threw. */
  evaluate<T>(expression: string): Promise<T>;
  /** A real mouse click at the centre of the `index`th element matching `selector`. */
  click(selector: string, index?: number): Promise<void>;
  /** Focuses `selector` and types `text` into it as a user would (input events). */
  type(selector: string, text: string): Promise<void>;
  /** A PNG of the whole page (up to `maxHeight` CSS pixels tall). */
  screenshot(maxHeight?: number): Promise<Buffer>;
}

export interface Chromium {
  readonly version: string;
  readonly pid: number;
  /**
   * Opens `url` in a new tab with the network cut off: every request but `url` itself is failed
   * before it leaves, and recorded. Resolves once the load event fired.
   */
  open(url: string, options?: { width?: number; height?: number; timeoutMs?: number }): Promise<Page>;
  /** Closes the browser (Browser.close, then SIGKILL to its group after 5 s) and removes its profile; idempotent. */
  close(): Promise<void>;
}

/** Starts headless Chromium (installing it first if need be, see ensureChromium). */
export async function launchChromium(): Promise<Chromium> {
  const binary = await ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'discv5-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--mute-audio',
    // Belt and braces: anything the browser itself would fetch goes to a dead proxy and resolves nowhere.
    '--proxy-server=http://127.0.0.1:9',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profile}`,
    '--remote-debugging-pipe',
    'about:blank',
  ];
  const child: ChildProcess = spawn(binary, args, {
    cwd: profile,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`browser specs: could not start ${binary}`);
  }
  track(pid, profile);
  const watchdog = spawnWatchdog(
    'kill -KILL "-$CPID" 2>/dev/null; i=0; ' +
      'while [ $i -lt 50 ] && kill -0 "-$CPID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; rm -rf -- "$CPROFILE"',
    [],
    { PATH: process.env.PATH ?? '/usr/bin:/bin', CPID: String(pid), CPROFILE: profile },
  );

  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cdp = new Cdp(child.stdio[3] as Writable, child.stdio[4] as Readable);
  child.once('exit', (code, signal) =>
    cdp.fail(new Error(`chromium exited (${code ?? signal}): ${stderr.slice(-800)}`)),
  );

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await cdp.send('Browser.close', {}, undefined, 5_000).catch(() => {});
    await Promise.race([exited, sleep(5_000)]);
    untrack(pid);
    killGroupSync(pid, profile); // the group: renderers and zygotes too
    if (watchdog.exitCode === null) watchdog.kill('SIGKILL');
  };

  try {
    const version = String((await cdp.send('Browser.getVersion', {}, undefined, 30_000)).product);
    return { version, pid, open: (url, options) => openPage(cdp, url, options ?? {}), close };
  } catch (err) {
    await close();
    throw new Error(`browser specs: ${binary} did not answer over the DevTools pipe: ${(err as Error).message}`);
  }
}

async function openPage(
  cdp: Cdp,
  url: string,
  options: { width?: number; height?: number; timeoutMs?: number },
): Promise<Page> {
  const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as {
    sessionId: string;
  };
  const send = (method: string, params: Json = {}) => cdp.send(method, params, sessionId);
  const log: PageLog = { console: [], errors: [], requests: [], blocked: [], dialogs: [] };
  cdp.on((e) => {
    if (e.sessionId !== sessionId) return;
    const p = e.params as EventParams;
    if (e.method === 'Runtime.consoleAPICalled')
      log.console.push({
        level: String(p.type),
        text: (p.args ?? []).map((a: Json) => a.value ?? a.description).join(' '),
      });
    else if (e.method === 'Log.entryAdded')
      log.console.push({ level: String(p.entry?.level), text: String(p.entry?.text) });
    else if (e.method === 'Runtime.exceptionThrown')
      log.errors.push(String(p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text));
    else if (e.method === 'Network.requestWillBeSent') log.requests.push(String(p.request?.url));
    else if (e.method === 'Page.javascriptDialogOpening') {
      log.dialogs.push(`${p.type}: ${p.message}`);
      send('Page.handleJavaScriptDialog', { accept: false }).catch(() => {});
    } else if (e.method === 'Fetch.requestPaused') {
      const allowed = String(p.request?.url) === url;
      if (!allowed) log.blocked.push(String(p.request?.url));
      const reply = allowed
        ? send('Fetch.continueRequest', { requestId: p.requestId })
        : send('Fetch.failRequest', { requestId: p.requestId, errorReason: 'BlockedByClient' });
      reply.catch(() => {});
    }
  });
  for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await send(`${domain}.enable`);
  await send('Fetch.enable', { patterns: [{ urlPattern: '*' }] });
  await send('Emulation.setDeviceMetricsOverride', {
    width: options.width ?? 1400,
    height: options.height ?? 900,
    deviceScaleFactor: 1,
    mobile: false,
  });
  const loaded = cdp.waitFor(
    (e) => e.sessionId === sessionId && e.method === 'Page.loadEventFired',
    `load event of ${url}`,
    options.timeoutMs ?? 30_000,
  );
  const nav = (await send('Page.navigate', { url })) as { errorText?: string };
  if (nav.errorText) {
    loaded.catch(() => {});
    throw new Error(`browser specs: ${url} did not load: ${nav.errorText}`);
  }
  await loaded;

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails)
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  };
  return {
    log,
    send,
    evaluate,
    async click(selector, index = 0) {
      const at = await evaluate<{ x: number; y: number } | null>(`(() => {
        const el = document.querySelectorAll(${JSON.stringify(selector)})[${index}];
        if (!el) return null;
        el.scrollIntoView({ block: 'center' });
        const r = el.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      })()`);
      if (at === null) throw new Error(`no element ${selector} [${index}] to click`);
      for (const type of ['mousePressed', 'mouseReleased'])
        await send('Input.dispatchMouseEvent', { type, x: at.x, y: at.y, button: 'left', clickCount: 1 });
    },
    async type(selector, text) {
      const found = await evaluate<boolean>(`(() => {
        const el = document.querySelector(${JSON.stringify(selector)});
        if (!el) return false;
        el.focus();
        return document.activeElement === el;
      })()`);
      if (!found) throw new Error(`no element ${selector} to type into`);
      await send('Input.insertText', { text });
    },
    async screenshot(maxHeight = 8000) {
      const metrics = (await send('Page.getLayoutMetrics')) as { cssContentSize: { width: number; height: number } };
      const { width, height } = metrics.cssContentSize;
      const shot = (await send('Page.captureScreenshot', {
        format: 'png',
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: Math.ceil(width), height: Math.min(Math.ceil(height), maxHeight), scale: 1 },
      })) as { data: string };
      return Buffer.from(shot.data, 'base64');
    },
  };
}
