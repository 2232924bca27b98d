/**
 * SCIM errors (RFC 7644 §3.12): an HTTP status, an optional `scimType` from Table 9, and a
 * `detail` that is safe to show to the provisioning client (it names attributes, never data of
 * other resources).
 */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static invalidFilter(detail: string) {
    return new ScimError(400, 'invalidFilter', detail);
  }
  static tooMany(detail: string) {
    return new ScimError(400, 'tooMany', detail);
  }
  static uniqueness(detail: string) {
    return new ScimError(409, 'uniqueness', detail);
  }
  static mutability(detail: string) {
    return new ScimError(400, 'mutability', detail);
  }
  static invalidSyntax(detail: string) {
    return new ScimError(400, 'invalidSyntax', detail);
  }
  static invalidPath(detail: string) {
    return new ScimError(400, 'invalidPath', detail);
  }
  static noTarget(detail: string) {
    return new ScimError(400, 'noTarget', detail);
  }
  static invalidValue(detail: string) {
    return new ScimError(400, 'invalidValue', detail);
  }
  static notFound(detail: string) {
    return new ScimError(404, undefined, detail);
  }
  static preconditionFailed(detail = 'the resource has changed (ETag mismatch)') {
    return new ScimError(412, undefined, detail);
  }
  static notImplemented(detail: string) {
    return new ScimError(501, undefined, detail);
  }
  static forbidden(detail: string) {
    return new ScimError(403, undefined, detail);
  }
}

export const SCIM_ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';

export function scimErrorBody(status: number, scimType: string | undefined, detail: string | undefined): Record<string, unknown> {
  return {
    schemas: [SCIM_ERROR_URN],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    ...(detail ? { detail } : {}),
  };
}
