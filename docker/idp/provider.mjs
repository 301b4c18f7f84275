// The OpenID provider the tests and the compose `oidc` profile run: the certified
// `oidc-provider` from npm, with a realm read from a JSON file (node provider.mjs realm.json;
// realm.json here is compose's demo realm, the tests write their own).
//
// What is ours here is only what oidc-provider leaves to its host application: the realm
// (accounts and clients), the sign-in page, and consent granted to the realm's own clients.
// With "test_controls": true the provider also accepts POST /__test/next-token and
// /__test/jwks and /__test/discovery from loopback peers, so a test can make it answer like a
// hostile provider: the next token response carries the ID token the test signed, the JWKS
// endpoint serves the keys the test gives, discovery advertises what the test adds. Everything else (discovery, PKCE, codes, tokens, userinfo,
// RP-initiated and back-channel logout) is oidc-provider's own.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createServer as createPlainServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

// A realm file may name {{VARIABLES}} from the environment (with defaults in "defaults"), so
// compose can place the demo realm on the ports it publishes.
const realmText = readFileSync(process.argv[2], 'utf8');
const realmDefaults = JSON.parse(realmText).defaults || {};
const realm = JSON.parse(
  realmText.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => process.env[name] ?? realmDefaults[name] ?? ''),
);
if (typeof realm.port === 'string') realm.port = Number(realm.port);
// A realm without keys (the demo's) gets a fresh RS256 key and cookie keys on each start.
if (!realm.jwks) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  realm.jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}
realm.cookie_keys ||= [randomUUID(), randomUUID()];
const accounts = realm.accounts;
const tamper = { idTokens: [], jwks: null, discovery: {} };

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:22em;margin:3em auto}input,button{display:block;width:100%;margin:.4em 0;padding:.5em}</style>
</head><body><h1>${escapeHtml(realm.name || 'Demo identity provider')}</h1>${body}</body></html>`;

const configuration = {
  clients: realm.clients,
  jwks: realm.jwks,
  cookies: { keys: realm.cookie_keys },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'groups'],
  },
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // The realm's clients are first-party: consent is granted for the scopes they ask for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    const grant = grantId
      ? await ctx.oidc.provider.Grant.find(grantId)
      : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = Object.hasOwn(accounts, id) ? accounts[id] : undefined;
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  // oidc-provider refuses outgoing calls to private and loopback addresses (SSRF protection);
  // the test and demo realms deliver back-channel logouts to Label Studio on this machine or
  // on the compose network, so the realm file may allow them.
  ...(realm.allow_private_network && {
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
  }),
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
};

const provider = new Provider(realm.issuer, configuration);
provider.proxy = false;

const loopback = (ctx) => ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(ctx.req.socket.remoteAddress);

async function readForm(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

provider.use(async (ctx, next) => {
  const path = ctx.path;
  const interaction = path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (interaction && ctx.method === 'GET' && !interaction[2]) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = page('Sign in', `<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<label>Username <input name="login" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`);
    return;
  }
  if (interaction && ctx.method === 'POST' && interaction[2]) {
    await provider.interactionDetails(ctx.req, ctx.res); // 400s an unknown or expired interaction
    const form = await readForm(ctx);
    const login = form.get('login') || '';
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (!account || account.password !== form.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = page('Sign in', '<p>Wrong username or password.</p><p><a href="javascript:history.back()">Back</a></p>');
      return;
    }
    const target = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(target);
    return;
  }
  if (realm.test_controls && path.startsWith('/__test/')) {
    if (!loopback(ctx) || ctx.method !== 'POST') ctx.throw(404);
    const body = await readJson(ctx);
    if (path === '/__test/next-token') tamper.idTokens.push(body.id_token);
    else if (path === '/__test/jwks') tamper.jwks = body.jwks ?? null;
    else if (path === '/__test/discovery') tamper.discovery = body.discovery ?? {};
    else if (path === '/__test/reset') Object.assign(tamper, { idTokens: [], jwks: null, discovery: {} });
    else ctx.throw(404);
    ctx.status = 204;
    return;
  }
  await next();
  if (path === '/token' && ctx.status === 200 && tamper.idTokens.length && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: tamper.idTokens.shift() };
  }
  if (path === '/jwks' && ctx.status === 200 && tamper.jwks) {
    ctx.body = tamper.jwks;
  }
  if (path === '/.well-known/openid-configuration' && ctx.status === 200) {
    ctx.body = { ...ctx.body, ...tamper.discovery };
  }
});

for (const event of ['backchannel.error', 'server_error']) {
  provider.on(event, (ctx, error) => console.error(`provider ${event}: ${(error || ctx)?.message}`));
}

const handler = provider.callback();
const server = realm.tls
  ? createServer({ key: readFileSync(realm.tls.key), cert: readFileSync(realm.tls.cert) }, handler)
  : createPlainServer(handler);
server.listen(realm.port, realm.host || '127.0.0.1', () => {
  console.log(`provider listening: ${realm.issuer}`);
});
