import { z } from 'zod';
import { heraldConfigSchema } from './config.schema.js';

/** JSON Schema of herald.yaml, generated from the zod schema (the single source of truth). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(heraldConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://herald.dev/schemas/herald.yaml.json', title: 'Herald configuration (config/herald.yaml)' };
}
