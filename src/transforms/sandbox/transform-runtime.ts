/**
 * Sandboxed execution of one compiled transform version with isolated-vm 5.
 *
 *   TransformRuntime (one per transform version)
 *     └─ IsolateWorker × [minIsolates..maxIsolates]   one ivm.Isolate each (memoryLimit)
 *          ├─ Scripts compiled once per isolate: user bundle (V8 code cache shared) and prelude
 *          ├─ spares: contexts already prepared (user script declared, prelude run → entry)
 *          └─ FIFO of jobs; exactly one job in the isolate at a time
 *
 * Blast radius: per-transform isolates and queues; a breaker that fails runs fast after repeated
 * resource failures; and a process-wide "suspect lane" that runs transforms whose last run burnt a
 * resource one at a time, so a few misbehaving transforms cannot occupy every core.
 */
import { performance } from 'node:perf_hooks';
import type { CompiledTransform } from '../transform-compiler.js';
import { mapStack } from '../transform-compiler.js';
import { displayPath } from '../transform-errors.js';
import type { HttpCapability } from '../transform-http.capability.js';
import { preludeSource } from './prelude.js';
import { IsolateWorker, type Job } from './isolate-worker.js';
import { DEFAULT_SANDBOX_LIMITS, RESOURCE_FAILURES, type LogLine, type RunFailure, type RunOutcome, type RunOverrides, type RunResult, type SandboxLimits } from './sandbox-types.js';

export interface RuntimeOptions {
  limits?: Partial<SandboxLimits>;
  http: HttpCapability;
  /** Secrets granted to this transform (name → value). */
  secrets?: Record<string, string>;
  /** isolated-vm lost control of an isolate: log, stop serving, end the process (see the ivm README). */
  onCatastrophicError?: (message: string) => void;
}

/** The transform did not load: module top level failed, the export is wrong, or the probe timed out. */
export class TransformStartError extends Error {
  constructor(
    readonly kind: string,
    readonly detail: string,
    readonly position: { file: string; line: number; column: number } | null,
    readonly file: string,
  ) {
    super(detail);
    this.name = 'TransformStartError';
  }
}

// Process-wide suspect lane (see the header).
const suspectLane = { active: 0, max: 1, waiters: [] as Array<() => void> };
function laneAcquire(): Promise<void> | null {
  if (suspectLane.active < suspectLane.max) {
    suspectLane.active++;
    return null;
  }
  return new Promise<void>((resolve) => suspectLane.waiters.push(resolve));
}
function laneRelease(): void {
  const next = suspectLane.waiters.shift();
  if (next) next();
  else suspectLane.active--;
}

function depthWithin(value: unknown, budget: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (budget <= 0) return false;
  for (const key in value) if (!depthWithin((value as Record<string, unknown>)[key], budget - 1)) return false;
  return true;
}

export class TransformRuntime {
  readonly limits: SandboxLimits;
  readonly http: HttpCapability;
  readonly preludeSrc: string;
  readonly secretsJson: string;
  readonly secretValues: string[];
  readonly onCatastrophicError: (message: string) => void;
  /** V8 code cache produced by the first isolate, fed to later ones (only data this process produced). */
  readonly cachedData: { prelude?: unknown; user?: unknown } = {};
  readonly stats = { runs: 0, isolatesCreated: 0, isolatesLost: 0, breakerRejections: 0 };
  /** Upstream kinds the transform declares (`protocols`), read by the load probe; undefined: any. */
  protocols: string[] | undefined;
  workers: IsolateWorker[] = [];
  closed = false;
  private readonly breaker = { failures: 0, openUntil: 0, trial: false };

