/**
 * Claims Herald alone sets. Neither transforms, nor account attributes, nor claim providers can
 * produce them: a token's identity, audience, lifetime and binding are not configurable data.
 * The list lives in the transform SDK (where it is also a type), and is shared from there.
 */
import { RESERVED_CLAIMS as RESERVED_CLAIM_LIST } from '../transforms/sdk/index.js';

export const RESERVED_CLAIMS: ReadonlySet<string> = new Set(RESERVED_CLAIM_LIST);
