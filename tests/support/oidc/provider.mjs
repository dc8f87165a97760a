// A real OpenID Connect provider for Central's SSO tests: panva's oidc-provider with its
// development login and consent pages. One JSON argument configures it:
//   {"port": 0, "issuer": "http://127.0.0.1:PORT", "clients": [{client_id, client_secret, redirect_uris}],
//    "accounts": {"<login>": {"email": "...", "email_verified": true}}}
// A login not listed in `accounts` is its own email, verified. Prints "listening <port>" when ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? '{}');
const accounts = config.accounts ?? {};

const provider = new Provider(config.issuer, {
  clients: config.clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the requested claims, as most enterprise providers do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, accountId) {
    const account = accounts[accountId] ?? { email: accountId, email_verified: true };
    return {
      accountId,
      async claims() {
        return { sub: accountId, name: accountId, ...account };
      },
    };
  },
});

const server = http.createServer(provider.callback());
server.listen(config.port ?? 0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
