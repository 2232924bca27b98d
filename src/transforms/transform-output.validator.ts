/**
 * Authoritative, host-side validation of what came out of the sandbox. The isolate hands back one
 * string; it is size-checked, JSON.parse'd here and walked strictly (user code can poison anything
 * inside the isolate, including the in-isolate checks).
 */
import { RESERVED_CLAIMS } from '../claims/reserved-claims.js';
import { scrubSecrets } from './secret-scrubber.js';

export interface OutputLimits {
  maxOutputBytes: number;
  maxDepth: number;
  maxKeys: number;
  maxArray: number;
  maxString: number;
}

export type ValidatedOutput =
  | { kind: 'result'; claims: Record<string, unknown>; accountUpdates?: Record<string, unknown>; risk?: { score: number; reasons?: string[] } }
  | { kind: 'deny'; reason: string };

export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Claim and attribute names: printable ASCII without spaces or quotes (URIs allowed), 1..256. */
const NAME = /^[\x21\x23-\x7e]{1,256}$/;

function walk(value: unknown, path: string, depth: number, limits: OutputLimits): void {
  if (depth > limits.maxDepth) throw new OutputError(`${path}: nested deeper than ${limits.maxDepth} levels`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (value.length > limits.maxString) throw new OutputError(`${path}: string longer than ${limits.maxString} characters`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OutputError(`${path}: not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxArray) throw new OutputError(`${path}: array longer than ${limits.maxArray}`);
    value.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1, limits));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value);
    if (keys.length > limits.maxKeys) throw new OutputError(`${path}: more than ${limits.maxKeys} keys`);
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) throw new OutputError(`${path}: forbidden key "${key}"`);
      walk((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, limits);
    }
    return;
  }
  throw new OutputError(`${path}: not JSON`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkNames(object: unknown, path: string, reserved: boolean): asserts object is Record<string, unknown> {
  if (!isPlainObject(object)) throw new OutputError(`${path} must be an object`);
  for (const key of Object.keys(object)) {
    if (!NAME.test(key)) throw new OutputError(`${path}: invalid name ${JSON.stringify(key.slice(0, 80))}`);
    if (reserved && RESERVED_CLAIMS.has(key)) throw new OutputError(`${path}.${key}: "${key}" is a reserved claim that Herald sets itself`);
  }
}

/** Validates the JSON text of a transform's return value. Throws OutputError. */
export function validateOutput(outJson: string, limits: OutputLimits, secretValues: readonly string[] = []): ValidatedOutput {
  const bytes = Buffer.byteLength(outJson, 'utf8');
  if (bytes > limits.maxOutputBytes) throw new OutputError(`result is ${bytes} bytes, limit ${limits.maxOutputBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(outJson);
  } catch {
    throw new OutputError('result is not JSON');
  }
  walk(value, 'result', 0, limits);
  if (!isPlainObject(value)) throw new OutputError('result must be an object: { claims } or { deny }');
  const keys = Object.keys(value);
  if ('deny' in value) {
    if (keys.length !== 1) throw new OutputError('a denial is exactly { deny: reason }');
    if (typeof value.deny !== 'string' || value.deny.length === 0 || value.deny.length > 500) {
      throw new OutputError('the deny reason must be a string of 1..500 characters');
    }
    // The reason reaches the audit trail, logs and explain: secret values are masked.
    return { kind: 'deny', reason: scrubSecrets(value.deny, secretValues) };
  }
  for (const key of keys) {
    if (key !== 'claims' && key !== 'accountUpdates' && key !== 'risk') {
      throw new OutputError(`result.${key}: unknown field (allowed: claims, accountUpdates, risk — or deny alone)`);
    }
  }
  if (!('claims' in value)) throw new OutputError('result.claims is required');
  checkNames(value.claims, 'result.claims', true);
  if (value.accountUpdates !== undefined) checkNames(value.accountUpdates, 'result.accountUpdates', false);
  let risk: { score: number; reasons?: string[] } | undefined;
  if (value.risk !== undefined) {
    const r = value.risk;
    if (!isPlainObject(r)) throw new OutputError('result.risk must be an object');
    for (const key of Object.keys(r)) if (key !== 'score' && key !== 'reasons') throw new OutputError(`result.risk.${key}: unknown field`);
    if (typeof r.score !== 'number' || r.score < 0 || r.score > 100) throw new OutputError('result.risk.score must be a number from 0 to 100');
    if (r.reasons !== undefined && (!Array.isArray(r.reasons) || r.reasons.length > 16 || r.reasons.some((x) => typeof x !== 'string' || x.length > 200))) {
      throw new OutputError('result.risk.reasons must be up to 16 strings of at most 200 characters');
    }
    risk = { score: r.score, ...(r.reasons ? { reasons: (r.reasons as string[]).map((reason) => scrubSecrets(reason, secretValues)) } : {}) };
  }
  // A granted secret must not flow into tokens or account attributes (masking would make them
  // silently wrong, so the result is refused; free texts — deny and risk reasons — are masked).
  for (const secret of secretValues) {
    if (secret.length >= 8 && outJson.includes(JSON.stringify(secret).slice(1, -1))) throw new OutputError('result contains the value of a secret');
  }
  return {
    kind: 'result',
    claims: value.claims,
    ...(value.accountUpdates !== undefined ? { accountUpdates: value.accountUpdates as Record<string, unknown> } : {}),
    ...(risk ? { risk } : {}),
  };
}
