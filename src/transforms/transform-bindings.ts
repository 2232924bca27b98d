/**
 * Which transforms configuration references, and the start-up checks of those references: every
 * named transform exists and loads, bindings name real clients and connectors, and a transform
 * that declares `protocols` is only bound to connectors of those upstream kinds.
 */
import type { HeraldConfig } from '../config/config.schema.js';
import type { TransformDiagnostic, TransformProblem } from './transform-errors.js';
import { UPSTREAM_KIND_OF_CONNECTOR } from './transform-pipeline.js';
import type { TransformRegistry } from './transform-registry.service.js';

/** Every transform name config uses (connector chains and client bindings). */
export function referencedTransforms(config: HeraldConfig): string[] {
  const names = new Set<string>();
  for (const connector of config.connectors) for (const name of connector.transforms) names.add(name);
  for (const binding of config.transforms.bindings) for (const name of binding.transforms) names.add(name);
  return [...names].sort();
}

function problem(key: string, message: string): TransformDiagnostic {
  return { file: key, code: 'config', message };
}

/** Problems that need no transform to be loaded. */
export function bindingProblems(config: HeraldConfig): TransformProblem[] {
  const diagnostics: TransformDiagnostic[] = [];
  const clients = new Set(config.clients.map((c) => c.id));
  const connectors = new Set(config.connectors.map((c) => c.id));
  config.transforms.bindings.forEach((binding, i) => {
    if (!clients.has(binding.client)) diagnostics.push(problem(`transforms.bindings[${i}].client`, `unknown client id "${binding.client}"`));
    binding.connectors?.forEach((id, j) => {
      if (!connectors.has(id)) diagnostics.push(problem(`transforms.bindings[${i}].connectors[${j}]`, `unknown connector id "${id}"`));
    });
  });
  const risk = config.transforms.risk;
  if (risk.stepUpAt !== undefined && risk.denyAt !== undefined && risk.stepUpAt > risk.denyAt) {
    diagnostics.push(problem('transforms.risk.stepUpAt', 'must not be above transforms.risk.denyAt'));
  }
  return diagnostics.length ? [{ name: 'config', diagnostics }] : [];
}

/** After loading: transforms bound to connectors whose upstream kind they do not declare. */
export function protocolProblems(config: HeraldConfig, registry: TransformRegistry): TransformProblem[] {
  const diagnostics: TransformDiagnostic[] = [];
  const check = (key: string, connectorType: string, name: string) => {
    const protocols = registry.get(name)?.protocols;
    const kind = UPSTREAM_KIND_OF_CONNECTOR[connectorType];
    if (protocols && kind && !protocols.includes(kind)) {
      diagnostics.push(problem(key, `transform "${name}" is written for ${protocols.join('/')} sign-ins; connector type ${connectorType} signs in with ${kind}`));
    }
  };
  config.connectors.forEach((connector, i) => connector.transforms.forEach((name, j) => check(`connectors[${i}].transforms[${j}]`, connector.type, name)));
  config.transforms.bindings.forEach((binding, i) => {
    const allowed = config.clients.find((c) => c.id === binding.client)?.connectors;
    const bound = config.connectors.filter((c) => (!binding.connectors || binding.connectors.includes(c.id)) && (!allowed || allowed.includes(c.id)));
    binding.transforms.forEach((name, j) => {
      for (const connector of bound) check(`transforms.bindings[${i}].transforms[${j}] (connector ${connector.id})`, connector.type, name);
    });
  });
  return diagnostics.length ? [{ name: 'config', diagnostics }] : [];
}
