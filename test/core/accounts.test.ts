import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseOptions } from '@node-rs/argon2';
import { login, authenticateSession, logout, listSessions, revokeAllSessions } from '../../core/accounts/sessions';
import { changeOwnPassword, ensureAdmin, setPassword, setPin } from '../../core/accounts/service';
import { authenticateApiToken, createApiToken, listApiTokens, revokeApiToken } from '../../core/accounts/tokens';
import { DEFAULT_ACCESS_POLICY, accessPolicyFromEnv } from '../../core/accounts/policy';
import { checkPin, passwordProblems } from '../../core/accounts/secrets';
import { createUser, getUser, listUsers, updateUser } from '../../core/users/service';
import type { Actor } from '../../core/auth/actor';
import type { Db } from '../../core/db/connect';
import type { ToolroomError } from '../../core/errors';
import { backends, countRows, resetData, tableCounts, type Backend } from '../support/db';
import { rejects } from '../support/expect';
import { admin, system, technician } from '../support/actors';

const MIN = 60_000;
const later = (t: Date, ms: number) => new Date(t.getTime() + ms);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const PASSWORD = 'Mould-shop 2030 blue';
const OTHER_PASSWORD = 'Ejector pin & water circuit';
const ADDRESS = '10.0.0.5';

describe('password and PIN rules', () => {
  const rules: [string, string, string][] = [
    ['7 characters', 'aB3$xy!', 'too_short'],
    ['7 emoji (code points, not UTF-16 units)', '🔧🔩⚙️🔨🛠️', 'too_short'],
    ['129 characters', 'x'.repeat(129), 'too_long'],
    ['an enormous string', 'x'.repeat(100_000), 'too_long'],
    ['a common password', 'password1', 'common'],
    ['a common password in other case', 'QWERTY123', 'common'],
    ['a common password in full-width letters (NFKC)', 'ｌｅｔｍｅｉｎ１', 'common'],
    ['the username inside', 'xx-Tina.Tech-2030', 'contains_username'],
  ];
  for (const [label, password, rule] of rules) {
    it(`refuses ${label}: field password, rule ${rule}`, () => {
      assert.deepEqual(passwordProblems(password, 'tina.tech').map((p) => [p.field, p.rule]), [['password', rule]]);
    });
  }

  it('accepts 8 and 128 characters, spaces and any script, counting code points after NFKC', () => {
    assert.deepEqual(passwordProblems('kx7#Qm2p', 'tina'), []);
    assert.deepEqual(passwordProblems('y'.repeat(128), 'tina'), []);
    assert.deepEqual(passwordProblems('Werkzeugbau Süd', 'tina'), []);
    assert.deepEqual(passwordProblems('金型メンテナンス', 'tina'), []);
    assert.deepEqual(passwordProblems('🔧🔩🔨🪛🧰🪚⛏️🗜️', 'tina'), []);
    // One ligature character is two letters after NFKC: 'ﬁ' + 6 = 8.
    assert.deepEqual(passwordProblems('ﬁ234567', 'tina'), []);
  });

  it('names the field it is given', () => {
    assert.equal(passwordProblems('short', 'tina', 'newPassword')[0].field, 'newPassword');
  });

  it('takes PINs of 4 to 8 digits, refusing letters, runs and repeats', () => {
    assert.equal(checkPin('2580'), '2580');
    assert.equal(checkPin('７３９１'), '7391'); // full-width digits from a phone keyboard
    assert.equal(checkPin('40917362'), '40917362');
    for (const [pin, rule] of [
      ['123', 'too_short'],
      ['', 'too_short'],
      ['123456789', 'too_long'],
      ['12a4', 'digits_only'],
      ['12 34', 'digits_only'],
      ['1111', 'common'],
      ['1234', 'common'],
      ['98765', 'common'],
      ['7890', 'common'],
    ]) {
      assert.throws(
        () => checkPin(pin),
        (e: ToolroomError) => e.code === 'validation' && e.cause.details[0].field === 'pin' && e.cause.details[0].rule === rule,
        pin,
      );
    }
  });

  it('has the documented defaults and reads the session settings from the environment', () => {
    assert.equal(DEFAULT_ACCESS_POLICY.idleTimeoutMs, 30 * MIN);
    assert.equal(DEFAULT_ACCESS_POLICY.sessionLifetimeMs, 12 * 60 * MIN);
    assert.equal(DEFAULT_ACCESS_POLICY.maxFailuresPerUser, 5);
    assert.equal(DEFAULT_ACCESS_POLICY.maxPinFailuresPerUser, 3);
    assert.equal(DEFAULT_ACCESS_POLICY.maxFailuresPerUserEverywhere, 30);
    assert.equal(DEFAULT_ACCESS_POLICY.maxPinFailuresPerUserEverywhere, 10);
    assert.equal(DEFAULT_ACCESS_POLICY.maxFailuresPerAddress, 20);
    assert.equal(DEFAULT_ACCESS_POLICY.lockoutWindowMs, 15 * MIN);
    const p = accessPolicyFromEnv({ TOOLROOM_SESSION_IDLE_MINUTES: '10', TOOLROOM_SESSION_LIFETIME_HOURS: '8' });
    assert.equal(p.idleTimeoutMs, 10 * MIN);
    assert.equal(p.sessionLifetimeMs, 8 * 60 * MIN);
    assert.deepEqual(accessPolicyFromEnv({ TOOLROOM_SESSION_IDLE_MINUTES: 'ten', TOOLROOM_SESSION_LIFETIME_HOURS: '-1' }), DEFAULT_ACCESS_POLICY);
  });
});

