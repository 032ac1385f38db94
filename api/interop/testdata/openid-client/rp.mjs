// A stock relying party: openid-client 6, configured from the issuer URL
// alone (discovery), against a running unilogin. TestNodeOpenIDClient
// (api/interop) starts the server, runs this script and plays the browser:
// the script prints {"step", "url"} lines, the test answers each with the
// URL the browser ended up at, {"url"}. Every check fails the script
// (exit status 1) with the reason on stderr; at the end it prints
// {"step": "done", ...} with what it saw.
//
// Usage: node rp.mjs <issuer> <client id> <client secret> <redirect URI>
//        <post-logout redirect URI> <service client id> <service secret> <e-mail>
import assert from 'node:assert/strict'
import { createInterface } from 'node:readline'
import * as client from 'openid-client'

const [issuer, clientId, clientSecret, redirectUri, postLogoutUri, svcId, svcSecret, email] = process.argv.slice(2)
assert.ok(email, 'usage: node rp.mjs <issuer> <client id> <client secret> <redirect URI> <post-logout URI> <service id> <service secret> <e-mail>')

const input = createInterface({ input: process.stdin })
const lines = input[Symbol.asyncIterator]()
// browse hands a URL to the test's browser and returns where it ended up.
async function browse (step, url) {
  process.stdout.write(JSON.stringify({ step, url: url.href }) + '\n')
  const { value, done } = await lines.next()
  assert.ok(!done, `no answer to step ${step}`)
  return new URL(JSON.parse(value).url)
}

// The test server speaks plain http on 127.0.0.1; openid-client asks for
// that to be allowed explicitly. Nothing else is configured.
const insecure = { execute: [client.allowInsecureRequests] }
const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(clientSecret), insecure)
const meta = config.serverMetadata()
for (const f of ['userinfo_endpoint', 'introspection_endpoint', 'end_session_endpoint', 'revocation_endpoint']) {
  assert.ok(meta[f], `discovery has no ${f}`)
}

// Authorization code flow with PKCE, nonce and state; the browser signs in.
const verifier = client.randomPKCECodeVerifier()
const nonce = client.randomNonce()
const state = client.randomState()
const authURL = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid email profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce,
  state
})
const callback = await browse('authorize', authURL)
// Checks state, iss (RFC 9207), the ID token's signature (JWKS from
// discovery), iss, aud, exp, nonce and at_hash.
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true
})
const claims = tokens.claims()
assert.equal(claims.iss, issuer)
assert.equal(claims.nonce, nonce)
assert.equal(claims.email, email)
assert.ok(claims.sid && claims.auth_time && Array.isArray(claims.amr), 'ID token lacks sid, auth_time or amr')
assert.ok(tokens.refresh_token, 'no refresh token')

const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
assert.equal(userinfo.email, email)
assert.equal(userinfo.name, 'Node User')

// Refresh: a new pair and a fresh ID token for the same user, auth_time kept.
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
const claims2 = refreshed.claims()
assert.equal(claims2.sub, claims.sub)
assert.equal(claims2.auth_time, claims.auth_time)
assert.equal(claims2.nonce, undefined)
assert.notEqual(refreshed.refresh_token, tokens.refresh_token)

// What the library must refuse: an ID token with another nonce than the
// request's, and a code presented with a wrong PKCE verifier. (The
// browser is signed in now, so these authorizations answer at once.)
async function authorize (nonce) {
  const v = client.randomPKCECodeVerifier()
  const st = client.randomState()
  const cb = await browse('authorize', client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(v), code_challenge_method: 'S256', nonce, state: st
  }))
  return { v, st, cb }
}
const other = await authorize(client.randomNonce())
await assert.rejects(client.authorizationCodeGrant(config, other.cb, { pkceCodeVerifier: other.v, expectedNonce: client.randomNonce(), expectedState: other.st }),
  (err) => err.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && /"nonce"/.test(err.cause?.message), 'a nonce mismatch was accepted')
const wrong = await authorize(nonce)
await assert.rejects(client.authorizationCodeGrant(config, wrong.cb, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedNonce: nonce, expectedState: wrong.st }),
  (err) => err.error === 'invalid_grant', 'a wrong PKCE verifier was accepted')

// Introspection (RFC 7662) as the confidential app.
const live = await client.tokenIntrospection(config, refreshed.access_token)
assert.equal(live.active, true)
assert.equal(live.sub, claims.sub)
assert.equal(live.client_id, clientId)
assert.equal(live.token_type, 'access_token')

// A service's own token (client_credentials): no refresh or ID token;
// active until it expires.
const svc = await client.discovery(new URL(issuer), svcId, svcSecret, undefined, insecure)
const own = await client.clientCredentialsGrant(svc, { scope: 'docs:read' })
assert.equal(own.scope, 'docs:read')
assert.equal(own.refresh_token, undefined)
assert.equal(own.id_token, undefined)
const ownLive = await client.tokenIntrospection(svc, own.access_token)
assert.equal(ownLive.active, true)
assert.equal(ownLive.sub, svcId)

// RP-initiated logout: the browser follows the end-session URL and comes
// back to the registered post-logout URI with our state.
const logoutState = client.randomState()
const endURL = client.buildEndSessionUrl(config, {
  id_token_hint: refreshed.id_token, post_logout_redirect_uri: postLogoutUri, state: logoutState
})
const back = await browse('logout', endURL)
assert.equal(back.origin + back.pathname, postLogoutUri)
assert.equal(back.searchParams.get('state'), logoutState)
const ended = await client.tokenIntrospection(config, refreshed.access_token)
assert.equal(ended.active, false)
await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), (err) => err.error === 'invalid_grant',
  'the session still refreshes after logout')

// The code is single use (a replay also ends the session it started,
// so this comes last).
await assert.rejects(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state }),
  (err) => err.error === 'invalid_grant', 'a replayed code was accepted')

input.close()
process.stdout.write(JSON.stringify({ step: 'done', sub: claims.sub, sid: claims.sid }) + '\n')
