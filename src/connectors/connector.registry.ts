/**
 * Connector types, in one explicit list: adding a type is one folder and one line here
 * (plus its config schema in connector-config.schema.ts).
 */
import type { Connector, ConnectorFactory, ConnectorServices, ConnectorType } from './connector.js';
import type { ConnectorConfig } from './connector-config.schema.js';
import { createDevConnector } from './dev/dev.connector.js';
import { createOidcConnector } from './oidc/oidc.connector.js';
import { createSamlConnector } from './saml/saml.connector.js';
import { createOpenid4vpConnector } from './openid4vp/openid4vp.connector.js';

const FACTORIES: { [T in ConnectorType]: ConnectorFactory<Extract<ConnectorConfig, { type: T }>> } = {
  dev: createDevConnector,
  oidc: createOidcConnector,
  saml: createSamlConnector,
  openid4vp: createOpenid4vpConnector,
};

export class ConnectorRegistry {
  private readonly connectors = new Map<string, Connector>();

  constructor(configs: ConnectorConfig[], services: (config: ConnectorConfig) => ConnectorServices) {
    for (const config of configs) {
      const factory = FACTORIES[config.type] as ConnectorFactory;
      this.connectors.set(config.id, factory(config, services(config)));
    }
  }

  async init(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((connector) => connector.init?.()));
  }

  get(id: string): Connector | undefined {
    return this.connectors.get(id);
  }

  all(): Connector[] {
    return [...this.connectors.values()];
  }

  /** Connectors a client may use, in config order. */
  forClient(allowed: string[] | undefined): Connector[] {
    const all = this.all();
    return allowed ? all.filter((connector) => allowed.includes(connector.id)) : all;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((connector) => connector.close?.()));
  }
}
