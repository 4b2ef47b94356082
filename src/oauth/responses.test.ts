import { describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { oauthErrorResponse } from './responses.js';

describe('oauthErrorResponse', () => {
  it('gives an internal failure no detail but the request id of its log line', async () => {
    const response = oauthErrorResponse(new Error('SQLITE_BUSY /srv/rampart.db'), {}, 'req-1');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: 'server_error',
      error_description: 'internal error (request id req-1)',
    });
  });

  it("passes an OAuth error's code and description", async () => {
    const response = oauthErrorResponse(new OAuthError('invalid_grant', 'code expired'), {});
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: 'code expired' });
  });
});
