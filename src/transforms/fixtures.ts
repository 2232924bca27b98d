/**
 * Fixture files (`transforms/<name>.fixtures.yaml`): cases of input → expected claims, denial or
 * error, run in the same sandbox production uses. Format: docs/transforms.md ("Fixtures").
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { FixtureHttpCapability } from './transform-http.capability.js';
import { displayPath } from './transform-errors.js';
import { deepMerge, sampleAccount, sampleClient, sampleConnector, sampleUpstream } from './fixture-input.js';
import { firstDifference, jsonEqual, lineDiff } from './json-diff.js';
import { transformInputOf } from './transform-pipeline.js';
import type { RunResult } from './sandbox/sandbox-types.js';

const record = z.record(z.string(), z.unknown());

const caseSchema = z
  .object({
    name: z.string().min(1),
    input: record,
    http: record.optional(),
    secrets: z.record(z.string(), z.string()).optional(),
    expect: z
      .object({
        claims: record.optional(),
        accountUpdates: record.optional(),
        risk: record.optional(),
        deny: z.string().optional(),
        error: z.string().optional(),
      })
      .strict()
      .refine((e) => [e.claims, e.deny, e.error].filter((x) => x !== undefined).length === 1, 'expect needs exactly one of claims, deny, error')
      .refine((e) => e.claims !== undefined || (e.accountUpdates === undefined && e.risk === undefined), 'accountUpdates and risk go with claims'),
  })
  .strict();

const fileSchema = z.object({ defaults: record.optional(), cases: z.array(caseSchema).min(1) }).strict();

export type FixtureCase = z.infer<typeof caseSchema> & { line?: number };

export interface FixtureFile {
  file: string;
  defaults: Record<string, unknown>;
  cases: FixtureCase[];
}

export class FixtureFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FixtureFileError';
  }
}

export function fixturePath(directory: string, name: string): string {
  return `${directory}/${name}.fixtures.yaml`;
}

export function loadFixtures(file: string): FixtureFile | undefined {
  if (!existsSync(file)) return undefined;
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new FixtureFileError(`${displayPath(file)}:${lineCounter.linePos(e.pos[0]).line} - ${e.message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FixtureFileError(`${displayPath(file)}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const cases: FixtureCase[] = parsed.data.cases;
  const seq = isMap(doc.contents) ? doc.contents.get('cases', true) : undefined;
  if (isSeq(seq)) {
    seq.items.forEach((item, i) => {
      const start = (item as { range?: [number, number, number] }).range?.[0];
      if (start !== undefined && cases[i]) cases[i]!.line = lineCounter.linePos(start).line;
    });
  }
  return { file, defaults: parsed.data.defaults ?? {}, cases };
}

/** The TransformInput (JSON) of a case, defaults merged and omitted parts filled. */
export function caseInput(defaults: Record<string, unknown>, input: Record<string, unknown>): Record<string, unknown> {
  const merged = deepMerge(defaults, input) as Record<string, unknown>;
  const connector = sampleConnector(merged.connector);
  return {
    ...transformInputOf({
      connector,
      client: sampleClient(merged.client),
      identity: sampleUpstream(connector.type, merged.upstream),
      account: sampleAccount(merged.account),
    }),
    claims: (merged.claims as Record<string, unknown> | undefined) ?? {},
  };
}

export interface CaseResult {
  name: string;
  line?: number;
  ok: boolean;
  /** Why it failed: a summary line, then a diff. */
  details: string[];
  ms: number;
}

type Runner = (input: Record<string, unknown>, overrides: { secrets?: Record<string, string>; http: FixtureHttpCapability }) => Promise<RunResult>;

function describeActual(result: RunResult): string {
  if (!result.ok) return `failed: ${result.error.kind}: ${result.error.message}${result.error.line ? ` (${result.error.file}:${result.error.line}:${result.error.column})` : ''}`;
  if (result.output.kind === 'deny') return `denied: ${result.output.reason}`;
  return `returned claims ${JSON.stringify(result.output.claims)}`;
}

export async function runCase(run: Runner, defaults: Record<string, unknown>, testCase: FixtureCase): Promise<CaseResult> {
  const base = { name: testCase.name, line: testCase.line };
  let input: Record<string, unknown>;
  try {
    input = caseInput(defaults, testCase.input);
  } catch (error) {
    return { ...base, ok: false, details: [`invalid input: ${(error as Error).message}`], ms: 0 };
  }
  const result = await run(input, { secrets: testCase.secrets, http: new FixtureHttpCapability(testCase.http ?? {}) });
  const expect = testCase.expect;
  const details: string[] = [];
  if (expect.error !== undefined) {
    if (result.ok) details.push(`expected an error containing ${JSON.stringify(expect.error)}, but it ${describeActual(result)}`);
    else if (!`${result.error.kind}: ${result.error.message}`.includes(expect.error)) {
      details.push(`expected an error containing ${JSON.stringify(expect.error)}, got ${result.error.kind}: ${result.error.message}`);
    }
  } else if (expect.deny !== undefined) {
    if (!result.ok || result.output.kind !== 'deny') details.push(`expected the denial ${JSON.stringify(expect.deny)}, but it ${describeActual(result)}`);
    else if (result.output.reason !== expect.deny) details.push(`deny: expected ${JSON.stringify(expect.deny)}, got ${JSON.stringify(result.output.reason)}`);
  } else if (!result.ok || result.output.kind !== 'result') {
    details.push(`expected claims, but it ${describeActual(result)}`);
  } else {
    const expected: Record<string, unknown> = { claims: expect.claims };
    const actual: Record<string, unknown> = { claims: result.output.claims };
    if (expect.accountUpdates !== undefined) {
      expected.accountUpdates = expect.accountUpdates;
      actual.accountUpdates = result.output.accountUpdates;
    }
    if (expect.risk !== undefined) {
      expected.risk = expect.risk;
      actual.risk = result.output.risk;
    }
    if (!jsonEqual(expected, actual)) details.push(firstDifference(expected, actual)!, '- expected', '+ actual', ...lineDiff(expected, actual));
  }
  return { ...base, ok: details.length === 0, details, ms: result.ms };
}