for (const backend of backends) {
  describe(`accounts and login [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Db;
    before(async () => {
      db = await (backend as Backend).db();
    });
    beforeEach(() => resetData(db));

    const actorFor = (u: { id: number; username: string; role: Actor['role'] }): Actor => ({ id: String(u.id), name: u.username, role: u.role, via: 'test' });

    /** An admin (so the last-admin rule never gets in the way) and a technician with a password. */
    async function people(opts: { mustChange?: boolean } = {}) {
      await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' });
      const tina = await createUser(db, admin, { username: 'tina.tech', displayName: 'Tina', role: 'technician' });
      await setPassword(db, admin, { userId: tina.id, password: PASSWORD, mustChange: opts.mustChange ?? false });
      return tina;
    }
    const attempt = (username: string, password: string, now: Date, address = ADDRESS) =>
      login(db, { username, password, address, userAgent: 'Kiosk/1.0' }, now);
    const audits = async (action: string) => db('audit_events').where('action', action).orderBy('id');
    const outcomes = async () => (await db('login_attempts').orderBy('id').select('outcome')).map((r) => r.outcome as string);

    describe('passwords set by an admin', () => {
      it('hashes with argon2id at 19 MiB, t=2, p=1, and never hands the hash out', async () => {
        const tina = await people({ mustChange: true });
        const row = await db('users').where('id', tina.id).first();
        assert.match(row.password_hash, /^\$argon2id\$/);
        const o = parseOptions(row.password_hash);
        assert.deepEqual([o.memoryCost, o.timeCost, o.parallelism], [19456, 2, 1]);
        assert.equal(row.must_change_password, true);
        const [event] = await audits('user.password.set');
        assert.equal(event.entity_id, String(tina.id));
        const records = [await getUser(db, admin, { id: tina.id }), ...(await listUsers(db, admin, {})).items];
        for (const r of records) assert.doesNotMatch(JSON.stringify(r), /argon2|Mould-shop/);
        assert.doesNotMatch(JSON.stringify(await db('audit_events')), /argon2|Mould-shop/);
      });

      const invalid: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['too short', { password: 'Ab1$xyz' }, 'password', 'too_short'],
        ['too long', { password: 'k'.repeat(129) }, 'password', 'too_long'],
        ['common', { password: 'Iloveyou1' }, 'password', 'common'],
        ['containing the username', { password: 'TINA.TECH rules the shop' }, 'password', 'contains_username'],
        ['not text', { password: 12345678 }, 'password', /invalid_type/],
        ['missing', { password: undefined }, 'password', /invalid_type/],
        ['without a user', { userId: undefined }, 'userId', /invalid_type/],
        ['with mustChange as text', { mustChange: 'no' }, 'mustChange', /invalid_type/],
      ];
      for (const [label, patch, field, rule] of invalid) {
        it(`refuses a password ${label}, naming ${field}, writing nothing`, async () => {
          const tina = await people();
          const before = await tableCounts(db);
          await rejects(setPassword(db, admin, { userId: tina.id, password: OTHER_PASSWORD, ...patch }), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('refuses an unknown user and roles without user.manage, writing nothing', async () => {
        const tina = await people();
        const before = await tableCounts(db);
        await rejects(setPassword(db, admin, { userId: 999, password: OTHER_PASSWORD }), 'not_found', 'userId');
        await rejects(setPassword(db, technician, { userId: tina.id, password: OTHER_PASSWORD }), 'forbidden');
        await rejects(setPin(db, actorFor(tina), { userId: tina.id, pin: '2580' }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
      });

      it('normalises unicode (NFKC): the same password typed differently logs in', async () => {
        const tina = await people();
        await setPassword(db, admin, { userId: tina.id, password: 'Ｗｅｒｋｚｅｕｇ ＳÜＤ ２０３０', mustChange: false });
        const s = await attempt('tina.tech', 'Werkzeug SÜD 2030', new Date());
        assert.equal(s.user.id, tina.id);
      });
    });

    describe('login and sessions', () => {
      it('logs in: a random token of which only the SHA-256 is stored, a session, an audited attempt', async () => {
        const tina = await people({ mustChange: true });
        const t0 = new Date();
        const r = await attempt('Tina.Tech ', PASSWORD, t0);
        assert.match(r.token, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(Buffer.from(r.token, 'base64url').length, 32);
        assert.equal(r.user.username, 'tina.tech');
        assert.equal(r.mustChangePassword, true);
        assert.equal(r.expiresAt, later(t0, 12 * 60 * MIN).toISOString());
        assert.deepEqual(
          { userId: r.session.userId, method: r.session.method, address: r.session.address, userAgent: r.session.userAgent, lastSeenAt: r.session.lastSeenAt },
          { userId: tina.id, method: 'password', address: ADDRESS, userAgent: 'Kiosk/1.0', lastSeenAt: t0.toISOString() },
        );
        const row = await db('sessions').where('id', r.session.id).first();
        assert.equal(row.token_hash, sha256(r.token));
        assert.doesNotMatch(JSON.stringify(r), /argon2|token_hash/);
        assert.doesNotMatch(JSON.stringify(r.session), new RegExp(r.token));
        const [event] = await audits('login.succeeded');
        assert.equal(event.actor_id, String(tina.id));
        assert.deepEqual(
          { username: event.after.username, address: event.after.address, method: event.after.method, sessionId: event.after.sessionId },
          { username: 'tina.tech', address: ADDRESS, method: 'password', sessionId: r.session.id },
        );
        assert.deepEqual(await outcomes(), ['succeeded']);
        // A second login is a second session.
        const again = await attempt('tina.tech', PASSWORD, t0);
        assert.notEqual(again.token, r.token);
        assert.equal(await countRows(db, 'sessions'), 2);
      });

      it('answers an unknown user and a wrong password alike, and audits both without the password', async () => {
        await people();
        const t0 = new Date();
        const unknown = await rejects(attempt('nobody', PASSWORD, t0), 'unauthenticated', '', 'invalid_credentials');
        const wrong = await rejects(attempt('tina.tech', 'not the password at all', t0), 'unauthenticated', '', 'invalid_credentials');
        assert.equal(unknown.message, wrong.message);
        assert.deepEqual(unknown.cause, wrong.cause);
        const events = await audits('login.failed');
        assert.deepEqual(events.map((e) => [e.after.username, e.after.reason, e.actor_role]), [
          ['nobody', 'unknown_user', 'system'],
          ['tina.tech', 'wrong_password', 'system'],
        ]);
        assert.doesNotMatch(JSON.stringify(await db('audit_events')), /not the password|Mould-shop/);
        assert.deepEqual(await outcomes(), ['failed', 'failed']);
        assert.equal(await countRows(db, 'sessions'), 0);
      });

      it('refuses a user with no password yet like a wrong password', async () => {
        await createUser(db, admin, { username: 'lea', displayName: 'Lea', role: 'engineer' });
        await rejects(attempt('lea', PASSWORD, new Date()), 'unauthenticated', '', 'invalid_credentials');
      });

      const badInputs: [string, Record<string, unknown>, string, string | RegExp][] = [
        ['neither password nor PIN', { password: undefined }, 'password', 'required'],
        ['both password and PIN', { pin: '2580' }, 'pin', 'one_of'],
        ['no username', { username: '  ' }, 'username', /too_small/],
        ['no address', { address: undefined }, 'address', /invalid_type/],
        ['a password that is not text', { password: ['x'] }, 'password', /invalid_type/],
        ['an unknown field', { remember: true }, '', /unrecognized_keys/],
      ];
      for (const [label, patch, field, rule] of badInputs) {
        it(`refuses a login with ${label}, naming ${field || 'the input'}, writing nothing`, async () => {
          const before = await tableCounts(db);
          await rejects(login(db, { username: 'tina.tech', password: PASSWORD, address: ADDRESS, ...patch }), 'validation', field, rule);
          assert.deepEqual(await tableCounts(db), before);
        });
      }

      it('locks a username on the address it was guessed from after 5 failures in 15 minutes, even for the right password, until the window passes', async () => {
        await people();
        const t0 = new Date();
        for (let i = 0; i < 5; i++) {
          await rejects(attempt('tina.tech', `wrong guess number ${i}`, later(t0, i * MIN)), 'unauthenticated', '', 'invalid_credentials');
        }
        const locked = await rejects(attempt('tina.tech', PASSWORD, later(t0, 5 * MIN)), 'locked', '', 'locked');
        assert.match(locked.message, new RegExp(later(t0, 15 * MIN).toISOString()));
        assert.equal(locked.retryAt?.toISOString(), later(t0, 15 * MIN).toISOString(), 'the lock says when it lifts as data');
        await rejects(attempt('tina.tech', PASSWORD, later(t0, 5.5 * MIN)), 'locked', '', 'locked');
        // Security finding 5: whoever guesses cannot lock the user out of her own terminal.
        const elsewhere = await attempt('tina.tech', PASSWORD, later(t0, 6 * MIN), '10.0.0.99');
        assert.equal(elsewhere.user.username, 'tina.tech');
        // Her success elsewhere gives the guessing address no new tries.
        await rejects(attempt('tina.tech', PASSWORD, later(t0, 7 * MIN)), 'locked', '', 'locked');
        // Locked attempts do not extend the lock: it lifts when the first failure leaves the window.
        await rejects(attempt('tina.tech', PASSWORD, later(t0, 15 * MIN - 1000)), 'locked', '', 'locked');
        const back = await attempt('tina.tech', PASSWORD, later(t0, 15 * MIN));
        assert.equal(back.user.username, 'tina.tech');
        assert.deepEqual(await outcomes(), ['failed', 'failed', 'failed', 'failed', 'failed', 'locked', 'locked', 'succeeded', 'locked', 'locked', 'succeeded']);
        // Security finding 4: a locked attempt costs no hash and no audit event each; the next success counts them.
        assert.equal((await audits('login.locked')).length, 1);
        const successes = await audits('login.succeeded');
        assert.deepEqual(successes.map((e) => e.after.lockedAttempts).sort(), [2, 2]);
      });

      it('locks a username everywhere only after many failures from many addresses, and tells the admins once', async () => {
        await people();
        const t0 = new Date();
        const policy = { maxFailuresPerUserEverywhere: 6 };
        for (let i = 0; i < 6; i++) {
          await rejects(login(db, { username: 'tina.tech', password: `spread guess ${i}`, address: `10.1.0.${i}` }, later(t0, i * 1000), policy), 'unauthenticated', '', 'invalid_credentials');
        }
        for (let i = 0; i < 3; i++) {
          await rejects(login(db, { username: 'tina.tech', password: PASSWORD, address: '10.2.0.1' }, later(t0, MIN + i * 1000), policy), 'locked', '', 'locked');
        }
        const notices = await audits('security.account_attacked');
        assert.equal(notices.length, 1);
        assert.equal(notices[0].after.username, 'tina.tech');
        assert.equal((await audits('login.locked')).length, 1);
        await login(db, { username: 'tina.tech', password: PASSWORD, address: '10.2.0.1' }, later(t0, 15 * MIN + 6000), policy);
      });

      it('starts the count afresh after a successful login', async () => {
        await people();
        const t0 = new Date();
        for (let i = 0; i < 4; i++) await rejects(attempt('tina.tech', `typo ${i} in it`, t0), 'unauthenticated', '', 'invalid_credentials');
        await attempt('tina.tech', PASSWORD, later(t0, 1000));
        for (let i = 0; i < 4; i++) await rejects(attempt('tina.tech', `typo ${i} in it`, later(t0, 2000)), 'unauthenticated', '', 'invalid_credentials');
        await attempt('tina.tech', PASSWORD, later(t0, 3000));
      });

      it('locks unknown usernames the same way (a lock tells nothing about who exists)', async () => {
        const t0 = new Date();
        for (let i = 0; i < 5; i++) await rejects(attempt('ghost', `guess ${i} here`, t0), 'unauthenticated', '', 'invalid_credentials');
        await rejects(attempt('ghost', 'guess 6 here', t0), 'locked', '', 'locked');
      });

      it('limits failures per address over all usernames (password spraying)', async () => {
        await people();
        const t0 = new Date();
        const policy = { maxFailuresPerAddress: 3 };
        for (const name of ['anna', 'bert', 'carl']) {
          await rejects(login(db, { username: name, password: 'Summer2030!x', address: '10.9.9.9' }, t0, policy), 'unauthenticated', '', 'invalid_credentials');
        }
        await rejects(login(db, { username: 'tina.tech', password: PASSWORD, address: '10.9.9.9' }, t0, policy), 'locked', '', 'locked');
        // The same user from her own tablet is fine; the address lifts after the window.
        await login(db, { username: 'tina.tech', password: PASSWORD, address: ADDRESS }, t0, policy);
        await login(db, { username: 'tina.tech', password: PASSWORD, address: '10.9.9.9' }, later(t0, 15 * MIN + 1), policy);
      });

      it('counts concurrent attempts from several runtimes: never more than 5 wrong passwords get checked', async () => {
        await people();
        const t0 = new Date();
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => attempt('tina.tech', `parallel guess ${i}`, t0)));
        const rules = results.map((r) => (r.status === 'rejected' ? (r.reason as ToolroomError).cause.details[0].rule : 'ok'));
        assert.ok(rules.every((r) => r === 'invalid_credentials' || r === 'locked'), rules.join());
        assert.ok(rules.filter((r) => r === 'invalid_credentials').length <= 5, rules.join());
        assert.equal((await outcomes()).filter((o) => o === 'failed').length, rules.filter((r) => r === 'invalid_credentials').length);
        // Every attempt is a row; locked ones are audited once per lock (finding 4).
        assert.equal((await outcomes()).length, 8);
        assert.equal((await audits('login.failed')).length, rules.filter((r) => r === 'invalid_credentials').length);
        // Concurrent locked attempts may each be first of their lock (none sees the others' uncommitted rows).
        const lockedCount = rules.filter((r) => r === 'locked').length;
        assert.ok((await audits('login.locked')).length <= lockedCount && (lockedCount === 0 || (await audits('login.locked')).length >= 1));
      });

      it('tells a disabled user so only with the right password', async () => {
        const tina = await people();
        await updateUser(db, admin, { id: tina.id, active: false });
        const t0 = new Date();
        await rejects(attempt('tina.tech', 'not it, not it at all', t0), 'unauthenticated', '', 'invalid_credentials');
        await rejects(attempt('tina.tech', PASSWORD, t0), 'unauthenticated', '', 'disabled');
        assert.deepEqual((await audits('login.refused')).map((e) => e.after.reason), ['disabled']);
      });

      it('ends a session after 30 minutes unused, touching last_seen_at at most once a minute', async () => {
        await people();
        const t0 = new Date();
        const { token, session } = await attempt('tina.tech', PASSWORD, t0);
        const seen = async () => (await db('sessions').where('id', session.id).first()).last_seen_at as Date;
        const a = await authenticateSession(db, token, later(t0, 30_000));
        assert.equal(a.user.username, 'tina.tech');
        assert.equal(a.session.id, session.id);
        assert.equal(new Date(await seen()).toISOString(), t0.toISOString(), 'not written within the touch interval');
        await authenticateSession(db, token, later(t0, 29 * MIN));
        assert.equal(new Date(await seen()).toISOString(), later(t0, 29 * MIN).toISOString());
        await authenticateSession(db, token, later(t0, 58 * MIN)); // 29 minutes after the last use: still alive
        await rejects(authenticateSession(db, token, later(t0, 88 * MIN + 1)), 'unauthenticated', 'token', 'expired');
        // Gone for good, whatever a later request's clock says.
        await rejects(authenticateSession(db, token, later(t0, 60 * MIN)), 'unauthenticated', 'token', 'revoked');
        assert.equal((await db('sessions').where('id', session.id).first()).revoked_reason, 'idle_timeout');
      });

      it('ends a session at its absolute lifetime even when used all along, and honours a configured policy', async () => {
        await people();
        const t0 = new Date();
        const { token } = await attempt('tina.tech', PASSWORD, t0);
        for (let m = 20; m < 12 * 60; m += 20) await authenticateSession(db, token, later(t0, m * MIN));
        await rejects(authenticateSession(db, token, later(t0, 12 * 60 * MIN)), 'unauthenticated', 'token', 'expired');
        const short = await login(db, { username: 'tina.tech', password: PASSWORD, address: ADDRESS }, t0, { sessionLifetimeMs: 60 * MIN });
        assert.equal(short.expiresAt, later(t0, 60 * MIN).toISOString());
        await rejects(authenticateSession(db, short.token, later(t0, 10 * MIN), { idleTimeoutMs: 5 * MIN }), 'unauthenticated', 'token', 'expired');
      });

      it('refuses unknown, malformed and missing tokens', async () => {
        await rejects(authenticateSession(db, 'A'.repeat(43)), 'unauthenticated', 'token', 'invalid_token');
        for (const bad of ['', 'short', 'x'.repeat(5000), "' OR 1=1 --", null, undefined, 42, { token: 'x' }]) {
          await rejects(authenticateSession(db, bad), 'unauthenticated', 'token', 'invalid_token');
        }
      });

      it('logs out: the token stops working, the logout is audited, a second logout is harmless', async () => {
        const tina = await people();
        const t0 = new Date();
        const one = await attempt('tina.tech', PASSWORD, t0);
        const two = await attempt('tina.tech', PASSWORD, t0);
        await logout(db, one.token, later(t0, MIN));
        await rejects(authenticateSession(db, one.token, later(t0, 2 * MIN)), 'unauthenticated', 'token', 'revoked');
        assert.equal((await authenticateSession(db, two.token, later(t0, 2 * MIN))).user.id, tina.id);
        const [event] = await audits('session.logout');
        assert.deepEqual([event.actor_id, event.entity_id], [String(tina.id), String(one.session.id)]);
        const before = await tableCounts(db);
        await logout(db, one.token);
        await logout(db, 'not-a-token');
        await logout(db, undefined);
        assert.deepEqual(await tableCounts(db), before);
      });

      it("disabling a user ends all their sessions in the same transaction, audited", async () => {
        const tina = await people();
        const t0 = new Date();
        const sessions = [await attempt('tina.tech', PASSWORD, t0), await attempt('tina.tech', PASSWORD, t0)];
        await updateUser(db, admin, { id: tina.id, displayName: 'Tina S.' });
        await authenticateSession(db, sessions[0].token, t0);
        await updateUser(db, admin, { id: tina.id, active: false });
        for (const s of sessions) await rejects(authenticateSession(db, s.token, later(t0, MIN)), 'unauthenticated', 'token', 'revoked');
        assert.deepEqual((await db('sessions').select('revoked_reason')).map((r) => r.revoked_reason), ['user_disabled', 'user_disabled']);
        const [event] = await audits('session.revoke_all');
        assert.deepEqual([event.entity_id, event.after.revoked], [String(tina.id), 2]);
        // Enabled again, the old sessions stay ended.
        await updateUser(db, admin, { id: tina.id, active: true });
        await rejects(authenticateSession(db, sessions[0].token, later(t0, MIN)), 'unauthenticated', 'token', 'revoked');
      });

      it('lists and revokes sessions: one\'s own, or anyone\'s for admins', async () => {
        const tina = await people();
        const eve = await createUser(db, admin, { username: 'eve', displayName: 'Eve', role: 'technician' });
        const me = actorFor(tina);
        const t0 = new Date();
        const s1 = await attempt('tina.tech', PASSWORD, t0);
        await attempt('tina.tech', PASSWORD, t0);
        const mine = await listSessions(db, me, {});
        assert.equal(mine.length, 2);
        assert.doesNotMatch(JSON.stringify(mine), new RegExp(`${s1.token}|${sha256(s1.token)}`));
        assert.equal((await listSessions(db, admin, { userId: tina.id })).length, 2);
        const before = await tableCounts(db);
        await rejects(listSessions(db, actorFor(eve), { userId: tina.id }), 'forbidden');
        await rejects(revokeAllSessions(db, actorFor(eve), { userId: tina.id }), 'forbidden');
        await rejects(revokeAllSessions(db, admin, { userId: 999 }), 'not_found', 'userId');
        await rejects(revokeAllSessions(db, system, {}), 'validation', 'userId', 'required');
        assert.deepEqual(await tableCounts(db), before);
        assert.deepEqual(await revokeAllSessions(db, me, {}), { revoked: 2 });
        await rejects(authenticateSession(db, s1.token), 'unauthenticated', 'token', 'revoked');
        assert.deepEqual(await listSessions(db, me, {}), []);
        assert.equal((await audits('session.revoke_all'))[0].actor_id, String(tina.id));
      });
    });

    describe('PINs for shared tablets', () => {
      it('logs in with a PIN, locks PIN login after 3 failures while the password still works, and clears', async () => {
        const tina = await people();
        await rejects(setPin(db, admin, { userId: tina.id, pin: '4444' }), 'validation', 'pin', 'common');
        await rejects(setPin(db, admin, { userId: tina.id, pin: 2580 }), 'validation', 'pin', /invalid_type/);
        await setPin(db, admin, { userId: tina.id, pin: '2580' });
        assert.match((await db('users').where('id', tina.id).first()).pin_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        const t0 = new Date();
        const pinLogin = (pin: string, now: Date) => login(db, { username: 'tina.tech', pin, address: ADDRESS }, now);
        const s = await pinLogin('2580', t0);
        assert.equal(s.session.method, 'pin');
        for (const pin of ['1357', '2468', '9753']) await rejects(pinLogin(pin, t0), 'unauthenticated', '', 'invalid_credentials');
        await rejects(pinLogin('2580', later(t0, MIN)), 'locked', '', 'locked');
        // Three failures lock the PIN, not the password (its limit is 5).
        await attempt('tina.tech', PASSWORD, later(t0, 2 * MIN));
        await pinLogin('2580', later(t0, 3 * MIN));
        await setPin(db, admin, { userId: tina.id, pin: null });
        await rejects(pinLogin('2580', later(t0, 4 * MIN)), 'unauthenticated', '', 'invalid_credentials');
        assert.deepEqual((await audits('user.pin.set')).length + (await audits('user.pin.clear')).length, 2);
        assert.doesNotMatch(JSON.stringify(await db('audit_events')), /2580|argon2/);
      });
    });

    describe('changing one\'s own password', () => {
      it('needs the current password, checks the rules, ends the other sessions and clears must-change', async () => {
        const tina = await people({ mustChange: true });
        const me = actorFor(tina);
        const t0 = new Date();
        const here = await attempt('tina.tech', PASSWORD, t0);
        const there = await attempt('tina.tech', PASSWORD, t0);
        const before = await tableCounts(db);
        await rejects(changeOwnPassword(db, me, { currentPassword: PASSWORD, password: 'short' }), 'validation', 'password', 'too_short');
        await rejects(changeOwnPassword(db, me, { currentPassword: PASSWORD, password: 'tina.tech.2030!' }), 'validation', 'password', 'contains_username');
        await rejects(changeOwnPassword(db, me, { currentPassword: PASSWORD }), 'validation', 'password', /invalid_type/);
        await rejects(changeOwnPassword(db, system, { currentPassword: PASSWORD, password: OTHER_PASSWORD }), 'forbidden');
        assert.deepEqual(await tableCounts(db), before);
        await rejects(changeOwnPassword(db, me, { currentPassword: 'wrong current one', password: OTHER_PASSWORD }, { now: t0 }), 'validation', 'currentPassword', 'wrong_password');
        assert.equal((await audits('user.password.change_refused'))[0].after.reason, 'wrong_password');
        const user = await changeOwnPassword(db, me, { currentPassword: PASSWORD, password: OTHER_PASSWORD }, { sessionId: here.session.id, now: later(t0, MIN) });
        assert.doesNotMatch(JSON.stringify(user), /argon2/);
        await authenticateSession(db, here.token, later(t0, 2 * MIN));
        await rejects(authenticateSession(db, there.token, later(t0, 2 * MIN)), 'unauthenticated', 'token', 'revoked');
        await rejects(attempt('tina.tech', PASSWORD, later(t0, 3 * MIN)), 'unauthenticated', '', 'invalid_credentials');
        const fresh = await attempt('tina.tech', OTHER_PASSWORD, later(t0, 3 * MIN));
        assert.equal(fresh.mustChangePassword, false);
        assert.equal((await audits('user.password.change'))[0].after.revokedSessions, 1);
      });

      it('counts a wrong current password as a failed login, so a stolen session cannot guess it', async () => {
        const tina = await people();
        const me = actorFor(tina);
        const t0 = new Date();
        for (let i = 0; i < 5; i++) {
          await rejects(changeOwnPassword(db, me, { currentPassword: `guess ${i} guess`, password: OTHER_PASSWORD }, { now: t0 }), 'validation', 'currentPassword', 'wrong_password');
        }
        await rejects(changeOwnPassword(db, me, { currentPassword: PASSWORD, password: OTHER_PASSWORD }, { now: t0 }), 'locked', 'currentPassword', 'locked');
        // The lock is on the session's guesses: the user logging in at a terminal is not locked out (finding 5).
        assert.equal((await attempt('tina.tech', PASSWORD, t0)).user.username, 'tina.tech');
      });

      it('an admin reset ends every session of the user', async () => {
        const tina = await people();
        const t0 = new Date();
        const s = await attempt('tina.tech', PASSWORD, t0);
        await setPassword(db, admin, { userId: tina.id, password: OTHER_PASSWORD });
        await rejects(authenticateSession(db, s.token, later(t0, MIN)), 'unauthenticated', 'token', 'revoked');
        assert.equal((await db('sessions').first()).revoked_reason, 'password_reset');
        assert.equal((await attempt('tina.tech', OTHER_PASSWORD, later(t0, MIN))).mustChangePassword, true);
      });
    });

    describe('API tokens', () => {
      it('creates a token shown once, stores only its SHA-256, authenticates it and notes its use', async () => {
        const tina = await people();
        const me = actorFor(tina);
        const t0 = new Date();
        const { token, secret } = await createApiToken(db, me, { name: 'MES line 2' }, t0);
        assert.match(secret, /^toolroom_[A-Za-z0-9_-]{43}$/);
        assert.equal(token.prefix, secret.slice(0, 15));
        assert.deepEqual([token.userId, token.name, token.createdBy, token.expiresAt, token.revokedAt], [tina.id, 'MES line 2', String(tina.id), null, null]);
        const row = await db('api_tokens').where('id', token.id).first();
        assert.equal(row.token_hash, sha256(secret));
        assert.doesNotMatch(JSON.stringify(await db('audit_events')), new RegExp(secret.slice(15)));
        const auth = await authenticateApiToken(db, secret, later(t0, MIN));
        assert.equal(auth.user.id, tina.id);
        assert.equal(auth.token.lastUsedAt, later(t0, MIN).toISOString());
        await authenticateApiToken(db, secret, later(t0, MIN + 10_000));
        assert.equal(new Date((await db('api_tokens').first()).last_used_at).toISOString(), later(t0, MIN).toISOString());
        for (const bad of [secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), secret.slice(9), 'toolroom_', '', null]) {
          await rejects(authenticateApiToken(db, bad), 'unauthenticated', 'token', 'invalid_token');
        }
        assert.doesNotMatch(JSON.stringify((await listApiTokens(db, me, {})).items), /token_hash|argon2/);
      });

      it('revokes: the token stops working at once; revoking twice changes nothing', async () => {
        const tina = await people();
        const me = actorFor(tina);
        const { token, secret } = await createApiToken(db, me, { name: 'ERP' });
        const revoked = await revokeApiToken(db, me, { id: token.id });
        assert.equal(revoked.revokedBy, String(tina.id));
        await rejects(authenticateApiToken(db, secret), 'unauthenticated', 'token', 'revoked');
        const before = await tableCounts(db);
        assert.deepEqual(await revokeApiToken(db, admin, { id: token.id }), revoked);
        assert.deepEqual(await tableCounts(db), before);
        assert.equal((await listApiTokens(db, me, {})).total, 0);
        assert.equal((await listApiTokens(db, me, { includeRevoked: true })).total, 1);
        assert.deepEqual((await audits('token.revoke')).map((e) => e.entity_id), [String(token.id)]);
      });

      it('expires, and stops for a disabled user', async () => {
        const tina = await people();
        const t0 = new Date();
        await rejects(createApiToken(db, admin, { userId: tina.id, name: 'old', expiresAt: later(t0, -MIN).toISOString() }, t0), 'validation', 'expiresAt', 'in_future');
        const { secret } = await createApiToken(db, admin, { userId: tina.id, name: 'MES', expiresAt: later(t0, 60 * MIN).toISOString() }, t0);
        await authenticateApiToken(db, secret, later(t0, 59 * MIN));
        await rejects(authenticateApiToken(db, secret, later(t0, 60 * MIN)), 'unauthenticated', 'token', 'expired');
        const lasting = await createApiToken(db, admin, { userId: tina.id, name: 'ERP' }, t0);
        await updateUser(db, admin, { id: tina.id, active: false });
        // Security finding 9: disabling revokes the user's tokens; enabling again brings none back.
        await rejects(authenticateApiToken(db, lasting.secret, t0), 'unauthenticated', 'token', 'revoked');
        await rejects(createApiToken(db, admin, { userId: tina.id, name: 'new' }), 'conflict', 'userId', 'active');
        await updateUser(db, admin, { id: tina.id, active: true });
        await rejects(authenticateApiToken(db, lasting.secret, t0), 'unauthenticated', 'token', 'revoked');
      });

      it('ends API tokens with a password change or reset (finding 9), and refuses blank or unchanged passwords (finding 8)', async () => {
        const tina = await people();
        const t0 = new Date();
        const first = await createApiToken(db, admin, { userId: tina.id, name: 'MES' }, t0);
        await setPassword(db, admin, { userId: tina.id, password: OTHER_PASSWORD, mustChange: false });
        await rejects(authenticateApiToken(db, first.secret, t0), 'unauthenticated', 'token', 'revoked');
        assert.equal((await audits('user.password.set')).at(-1).after.revokedTokens, 1);
        const second = await createApiToken(db, admin, { userId: tina.id, name: 'ERP' }, t0);
        const me = actorFor(tina);
        await rejects(changeOwnPassword(db, me, { currentPassword: OTHER_PASSWORD, password: OTHER_PASSWORD }, { now: t0 }), 'validation', 'password', 'same_as_current');
        await rejects(changeOwnPassword(db, me, { currentPassword: OTHER_PASSWORD, password: ' '.repeat(11) }, { now: t0 }), 'validation', 'password', 'blank');
        await authenticateApiToken(db, second.secret, t0);
        await changeOwnPassword(db, me, { currentPassword: OTHER_PASSWORD, password: PASSWORD }, { now: t0 });
        await rejects(authenticateApiToken(db, second.secret, t0), 'unauthenticated', 'token', 'revoked');
      });

      it("a user manages their own tokens; admins everyone's; bad input names the field, writing nothing", async () => {
        const tina = await people();
        const eve = await createUser(db, admin, { username: 'eve', displayName: 'Eve', role: 'engineer' });
        const mine = await createApiToken(db, actorFor(tina), { name: 'mine' });
        await createApiToken(db, admin, { userId: eve.id, name: 'eve’s' });
        const before = await tableCounts(db);
        await rejects(createApiToken(db, actorFor(eve), { userId: tina.id, name: 'sneaky' }), 'forbidden');
        await rejects(revokeApiToken(db, actorFor(eve), { id: mine.token.id }), 'forbidden');
        await rejects(listApiTokens(db, actorFor(eve), { userId: tina.id }), 'forbidden');
        await rejects(createApiToken(db, actorFor(tina), { name: '' }), 'validation', 'name', /too_small/);
        await rejects(createApiToken(db, actorFor(tina), { name: 'x'.repeat(101) }), 'validation', 'name', /too_big/);
        await rejects(createApiToken(db, actorFor(tina), { name: 'x', expiresAt: 'soon' }), 'validation', 'expiresAt');
        await rejects(createApiToken(db, admin, { userId: 999, name: 'x' }), 'not_found', 'userId');
        await rejects(createApiToken(db, system, { name: 'x' }), 'validation', 'userId', 'required');
        await rejects(revokeApiToken(db, admin, { id: 999 }), 'not_found', 'id');
        assert.deepEqual(await tableCounts(db), before);
        assert.deepEqual((await listApiTokens(db, actorFor(tina), {})).items.map((t) => t.name), ['mine']);
        assert.deepEqual((await listApiTokens(db, actorFor(eve), {})).items.map((t) => t.name), ['eve’s']);
        assert.equal((await listApiTokens(db, admin, {})).total, 2);
        assert.equal((await listApiTokens(db, admin, { userId: eve.id })).total, 1);
        await revokeApiToken(db, admin, { id: mine.token.id });
      });
    });

    describe('first start', () => {
      it('creates admin with a generated password returned once, to be changed; then does nothing', async () => {
        const first = await ensureAdmin(db);
        assert.ok(first);
        assert.deepEqual([first.user.username, first.user.role, first.user.editorAccess, first.user.active], ['admin', 'admin', 'full', true]);
        assert.ok(first.generatedPassword && first.generatedPassword.length >= 20);
        assert.deepEqual(passwordProblems(first.generatedPassword, 'admin'), []);
        const s = await login(db, { username: 'admin', password: first.generatedPassword, address: '127.0.0.1' });
        assert.equal(s.mustChangePassword, true);
        const before = await tableCounts(db);
        assert.equal(await ensureAdmin(db, { password: 'Another strong one 1' }), null);
        assert.deepEqual(await tableCounts(db), before);
        assert.doesNotMatch(JSON.stringify(await db('audit_events')), new RegExp(first.generatedPassword));
        assert.deepEqual((await db('audit_events').orderBy('id').limit(2)).map((e) => [e.action, e.actor_id, e.via]), [
          ['user.create', 'system', 'first-start'],
          ['user.password.set', 'system', 'first-start'],
        ]);
      });

      it('takes TOOLROOM_ADMIN_PASSWORD (checked by the rules) and restores an existing admin user', async () => {
        await rejects(ensureAdmin(db, { password: 'password1' }), 'validation', 'password', 'common');
        await rejects(ensureAdmin(db, { password: 'admin-2030-xyz' }), 'validation', 'password', 'contains_username');
        assert.equal(await countRows(db, 'users'), 0);
        // An admin without a password cannot log in: it does not count.
        await createUser(db, system, { username: 'ada', displayName: 'Ada', role: 'admin' });
        await createUser(db, system, { username: 'admin', displayName: 'Old admin', role: 'technician', active: false });
        const r = await ensureAdmin(db, { password: 'Set by the operator 7' });
        assert.ok(r);
        assert.equal(r.generatedPassword, null);
        assert.deepEqual([r.user.role, r.user.active, r.user.editorAccess], ['admin', true, 'full']);
        assert.equal((await login(db, { username: 'admin', password: 'Set by the operator 7', address: '127.0.0.1' })).mustChangePassword, false);
      });

      if (backend.name === 'postgres') {
        it('two runtimes starting at once create one admin', async () => {
          const results = await Promise.all([ensureAdmin(db), ensureAdmin(db)]);
          assert.equal(results.filter((r) => r !== null).length, 1);
          const winner = results.find((r) => r !== null)!;
          await login(db, { username: 'admin', password: winner.generatedPassword!, address: '127.0.0.1' });
          assert.equal(await countRows(db, 'users'), 1);
        });
      }
    });

    it('keeps every secret out of every table except as its hash', async () => {
      const tina = await people();
      await setPin(db, admin, { userId: tina.id, pin: '80417' });
      const s = await attempt('tina.tech', PASSWORD, new Date());
      const { secret } = await createApiToken(db, actorFor(tina), { name: 'MES' });
      await rejects(attempt('tina.tech', 'a wrong one to be logged', new Date()), 'unauthenticated');
      const { rows } = await db.raw<{ rows: { tablename: string }[] }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'knex_%'",
      );
      let dump = '';
      for (const r of rows) dump += JSON.stringify(await db(r.tablename).select('*'));
      for (const plain of [PASSWORD, '80417', s.token, secret, 'a wrong one to be logged']) assert.ok(!dump.includes(plain), plain);
      assert.ok(dump.includes(sha256(s.token)) && dump.includes(sha256(secret)));
    });
  });
}
