/**
 * Type-checks transforms against the SDK with the TypeScript compiler API.
 *
 * - One Program over the entry files (plus the relative helpers they import).
 * - `@herald/transform` resolves to the SDK source (the file tsconfig `paths` points at); any other
 *   non-relative import stays unresolved, which is TS2307 at its file:line:col.
 * - `types: []` and the ES2022 lib only: no @types/node, so `process`, `require`, `fetch`,
 *   `setTimeout` are type errors — they do not exist in the sandbox either.
 * - Each entry must default-export something assignable to the SDK's TransformDefinition
 *   (HERALD1: no default export, HERALD2: wrong type), reported at the export.
 * - Lib SourceFiles are cached per process and the previous Program is reused, so a re-check after
 *   an edit only re-parses what changed (tens of ms). Hot reload runs it in a worker thread
 *   (`createCheckerClient`) so a check never stalls sign-ins.
 *
 * It also records, per entry, the line where each claim is first written (`claims: { roles: … }`,
 * `claims.roles = …`), which becomes the `transform:<file>:<line>` origin that explain shows.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { displayPath, type TransformDiagnostic } from './transform-errors.js';
import { SDK_SPECIFIER, sdkSourcePath } from './sdk-path.js';

export { SDK_SPECIFIER, sdkSourcePath };

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  types: [],
  isolatedModules: true,
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  allowImportingTsExtensions: true,
};

/** Where each claim of an entry is written: claim → line, and the line of `run` as the fallback. */
export interface ClaimLines {
  runLine: number;
  /** claim → line of its first write */
  claims: Record<string, number>;
  /** claim → column of that write */
  columns: Record<string, number>;
}

export interface CheckResult {
  diagnostics: TransformDiagnostic[];
  /** Absolute entry path → claim lines. */
  origins: Record<string, ClaimLines>;
}

export interface TransformChecker {
  check(files: string[]): Promise<CheckResult>;
  close(): Promise<void>;
}

// Parsed lib .d.ts files are immutable: share them across checkers in this thread.
const libCache = new Map<string, ts.SourceFile>();

export function createInThreadChecker(sdkPath = sdkSourcePath()): TransformChecker & { checkSync(files: string[]): CheckResult } {
  const sdkFile = resolve(sdkPath);
  const cache = new Map<string, { text: string; sf: ts.SourceFile }>();
  let oldProgram: ts.Program | undefined;
  const base = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const host: ts.CompilerHost = {
    ...base,
    getSourceFile(fileName, languageVersion) {
      const lib = libCache.get(fileName);
      if (lib) return lib;
      const text = ts.sys.readFile(fileName);
      if (text === undefined) return undefined;
      const hit = cache.get(fileName);
      if (hit && hit.text === text) return hit.sf;
      const sf = ts.createSourceFile(fileName, text, languageVersion, true);
      if (fileName.endsWith('.d.ts') && fileName.includes(`${'node_modules'}/typescript/lib/`)) libCache.set(fileName, sf);
      else cache.set(fileName, { text, sf });
      return sf;
    },
    resolveModuleNameLiterals(literals, containingFile, _redirected, options) {
      return literals.map((literal) => {
        const name = literal.text;
        if (name === SDK_SPECIFIER) {
          return { resolvedModule: { resolvedFileName: sdkFile, extension: ts.Extension.Ts, isExternalLibraryImport: false } };
        }
        if (name.startsWith('./') || name.startsWith('../')) return ts.resolveModuleName(name, containingFile, options, host);
        return { resolvedModule: undefined };
      });
    },
  };

  function checkSync(files: string[]): CheckResult {
    const rootNames = files.map((f) => resolve(f));
    // The SDK is always in the program: the export check needs its types even when a file does not import it.
    const program = ts.createProgram({ rootNames: [...rootNames, sdkFile], options: COMPILER_OPTIONS, host, oldProgram });
    oldProgram = program;
    const diagnostics: Array<TransformDiagnostic & { reservedClaim?: string }> = [
      ...program.getOptionsDiagnostics(),
      ...program.getSyntacticDiagnostics(),
      ...program.getSemanticDiagnostics(),
    ].map(toDiagnostic);

    const checker = program.getTypeChecker();
    const sdkSf = program.getSourceFile(sdkFile);
    const sdkSymbol = sdkSf && checker.getSymbolAtLocation(sdkSf);
    const definitionSymbol = sdkSymbol && checker.getExportsOfModule(sdkSymbol).find((s) => s.name === 'AnyTransformDefinition');
    const definitionType = definitionSymbol && checker.getDeclaredTypeOfSymbol(definitionSymbol);
    const origins: Record<string, ClaimLines> = {};
    for (const file of rootNames) {
      const sf = program.getSourceFile(file);
      if (!sf) {
        diagnostics.push({ file: displayPath(file), code: 'HERALD0', message: 'file not found' });
        continue;
      }
      origins[file] = claimLines(sf);
      const moduleSymbol = checker.getSymbolAtLocation(sf);
      const exported = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'default');
      if (!exported) {
        diagnostics.push({ ...where(sf, 0), code: 'HERALD1', message: 'a transform must `export default defineTransform({ run(input, ctx) { … } })`' });
        continue;
      }
      const declaration = exported.declarations?.[0];
      const type = checker.getTypeOfSymbolAtLocation(exported, declaration ?? sf);
      // An `any` (e.g. from an unresolved import) is reported by TS already; only check real types.
      if (definitionType && !(type.flags & ts.TypeFlags.Any) && !checker.isTypeAssignableTo(type, definitionType)) {
        diagnostics.push({
          ...where(declaration?.getSourceFile() ?? sf, declaration ? declaration.getStart() : 0),
          code: 'HERALD2',
          message: `the default export must be a transform definition (use defineTransform); got '${checker.typeToString(type)}'`,
        });
      }
    }
    // A reserved claim is reported by TS at `run`; point at the claim itself when it is written literally.
    for (const d of diagnostics) {
      const claim = d.reservedClaim;
      delete d.reservedClaim;
      const lines = claim && d.file ? origins[resolve(d.file)] : undefined;
      if (claim && lines?.claims[claim]) Object.assign(d, { line: lines.claims[claim], column: lines.columns[claim] });
    }
    return { diagnostics, origins };
  }

  return {
    checkSync,
    check: async (files) => checkSync(files),
    close: async () => undefined,
  };
}

