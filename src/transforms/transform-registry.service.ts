/**
 * Loads transforms/<name>.ts, keeps one sandbox runtime per name, and hot-reloads.
 *
 * load():   type-check the entries, bundle each, start its runtime (isolate + probe). Any problem
 *           throws TransformLoadError with file:line:col (start-up must fail).
 * reload(): the same pipeline; a transform is swapped only if its own files type-check, it bundles
 *           and its new runtime starts. Otherwise the last good version keeps serving and the
 *           problems are reported. The swap is one Map.set; the old runtime drains and is disposed.
 *           Reloads are serialised; a change during a reload schedules exactly one more.
 */
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ClaimLines, TransformChecker } from './transform-checker.js';
import { sdkSourcePath } from './sdk-path.js';
import { compileTransform, isTransformEntry, type CompiledTransform } from './transform-compiler.js';
import { displayPath, formatDiagnostic, TransformCompileError, TransformLoadError, type TransformDiagnostic, type TransformProblem } from './transform-errors.js';
import { FetchHttpCapability } from './transform-http.capability.js';
import { TransformRuntime, TransformStartError } from './sandbox/transform-runtime.js';
import type { RunOverrides, RunResult, SandboxLimits } from './sandbox/sandbox-types.js';
import type { TransformsConfig } from './transforms.config.js';

export interface LoadedTransform {
  name: string;
  runtime: TransformRuntime;
  compiled: CompiledTransform;
  /** Where each claim is written, for `transform:<file>:<line>` origins. */
  lines: ClaimLines;
  /** Upstream kinds the transform declares; undefined: any. */
  protocols?: string[];
  loadedAt: number;
}

export interface ReloadReport {
  ms: number;
  /** Transforms now serving a new version. */
  swapped: string[];
  /** Transforms whose file disappeared (or that are no longer referenced). */
  removed: string[];
  /** Transforms with problems that keep serving their last good version. */
  keptLastGood: string[];
  /** tsc-style lines. */
  problems: string[];
}

export interface TransformRegistryOptions {
  directory: string;
  config: Pick<TransformsConfig, 'limits' | 'http' | 'secrets' | 'grants'>;
  /** Only these transforms are loaded (those config references); default: every file in the directory. */
  names?: string[];
  sdkPath?: string;
  /** Type-check in a worker thread (when running compiled code). */
  checkInWorker?: boolean;
  onCatastrophicError?: (message: string) => void;
}

/** Transform names (entry files) in a directory, sorted. */
export function listTransforms(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true })
    .filter((d) => d.isFile() && isTransformEntry(d.name))
    .map((d) => basename(d.name, '.ts'))
    .sort();
}

export class TransformRegistry {
  readonly directory: string;
  private readonly sdkPath: string;
  private checkerPromise: Promise<TransformChecker> | undefined;
  private readonly loaded = new Map<string, LoadedTransform>();
  private problemsByName = new Map<string, TransformDiagnostic[]>();
  private reloading: Promise<ReloadReport> | null = null;
  private pending = false;
  private watcher: FSWatcher | undefined;
  private closed = false;
  lastReport: ReloadReport | undefined;

  constructor(private readonly options: TransformRegistryOptions) {
    this.directory = resolve(options.directory);
    this.sdkPath = options.sdkPath ?? sdkSourcePath();
  }

  /** The TypeScript compiler is loaded on the first check only: Herald without transforms never pays for it. */
  private checker(): Promise<TransformChecker> {
    this.checkerPromise ??= import('./transform-checker.js').then((m) => m.createCheckerClient({ sdkPath: this.sdkPath, worker: this.options.checkInWorker ?? false }));
    return this.checkerPromise;
  }

  get(name: string): LoadedTransform | undefined {
    return this.loaded.get(name);
  }

  names(): string[] {
    return [...this.loaded.keys()].sort();
  }

  /** Name → version (bundle hash) currently serving. */
  versions(): Record<string, string> {
    return Object.fromEntries([...this.loaded].map(([name, t]) => [name, t.compiled.hash]));
  }

  /** Problems of the last load/reload, by transform. */
  problems(): Record<string, string[]> {
    return Object.fromEntries([...this.problemsByName].map(([name, ds]) => [name, ds.map(formatDiagnostic)]));
  }

  run(name: string, input: unknown, overrides?: RunOverrides): Promise<RunResult> {
    const entry = this.loaded.get(name);
    if (!entry) return Promise.resolve({ ok: false, error: { kind: 'unknown_transform', transform: name, message: `no transform named "${name}" is loaded` }, logs: [], ms: 0 });
    return entry.runtime.run(input, overrides);
  }

  /** Start-up: everything must load. */
  async load(): Promise<void> {
    const { problems } = await this.build();
    if (problems.length) {
      await this.close();
      throw new TransformLoadError(problems);
    }
  }

