// An app that signs people in through Portcullis, with openid-client (an OpenID Certified
// relying-party library) doing every check itself: discovery, the authorization URL with PKCE,
// state and nonce, the code exchange and the ID token's validation, UserInfo, refresh,
// revocation and the RP-initiated logout URL.
//
// ISSUER, CLIENT_ID, PORT and (for a confidential client) CLIENT_SECRET come from the
// environment. It prints "listening <url>" once it serves:
//   GET /login        starts a sign-in (a 302 to Portcullis' authorization endpoint)
//   GET /callback     finishes it, runs UserInfo, refresh and revocation, and shows the
//                     outcome as JSON in <pre id="outcome">, with a "Sign out" link
//   GET /signed-out   where Portcullis sends the person after logout

import http from "node:http";
import * as client from "openid-client";

const issuer = new URL(process.env.ISSUER);
const port = Number(process.env.PORT);
const secret = process.env.CLIENT_SECRET || undefined;
const base = `http://127.0.0.1:${port}`;
const redirectUri = `${base}/callback`;

const config = await client.discovery(
  issuer,
  process.env.CLIENT_ID,
  secret ? { client_secret: secret } : undefined,
  secret ? client.ClientSecretBasic(secret) : client.None(),
  // Portcullis runs on loopback over http in the tests; nothing else is relaxed.
  { execute: [client.allowInsecureRequests] },
);

// One sign-in at a time is all a test needs.
let pending = null;

function page(response, status, title, body) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  response.end(`<!doctype html><html lang="en"><title>${title}</title><h1>${title}</h1>${body}`);
}

const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

async function callback(url) {
  const tokens = await client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedClaims = refreshed.claims();
  await client.tokenRevocation(config, refreshed.refresh_token, {
    token_type_hint: "refresh_token",
  });
  let afterRevocation = "refreshed";
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
  } catch (error) {
    afterRevocation = error.error ?? String(error);
  }
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token,
    post_logout_redirect_uri: `${base}/signed-out`,
    state: "signed-out-state",
  });
  return {
    outcome: {
      claims,
      userinfo,
      scope: tokens.scope,
      refreshed_sub: refreshedClaims.sub,
      refreshed_sid: refreshedClaims.sid,
      refresh_rotated: refreshed.refresh_token !== tokens.refresh_token,
      after_revocation: afterRevocation,
    },
    logout: logout.href,
  };
}

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url, base);
  try {
    if (url.pathname === "/login") {
      const verifier = client.randomPKCECodeVerifier();
      pending = {
        verifier,
        state: client.randomState(),
        nonce: client.randomNonce(),
      };
      const authorize = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: "openid profile email",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: pending.state,
        nonce: pending.nonce,
        ...(url.searchParams.get("login_hint")
          ? { login_hint: url.searchParams.get("login_hint") }
          : {}),
      });
      response.writeHead(302, { location: authorize.href });
      response.end();
    } else if (url.pathname === "/callback") {
      const { outcome, logout } = await callback(url);
      page(
        response,
        200,
        "Signed in",
        `<pre id="outcome">${escape(JSON.stringify(outcome))}</pre>` +
          `<p><a id="logout" href="${escape(logout)}">Sign out</a></p>`,
      );
    } else if (url.pathname === "/signed-out") {
      page(
        response,
        200,
        "Signed out",
        `<p id="state">${escape(url.searchParams.get("state") ?? "")}</p>`,
      );
    } else {
      page(response, 404, "Not found", "");
    }
  } catch (error) {
    page(
      response,
      500,
      "Sign-in failed",
      `<pre id="error">${escape(`${error.name}: ${error.code ?? ""} ${error.message} ${error.error ?? ""} ${error.error_description ?? ""}`)}</pre>`,
    );
  }
});

server.listen(port, "127.0.0.1", () => console.log(`listening ${base}`));