/**
 * A checker in a worker thread when running compiled (dist/…js); in-thread when running from
 * TypeScript sources (tests), where a worker could not load the .ts module.
 */
export function createCheckerClient(options: { sdkPath?: string; worker?: boolean } = {}): TransformChecker {
  const sdkPath = options.sdkPath ?? sdkSourcePath();
  const workerUrl = new URL('./transform-checker.worker.js', import.meta.url);
  if (!options.worker || !import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(workerUrl))) return createInThreadChecker(sdkPath);
  const worker = new Worker(workerUrl, { workerData: { heraldTransformChecker: true, sdkPath } });
  worker.unref();
  let seq = 0;
  const waiting = new Map<number, { resolve: (r: CheckResult) => void; reject: (e: Error) => void }>();
  worker.on('message', (message: { id: number; result?: CheckResult; error?: string }) => {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (!waiter) return;
    if (message.error) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result!);
  });
  const failAll = (error: Error) => {
    for (const waiter of waiting.values()) waiter.reject(error);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the transform checker worker exited')));
  return {
    check(files) {
      const id = ++seq;
      return new Promise<CheckResult>((resolvePromise, reject) => {
        waiting.set(id, { resolve: resolvePromise, reject });
        worker.postMessage({ id, files });
      });
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

function where(sf: ts.SourceFile, pos: number): Pick<TransformDiagnostic, 'file' | 'line' | 'column'> {
  const { line, character } = sf.getLineAndCharacterOfPosition(pos);
  return { file: displayPath(sf.fileName), line: line + 1, column: character + 1 };
}

// TS2580/2591 ("Cannot find name 'process'. Do you need to install type definitions for node?")
// would send the author to npm; say what is true instead.
const NODE_NAME_CODES = new Set([2580, 2591, 2867, 2868]);
const RESERVED_IN_MESSAGE = /Types of property '([A-Za-z_]+)' are incompatible/g;

function toDiagnostic(d: ts.Diagnostic): TransformDiagnostic & { reservedClaim?: string } {
  let message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  // The innermost "Types of property 'x'" of the chain names the claim.
  const reserved = [...message.matchAll(RESERVED_IN_MESSAGE)].at(-1)?.[1];
  let reservedClaim: string | undefined;
  if (reserved && /not assignable to type 'undefined'/.test(message)) {
    reservedClaim = reserved;
    message = `claim '${reserved}' is reserved: Herald sets it itself, a transform may not\n${message}`;
  }
  if (NODE_NAME_CODES.has(d.code)) {
    const name = /'([^']+)'/.exec(message)?.[1] ?? 'this';
    message = `'${name}' does not exist in a transform: the sandbox has no Node.js APIs, modules or network (use ctx.http.getJson, ctx.secrets.get, ctx.log)`;
  }
  if (d.code === 2307) {
    const name = /'([^']+)'/.exec(message)?.[1] ?? '';
    if (!name.startsWith('.')) message = `"${name}" cannot be imported by a transform: only "${SDK_SPECIFIER}" and relative files in the transforms directory`;
  }
  const extra = reservedClaim ? { reservedClaim } : {};
  if (d.file && d.start !== undefined) return { ...where(d.file, d.start), code: `TS${d.code}`, message, ...extra };
  return { code: `TS${d.code}`, message, ...extra };
}

function propertyName(name: ts.PropertyName | ts.Expression | undefined): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name)) return propertyName(name.expression);
  return undefined;
}

/** The line of each claim's first write in `sf`, and of `run`. */
export function claimLines(sf: ts.SourceFile): ClaimLines {
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const claims: Record<string, number> = {};
  const columns: Record<string, number> = {};
  let runLine = 0;
  const record = (name: string | undefined, node: ts.Node) => {
    if (name === undefined || Object.hasOwn(claims, name)) return;
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    claims[name] = line + 1;
    columns[name] = character + 1;
  };
  const recordObject = (object: ts.ObjectLiteralExpression) => {
    for (const property of object.properties) {
      if (ts.isPropertyAssignment(property) || ts.isShorthandPropertyAssignment(property) || ts.isMethodDeclaration(property)) {
        record(propertyName(property.name), property);
      }
    }
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node)) && propertyName(node.name) === 'run' && !runLine) runLine = lineOf(node);
    if (ts.isPropertyAssignment(node) && propertyName(node.name) === 'claims' && ts.isObjectLiteralExpression(node.initializer)) recordObject(node.initializer);
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === 'claims' && node.initializer && ts.isObjectLiteralExpression(node.initializer)) {
      recordObject(node.initializer);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = node.left;
      if (ts.isPropertyAccessExpression(left) && ts.isIdentifier(left.expression) && left.expression.text === 'claims') record(left.name.text, node);
      if (ts.isElementAccessExpression(left) && ts.isIdentifier(left.expression) && left.expression.text === 'claims') record(propertyName(left.argumentExpression), node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { runLine: runLine || 1, claims, columns };
}
