import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channelSettingsFromEnv } from '../../app/notifications';

// npm start's notification channels from the environment: secrets from files, errors naming the variable.
describe('notification settings from the environment', () => {
  it('nothing set: the inbox only, escalation after 30 minutes', () => {
    assert.deepEqual(channelSettingsFromEnv({}), { escalateAfterMinutes: 30 });
  });

  it('reads SMTP and MQTT, the passwords from their secret files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolroom-secrets-'));
    fs.writeFileSync(path.join(dir, 'smtp'), 'relay secret\n');
    fs.writeFileSync(path.join(dir, 'mqtt'), 'broker secret');
    const s = channelSettingsFromEnv({
      TOOLROOM_SMTP_HOST: 'mail.plant.example',
      TOOLROOM_SMTP_PORT: '465',
      TOOLROOM_SMTP_TLS: 'implicit',
      TOOLROOM_SMTP_USER: 'toolroom',
      TOOLROOM_SMTP_PASSWORD_FILE: path.join(dir, 'smtp'),
      TOOLROOM_SMTP_FROM: 'toolroom@plant.example',
      TOOLROOM_MQTT_URL: 'mqtts://broker.plant.example:8883',
      TOOLROOM_MQTT_PASSWORD_FILE: path.join(dir, 'mqtt'),
      TOOLROOM_SITE: 'hall-2',
      TOOLROOM_PUBLIC_URL: 'https://toolroom.plant.example',
      TOOLROOM_ESCALATE_AFTER_MINUTES: '15',
    });
    assert.deepEqual(s.smtp, { host: 'mail.plant.example', port: 465, tls: 'implicit', user: 'toolroom', password: 'relay secret', from: 'toolroom@plant.example' });
    assert.deepEqual(s.mqtt, { url: 'mqtts://broker.plant.example:8883', site: 'hall-2', topicPrefix: 'toolroom', password: 'broker secret' });
    assert.deepEqual([s.baseUrl, s.escalateAfterMinutes], ['https://toolroom.plant.example', 15]);
  });

  it('a bad setting names its variable and rule', () => {
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_MQTT_URL: 'mqtt://127.0.0.1', TOOLROOM_SITE: 'hall/#' }), /^Error: TOOLROOM_SITE: must not contain the MQTT wildcards/);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_MQTT_URL: 'http://broker' }), /TOOLROOM_MQTT_URL: must be an mqtt:\/\//);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_SMTP_HOST: 'mail', TOOLROOM_SMTP_FROM: 'toolroom' }), /TOOLROOM_SMTP_FROM: must be an e-mail address/);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_SMTP_HOST: 'mail', TOOLROOM_SMTP_FROM: 'a@b.example', TOOLROOM_SMTP_PORT: 'smtp' }), /TOOLROOM_SMTP_PORT/);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_SMTP_HOST: 'mail', TOOLROOM_SMTP_FROM: 'a@b.example', TOOLROOM_SMTP_TLS: 'maybe' }), /TOOLROOM_SMTP_TLS: must be one of: implicit, starttls, none/);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_SMTP_HOST: 'mail', TOOLROOM_SMTP_FROM: 'a@b.example', TOOLROOM_SMTP_PASSWORD_FILE: '/nonexistent/secret' }), /TOOLROOM_SMTP_PASSWORD_FILE: cannot read/);
    assert.throws(() => channelSettingsFromEnv({ TOOLROOM_ESCALATE_AFTER_MINUTES: '0' }), /TOOLROOM_ESCALATE_AFTER_MINUTES: must be at least 1/);
  });
});
