import { describe, expect, it } from 'vitest';
import { isSecretField } from './secret-fields.js';

describe('isSecretField', () => {
  it('knows credential field names in their usual spellings', () => {
    for (const name of [
      'password',
      'DB_PASSWORD',
      'db.password',
      'passwd',
      'passphrase',
      'client_secret',
      'client-secret',
      'AWS_SECRET_ACCESS_KEY',
      'secretKey',
      'private_key',
      'api_key',
      'apiKey',
      'x-api-key',
      'access_token',
      'refreshToken',
      'id_token',
      'session_token',
      'pwd',
    ]) {
      expect({ name, secret: isSecretField(name) }).toEqual({ name, secret: true });
    }
  });

  it('leaves names that only look alike, or are data a caller asked for', () => {
    for (const name of [
      'next_page_token',
      'total_tokens',
      'token_count',
      'session_id',
      'secretary',
      'secrets_count_label',
      'spin',
      'opinion',
      'author',
      'keyboard',
      'password_policy',
      'passwordHint',
      'authorization',
      'pin',
      'cookie_consent',
      'credentials',
    ]) {
      expect({ name, secret: isSecretField(name) }).toEqual({ name, secret: false });
    }
  });
});
