/**
 * SAML times (xs:dateTime, UTC per SAML core §1.3.3). Date.parse turns garbage into NaN, and every
 * comparison with NaN is false — an unparsable NotOnOrAfter would never "pass". So a time that is
 * not a well-formed, zoned xs:dateTime refuses the message instead.
 */
import { reject } from './saml-rejection.js';

const XS_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch milliseconds of a SAML time, or a rejection naming the field. */
export function samlInstant(value: string, field: string): number {
  const ms = XS_DATETIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) reject('assertion_invalid', `${field} "${value.slice(0, 40)}" is not a valid SAML time`);
  return ms;
}
