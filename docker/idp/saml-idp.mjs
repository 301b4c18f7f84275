// The SAML 2.0 identity provider the tests run: samlify (a maintained SAML library for Node)
// as an IdP, with a realm read from a JSON file (node saml-idp.mjs realm.json).
//
// samlify parses and schema-checks the service provider's AuthnRequest (HTTP-Redirect) and
// signs the response it posts back (xml-crypto, exclusive canonicalization, RSA-SHA256).
// What is ours here is what samlify leaves to its host: the accounts, the sign-in page, the
// response template (with an AuthnStatement and the realm's attributes) and the page that
// posts the response to the ACS. With "test_controls": true the IdP also accepts
// POST /__test/next-response from loopback peers, so a test can make the next response
// hostile (another audience, another signing key, no signature, an old time window, ...).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createServer as createPlainServer } from 'node:http';
import * as samlify from 'samlify';
import * as validator from '@authenio/samlify-node-xmllint';

samlify.setSchemaValidator(validator);

const realm = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const pending = new Map(); // sign-in id -> { requestId, relayState }
let nextResponse = null; // the test's overrides for the next response only

const escapeXml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);

const identityProvider = (signing, algorithm) =>
  samlify.IdentityProvider({
    entityID: realm.entity_id,
    privateKey: readFileSync(signing.key),
    signingCert: readFileSync(signing.cert),
    requestSignatureAlgorithm: algorithm || 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    isAssertionEncrypted: false,
    nameIDFormat: [realm.name_id_format || 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: `${realm.base_url}/sso` }],
  });

const serviceProvider = (sign) =>
  samlify.ServiceProvider({
    entityID: realm.sp.entity_id,
    wantAssertionsSigned: sign === 'assertion' || sign === 'both',
    wantMessageSigned: sign === 'response' || sign === 'both',
    assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: realm.sp.acs_url }],
  });

const attributeStatement = (attributes) => {
  const entries = Object.entries(attributes || {});
  if (!entries.length) return '';
  const values = (list) =>
    (Array.isArray(list) ? list : [list])
      .map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue>`)
      .join('');
  return `<saml:AttributeStatement>${entries
    .map(([name, list]) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${values(list)}</saml:Attribute>`)
    .join('')}</saml:AttributeStatement>`;
};

const shifted = (seconds) => new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The response XML for one account, before samlify signs it; `o` holds the test's overrides.
const responseXml = (account, requestId, o) => {
  const id = `_${randomUUID()}`;
  const assertionId = o.assertion_id || `_${randomUUID()}`;
  const inResponseTo = o.in_response_to !== undefined ? o.in_response_to : requestId;
  const irt = inResponseTo ? ` InResponseTo="${escapeXml(inResponseTo)}"` : '';
  const now = shifted(o.issued_offset || 0);
  const destination = o.destination !== undefined ? o.destination : realm.sp.acs_url;
  const issuer = escapeXml(o.issuer || realm.entity_id);
  const audience = o.audience !== undefined ? o.audience : realm.sp.entity_id;
  const recipient = o.recipient !== undefined ? o.recipient : realm.sp.acs_url;
  const status = o.status || 'urn:oasis:names:tc:SAML:2.0:status:Success';
  const nameId = o.name_id !== undefined ? o.name_id : account.email;
  const format = o.name_id_format || realm.name_id_format || 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
  const notBefore = shifted(o.not_before_offset ?? -5);
  const notOnOrAfter = shifted(o.not_on_or_after_offset ?? 300);
  const attributes = { ...(account.attributes || {}), ...(o.attributes || {}) };
  return {
    id,
    context:
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${now}"${destination ? ` Destination="${escapeXml(destination)}"` : ''}${irt}>` +
      `<saml:Issuer>${issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${escapeXml(status)}"/></samlp:Status>` +
      `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${assertionId}" Version="2.0" IssueInstant="${now}">` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="${escapeXml(format)}">${escapeXml(nameId)}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}"${recipient ? ` Recipient="${escapeXml(recipient)}"` : ''}${irt}/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}">${audience ? `<saml:AudienceRestriction><saml:Audience>${escapeXml(audience)}</saml:Audience></saml:AudienceRestriction>` : ''}</saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${now}" SessionIndex="${escapeXml(o.session_index || `_session-${randomUUID()}`)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `${attributeStatement(attributes)}</saml:Assertion></samlp:Response>`,
  };
};

const loginResponse = async (account, requestId) => {
  const o = nextResponse || {};
  nextResponse = null;
  const template = responseXml(account, requestId, o);
  if (o.sign === 'none') return Buffer.from(template.context).toString('base64');
  const signing = o.sign_with === 'stranger' ? realm.stranger : realm.signing;
  const idp = identityProvider(signing, o.algorithm);
  const sp = serviceProvider(o.sign || realm.sign || 'assertion');
  const { context } = await idp.createLoginResponse(sp, {}, 'post', account, { customTagReplacement: () => template });
  return context;
};

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:22em;margin:3em auto}input,button{display:block;width:100%;margin:.4em 0;padding:.5em}</style>
</head><body><h1>${escapeHtml(realm.name || 'Demo SAML identity provider')}</h1>${body}</body></html>`;
const signInPage = (uid, error) =>
  page('Sign in', `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="/sso/login">
<input type="hidden" name="uid" value="${escapeHtml(uid)}"><label>Username <input name="username" autofocus></label>
<label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form>`);
const postPage = (response, relayState) =>
  page('Signing in', `<form id="saml" method="post" action="${escapeHtml(realm.sp.acs_url)}">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(response)}">
