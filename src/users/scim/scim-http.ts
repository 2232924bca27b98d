/** HTTP plumbing shared by the SCIM controllers: media type, ETag headers, caller, projection. */
import type { Request, Response } from 'express';
import type { RequestWithCaller } from '../../auth/require-scope.guard.js';
import { ScimError, scimErrorBody } from './scim.errors.js';
import { etagMatches, type Preconditions } from './scim-query.js';
import { parseAttributeList, project } from './scim-resource.js';
import type { ResourceType } from './scim-schema.js';
import type { ScimCaller } from './scim-users.service.js';

export const SCIM_MEDIA_TYPE = 'application/scim+json; charset=utf-8';

type Doc = Record<string, any>;

export function sendScim(res: Response, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.status(status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('cache-control', 'no-store');
  if (body === undefined) {
    res.end();
    return;
  }
  // res.end, not res.send: Express would add its own ETag (and 304 logic) to every body.
  const text = JSON.stringify(body);
  res.setHeader('content-type', SCIM_MEDIA_TYPE);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export function callerOf(req: Request): ScimCaller {
  const caller = (req as RequestWithCaller).caller;
  if (!caller) throw new ScimError(401, undefined, 'a Bearer access token is required');
  return { clientId: caller.clientId };
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function preconditionsOf(req: Request): Preconditions {
  return { ifMatch: header(req, 'if-match'), ifNoneMatch: header(req, 'if-none-match') };
}

/** Whether the request asked for a projection (then Group PATCH answers 200 with the resource). */
export function wantsProjection(req: Request): boolean {
  return req.query.attributes !== undefined || req.query.excludedAttributes !== undefined;
}

export function projectOne(rt: ResourceType, req: Request, doc: Doc): Doc {
  return project(rt, doc, { attributes: parseAttributeList(rt, req.query.attributes), excluded: parseAttributeList(rt, req.query.excludedAttributes) });
}

/** A single resource with its ETag; 304 when If-None-Match names the current version. */
export function sendResource(req: Request, res: Response, rt: ResourceType, status: number, doc: Doc, location = false): void {
  const etag = String(doc.meta?.version ?? '');
  const headers: Record<string, string> = etag ? { etag } : {};
  if (location && doc.meta?.location) headers.location = doc.meta.location;
  if (req.method === 'GET' && etag && etagMatches(header(req, 'if-none-match'), etag)) return sendScim(res, 304, undefined, headers);
  sendScim(res, status, projectOne(rt, req, doc), headers);
}

/** The SCIM API can be switched off in config; it then answers 404 like any unknown path. */
export function assertEnabled(enabled: boolean): void {
  if (!enabled) throw ScimError.notFound('SCIM is not enabled on this server');
}

/** A body the JSON parser refused (called from the Express body-error handler in server.ts). */
export function sendScimBodyError(res: Response, status: number): void {
  const detail = status === 413 ? 'the request body is too large' : 'the request body is not valid JSON';
  sendScim(res, status, scimErrorBody(status, status === 413 ? undefined : 'invalidSyntax', detail));
}
