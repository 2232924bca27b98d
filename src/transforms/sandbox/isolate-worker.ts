/**
 * One isolated-vm Isolate serving one transform version: its compiled scripts, prepared contexts
 * and a FIFO of runs (one in the isolate at a time).
 *
 * Per run, two async calls are queued back to back on the same context (ivm runs them in order):
 *   entry('invoke', inputJson, secretsJson)  { timeout: cpuMs } → starts run(); V8 drains the
 *       microtask queue before the call returns, so every await chain runs under the timeout;
 *   entry('collect')                          → the result envelope, or `never_settled` when the
 *       promise is still pending: with no timers and a blocking http.getJson nothing can settle it.
 * Async `apply` is required: `applySyncPromise` (http.getJson) may only run on an ivm thread, and
 * promises returned across the boundary (`result: { promise: true }`) are never used because code
 * after an awaited host promise would run outside every timeout.
 *
 * Limits: CPU via ivm `timeout` on every call; wall time via a deadline, an AbortSignal for HTTP
 * and a watchdog that disposes the isolate as a last resort; memory via `memoryLimit` (disposal is
 * asynchronous and may surface on a later call: a dead isolate is replaced and the innocent jobs
 * queued on it are re-dispatched). A context is reused until `contextReuse` runs or any abnormal end.
 */
import { performance } from 'node:perf_hooks';
import ivm from 'isolated-vm';
import { mapStack } from '../transform-compiler.js';
import { OutputError, validateOutput } from '../transform-output.validator.js';
import { scrubSecrets, scrubSecretsIn } from '../secret-scrubber.js';
import type { HttpCapability } from '../transform-http.capability.js';
import type { TransformRuntime } from './transform-runtime.js';
import { CONTEXT_SURVIVES, type ActiveRun, type FailureKind, type LogLine, type RunFailure, type RunOutcome } from './sandbox-types.js';

export interface Job {
  submitted: number;
  deadline: number;
  inputJson: string;
  secretsJson: string;
  secretValues: string[];
  http: HttpCapability;
  started: number;
  done: boolean;
  retried?: boolean;
  finish(result: RunOutcome): void;
}

interface Slot {
  context: ivm.Context;
  entry: ivm.Reference<(...args: unknown[]) => string> | null;
  hostRef: ivm.Reference<unknown> | null;
  run: ActiveRun | null;
  runs: number;
}

type Outcome = RunOutcome;

const KNOWN_KINDS = new Set<FailureKind>(['error', 'invalid_output', 'output_too_large', 'never_settled', 'module_error']);