  reload(): Promise<ReloadReport> {
    if (this.reloading) {
      this.pending = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        let report: ReloadReport;
        do {
          this.pending = false;
          report = (await this.build()).report;
        } while (this.pending && !this.closed);
        return report;
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  private wanted(): string[] {
    return this.options.names ? [...new Set(this.options.names)].sort() : listTransforms(this.directory);
  }

  private runtimeOptions(name: string): { limits: Partial<SandboxLimits>; http: FetchHttpCapability; secrets: Record<string, string> } | TransformDiagnostic {
    const { config } = this.options;
    const grant = config.grants[name];
    const limits = { ...config.limits, ...stripUndefined(grant?.limits ?? {}) };
    const secrets: Record<string, string> = {};
    for (const secret of grant?.secrets ?? []) {
      if (!Object.hasOwn(config.secrets, secret)) {
        return { file: `transforms.grants.${name}.secrets`, code: 'config', message: `secret "${secret}" is not defined in transforms.secrets` };
      }
      secrets[secret] = config.secrets[secret]!;
    }
    return {
      limits: {
        cpuMs: limits.cpuMs,
        wallMs: limits.wallMs,
        memoryMb: limits.memoryMb,
        maxOutputBytes: limits.outputBytes,
        maxIsolates: limits.maxIsolates,
        contextReuse: limits.contextReuse,
      },
      http: new FetchHttpCapability({
        allowedOrigins: [...config.http.allowedOrigins, ...(grant?.allowedOrigins ?? [])],
        timeoutMs: config.http.timeoutMs,
        maxResponseBytes: config.http.maxResponseBytes,
        cacheTtlSeconds: config.http.cacheTtlSeconds,
        maxCacheTtlSeconds: config.http.maxCacheTtlSeconds,
      }),
      secrets,
    };
  }

  private async build(): Promise<{ problems: TransformProblem[]; report: ReloadReport }> {
    const t0 = performance.now();
    const boot = this.loaded.size === 0;
    const names = this.wanted();
    const problems: TransformProblem[] = [];
    const swapped: string[] = [];
    const present = names.filter((name) => {
      if (existsSync(join(this.directory, `${name}.ts`))) return true;
      problems.push({ name, diagnostics: [{ file: displayPath(join(this.directory, `${name}.ts`)), code: 'HERALD0', message: `no transform named "${name}" (file not found)` }] });
      return false;
    });
    const files = present.map((name) => join(this.directory, `${name}.ts`));
    const { diagnostics, origins } = files.length ? await (await this.checker()).check(files) : { diagnostics: [], origins: {} };
    const byFile = new Map<string, TransformDiagnostic[]>();
    for (const d of diagnostics) {
      const key = d.file ? resolve(d.file) : '';
      byFile.set(key, [...(byFile.get(key) ?? []), d]);
    }
    const global = byFile.get('') ?? [];

    await Promise.all(
      present.map(async (name) => {
        const file = join(this.directory, `${name}.ts`);
        let compiled: CompiledTransform;
        try {
          compiled = await compileTransform(file, { transformsDir: this.directory, sdkPath: this.sdkPath, name });
        } catch (error) {
          if (!(error instanceof TransformCompileError)) throw error;
          // The checker usually reported the same import already; keep the bundler's message only if not.
          const own = byFile.get(file) ?? [];
          problems.push({ name, diagnostics: own.length ? own : error.diagnostics });
          return;
        }
        const own = [...global, ...compiled.inputs.flatMap((input) => byFile.get(input) ?? [])];
        if (own.length) {
          problems.push({ name, diagnostics: own });
          return;
        }
        const current = this.loaded.get(name);
        if (current && current.compiled.hash === compiled.hash) return; // unchanged
        const options = this.runtimeOptions(name);
        if (!('http' in options)) {
          problems.push({ name, diagnostics: [options] });
          return;
        }
        let runtime: TransformRuntime;
        try {
          runtime = await new TransformRuntime(compiled, { ...options, onCatastrophicError: this.options.onCatastrophicError }).start();
        } catch (error) {
          if (!(error instanceof TransformStartError)) throw error;
          const at = error.position ?? { file: error.file };
          problems.push({ name, diagnostics: [{ ...at, code: error.kind, message: error.detail }] });
          return;
        }
        if (this.closed) return void runtime.close();
        this.loaded.set(name, { name, runtime, compiled, lines: origins[file] ?? { runLine: 1, claims: {}, columns: {} }, protocols: runtime.protocols, loadedAt: Date.now() }); // the atomic swap
        swapped.push(name);
        if (current) void current.runtime.close().catch(() => undefined);
      }),
    );

    const removed: string[] = [];
    const wanted = new Set(present);
    for (const [name, entry] of this.loaded) {
      if (!wanted.has(name)) {
        this.loaded.delete(name);
        void entry.runtime.close().catch(() => undefined);
        removed.push(name);
      }
    }
    this.problemsByName = new Map(problems.map((p) => [p.name, p.diagnostics]));
    const report: ReloadReport = {
      ms: Math.round(performance.now() - t0),
      swapped: swapped.sort(),
      removed,
      keptLastGood: boot ? [] : problems.filter((p) => this.loaded.has(p.name)).map((p) => p.name),
      problems: problems.flatMap((p) => p.diagnostics.map(formatDiagnostic)),
    };
    this.lastReport = report;
    return { problems, report };
  }

  /** Watches the directory (helpers may live in sub-folders) and reloads after a short debounce. */
  watch(onReport: (report: ReloadReport | Error) => void, debounceMs = 100): void {
    if (this.watcher || !existsSync(this.directory)) return;
    let timer: NodeJS.Timeout | undefined;
    this.watcher = watch(this.directory, { recursive: true }, (_event, file) => {
      if (file && !String(file).endsWith('.ts')) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.reload().then(onReport, (error: Error) => onReport(error));
      }, debounceMs);
    });
    this.watcher.unref();
  }

  /** Disposes every isolate (a clean shutdown also avoids ivm's crash-at-exit after memory kills). */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    await this.reloading?.catch(() => undefined);
    if (this.checkerPromise) await (await this.checkerPromise).close();
    await Promise.all([...this.loaded.values()].map((t) => t.runtime.close()));
    this.loaded.clear();
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
