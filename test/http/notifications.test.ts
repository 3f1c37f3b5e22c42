import assert from 'node:assert/strict';
import { inTransaction } from '../../core/db/transaction';
import { raiseEvent } from '../../core/notifications/raise';
import { backends } from '../support/db';
import { system } from '../support/actors';
import { loggedIn, serveApi } from '../support/api-server';

// The inbox and settings over HTTP: each caller sees and acknowledges only their own notifications.
const backend = backends.find((b) => b.name === 'postgres') ?? backends[0];

describe(`REST API notifications (${backend.name})`, function () {
  this.timeout(60_000);
  const api = serveApi(backend);

  it('two admins each see only their own inbox, count and acknowledge only their own', async () => {
    const a = await loggedIn(api.db(), api.url(), 'admin');
    const b = await loggedIn(api.db(), api.url(), 'admin');
    await inTransaction(api.db(), (trx) => raiseEvent(trx, system, { type: 'backup.failed', key: 'http-1', title: 'Backup failed', entity: 'backup', entityId: 'x', link: '/dashboard/home' }));
    const listA = await a.call('GET', '/notifications?unreadOnly=true');
    assert.equal(listA.status, 200, listA.text);
    assert.equal(listA.json.items.length, 1);
    const mine = listA.json.items[0];
    assert.equal(mine.title, 'Backup failed');
    assert.equal((await b.call('GET', '/notifications')).json.items.filter((i: { id: number }) => i.id === mine.id).length, 0, 'not in the other inbox');
    assert.equal((await a.call('GET', '/notifications/unread-count')).json.unread, 1);
    const theirs = await b.call('POST', `/notifications/${mine.id}/acknowledge`, {});
    assert.equal(theirs.status, 404, theirs.text);
    const ack = await a.call('POST', `/notifications/${mine.id}/acknowledge`, {});
    assert.equal(ack.status, 200, ack.text);
    assert.ok(ack.json.readAt);
    assert.equal((await a.call('GET', '/notifications/unread-count')).json.unread, 0);
    assert.equal((await b.call('GET', '/notifications/unread-count')).json.unread, 1);
  });

  it('settings: one’s own by default, refused naming the field', async () => {
    const t = await loggedIn(api.db(), api.url(), 'technician');
    const bad = await t.call('PATCH', '/notification-settings', { email: 'not an address' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    assert.equal(bad.json.errors[0].field, 'email');
    const sub = await t.call('PUT', '/notification-settings/subscriptions', { subscriptions: [{ eventType: 'pm.due', channel: 'pager', enabled: true }] });
    assert.equal(sub.status, 400);
    assert.equal(sub.json.errors[0].field, 'subscriptions.0.channel');
    const ok = await t.call('PATCH', '/notification-settings', { email: 'tina@plant.example', quietFrom: '22:00', quietUntil: '06:00' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await t.call('GET', '/notification-settings')).json.email, 'tina@plant.example');
    const other = await t.call('GET', `/notification-settings?userId=${t.userId + 1000}`);
    assert.equal(other.status, 403);
  });
});
