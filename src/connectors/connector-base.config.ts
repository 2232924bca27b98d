import { z } from 'zod';

/** Fields every connector instance has, whatever its type. */
export const connectorBaseFields = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected an identifier: letters, digits, ".", "_" or "-"')
    .describe('Stable id of this connector instance; part of callback URLs and of account links.'),
  name: z.string().min(1).describe('Display name on the login page ("Sign in with …").'),
  emailDomains: z
    .array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'expected a domain name like example.com'))
    .default([])
    .describe('Home-realm discovery: a login_hint email in one of these domains goes straight to this connector.'),
  transforms: z
    .array(z.string())
    .default([])
    .describe('Names of transforms (files in transforms/ without .ts) run in order on every sign-in through this connector.'),
};
