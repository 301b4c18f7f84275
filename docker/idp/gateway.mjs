// The stand-in for an authenticating gateway's identity check (what oauth2-proxy, Authelia or
// Authentik's outpost answer to nginx's auth_request), and an independent JWT signer (`jose`)
// for gateway assertions and portal-signed login tokens. For tests and compose's `gateway`
// profile, never for real users: anyone may "sign in" as any account of its realm.
//
//   node gateway.mjs gateway.json
//
// Plain HTTP on "port" (behind nginx):
//   GET  /check              200 with X-Auth-Email, -Name, -Groups and -Assertion (a JWT signed
//                            with the current key of "assertion_alg") for the signed-in account,
//                            401 without one: nginx's auth_request asks this on every request
//   GET  /gateway/                            the "sign-in page": a link for each account
//   GET  /gateway/sign-in?user=alice&next=/   the "sign-in": a cookie naming the account
//   GET  /gateway/sign-out   forgets it
// HTTPS on "jwks_port" (with "tls"): GET /jwks, the public keys of every algorithm.
// With "test_controls": true, from loopback peers only:
//   POST /__test/sign {claims, alg, kid?}       a JWT signed by jose with that algorithm's key
//                                               (kid '' leaves the header without one)
//   POST /__test/thumbprint {alg}               jose's RFC 7638 thumbprint of alg's current key
//   POST /__test/rotate {alg, keep_old}         a new key (new kid) for alg
//   POST /__test/jwks-mode {mode}               ok | down | slow | huge | garbage
//   GET  /__test/fetches                        how many times /jwks was asked
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createPlainServer } from 'node:http';
import { createServer } from 'node:https';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const configText = readFileSync(process.argv[2], 'utf8');
const defaults = JSON.parse(configText).defaults || {};
const config = JSON.parse(
  configText.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => process.env[name] ?? defaults[name] ?? ''),
);
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const keys = {}; // alg -> [{kid, privateKey, publicJwk}], newest last
const state = { mode: 'ok', fetches: 0 };
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

async function newKey(alg) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}
for (const alg of ALGORITHMS) keys[alg] = [await newKey(alg)];

const current = (alg) => keys[alg].at(-1);

// kid: the key's own when not given, none at all when '' (a portal with one key may omit it).
async function sign(claims, alg, kid) {
  const key = current(alg);
  const header = kid === '' ? { alg, typ: 'JWT' } : { alg, kid: kid ?? key.kid, typ: 'JWT' };
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

function assertionClaims(account) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: config.assertion_issuer,
    aud: config.assertion_audience,
    sub: account.email,
    email: account.email,
    name: account.name,
    groups: account.groups,
    iat: now,
    exp: now + 600,
  };
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const cookieUser = (req) => /(?:^|;\s*)gw_user=([A-Za-z0-9_-]+)/.exec(req.headers.cookie || '')?.[1];

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

async function gateway(req, res) {
  const url = new URL(req.url, 'http://gateway');
  if (url.pathname === '/check') {
    const account = config.accounts[cookieUser(req)];
    if (!account) return send(res, 401, 'not signed in');
    return send(res, 200, 'ok', {
      'X-Auth-Email': account.email,
      'X-Auth-Name': account.name || '',
      'X-Auth-Groups': (account.groups || []).join(','),
      'X-Auth-Assertion': await sign(assertionClaims(account), config.assertion_alg || 'ES256'),
    });
  }
  if (url.pathname === '/gateway/') {
    const links = Object.entries(config.accounts)
      .map(([user, account]) => `<li><a href="/gateway/sign-in?user=${escapeHtml(user)}">${escapeHtml(account.name || user)}</a> (${escapeHtml(account.email)})</li>`)
      .join('');
    const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Demo gateway</title></head><body>
<h1>Demo gateway</h1><p>Sign in as (no password: a demo of a gateway's identity check):</p><ul>${links}</ul>
<p><a href="/gateway/sign-out">Sign out of the gateway</a></p></body></html>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    return res.end(page);
  }
  if (url.pathname === '/gateway/sign-in') {
    const user = url.searchParams.get('user') || '';
    if (!config.accounts[user]) return send(res, 404, 'no such account');
    const next = (url.searchParams.get('next') || '/').startsWith('/') ? url.searchParams.get('next') || '/' : '/';
    return send(res, 302, '', { Location: next, 'Set-Cookie': `gw_user=${user}; Path=/; HttpOnly; SameSite=Lax` });
  }
  if (url.pathname === '/gateway/sign-out') {
    return send(res, 302, '', { Location: '/gateway/', 'Set-Cookie': 'gw_user=; Path=/; Max-Age=0' });
  }
  if (url.pathname.startsWith('/__test/') && config.test_controls && LOOPBACK.has(req.socket.remoteAddress)) {
    return testControl(url.pathname.slice('/__test/'.length), req, res);
  }
  return send(res, 404, 'not found');
}

async function testControl(name, req, res) {
  if (name === 'fetches') return send(res, 200, { fetches: state.fetches });
  const body = await readJson(req);
  if (name === 'thumbprint') return send(res, 200, { thumbprint: await calculateJwkThumbprint(current(body.alg || 'ES256').publicJwk) });
  if (name === 'sign') return send(res, 200, { token: await sign(body.claims, body.alg || 'ES256', body.kid) });
  if (name === 'rotate') {
    const fresh = await newKey(body.alg || 'ES256');
    keys[body.alg || 'ES256'] = body.keep_old ? [...keys[body.alg || 'ES256'], fresh] : [fresh];
    return send(res, 200, { kid: fresh.kid });
  }
  if (name === 'jwks-mode') {
    state.mode = body.mode;
    return send(res, 200, { mode: state.mode });
  }
  if (name === 'reset') {
    state.mode = 'ok';
    state.fetches = 0;
    return send(res, 200, {});
  }
  return send(res, 404, 'no such control');
}

function jwks(req, res) {
  if (new URL(req.url, 'https://gateway').pathname !== '/jwks') return send(res, 404, 'not found');
  state.fetches += 1;
  const published = { keys: ALGORITHMS.flatMap((alg) => keys[alg].map((key) => key.publicJwk)) };
  switch (state.mode) {
    case 'down':
      return send(res, 503, 'down for maintenance');
    case 'slow': // longer than any sane fetch timeout; the test's client gives up first
      return setTimeout(() => send(res, 200, published), config.slow_ms || 30000);
    case 'huge':
      return send(res, 200, { keys: published.keys, padding: 'x'.repeat(2 * 1024 * 1024) });
    case 'garbage':
      return send(res, 200, '<html>not a key set</html>');
    default:
      return send(res, 200, published);
  }
}

const host = config.host || '127.0.0.1';
createPlainServer((req, res) => gateway(req, res).catch((error) => send(res, 400, String(error.message)))).listen(
  Number(config.port),
  host,
  () => console.log(`gateway listening: http://${host}:${config.port}`),
);
if (config.tls) {
  createServer({ key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) }, jwks).listen(
    Number(config.jwks_port),
    host,
    () => console.log(`gateway keys: https://${host}:${config.jwks_port}/jwks`),
  );
}
