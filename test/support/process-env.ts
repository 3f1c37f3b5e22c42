/**
 * Mocha root hooks (.mocharc.json `require`): what a library writes into the test process's
 * environment is put back after each test. node-opcua-pki sets OPENSSL_CONF (to "undefined" when it
 * has no config file) and RANDFILE whenever an OPC-UA suite makes certificates, and every openssl, Caddy
 * or app started by a later suite would inherit them.
 */
const GUARDED = ['OPENSSL_CONF', 'RANDFILE'] as const;
const before = Object.fromEntries(GUARDED.map((k) => [k, process.env[k]]));

export const mochaHooks = {
  afterEach(): void {
    for (const k of GUARDED) {
      if (before[k] === undefined) delete process.env[k];
      else process.env[k] = before[k];
    }
  },
};
