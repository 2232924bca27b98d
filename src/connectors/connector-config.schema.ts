/**
 * The config schema of every connector type, as one discriminated union on `type`.
 * Adding a connector type: write its `<type>.config.ts` and add its schema here.
 */
import { z } from 'zod';
import { devConnectorConfigSchema } from './dev/dev.config.js';
import { oidcConnectorConfigSchema } from './oidc/oidc.config.js';
import { samlConnectorConfigSchema } from './saml/saml.config.js';
import { openid4vpConnectorConfigSchema } from './openid4vp/openid4vp.config.js';

export const connectorConfigSchema = z.discriminatedUnion('type', [devConnectorConfigSchema, oidcConnectorConfigSchema, samlConnectorConfigSchema, openid4vpConnectorConfigSchema]);
export type ConnectorConfig = z.infer<typeof connectorConfigSchema>;
