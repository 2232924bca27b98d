/** Injection tokens of the SCIM module. */
export const SCIM_ENABLED = Symbol('SCIM_ENABLED');