export class IsolateWorker {
  readonly queue: Job[] = [];
  spares: Slot[] = [];
  current: Job | null = null;
  dead = false;
  readonly ready: Promise<void>;
  private isolate!: ivm.Isolate;
  private prelude!: ivm.Script;
  private user!: ivm.Script;
  private active: Slot | null = null;
  private looping = false;
  private prepareBroken = false;
  private killedByWatchdog = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly rt: TransformRuntime) {
    this.ready = this.init();
    this.ready.catch(() => undefined);
  }

  private async init(): Promise<void> {
    const rt = this.rt;
    this.isolate = new ivm.Isolate({ memoryLimit: rt.limits.memoryMb, onCatastrophicError: rt.onCatastrophicError });
    const compile = async (code: string, filename: string, key: 'prelude' | 'user') => {
      const options: ivm.ScriptOrigin & ivm.CachedDataOptions = { filename };
      if (rt.cachedData[key]) options.cachedData = rt.cachedData[key] as ivm.ExternalCopy<ArrayBuffer>;
      else options.produceCachedData = true;
      const script = await this.isolate.compileScript(code, options);
      const produced = (script as ivm.Script & { cachedData?: unknown }).cachedData;
      if (!rt.cachedData[key] && produced) rt.cachedData[key] = produced;
      return script;
    };
    this.prelude = await compile(rt.preludeSrc, 'herald:prelude', 'prelude');
    this.user = await compile(rt.compiled.code, rt.compiled.filename, 'user');
  }

  enqueue(job: Job): void {
    this.queue.push(job);
    this.kick();
  }

  kick(): void {
    if (this.looping || this.dead) return;
    this.looping = true;
    this.loop()
      .catch(() => this.die())
      .finally(() => {
        this.looping = false;
        if (!this.dead && this.queue.length) this.kick();
        else if (!this.queue.length) for (const waiter of this.idleWaiters.splice(0)) waiter();
      });
  }

  private async loop(): Promise<void> {
    await this.ready;
    while (!this.dead) {
      const job = this.queue.shift();
      if (job) {
        await this.execute(job);
        continue;
      }
      if (this.rt.closed || this.spares.length >= this.rt.limits.spares || this.prepareBroken) return;
      try {
        this.spares.push(await this.prepare());
      } catch (error) {
        if (this.isolate.isDisposed) throw error;
        this.prepareBroken = true; // runs will report the problem themselves
      }
    }
  }

  /** A context: host Reference in, user script (declares the factory), prelude → entry. */
  async prepare(): Promise<Slot> {
    const rt = this.rt;
    const context = await this.isolate.createContext();
    const slot: Slot = { context, entry: null, hostRef: null, run: null, runs: 0 };
    slot.hostRef = new ivm.Reference(async (url: unknown, optionsJson: unknown) => {
      const run = slot.run;
      const envelope = await (run ? run.http.getJson(run, url, optionsJson) : rt.http.getJson(null, url, optionsJson));
      return httpFailureMessage(envelope, url, run?.secretValues ?? rt.secretValues);
    });
    // Queued back to back; ivm runs them in order on this isolate's thread.
    context.global.setIgnored('__herald_host', slot.hostRef);
    this.user.runIgnored(context, { timeout: rt.limits.cpuMs });
    try {
      const entry = (await this.prelude.run(context, { timeout: rt.limits.cpuMs * 4, reference: true })) as ivm.Reference<(...args: unknown[]) => string>;
      if (entry.typeof !== 'function') throw new Error('the sandbox prelude did not return its entry point');
      slot.entry = entry;
    } catch (error) {
      this.release(slot);
      throw error;
    }
    return slot;
  }

  release(slot: Slot): void {
    for (const handle of [slot.entry, slot.hostRef, slot.context]) {
      try {
        handle?.release();
      } catch {
        /* already released or isolate gone */
      }
    }
  }

  private async execute(job: Job): Promise<void> {
    const rt = this.rt;
    const limits = rt.limits;
    job.started = performance.now();
    this.current = job;
    const remaining = job.deadline - Date.now();
    if (remaining <= 0) {
      this.current = null;
      return job.finish(rt.failure({ kind: 'wall_timeout', message: `waited in the queue beyond the ${limits.wallMs} ms wall-time budget` }));
    }
    const abort = new AbortController();
    let watchdogFired = false;
    const watchdog = setTimeout(() => {
      watchdogFired = true;
      this.killedByWatchdog = true;
      abort.abort();
      try {
        this.isolate.dispose(); // ends whatever the isolate is doing, even a wait in applySyncPromise
      } catch {
        /* already disposed */
      }
    }, remaining + limits.cpuMs + limits.watchdogGraceMs);
    const wallTimer = setTimeout(() => abort.abort(), remaining); // ends pending fetches at the deadline
    let slot: Slot | undefined;
    let result: Outcome | undefined;
    let requeued = false;
    try {
      slot = this.active ?? this.spares.shift();
      this.active = null;
      if (!slot) {
        try {
          slot = await this.prepare();
        } catch (error) {
          // The isolate died before this job touched it (a previous run left it over its memory
          // limit and disposal surfaced now): not this job's fault, run it elsewhere.
          if (this.isolate.isDisposed && !job.retried) {
            job.retried = true;
            requeued = true;
            return;
          }
          throw error;
        }
      }
      slot.run = { deadline: job.deadline, httpCalls: 0, signal: abort.signal, http: job.http, secretValues: job.secretValues };
      slot.runs++;
      // Both calls are queued now; FIFO on the isolate runs collect after invoke and after the
      // microtask checkpoint that follows it.
      const invoke = slot.entry!.apply(undefined, ['invoke', job.inputJson, job.secretsJson], { timeout: limits.cpuMs });
      const collect = slot.entry!.apply(undefined, ['collect'], { timeout: limits.cpuMs });
      collect.catch(() => undefined);
      await invoke;
      result = this.interpret(job, await collect);
    } catch (error) {
      result = this.classify(job, error, watchdogFired);
    } finally {
      clearTimeout(watchdog);
      clearTimeout(wallTimer);
      if (slot) {
        slot.run = null;
        const sound = result?.ok || (result && !result.ok && CONTEXT_SURVIVES.has(result.error.kind));
        if (sound && slot.runs < limits.contextReuse && !this.isolate.isDisposed) this.active = slot;
        else this.release(slot);
      }
      this.current = null;
      if (requeued) {
        this.queue.unshift(job); // die() hands it to another isolate
        this.die();
      } else {
        if (this.isolate.isDisposed) this.die();
        job.finish(result ?? rt.failure({ kind: 'internal', message: 'no result' }));
      }
    }
  }

  private logsOf(job: Job, raw: unknown): LogLine[] {
    if (!Array.isArray(raw)) return [];
    const lines: LogLine[] = [];
    for (const item of raw.slice(0, this.rt.limits.maxLogLines)) {
      if (typeof item !== 'string') continue;
      let line: [unknown, unknown];
      try {
        line = JSON.parse(item) as [unknown, unknown];
      } catch {
        continue; // a malformed line is dropped
      }
      // A secret never reaches the audit trail, even if the transform logs it.
      lines.push({ message: scrubSecrets(String(line[0]), job.secretValues), data: scrubSecretsIn(line[1] ?? null, job.secretValues) });
    }
    return lines;
  }

  private interpret(job: Job, envelope: unknown): Outcome {
    const rt = this.rt;
    const maxEnvelope = rt.limits.maxOutputBytes * 6 + rt.limits.maxLogBytes * 2 + 16384;
    if (typeof envelope !== 'string' || envelope.length > maxEnvelope) return rt.failure({ kind: 'invalid_output', message: 'the sandbox returned an unexpected value' });
    let parsed: { ok?: unknown; out?: unknown; logs?: unknown; kind?: unknown; message?: unknown; name?: unknown; stack?: unknown };
    try {
      parsed = JSON.parse(envelope);
    } catch {
      return rt.failure({ kind: 'invalid_output', message: 'the sandbox returned malformed data' });
    }
    const logs = this.logsOf(job, parsed.logs);
    if (parsed.ok === true) {
      try {
        return { ok: true, output: validateOutput(JSON.stringify(parsed.out), rt.limits, job.secretValues), logs };
      } catch (error) {
        if (error instanceof OutputError) return rt.failure({ kind: 'invalid_output', message: scrubSecrets(error.message, job.secretValues) }, logs);
        throw error;
      }
    }
    const kind = KNOWN_KINDS.has(parsed.kind as FailureKind) ? (parsed.kind as FailureKind) : 'error';
    // Messages, names and stacks are the transform's text (a thrown error, a failed http.getJson).
    const failure: Omit<RunFailure, 'transform'> = { kind, message: typeof parsed.message === 'string' ? scrubSecrets(parsed.message, job.secretValues) : 'the transform failed' };
    if (typeof parsed.name === 'string') failure.name = scrubSecrets(parsed.name, job.secretValues);
    if (typeof parsed.stack === 'string') Object.assign(failure, this.position(job, parsed.stack));
    return rt.failure(failure, logs);
  }

  private position(job: Job, stack: unknown): Partial<RunFailure> {
    const { stack: mapped, top } = mapStack(this.rt.compiled, stack);
    return { ...(mapped ? { stack: scrubSecrets(mapped, job.secretValues) } : {}), ...(top ? { file: top.file, line: top.line, column: top.column } : {}) };
  }

  private classify(job: Job, error: unknown, watchdogFired: boolean): Outcome {
    const rt = this.rt;
    const message = String((error as Error)?.message ?? error);
    if (/memory limit/.test(message)) {
      return rt.failure({ kind: 'memory_limit', message: `exceeded the ${rt.limits.memoryMb} MiB memory limit (the isolate was disposed and is replaced)` });
    }
    if (watchdogFired || this.killedByWatchdog) {
      return rt.failure({ kind: 'wall_timeout', message: `exceeded the ${rt.limits.wallMs} ms wall-time budget (the isolate was disposed)` });
    }
    if (/Script execution timed out/.test(message)) {
      return rt.failure({ kind: 'cpu_timeout', message: `exceeded ${rt.limits.cpuMs} ms of CPU time`, ...this.position(job, (error as Error)?.stack) });
    }
    if (this.isolate.isDisposed || /disposed/i.test(message)) {
      return rt.failure({ kind: 'isolate_lost', message: 'the sandbox isolate was disposed during the run' });
    }
    // An error that escaped the runner, e.g. an unhandled rejection in user code.
    return rt.failure({ kind: 'error', message: scrubSecrets(message, job.secretValues).slice(0, 1000), ...this.position(job, (error as Error)?.stack) });
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    this.spares = [];
    this.active = null;
    try {
      this.isolate.dispose();
    } catch {
      /* already disposed */
    }
    this.rt.workerDied(this);
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  drain(): Promise<void> {
    if (!this.looping && !this.queue.length) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.dead = true;
    for (const slot of [...this.spares, this.active]) if (slot) this.release(slot);
    this.spares = [];
    this.active = null;
    try {
      if (this.isolate && !this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      /* already disposed */
    }
  }
}

/**
 * The isolate throws a failed http.getJson's `error` as is: the message (with the URL, which may
 * carry a secret) is composed and scrubbed here. Success envelopes pass untouched.
 */
function httpFailureMessage(envelope: string, url: unknown, secrets: readonly string[]): string {
  if (typeof envelope === 'string' && envelope.startsWith('{"ok":true')) return envelope;
  let error = 'request failed';
  try {
    const parsed = JSON.parse(String(envelope)) as { error?: unknown };
    if (typeof parsed.error === 'string') error = parsed.error;
  } catch {
    /* keep the generic text */
  }
  const shown = scrubSecrets(String(url), secrets);
  const message = `http.getJson(${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}): ${scrubSecrets(error, secrets)}`;
  return JSON.stringify({ ok: false, error: message });
}
