/**
 * `herald users export <user>` and `herald users delete <user>`: the person's data rights
 * (GDPR art. 15 and 17) from an operator's shell. <user> is the Herald user id (the `sub` of
 * their tokens) or their userName.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AuditService } from '../../audit/audit.service.js';
import { UsersRepository } from '../../users/users.repository.js';
import { GroupsRepository } from '../../users/groups.repository.js';
import { PrivacyService, UserNotFoundError } from '../../users/privacy.service.js';
import { CliError, loadCliConfig, print, withDatabase } from '../cli-context.js';

async function withPrivacy<T>(command: Command, run: (privacy: PrivacyService) => Promise<T>): Promise<T> {
  const loaded = loadCliConfig(command);
  return withDatabase(loaded, async (ds) => {
    const audit = new AuditService(ds, { log: false, database: loaded.config.audit.database });
    const privacy = new PrivacyService(ds, new UsersRepository(ds), new GroupsRepository(ds), audit);
    try {
      return await run(privacy);
    } catch (error) {
      if (error instanceof UserNotFoundError) throw new CliError(`herald: ${error.message}`, 2);
      throw error;
    } finally {
      await audit.flush();
    }
  });
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description("A person's data: export it, or delete it");

  users
    .command('export <user>')
    .description('Print everything Herald holds about a user (account, links, groups, consents, sessions, tokens, claims, audit events) as JSON')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (ref: string, opts: { out?: string }, command: Command) => {
      await withPrivacy(command, async (privacy) => {
        const document = await privacy.export(ref, { clientId: null, via: 'cli' });
        const text = `${JSON.stringify(document, null, 2)}\n`;
        if (opts.out) {
          writeFileSync(opts.out, text, { mode: 0o600 });
          print(`wrote ${opts.out}`);
        } else process.stdout.write(text);
      });
    });

  users
    .command('delete <user>')
    .description('Erase a user: account, links, group memberships, grants, sessions and tokens, claim data, sign-ins in flight; audit events are pseudonymized')
    .option('-y, --yes', 'do not ask; required when not on a terminal')
    .action(async (ref: string, opts: { yes?: boolean }, command: Command) => {
      if (!opts.yes) throw new CliError('herald: deleting a user cannot be undone; repeat with --yes', 64);
      await withPrivacy(command, async (privacy) => {
        const result = await privacy.erase(ref, { clientId: null, via: 'cli' });
        print(`deleted ${ref}; audit events now refer to ${result.pseudonym}`);
        print(
          `  removed: ${result.links} link(s), ${result.groups.length} group membership(s), ${result.oidcRecords} grant/session/token record(s), ${result.claimSnapshots} claim snapshot(s), ${result.claimProviderValues} cached claim value(s), ${result.flowStates} sign-in(s) in flight; ${result.auditEvents} audit event(s) pseudonymized`,
        );
        print('  running instances drop cached claim-provider answers within their cacheTtlSeconds (the admin API drops them at once)');
      });
    });
}
