import nodemailer from 'nodemailer';
import { absolute, type ChannelSettings, type SmtpSettings } from './channels';
import { PermanentDeliveryError, type Delivery, type Transport } from './delivery';

/** E-mail over SMTP (nodemailer, pooled connections): plain text and HTML, one message per notification or digest. */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);

/** Subject, text and HTML of a delivery. */
export function emailContent(d: Delivery, baseUrl?: string): { subject: string; text: string; html: string } {
  const escalated = d.level > 0 ? '[escalated] ' : '';
  const subject = d.digest ? `Toolroom: ${d.events.length} notification${d.events.length === 1 ? '' : 's'} today` : `Toolroom: ${escalated}${d.events[0].title}`;
  const lines = d.events.map((e) => `- ${e.title}\n  ${absolute(e.link, baseUrl)}`);
  const text = `${d.to?.displayName ? `Hello ${d.to.displayName},\n\n` : ''}${lines.join('\n')}\n\nChange what you receive on your account page.\n`;
  const items = d.events.map((e) => `<li><a href="${escapeHtml(absolute(e.link, baseUrl))}">${escapeHtml(e.title)}</a></li>`).join('');
  const html = `<!doctype html><html><body><ul>${items}</ul><p>Change what you receive on your account page.</p></body></html>`;
  return { subject, text, html };
}

export function emailTransport(smtp: SmtpSettings, settings: Pick<ChannelSettings, 'baseUrl'> = {}, pool = { maxConnections: 4 }): Transport {
  const mailer = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === 'implicit',
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    pool: true,
    maxConnections: pool.maxConnections,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(d: Delivery) {
      if (!d.to?.email) throw new PermanentDeliveryError(`user ${d.to?.username ?? '?'} has no e-mail address`);
      try {
        await mailer.sendMail({ from: smtp.from, to: d.to.email, ...emailContent(d, settings.baseUrl) });
      } catch (err) {
        const e = err as Error & { code?: string; responseCode?: number };
        // A recipient the server refuses for good (550 no such mailbox) is parked; anything else is retried.
        if (e.code === 'EENVELOPE' && (e.responseCode ?? 0) >= 500) throw new PermanentDeliveryError(e.message);
        throw err;
      }
    },
    async close() {
      mailer.close();
    },
  };
}