  constructor(
    readonly compiled: CompiledTransform,
    options: RuntimeOptions,
  ) {
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...stripUndefined(options.limits ?? {}) };
    this.http = options.http;
    this.secretsJson = JSON.stringify(options.secrets ?? {});
    this.secretValues = Object.values(options.secrets ?? {});
    this.preludeSrc = preludeSource(
      {
        maxOutputBytes: this.limits.maxOutputBytes,
        maxDepth: this.limits.maxDepth,
        maxKeys: this.limits.maxKeys,
        maxArray: this.limits.maxArray,
        maxLogLines: this.limits.maxLogLines,
        maxLogBytes: this.limits.maxLogBytes,
      },
      { harden: this.limits.contextReuse > 1 },
    );
    this.onCatastrophicError =
      options.onCatastrophicError ?? ((message) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'isolated-vm catastrophic error', detail: message })}\n`));
  }

  get name(): string {
    return this.compiled.name;
  }

  /**
   * Starts minIsolates isolates, prepares one context and evaluates the module once (probe), so a
   * module top-level error, a wrong default export or a top-level endless loop fails the load,
   * not the first sign-in.
   */
  async start(): Promise<this> {
    for (let i = 0; i < this.limits.minIsolates; i++) this.spawn();
    try {
      await Promise.all(this.workers.map((w) => w.ready));
      const worker = this.workers[0]!;
      const slot = await worker.prepare();
      const probe: unknown = await slot.entry!.apply(undefined, ['probe'], { timeout: this.limits.cpuMs }).catch((e: unknown) => e);
      let envelope: { ok?: boolean; kind?: string; message?: string; stack?: string; protocols?: string[] };
      if (typeof probe === 'string') {
        try {
          envelope = JSON.parse(probe);
        } catch {
          envelope = { ok: false, kind: 'module_error', message: 'the module probe returned malformed data' };
        }
      } else {
        const error = probe as Error;
        envelope = { ok: false, kind: /timed out/.test(String(error?.message)) ? 'cpu_timeout' : 'module_error', message: String(error?.message ?? error), stack: error?.stack };
      }
      if (envelope.ok !== true) {
        worker.release(slot);
        const kind = envelope.kind ?? 'module_error';
        const message = kind === 'cpu_timeout' ? `module top level exceeded ${this.limits.cpuMs} ms of CPU time` : (envelope.message ?? 'failed to load');
        throw new TransformStartError(kind, message, mapStack(this.compiled, envelope.stack).top, displayPath(this.compiled.file));
      }
      this.protocols = envelope.protocols;
      worker.spares.push(slot);
      worker.kick();
      return this;
    } catch (error) {
      await this.close();
      if (error instanceof TransformStartError) throw error;
      throw new TransformStartError('module_error', String((error as Error)?.message ?? error), null, displayPath(this.compiled.file));
    }
  }

  private spawn(): IsolateWorker {
    const worker = new IsolateWorker(this);
    this.workers.push(worker);
    this.stats.isolatesCreated++;
    return worker;
  }

  /** An isolate died (memory kill, watchdog): replace it and re-dispatch the jobs queued behind it. */
  workerDied(worker: IsolateWorker): void {
    this.stats.isolatesLost++;
    this.workers = this.workers.filter((w) => w !== worker);
    const orphans = worker.queue.splice(0);
    if (this.closed) {
      for (const job of orphans) job.finish(this.failure({ kind: 'shutting_down', message: 'the transform version was retired' }));
      return;
    }
    while (this.workers.length < this.limits.minIsolates) this.spawn();
    for (const job of orphans) this.dispatch(job);
  }

  private pick(): IsolateWorker | null {
    const alive = this.workers.filter((w) => !w.dead);
    const idle = alive.find((w) => !w.current && w.queue.length === 0);
    if (idle) return idle;
    const now = performance.now();
    const allSlow = alive.every((w) => w.current && now - w.current.started > this.limits.spawnAfterMs);
    if (alive.length < this.limits.maxIsolates && (alive.length === 0 || allSlow)) return this.spawn();
    let best = alive[0];
    for (const w of alive) if (w.queue.length < best!.queue.length) best = w;
    return best && best.queue.length < this.limits.maxQueue ? best : null;
  }

  private dispatch(job: Job): void {
    // A run that waited in the suspect lane may find this version retired by a reload meanwhile.
    if (this.closed) return job.finish(this.failure({ kind: 'shutting_down', message: 'the transform version was retired' }));
    const worker = this.pick();
    if (!worker) return job.finish(this.failure({ kind: 'overloaded', message: 'too many queued runs for this transform' }));
    worker.enqueue(job);
  }

  /** Runs the transform once on `input` (JSON data). Never rejects. */
  run(input: unknown, overrides: RunOverrides = {}): Promise<RunResult> {
    this.stats.runs++;
    return new Promise<RunResult>((resolve) => {
      const submitted = performance.now();
      let laneHeld = false;
      const secrets = overrides.secrets;
      const job: Job = {
        submitted,
        deadline: Date.now() + this.limits.wallMs,
        inputJson: '',
        secretsJson: secrets ? JSON.stringify(secrets) : this.secretsJson,
        secretValues: secrets ? Object.values(secrets) : this.secretValues,
        http: overrides.http ?? this.http,
        started: 0,
        done: false,
        finish: (result) => {
          if (job.done) return;
          job.done = true;
          if (laneHeld) laneRelease();
          this.record(result);
          resolve({ ...result, ms: performance.now() - submitted } as RunResult);
        },
      };
      if (this.closed) return job.finish(this.failure({ kind: 'shutting_down', message: 'the transform version was retired' }));
      const breaker = this.breaker;
      if (breaker.openUntil) {
        if (Date.now() < breaker.openUntil || breaker.trial) {
          this.stats.breakerRejections++;
          return job.finish(
            this.failure({
              kind: 'circuit_open',
              message: `disabled for ${this.limits.breakerCooldownMs} ms after ${this.limits.breakerThreshold} consecutive resource failures`,
            }),
          );
        }
        breaker.trial = true; // half-open: this run decides
      }
      if (!depthWithin(input, this.limits.maxInputDepth)) {
        return job.finish(this.failure({ kind: 'input_invalid', message: `input nested deeper than ${this.limits.maxInputDepth} levels` }));
      }
      try {
        job.inputJson = JSON.stringify(input);
      } catch {
        return job.finish(this.failure({ kind: 'input_invalid', message: 'input is not JSON-serialisable' }));
      }
      if (Buffer.byteLength(job.inputJson) > this.limits.maxInputBytes) {
        return job.finish(this.failure({ kind: 'input_too_large', message: `input exceeds ${this.limits.maxInputBytes} bytes` }));
      }
      if (breaker.failures === 0) return this.dispatch(job);
      const wait = laneAcquire();
      if (!wait) {
        laneHeld = true;
        return this.dispatch(job);
      }
      void wait.then(() => {
        laneHeld = true;
        if (job.done) return laneRelease();
        this.dispatch(job);
      });
    });
  }

  private record(result: RunOutcome): void {
    const breaker = this.breaker;
    if (!result.ok && result.error.kind === 'circuit_open') return;
    if (!result.ok && RESOURCE_FAILURES.has(result.error.kind)) {
      breaker.failures++;
      if (breaker.trial || breaker.failures >= this.limits.breakerThreshold) breaker.openUntil = Date.now() + this.limits.breakerCooldownMs;
    } else {
      breaker.failures = 0;
      breaker.openUntil = 0;
    }
    breaker.trial = false;
  }

  failure(error: Omit<RunFailure, 'transform'>, logs: LogLine[] = []): { ok: false; error: RunFailure; logs: LogLine[] } {
    return { ok: false, error: { transform: this.name, file: displayPath(this.compiled.file), ...error }, logs };
  }

  /** Stops accepting runs, lets queued and running ones finish, then disposes every isolate. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.drain()));
    for (const worker of this.workers) worker.dispose();
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
