import { z } from 'zod';

export const transformLimitsSchema = z
  .object({
    cpuMs: z.number().int().positive().default(50).describe('CPU time a transform run may use, in milliseconds.'),
    wallMs: z.number().int().positive().default(2000).describe('Wall time of a run including granted HTTP calls, in milliseconds.'),
    memoryMb: z.number().int().min(8).default(32).describe('Heap limit of the sandbox, in MiB.'),
    outputBytes: z.number().int().positive().default(16384).describe('Largest serialized output, in bytes.'),
  })
  .strict();

export const transformsConfigSchema = z
  .object({
    directory: z.string().default('transforms').describe('Directory of transform files, relative to the working directory.'),
    limits: transformLimitsSchema.default(transformLimitsSchema.parse({})).describe('Per-run sandbox limits.'),
    http: z
      .object({
        allowedOrigins: z.array(z.string()).default([]).describe('Origins (scheme://host[:port]) transforms may call with http.getJson.'),
        timeoutMs: z.number().int().positive().default(1000).describe('Timeout of one http.getJson call.'),
        maxResponseBytes: z.number().int().positive().default(65536).describe('Largest response body accepted.'),
        cacheTtlSeconds: z.number().int().min(0).default(0).describe('Default cache lifetime of http.getJson responses.'),
      })
      .strict()
      .default({ allowedOrigins: [], timeoutMs: 1000, maxResponseBytes: 65536, cacheTtlSeconds: 0 })
      .describe('What http.getJson may reach.'),
    secrets: z
      .record(z.string(), z.string())
      .default({})
      .describe('Named secrets transforms may read (use ${ENV} interpolation).'),
  })
  .strict()
  .default({
    directory: 'transforms',
    limits: { cpuMs: 50, wallMs: 2000, memoryMb: 32, outputBytes: 16384 },
    http: { allowedOrigins: [], timeoutMs: 1000, maxResponseBytes: 65536, cacheTtlSeconds: 0 },
    secrets: {},
  });
