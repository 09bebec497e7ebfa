/**
 * `RefreshScheduler`: calls `refreshDue` every `intervalMs` (doc 302 periodic re-signing of
 * the server-held timestamp and snapshot; ADR 0022). One tick at a time: a tick asked for
 * while one runs gets the running one. The timer is unref'd (it never keeps the process
 * alive) and injectable, so tests drive ticks with `tick()` and an injected service clock
 * instead of waiting on the real one.
 */
import type { MetadataService, RefreshResult } from './service-types.js';

export type TimerHandle = unknown;

export interface RefreshSchedulerOptions {
  service: Pick<MetadataService, 'refreshDue'>;
  /** Time between the end of one tick and the start of the next, ms. */
  intervalMs: number;
  /** Repositories refreshed per tick at most (refreshDue's limit). Default 100. */
  limit?: number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  /** A tick that failed (the store did not answer); default: a process warning. */
  onError?: (error: unknown) => void;
}

const defaultSetTimer = (fn: () => void, ms: number): TimerHandle => {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
};
const defaultClearTimer = (h: TimerHandle): void => {
  clearTimeout(h as ReturnType<typeof setTimeout>);
};
const defaultOnError = (e: unknown): void => {
  process.emitWarning(`cnabsec server refresh failed: ${e instanceof Error ? e.message : String(e)}`);
};

export class RefreshScheduler {
  private readonly setTimer: NonNullable<RefreshSchedulerOptions['setTimer']>;
  private readonly clearTimer: NonNullable<RefreshSchedulerOptions['clearTimer']>;
  private readonly onError: (error: unknown) => void;
  /** The pending timer, boxed (a handle may be any value). */
  private timer: { handle: TimerHandle } | undefined;
  private inFlight: Promise<RefreshResult[]> | undefined;
  private running = false;

  constructor(private readonly options: RefreshSchedulerOptions) {
    if (!(Number.isFinite(options.intervalMs) && options.intervalMs > 0))
      throw new RangeError(
        `RefreshScheduler: intervalMs must be a positive number, not ${options.intervalMs}`,
      );
    this.setTimer = options.setTimer ?? defaultSetTimer;
    this.clearTimer = options.clearTimer ?? defaultClearTimer;
    this.onError = options.onError ?? defaultOnError;
  }

  /** Whether ticks are scheduled. */
  get started(): boolean {
    return this.running;
  }

  /** Schedule ticks every `intervalMs` (the first one interval from now); idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** No more ticks; resolves once a tick in flight has finished. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clearTimer(this.timer.handle);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
  }

  /** Refresh what is due now; while a tick runs, the same tick. */
  tick(): Promise<RefreshResult[]> {
    if (this.inFlight !== undefined) return this.inFlight;
    // a refreshDue that throws synchronously becomes a rejection, never an exception in the timer
    const due = new Promise<RefreshResult[]>((resolve) => {
      resolve(this.options.service.refreshDue(this.options.limit ?? 100));
    });
    const run = due.finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private schedule(): void {
    const box: { handle: TimerHandle } = { handle: undefined };
    this.timer = box;
    box.handle = this.setTimer(() => {
      if (this.timer === box) this.timer = undefined;
      this.tick()
        .catch((e: unknown) => {
          try {
            this.onError(e);
          } catch {
            /* an onError that throws must not stop the schedule */
          }
        })
        .finally(() => {
          if (this.running && this.timer === undefined) this.schedule();
        });
    }, this.options.intervalMs);
  }
}
