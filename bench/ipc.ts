/** A minimal request/answer protocol over a forked child's IPC channel, bounded by a timeout. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface IpcRequest {
  id: number;
  op: string;
  payload?: unknown;
}

export type IpcAnswer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** True when the bench runs from its .ts sources (the tests, through test/support/ts-register.js). */
const FROM_SOURCE = path.extname(__filename) === '.ts';
/** The repository: bench/ from sources, dist/bench/ once built. */
export const REPO_ROOT = path.resolve(__dirname, FROM_SOURCE ? '..' : '../..');
/** The network guard used by the tests: any non-loopback connection from a bench child throws. */
export const NETWORK_GUARD = path.join(REPO_ROOT, 'test/support/network-guard.js');
const TS_REGISTER = path.join(REPO_ROOT, 'test/support/ts-register.js');

/** A bench child script next to this module, in the form this module runs in (.js built, .ts from sources). */
export function benchScript(name: string): string {
  return path.join(__dirname, `${name}${path.extname(__filename)}`);
}

export interface ChildHandle {
  process: ChildProcess;
  call<T>(op: string, payload?: unknown, timeoutMs?: number): Promise<T>;
  /** Resolves when the child has exited (SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
}

/** Forks a compiled bench script with the network guard loaded. */
export function forkChild(script: string, execArgv: string[] = []): ChildHandle {
  const child = fork(script, [], {
    execArgv: [...(FROM_SOURCE ? ['--require', TS_REGISTER] : []), '--require', NETWORK_GUARD, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (message: IpcAnswer) => {
    const entry = waiting.get(message.id);
    if (!entry) return;
    waiting.delete(message.id);
    if (message.ok) entry.resolve(message.result);
    else entry.reject(new Error(message.error));
  });
  child.on('exit', (code, signal) => {
    for (const entry of waiting.values()) entry.reject(new Error(`bench child exited (${code ?? signal})`));
    waiting.clear();
  });
  return {
    process: child,
    call<T>(op: string, payload?: unknown, timeoutMs = 600_000): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`bench child: ${op} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, op, payload } satisfies IpcRequest);
      });
    },
    stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.disconnect();
      });
    },
  };
}

/** Child side: answers each request with `handlers[op](payload)`; exits when the parent disconnects. */
export function serveParent(handlers: Record<string, (payload: unknown) => unknown>): void {
  if (!process.send) throw new Error('this script runs as a forked bench child');
  process.on('message', (message: IpcRequest) => {
    Promise.resolve()
      .then(() => {
        const handler = handlers[message.op];
        if (!handler) throw new Error(`unknown op ${message.op}`);
        return handler(message.payload);
      })
      .then(
        (result) => process.send!({ id: message.id, ok: true, result } satisfies IpcAnswer),
        (error: unknown) =>
          process.send!({
            id: message.id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          } satisfies IpcAnswer),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
