/**
 * GET /healthz: core/health.ts over HTTP, without a login (Docker's health check, a monitor, the
 * proxy). It says only ok/failing per part — no versions, paths, counts or errors for a stranger to
 * read — answers 503 when the database part fails, and checks at most once a second however often
 * it is asked (a flood costs one check).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { checkHealth, healthSettingsFromEnv, type HealthOptions, type HealthReport } from '../core/health';
import { sendJson } from './request';

export const HEALTH_PATH = '/healthz';

export function createHealth(options: HealthOptions, cacheMs = 1000): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  let last: { at: number; report: Promise<HealthReport> } | null = null;
  return (req, res, next) => {
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/' && url !== '') return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { status: 'failing', error: 'GET only' }, { Allow: 'GET, HEAD' });
      return;
    }
    const now = Date.now();
    if (!last || now - last.at >= cacheMs) last = { at: now, report: checkHealth(options) };
    last.report.then(
      (report) => {
        const headers = { 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'" };
        if (req.method === 'HEAD') {
          res.writeHead(report.status === 'failing' ? 503 : 200, { ...headers, 'Cache-Control': 'no-store' });
          res.end();
        } else sendJson(res, report.status === 'failing' ? 503 : 200, report, headers);
      },
      () => sendJson(res, 503, { status: 'failing' }),
    );
  };
}

/** The handler with its settings from the environment (TOOLROOM_DATA_DIR, INFLUX_URL, TOOLROOM_BACKUP_DIR, TOOLROOM_HEALTH_*). */
export function healthFromEnv(database: () => Promise<Knex>, env: NodeJS.ProcessEnv = process.env): ReturnType<typeof createHealth> {
  return createHealth({ database, ...healthSettingsFromEnv(env) });
}
