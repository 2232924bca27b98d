/** Where the transform SDK lives, without loading the TypeScript compiler (that happens only when a transform is checked). */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The import specifier of the SDK in transform files. */
export const SDK_SPECIFIER = '@herald/transform';

/** The SDK source file: next to this module in src/, or src/ of the package when running from dist/. */
export function sdkSourcePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, 'sdk/index.ts'), resolve(here, '../../../src/transforms/sdk/index.ts')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`the transform SDK source (src/transforms/sdk/index.ts) was not found near ${here}`);
  return found;
}
