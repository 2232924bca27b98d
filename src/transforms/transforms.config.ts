import { z } from 'zod';

const transformName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected a transform name (the file name in transforms/ without .ts)');

const origin = z.string().refine((value) => {
  const url = URL.parse(value);
  return !!url && (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '');
}, 'expected an origin: scheme://host[:port], no path');

const limitFields = {
  cpuMs: z.number().int().positive().describe('CPU (isolate execution) time a transform run may use, in milliseconds.'),
  wallMs: z.number().int().positive().describe('Wall time of a run including queueing and granted HTTP calls, in milliseconds.'),
  memoryMb: z
    .number()
    .int()
    .min(8)
    .describe('Heap limit of each sandbox isolate, in MiB (a soft limit: budget 2–3× this per isolate for process memory).'),
  outputBytes: z.number().int().positive().describe('Largest serialized output of a run, in bytes.'),
  maxIsolates: z.number().int().min(1).max(8).describe('Isolates per transform; a second one starts while the first is busy (e.g. waiting on HTTP).'),
  contextReuse: z
    .number()
    .int()
    .min(1)
    .describe(
      'Runs served by one hardened (deep-frozen) sandbox context before it is replaced; the module is re-evaluated on every run. 1 = a fresh context per run (about 1 ms more CPU per sign-in).',
    ),
};

export const DEFAULT_TRANSFORM_LIMITS = { cpuMs: 50, wallMs: 2000, memoryMb: 32, outputBytes: 16384, maxIsolates: 2, contextReuse: 5000 } as const;

export const transformLimitsSchema = z
  .object({
    cpuMs: limitFields.cpuMs.default(DEFAULT_TRANSFORM_LIMITS.cpuMs),
    wallMs: limitFields.wallMs.default(DEFAULT_TRANSFORM_LIMITS.wallMs),
    memoryMb: limitFields.memoryMb.default(DEFAULT_TRANSFORM_LIMITS.memoryMb),
    outputBytes: limitFields.outputBytes.default(DEFAULT_TRANSFORM_LIMITS.outputBytes),
    maxIsolates: limitFields.maxIsolates.default(DEFAULT_TRANSFORM_LIMITS.maxIsolates),
    contextReuse: limitFields.contextReuse.default(DEFAULT_TRANSFORM_LIMITS.contextReuse),
  })
  .strict();

const limitOverridesSchema = z
  .object({
    cpuMs: limitFields.cpuMs.optional(),
    wallMs: limitFields.wallMs.optional(),
    memoryMb: limitFields.memoryMb.optional(),
    outputBytes: limitFields.outputBytes.optional(),
    maxIsolates: limitFields.maxIsolates.optional(),
    contextReuse: limitFields.contextReuse.optional(),
  })
  .strict();
export type TransformLimitsConfig = z.infer<typeof transformLimitsSchema>;

export const transformGrantSchema = z
  .object({
    secrets: z.array(z.string()).default([]).describe('Names (keys of transforms.secrets) this transform may read with ctx.secrets.get.'),
    allowedOrigins: z.array(origin).default([]).describe('Origins this transform may call with ctx.http.getJson, besides transforms.http.allowedOrigins.'),
    limits: limitOverridesSchema.default({}).describe('Limits that differ from transforms.limits for this transform.'),
  })
  .strict();
export type TransformGrantConfig = z.infer<typeof transformGrantSchema>;

export const transformBindingSchema = z
  .object({
    client: z.string().min(1).describe('OAuth client id the binding applies to.'),
    connectors: z.array(z.string()).optional().describe('Connector ids it applies to; default: every connector.'),
    transforms: z.array(transformName).describe('Transforms to run, in order.'),
    mode: z
      .enum(['append', 'replace'])
      .default('append')
      .describe("append: run after the connector's own chain; replace: run instead of it."),
  })
  .strict();
export type TransformBindingConfig = z.infer<typeof transformBindingSchema>;

export const riskConfigSchema = z
  .object({
    endpoint: z
      .string()
      .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'expected an http(s) URL')
      .optional()
      .describe('Risk service: Herald POSTs the identity and claims as JSON and expects {"score": 0..100}.'),
    authorization: z.string().optional().describe('Authorization header value for the risk endpoint (use ${ENV}).'),
    timeoutMs: z.number().int().positive().default(1000).describe('Timeout of a risk endpoint call.'),
    onError: z
      .enum(['allow', 'deny'])
      .default('deny')
      .describe('What an unreachable or malformed risk endpoint means for the sign-in (fail closed by default).'),
    stepUpAt: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('Scores at or above this require a second factor; the sign-in is refused unless the upstream already reported one (amr).'),
    denyAt: z.number().min(0).max(100).optional().describe('Scores at or above this deny the sign-in.'),
    secondFactorAmr: z
      .array(z.string())
      .default(['mfa', 'otp', 'hwk', 'sms', 'sc', 'pop'])
      .describe('amr values (RFC 8176) that count as a second factor already done upstream.'),
  })
  .strict();
export type RiskConfig = z.infer<typeof riskConfigSchema>;

export const transformsConfigSchema = z
  .object({
    directory: z.string().default('transforms').describe('Directory of transform files, relative to the working directory.'),
    limits: transformLimitsSchema.prefault({}).describe('Per-run sandbox limits.'),
    http: z
      .object({
        allowedOrigins: z.array(origin).default([]).describe('Origins (scheme://host[:port]) every transform may call with http.getJson.'),
        timeoutMs: z.number().int().positive().default(1000).describe('Timeout of one http.getJson call (bounded by the run\'s wall time).'),
        maxResponseBytes: z.number().int().positive().default(65536).describe('Largest response body accepted.'),
        cacheTtlSeconds: z.number().int().min(0).default(0).describe('Cache lifetime of http.getJson responses when a call does not ask for one (0: no cache).'),
        maxCacheTtlSeconds: z.number().int().min(0).default(300).describe('Longest cache lifetime a call may ask for.'),
      })
      .strict()
      .prefault({})
      .describe('What http.getJson may reach.'),
    secrets: z
      .record(z.string(), z.string())
      .default({})
      .describe('Named secrets (use ${ENV} interpolation). A transform reads only those its grant lists; values are never logged or returned.'),
    grants: z
      .record(transformName, transformGrantSchema)
      .default({})
      .describe('Per transform: the secrets and extra origins it is granted, and limit overrides.'),
    bindings: z
      .array(transformBindingSchema)
      .default([])
      .describe("Per-client transforms, in addition to (or instead of) the connector's `transforms` chain."),
    accountUpdates: z
      .object({
        allow: z
          .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'expected a Herald extension attribute name'))
          .default([])
          .describe('Herald extension attributes (account `custom`) transforms may write with accountUpdates. Empty: none.'),
      })
      .strict()
      .prefault({})
      .describe('Which account attributes transforms may update.'),
    risk: riskConfigSchema.prefault({}).describe('Risk hook: transform scores and/or a risk endpoint, with thresholds.'),
    watch: z
      .boolean()
      .optional()
      .describe('Recompile changed transform files and swap them in while running. Default: on in development mode.'),
    reloadOnSighup: z.boolean().default(true).describe('Reload transforms when the process receives SIGHUP.'),
  })
  .strict()
  .prefault({});
export type TransformsConfig = z.infer<typeof transformsConfigSchema>;
