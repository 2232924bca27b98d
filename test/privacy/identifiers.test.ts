/**
 * Export and erasure find a person's identifiers (userName, emails, externalId, upstream
 * subjects, id) in other rows as whole tokens, not as substrings: someone whose userName is
 * `mike` must neither receive nor rewrite the events of `mike.smith@corp.test`, and `al@x.test`
 * none of `hal@x.test`. Events that do name the person as a token (free text, any case,
 * sentence punctuation) are still theirs.
 */
import { AuditService } from '../../src/audit/audit.service.js';
import { AuditEventEntity } from '../../src/audit/audit-event.entity.js';
import { FlowStateEntity } from '../../src/connectors/flow-state.entity.js';
import { IdentifierMatcher, PrivacyService } from '../../src/users/privacy.service.js';
import type { TestHerald } from '../support/herald.js';
import { ScimClient, startScimHerald } from '../scim/scim-support.js';

const CLI = { clientId: null, via: 'cli' };
const SMITH_MESSAGE = 'mike.smith@corp.test is on sick leave (HR case 4711)';
const HAL_MESSAGE = 'hal@x.test failed the badge check';

describe('privacy: identifiers match whole tokens only', () => {
  let herald: TestHerald;
  let scim: ScimClient;
  let privacy: PrivacyService;
  let audit: AuditService;
  const ids: Record<string, string> = {};
  const events: Record<string, string> = {};

  const dataOf = async (eventId: string) => (await herald.dataSource.getRepository(AuditEventEntity).findOneByOrFail({ id: eventId })).data;
  const exportOf = async (userId: string) => (await privacy.export(userId, CLI)) as { auditEvents: Array<{ id: string; data: any }> };

  beforeAll(async () => {
    herald = await startScimHerald();
    scim = await ScimClient.connect(herald);
    privacy = herald.app.get(PrivacyService);
    audit = herald.app.get(AuditService);
    ids.mike = (await scim.createUser({ userName: 'mike' })).id;
    ids.smith = (await scim.createUser({ userName: 'mike.smith@corp.test', emails: [{ value: 'mike.smith@corp.test', primary: true }] })).id;
    ids.al = (await scim.createUser({ userName: 'al@x.test' })).id;
    ids.hal = (await scim.createUser({ userName: 'hal@x.test' })).id;
    // Other people's events whose free text contains Mike's and Al's identifiers as substrings.
    events.smith = audit.emit({ type: 'login.denied', userId: ids.smith, reason: 'transform_denied', data: { transform: 'hr', message: SMITH_MESSAGE } }).id;
    events.hal = audit.emit({ type: 'login.denied', userId: ids.hal, reason: 'transform_denied', data: { transform: 'hr', message: HAL_MESSAGE } }).id;
    // Events about nobody in particular that do name Mike and Al as tokens.
    events.aboutMike = audit.emit({ type: 'transform.logged', data: { transform: 'hr', message: 'access review requested by MIKE.' } }).id;
    events.aboutAl = audit.emit({ type: 'transform.logged', data: { transform: 'hr', message: 'badge printed for <al@x.test>' } }).id;
    await audit.flush();
  });
  afterAll(() => herald?.stop());

  test('export: only events about the person or naming them as a whole token', async () => {
    const mike = (await exportOf(ids.mike)).auditEvents.map((e) => e.id);
    expect(mike).toContain(events.aboutMike);
    expect(mike).not.toContain(events.smith);
    expect(JSON.stringify(await exportOf(ids.mike))).not.toContain('sick leave');
    const al = (await exportOf(ids.al)).auditEvents.map((e) => e.id);
    expect(al).toContain(events.aboutAl);
    expect(al).not.toContain(events.hal);
    // The other people still get their own events.
    expect((await exportOf(ids.smith)).auditEvents.map((e) => e.id)).toContain(events.smith);
    expect((await exportOf(ids.hal)).auditEvents.map((e) => e.id)).toContain(events.hal);
  });

  test("erasure pseudonymizes the person's mentions and leaves other people's events and sign-ins intact", async () => {
    const flows = herald.dataSource.getRepository(FlowStateEntity);
    const expiresAt = Date.now() + 600_000;
    await flows.save([
      flows.create({ key: 'identifiers-test-smith', value: { claims: { email: 'mike.smith@corp.test' } }, expiresAt }),
      flows.create({ key: 'identifiers-test-mike', value: { loginHint: 'mike' }, expiresAt }),
    ]);

    const mike = await privacy.erase(ids.mike, CLI);
    const al = await privacy.erase(ids.al, CLI);

    expect(await dataOf(events.smith)).toEqual({ transform: 'hr', message: SMITH_MESSAGE });
    expect(await dataOf(events.hal)).toEqual({ transform: 'hr', message: HAL_MESSAGE });
    expect((await dataOf(events.aboutMike))!.message).toBe(`access review requested by ${mike.pseudonym}.`);
    expect((await dataOf(events.aboutAl))!.message).toBe(`badge printed for <${al.pseudonym}>`);
    expect(await audit.find({ userId: ids.mike })).toEqual([]);
    expect((await audit.find({ userId: mike.pseudonym })).map((e) => e.type)).toEqual(expect.arrayContaining(['user.created', 'user.deleted']));
    expect((await flows.findBy({})).map((f) => f.key).filter((k) => k.startsWith('identifiers-test-'))).toEqual(['identifiers-test-smith']);
    // Smith's and Hal's accounts and exports are unchanged.
    expect((await exportOf(ids.smith)).auditEvents.find((e) => e.id === events.smith)?.data.message).toBe(SMITH_MESSAGE);
    expect((await scim.get(`/Users/${ids.hal}`)).body.userName).toBe('hal@x.test');
  });

  test('IdentifierMatcher: bordered by characters that cannot continue a user name or an email', () => {
    const m = new IdentifierMatcher(['mike', 'al@x.test', 'dev-sub-1']);
    for (const text of ['mike', 'MIKE', 'hi mike, welcome', '"mike"', 'user=mike&x=1', 'ask mike.', 'ask mike...', 'mailto:al@x.test', 'al@x.test.', '(dev-sub-1)'])
      expect([text, m.mentionedIn(text)]).toEqual([text, true]);
    for (const text of ['mike.smith@corp.test', 'mikes', 'a.mike', 'mike@corp.test', 'mike-2', 'mike_2', 'hal@x.test', 'al@x.test.org', 'al@x.testing', 'dev-sub-10', 'xdev-sub-1', 'mikë', 'émike'])
      expect([text, m.mentionedIn(text)]).toEqual([text, false]);
    expect(m.mentionedIn({ nested: [{ deeper: 'see Mike' }] })).toBe(true);
    expect(m.mentionedIn({ mike: 1 })).toBe(true);
    expect(m.replaceIn('Mike asked: is mike.smith@corp.test mike?', 'P')).toBe('P asked: is mike.smith@corp.test P?');
    // Identifiers are literal text, not patterns.
    expect(new IdentifierMatcher(['a.c+d']).mentionedIn('abc+d')).toBe(false);
  });
});
