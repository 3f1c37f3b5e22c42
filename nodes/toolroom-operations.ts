import { backupNow, listBackups } from '../core/backup/settings';
import { healthNow } from '../core/health';
import { listLegalHolds, listRetention, placeLegalHold, releaseLegalHold, setRetention } from '../core/retention/policy';
import { purgeExpired } from '../core/retention/purge';
import { recordNode } from './lib/record-node';

/**
 * toolroom-operations: running the installation (issue 12), for admins — the backup directory's
 * archives and the last backup's outcome (`backups`), a backup now (`backup`), retention periods
 * (`retention`, `setretention`), legal holds (`holds`, `hold`, `release`), the purge (`purge`) and
 * the `/healthz` parts (`health`). Core refuses every one but `health` to other roles.
 */
export = recordNode({
  type: 'toolroom-operations',
  icon: 'font-awesome/fa-server',
  operations: {
    backups: listBackups,
    backup: backupNow,
    retention: listRetention,
    setretention: setRetention,
    holds: listLegalHolds,
    hold: placeLegalHold,
    release: releaseLegalHold,
    purge: purgeExpired,
    health: healthNow,
  },
  triggers: ['backups', 'backup', 'purge', 'health'],
});
