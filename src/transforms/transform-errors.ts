/**
 * Diagnostics of transform loading (type check, bundling, sandbox probe), printed tsc-style:
 * `transforms/x.ts:12:5 - error TS2322: …`, and the errors that carry them.
 */
import { isAbsolute, relative } from 'node:path';

export interface TransformDiagnostic {
  /** Path as shown to people: relative to the working directory when inside it. */
  file?: string;
  line?: number;
  column?: number;
  /** `TS2322`, `HERALD1` (no default export), `HERALD2` (bad export), `esbuild`, or a sandbox kind. */
  code: string;
  message: string;
}

export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function formatDiagnostic(d: TransformDiagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}` : '<transforms>';
  return `${where} - error${d.code ? ` ${d.code}` : ''}: ${d.message}`;
}

/** A transform could not be bundled. */
export class TransformCompileError extends Error {
  constructor(readonly diagnostics: TransformDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'TransformCompileError';
  }
}

export interface TransformProblem {
  /** Transform name, or `config` for binding problems. */
  name: string;
  diagnostics: TransformDiagnostic[];
}

/** Start-up refused: some transform does not type-check, bundle or load, or config names a missing one. */
export class TransformLoadError extends Error {
  constructor(readonly problems: TransformProblem[]) {
    super(`transforms failed to load:\n${problems.flatMap((p) => p.diagnostics.map(formatDiagnostic)).join('\n')}`);
    this.name = 'TransformLoadError';
  }
}
