import assert from 'node:assert/strict';
import { OPERATIONS, authorize, can, grantFor, type Operation } from '../../core/auth/permissions';
import { actorFromUser, systemActor, type Actor } from '../../core/auth/actor';
import { ToolroomError } from '../../core/errors';

// The roles as the product describes them (issue 2), written out independently of core's table:
// technicians register tools, record inspections, report failures, work their actions; engineers
// also retire tools, edit PM plans and the catalog, assign and verify actions; admins everything.
const technician: Operation[] = [
  'tool.read', 'tool.create', 'tool.update', 'press.read', 'mount.read', 'mount.mount', 'mount.unmount',
  'pm.read', 'pm.record', 'inspection.read', 'inspection.record', 'failure.read', 'failure.report',
  'action.read', 'action.start', 'action.complete', 'shot.record',
  // Technicians take, annotate and see photos (issue 10).
  'photo.read', 'photo.add', 'photo.annotate',
  // Everyone prints a tool's history and its QR labels (issue 11).
  'report.tool',
];
const engineerOnly: Operation[] = [
  'tool.retire', 'press.create', 'press.update', 'pm.plan.create', 'pm.plan.update', 'template.manage',
  'failure.triage', 'catalog.manage', 'action.create', 'action.assign', 'action.verify', 'action.cancel', 'shot.review',
  // Engineers and admins withdraw a photo, with a reason (issue 10).
  'photo.withdraw',
  // Engineers read the KPIs and export the tables (issue 11).
  'kpi.read', 'report.export',
];
const adminOnly: Operation[] = ['user.read', 'user.manage', 'audit.read', 'backup.create', 'retention.manage', 'notification.raise'];
const ownOnly: Operation[] = ['action.start', 'action.complete'];
// Every user manages their own API tokens and login sessions (issue 5), notification settings and inbox (issue 13); admins everyone's.
const ownForUsers: Operation[] = ['token.manage', 'session.manage', 'notification.read', 'notification.settings'];

const actor = (role: Actor['role'], id = '7'): Actor => ({ id, name: role, role });

describe('permission table', () => {
  it('covers exactly the operations the roles are described with', () => {
    assert.deepEqual([...OPERATIONS].sort(), [...new Set([...technician, ...engineerOnly, ...adminOnly, ...ownForUsers])].sort());
  });

  for (const op of OPERATIONS) {
    const expected = {
      technician: ownForUsers.includes(op) || ownOnly.includes(op) ? 'own' : technician.includes(op),
      engineer: ownForUsers.includes(op) ? 'own' : !adminOnly.includes(op),
      admin: true,
      system: true,
    } as const;
    const word = (g: boolean | 'own') => (g === 'own' ? 'own' : g ? 'yes' : 'no');
    it(`${op}: technician ${word(expected.technician)}, engineer ${word(expected.engineer)}, admin yes, system yes`, () => {
      for (const role of ['technician', 'engineer', 'admin', 'system'] as const) {
        assert.equal(grantFor(role, op), expected[role], `${role} × ${op}`);
        assert.equal(can(actor(role), op), expected[role] !== false);
        if (expected[role] === true) authorize(actor(role), op);
        else if (expected[role] === false) {
          assert.throws(() => authorize(actor(role), op), (e: unknown) => e instanceof ToolroomError && e.code === 'forbidden');
        }
      }
    });
  }

  it("'own' allows the assignee and unassigned records, refuses someone else's and a missing owner", () => {
    const tina = actor('technician', '11');
    authorize(tina, 'action.complete', { ownerId: '11' });
    authorize(tina, 'action.complete', { ownerId: null });
    assert.throws(() => authorize(tina, 'action.complete', { ownerId: '12' }), /assigned to someone else/);
    assert.throws(() => authorize(tina, 'action.complete'), (e: unknown) => (e as ToolroomError).code === 'forbidden');
  });
});

describe('actor from a user object', () => {
  it('takes Dashboard 2 / API user objects and keeps where the call came from', () => {
    assert.deepEqual(actorFromUser({ id: 5, username: 'tina', role: 'technician' }, 'node-1'), {
      id: '5', name: 'tina', role: 'technician', via: 'node-1',
    });
    assert.equal(systemActor('n1').role, 'system');
  });

  it('refuses a malformed user (an unknown role never becomes the system actor)', () => {
    assert.throws(() => actorFromUser({ id: 5, role: 'superuser' }), (e: unknown) => {
      const err = e as ToolroomError;
      return err.code === 'validation' && err.cause.details.some((d) => d.field === 'role');
    });
    assert.throws(() => actorFromUser({ role: 'admin' }), (e: unknown) => (e as ToolroomError).cause.details.some((d) => d.field === 'id'));
    assert.throws(() => actorFromUser('admin'), (e: unknown) => (e as ToolroomError).code === 'validation');
  });
});
