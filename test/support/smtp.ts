import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { freePort } from '../../lib/net';

/**
 * A real SMTP server for a test (smtp-server, plain on loopback): it keeps what it accepted, can
 * refuse (a temporary 451 or a permanent 550 per recipient) and can be stopped and started again on
 * the same port, as a mail relay that goes down and comes back.
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  port: number;
  received: ReceivedMail[];
  /** Refuse every message with this reply (null: accept). */
  refuse: { code: number; message: string } | null;
  /** Recipients refused for good. */
  unknownMailboxes: Set<string>;
  /** When set, only this user and password may send (AUTH over plain text, loopback only). */
  login: { user: string; pass: string } | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSmtp(login: TestSmtp['login'] = null): Promise<TestSmtp> {
  const port = await freePort();
  let server: SMTPServer | null = null;
  const smtp: TestSmtp = {
    port,
    received: [],
    refuse: null,
    unknownMailboxes: new Set(),
    login,
    async start() {
      server = new SMTPServer({
        authOptional: smtp.login === null,
        allowInsecureAuth: true,
        // A stop does not wait for pooled client connections to leave (smtp-server waits 30 s by default).
        closeTimeout: 300,
        onAuth(auth, _session, callback) {
          if (smtp.login && auth.username === smtp.login.user && auth.password === smtp.login.pass) return callback(null, { user: auth.username });
          callback(Object.assign(new Error('invalid credentials'), { responseCode: 535 }));
        },
        disabledCommands: ['STARTTLS'],
        logger: false,
        onRcptTo(address, _session, callback) {
          if (smtp.unknownMailboxes.has(address.address)) return callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
          callback();
        },
        onData(stream, session: SMTPServerSession, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            if (smtp.refuse) return callback(Object.assign(new Error(smtp.refuse.message), { responseCode: smtp.refuse.code }));
            smtp.received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            callback();
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async stop() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await smtp.start();
  return smtp;
}

/** A header of a received message, unfolded and with RFC 2047 encoded words (as nodemailer writes them) decoded. */
export function headerOf(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1] ?? '';
  return line
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}