${relayState ? `<input type="hidden" name="RelayState" value="${escapeHtml(relayState)}">` : ''}
<noscript><button type="submit">Continue</button></noscript></form><script>document.getElementById('saml').submit()</script>`);

const readBody = (request) =>
  new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
      if (body.length > 65536) reject(new Error('too large'));
    });
    request.on('end', () => resolve(body));
  });

const send = (response, status, body, type = 'text/html; charset=utf-8') => {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(body);
};

const isLoopback = (request) => ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(request.socket.remoteAddress);

const handler = async (request, response) => {
  const url = new URL(request.url, realm.base_url);
  try {
    if (request.method === 'GET' && url.pathname === '/metadata') {
      return send(response, 200, identityProvider(realm.signing).getMetadata(), 'application/samlmetadata+xml');
    }
    if (request.method === 'GET' && url.pathname === '/sso') {
      const query = Object.fromEntries(url.searchParams);
      const parsed = await identityProvider(realm.signing).parseLoginRequest(serviceProvider(realm.sign), 'redirect', { query });
      const uid = randomUUID();
      pending.set(uid, { requestId: parsed.extract.request.id, relayState: query.RelayState || '' });
      return send(response, 200, signInPage(uid));
    }
    if (request.method === 'GET' && url.pathname === '/idp-initiated') {
      const uid = randomUUID();
      pending.set(uid, { requestId: null, relayState: url.searchParams.get('RelayState') || '' });
      return send(response, 200, signInPage(uid));
    }
    if (request.method === 'POST' && url.pathname === '/sso/login') {
      const form = new URLSearchParams(await readBody(request));
      const signIn = pending.get(form.get('uid') || '');
      if (!signIn) return send(response, 400, page('Sign in', '<p>This sign-in expired. Start again.</p>'));
      const account = realm.accounts[form.get('username') || ''];
      if (!account || account.password !== form.get('password')) {
        return send(response, 200, signInPage(form.get('uid'), 'Wrong username or password.'));
      }
      pending.delete(form.get('uid'));
      return send(response, 200, postPage(await loginResponse(account, signIn.requestId), signIn.relayState));
    }
    if (request.method === 'POST' && url.pathname === '/__test/next-response' && realm.test_controls && isLoopback(request)) {
      nextResponse = JSON.parse(await readBody(request));
      return send(response, 204, '');
    }
    return send(response, 404, page('Not found', '<p>Not found.</p>'));
  } catch (error) {
    console.error(`saml-idp: ${error.message}`);
    return send(response, 400, page('Error', '<p>The request was refused.</p>'));
  }
};

const server = realm.tls
  ? createServer({ key: readFileSync(realm.tls.key), cert: readFileSync(realm.tls.cert) }, handler)
  : createPlainServer(handler);
server.listen(realm.port, realm.host || '127.0.0.1', () => {
  console.log(`saml idp listening: ${realm.base_url}`);
});
