/**
 * Hot reload triggers — file watching (development), SIGHUP, the admin API — and their report:
 * a log line and a `transforms.reloaded` audit event (failure when a broken edit was refused and
 * the last good version kept serving).
 */
import type { AuditService } from '../audit/audit.service.js';
import type { HeraldConfig } from '../config/config.schema.js';
import type { TransformEngine } from './transform-engine.js';
import type { ReloadReport } from './transform-registry.service.js';

export type ReloadTrigger = 'watch' | 'sighup' | 'admin';

function log(level: 'info' | 'warn' | 'error', msg: string, data: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ level, msg, ...data })}\n`);
}

export class TransformReloader {
  private readonly onSighup = () => void this.reload('sighup').catch(() => undefined);

  constructor(
    private readonly engine: TransformEngine,
    private readonly config: HeraldConfig,
    private readonly audit: AuditService,
  ) {}

  start(): void {
    // Nothing to watch when configuration uses no transform (config itself is not reloaded).
    if ((this.config.transforms.watch ?? this.config.mode === 'development') && this.engine.registry.names().length) {
      this.engine.registry.watch((report) => this.report('watch', report));
    }
    if (this.config.transforms.reloadOnSighup) process.on('SIGHUP', this.onSighup);
  }

  stop(): void {
    process.off('SIGHUP', this.onSighup);
  }

  /** Recompiles and swaps changed transforms; the last good version stays on any problem. */
  async reload(trigger: ReloadTrigger): Promise<ReloadReport> {
    try {
      const report = await this.engine.registry.reload();
      this.report(trigger, report);
      return report;
    } catch (error) {
      this.report(trigger, error as Error);
      throw error;
    }
  }

  private report(trigger: ReloadTrigger, report: ReloadReport | Error): void {
    if (report instanceof Error) {
      log('error', 'transform reload failed', { trigger, error: report.message });
      this.audit.emit({ type: 'transforms.reloaded', outcome: 'failure', reason: 'reload_error', data: { trigger, error: report.message } });
      return;
    }
    const failed = report.problems.length > 0;
    if (!failed && !report.swapped.length && !report.removed.length && trigger === 'watch') return;
    log(failed ? 'warn' : 'info', failed ? 'transform reload refused broken transforms; their last good version keeps serving' : 'transforms reloaded', { trigger, ...report });
    this.audit.emit({ type: 'transforms.reloaded', outcome: failed ? 'failure' : 'success', reason: failed ? 'kept_last_good' : null, data: { trigger, ...report } });
  }
}
