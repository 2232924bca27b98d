/**
 * Bundles one transforms/<name>.ts into a script that declares `function __herald_factory()`.
 *
 * - esbuild `build` (not `transform`): a transform may import relative helper files, and every
 *   other import is refused at build time with file:line:col.
 * - IIFE wrapped by banner/footer into a strict function declaration: running the script only
 *   *declares* the factory; the sandbox calls it per run under the CPU timeout, so module
 *   top-level code is re-evaluated each run and its errors are reported like any other.
 * - `@herald/transform` is the SDK source itself (types erased; its few helper functions are
 *   plain JavaScript). The SDK may import nothing at run time.
 * - An external source map maps isolate stack positions back to the .ts (node:module SourceMap).
 */
import { createHash } from 'node:crypto';
import { SourceMap } from 'node:module';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { SDK_SPECIFIER } from './sdk-path.js';
import { displayPath, TransformCompileError, type TransformDiagnostic } from './transform-errors.js';

export interface CompiledTransform {
  name: string;
  /** Absolute path of the entry file. */
  file: string;
  code: string;
  /** Script filename inside the isolate: what stack frames show. */
  filename: string;
  sourceMap: SourceMap;
  /** Absolute paths of the map's sources, by index. */
  sources: string[];
  /** Absolute paths of every file bundled (entry and helpers, not the SDK). */
  inputs: string[];
  /** sha256 of the bundle (16 hex): a transform version. */
  hash: string;
}

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Files in `dir` that are transforms: `<name>.ts`, not `.d.ts`, `.spec.ts`, `.test.ts`. */
export function isTransformEntry(fileName: string): boolean {
  return fileName.endsWith('.ts') && !/\.(d|spec|test)\.ts$/.test(fileName);
}

export function scriptFilename(name: string): string {
  return `file:///herald/transforms/${name}.js`;
}

function restrictImports(transformsDir: string, sdkPath: string): esbuild.Plugin {
  return {
    name: 'herald-restrict-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.importer === sdkPath) return { errors: [{ text: `the transform SDK may not import "${args.path}" at run time` }] };
        if (args.path === SDK_SPECIFIER) return { path: sdkPath };
        if (args.path.startsWith('./') || args.path.startsWith('../')) {
          const rel = relative(transformsDir, resolve(args.resolveDir, args.path));
          if (rel.startsWith('..') || isAbsolute(rel)) return { errors: [{ text: `import "${args.path}" leaves the transforms directory` }] };
          return undefined;
        }
        return {
          errors: [
            {
              text:
                `"${args.path}" cannot be imported by a transform: only "${SDK_SPECIFIER}" and relative files are available ` +
                '(no Node built-ins, no packages; network and secrets come through ctx)',
            },
          ],
        };
      });
    },
  };
}

export async function compileTransform(file: string, options: { transformsDir: string; sdkPath: string; name?: string }): Promise<CompiledTransform> {
  const transformsDir = resolve(options.transformsDir);
  const sdkPath = resolve(options.sdkPath);
  const name = options.name ?? basename(file, '.ts');
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: transformsDir,
      bundle: true,
      write: false,
      format: 'iife',
      globalName: '__herald_module',
      platform: 'neutral',
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      sourcemap: 'external',
      sourcesContent: false,
      outfile: join(transformsDir, `${name}.js`),
      banner: { js: 'function __herald_factory() {"use strict";' },
      footer: { js: 'return __herald_module; }' },
      logLevel: 'silent',
      metafile: true,
      plugins: [restrictImports(transformsDir, sdkPath)],
    });
  } catch (error) {
    const failure = error as { errors?: esbuild.Message[] };
    if (!failure.errors) throw error;
    throw new TransformCompileError(
      failure.errors.map(
        (m): TransformDiagnostic => ({
          file: displayPath(m.location ? resolve(transformsDir, m.location.file) : file),
          line: m.location?.line,
          column: m.location ? m.location.column + 1 : undefined,
          code: 'esbuild',
          message: m.text,
        }),
      ),
    );
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const mapText = result.outputFiles.find((f) => f.path.endsWith('.js.map'))!.text;
  const mapJson = JSON.parse(mapText) as { sources: string[] };
  const sources = mapJson.sources.map((s) => resolve(transformsDir, s));
  return {
    name,
    file: resolve(file),
    code: js,
    filename: scriptFilename(name),
    sourceMap: new SourceMap(mapJson as never),
    sources,
    inputs: Object.keys(result.metafile.inputs)
      .map((i) => resolve(transformsDir, i))
      .filter((i) => i !== sdkPath),
    // The map too: an edit that only moves lines changes the positions errors and origins report.
    hash: createHash('sha256').update(js).update(mapText).digest('hex').slice(0, 16),
  };
}

/** Maps a 1-based position in the bundle to the .ts source; null for SDK code or unmapped positions. */
export function mapPosition(compiled: CompiledTransform, line: number, column: number): SourcePosition | null {
  const entry = compiled.sourceMap.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return null;
  const payloadSources = compiled.sourceMap.payload.sources;
  const index = payloadSources.indexOf(entry.originalSource);
  const absolute = index >= 0 ? compiled.sources[index]! : resolve(entry.originalSource);
  if (!compiled.inputs.includes(absolute)) return null;
  return { file: displayPath(absolute), line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}

/**
 * Rewrites the frames of an isolate stack that point into the bundle to .ts positions; drops host
 * frames (after `<isolated-vm boundary>`) and prelude frames. `top` is the first user position.
 */
export function mapStack(compiled: CompiledTransform, stack: unknown): { stack?: string; top: SourcePosition | null } {
  if (typeof stack !== 'string') return { top: null };
  let top: SourcePosition | null = null;
  const escaped = compiled.filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  const lines = stack.split('\n');
  const boundary = lines.findIndex((l) => l.includes('<isolated-vm boundary>'));
  const out = (boundary >= 0 ? lines.slice(0, boundary) : lines)
    .filter((l) => !l.includes('herald:prelude'))
    .map((l) =>
      l.replace(frame, (_match, L: string, C: string) => {
        const position = mapPosition(compiled, Number(L), Number(C));
        if (!position) return `${compiled.name}:sdk`;
        top ??= position;
        return `${position.file}:${position.line}:${position.column}`;
      }),
    )
    .join('\n');
  return { stack: out, top };
}
