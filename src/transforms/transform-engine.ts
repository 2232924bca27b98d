/**
 * Builds the transform machinery from configuration — registry (load + checks), account-update
 * policy and pipeline — for the Nest module, the CLI and the benchmark alike.
 */
import { resolve } from 'node:path';
import type { AuditService } from '../audit/audit.service.js';
import type { HeraldConfig } from '../config/config.schema.js';
import { AccountUpdatePolicy } from './account-updates.js';
import { bindingProblems, protocolProblems, referencedTransforms } from './transform-bindings.js';
import { TransformLoadError } from './transform-errors.js';
import { TransformPipeline } from './transform-pipeline.js';
import { TransformRegistry } from './transform-registry.service.js';

export interface TransformEngine {
  registry: TransformRegistry;
  pipeline: TransformPipeline;
  accountUpdates: AccountUpdatePolicy;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Transforms to load; default: those configuration references. */
  names?: string[];
  audit?: AuditService;
  checkInWorker?: boolean;
  onCatastrophicError?: (message: string) => void;
}

export function accountUpdatePolicy(config: HeraldConfig): AccountUpdatePolicy {
  return new AccountUpdatePolicy(config.transforms.accountUpdates.allow, config.scim.extension.attributes);
}

/** Loads and checks; throws TransformLoadError (file:line:col, dotted config keys) when anything is wrong. */
export async function createTransformEngine(config: HeraldConfig, options: EngineOptions = {}): Promise<TransformEngine> {
  const accountUpdates = accountUpdatePolicy(config);
  const configProblems = [
    ...bindingProblems(config),
    ...accountUpdates.configProblems().map((message) => ({ name: 'config', diagnostics: [{ code: 'config', message }] })),
  ];
  if (configProblems.length) throw new TransformLoadError(configProblems);
  const registry = new TransformRegistry({
    directory: resolve(config.transforms.directory),
    config: config.transforms,
    names: options.names ?? referencedTransforms(config),
    checkInWorker: options.checkInWorker,
    onCatastrophicError: options.onCatastrophicError,
  });
  await registry.load();
  const mismatches = protocolProblems(config, registry);
  if (mismatches.length) {
    await registry.close();
    throw new TransformLoadError(mismatches);
  }
  const pipeline = new TransformPipeline(registry, { bindings: config.transforms.bindings, accountUpdates, audit: options.audit });
  return { registry, pipeline, accountUpdates, close: () => registry.close() };
}
