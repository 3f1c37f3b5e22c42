import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { clientAddress } from '../../http/auth';

const req = (remoteAddress: string, forwarded?: string) =>
  ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as IncomingMessage;

describe('the client address behind a proxy (TOOLROOM_TRUSTED_PROXIES)', () => {
  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    assert.equal(clientAddress(req('10.0.0.7', '1.2.3.4'), {}), '10.0.0.7');
    assert.equal(clientAddress(req('::ffff:10.0.0.7'), {}), '10.0.0.7');
  });

  it("is the trusted proxy's last X-Forwarded-For entry (the one it added), never one a client sent", () => {
    const env = { TOOLROOM_TRUSTED_PROXIES: '172.30.0.10, 172.30.0.11' };
    assert.equal(clientAddress(req('::ffff:172.30.0.10', '192.168.5.23'), env), '192.168.5.23');
    assert.equal(clientAddress(req('172.30.0.11', '6.6.6.6, 192.168.5.24'), env), '192.168.5.24', 'a forged first entry is ignored');
    assert.equal(clientAddress(req('172.30.0.12', '192.168.5.23'), env), '172.30.0.12', 'another peer is not trusted');
    assert.equal(clientAddress(req('172.30.0.10'), env), '172.30.0.10', 'no header: the proxy itself');
    assert.equal(clientAddress(req('172.30.0.10', '<script>'), env), '172.30.0.10', 'not an address');
  });
});
