/** Limits, results and failure kinds of sandboxed transform runs. */
import type { ValidatedOutput } from '../transform-output.validator.js';
import type { HttpCapability, RunState } from '../transform-http.capability.js';

export interface SandboxLimits {
  /** isolated-vm timeout per call: isolate execution time, paused while waiting on the host (HTTP). */
  cpuMs: number;
  /** Whole run including queueing and HTTP. */
  wallMs: number;
  /** ivm memoryLimit (soft: hostile code may reach 2–3× before disposal). */
  memoryMb: number;
  maxOutputBytes: number;
  maxInputBytes: number;
  maxInputDepth: number;
  maxDepth: number;
  maxKeys: number;
  maxArray: number;
  maxString: number;
  maxLogLines: number;
  maxLogBytes: number;
  /** Prepared contexts kept ready per isolate besides the reused one. */
  spares: number;
  minIsolates: number;
  maxIsolates: number;
  /** Start another isolate when every isolate has been busy this long. */
  spawnAfterMs: number;
  /** Per isolate; beyond it runs fail fast with `overloaded`. */
  maxQueue: number;
  watchdogGraceMs: number;
  /** Runs per hardened context; 1 = a fresh, unhardened context per run. */
  contextReuse: number;
  /** Consecutive resource failures that open the breaker… */
  breakerThreshold: number;
  /** …which then fails runs fast for this long before one trial run. */
  breakerCooldownMs: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuMs: 50,
  wallMs: 2000,
  memoryMb: 32,
  maxOutputBytes: 16 * 1024,
  maxInputBytes: 64 * 1024,
  maxInputDepth: 32,
  maxDepth: 8,
  maxKeys: 256,
  maxArray: 256,
  maxString: 8192,
  maxLogLines: 20,
  maxLogBytes: 4096,
  spares: 1,
  minIsolates: 1,
  maxIsolates: 2,
  spawnAfterMs: 5,
  maxQueue: 64,
  watchdogGraceMs: 250,
  contextReuse: 5000,
  breakerThreshold: 5,
  breakerCooldownMs: 5000,
});

export type FailureKind =
  /** The transform threw (or rejected). */
  | 'error'
  | 'invalid_output'
  | 'output_too_large'
  /** run() returned a promise nothing can ever settle. */
  | 'never_settled'
  /** Module top level threw or the default export is not a transform (at load). */
  | 'module_error'
  | 'cpu_timeout'
  | 'memory_limit'
  | 'wall_timeout'
  | 'isolate_lost'
  | 'circuit_open'
  | 'overloaded'
  | 'input_invalid'
  | 'input_too_large'
  | 'shutting_down'
  | 'unknown_transform'
  | 'internal';

export interface RunFailure {
  kind: FailureKind;
  message: string;
  transform: string;
  /** Source position of the failure (mapped to the .ts), or at least the transform file. */
  file?: string;
  line?: number;
  column?: number;
  name?: string;
  stack?: string;
}

export interface LogLine {
  message: string;
  data: unknown;
}

export type RunOutcome = { ok: true; output: ValidatedOutput; logs: LogLine[] } | { ok: false; error: RunFailure; logs: LogLine[] };
/** An outcome and how long the run took from submission (queueing included), in ms. */
export type RunResult = RunOutcome & { ms: number };

/** Per-run replacements (fixtures, `herald transforms run`): secrets and the HTTP capability. */
export interface RunOverrides {
  secrets?: Record<string, string>;
  http?: HttpCapability;
}

/** What the host side of a running call knows: deadline, abort signal, HTTP capability, secrets to mask. */
export interface ActiveRun extends RunState {
  http: HttpCapability;
  secretValues: readonly string[];
}

/** Failures that burn a resource; repeated ones open the breaker and route the transform through the suspect lane. */
export const RESOURCE_FAILURES: ReadonlySet<FailureKind> = new Set(['cpu_timeout', 'memory_limit', 'wall_timeout', 'never_settled', 'isolate_lost']);

/** Failures after which the context is still sound (the transform threw or returned bad data). */
export const CONTEXT_SURVIVES: ReadonlySet<FailureKind> = new Set(['error', 'invalid_output', 'output_too_large']);
