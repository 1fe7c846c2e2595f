// A real OpenID provider on loopback for the Portcullis tests: `oidc-provider` with its dev
// interactions (any login and password sign in), one confidential client, and accounts made up
// from the login: the login is the account id (`sub`) and the email, and a login that starts with
// `unverified` has `email_verified: false`. Prints `listening <issuer>` once it serves.
import http from 'node:http';
import crypto from 'node:crypto';

import Provider from 'oidc-provider';

const clientId = process.env.OIDC_CLIENT_ID ?? 'portcullis';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'portcullis-test-secret';
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL ?? 120);

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    // Native: a loopback redirect URI matches on any port (RFC 8252), so one client serves the
    // Portcullis server of every test.
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/v1/oauth/google/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Like Google: the email claims are in the ID token itself.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  ttl: { IdToken: idTokenTtl },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id,
          email_verified: !id.startsWith('unverified'),
        };
      },
    };
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

server.on('request', provider.callback());
console.log(`listening ${issuer}`);
