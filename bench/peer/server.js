// The load test's peer (bench/loadtest.py starts it; docs/performance.md): what a
// team would write instead of this project, in the style of Sigma's embedding
// quickstarts (Express + jsonwebtoken), with sessions in Redis as a multi-process
// deployment needs. It signs the same token as embeds.signing for the same user
// and answers a page of the same weight, so the load test can put the two side by
// side. It keeps no audit trail, no revocation check and no rate limit: that
// difference is what the comparison measures.
//
// Environment (all set by bench/loadtest.py): PORT, REDIS_URL, SESSION_SECRET,
// EMBED_SECRET, CLIENT_ID, EMBED_URL (the content URL), INTERFACE_OPTIONS (a query
// string), PEER_USER (JSON: username, email, account_type, teams, user_attributes),
// PAGE_BYTES (the size of the Django embed page), TOKEN_TTL (seconds).
"use strict";

const crypto = require("node:crypto");
const express = require("express");
const session = require("express-session");
const { RedisStore } = require("connect-redis");
const { createClient } = require("redis");
const jwt = require("jsonwebtoken");

const env = process.env;
const PORT = Number(env.PORT || 3000);
const PAGE_BYTES = Number(env.PAGE_BYTES || 0);
const TOKEN_TTL = Number(env.TOKEN_TTL || 3600);
const USER = JSON.parse(env.PEER_USER);

const redis = createClient({ url: env.REDIS_URL });
redis.on("error", (error) => console.error("redis:", error.message));

const app = express();
app.disable("x-powered-by");
app.use(express.json({ limit: "4kb" }));
app.use(
  session({
    store: new RedisStore({ client: redis, prefix: "peer-sess:", disableTouch: true }),
    secret: env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", maxAge: 8 * 3600 * 1000 },
  }),
);

// The same claims as embeds.signing.build_claims for an embed user.
function signedUrl(user) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: user.email,
    iss: env.CLIENT_ID,
    aud: "sigmacomputing",
    ver: "1.1",
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + TOKEN_TTL,
    account_type: user.account_type,
    teams: user.teams,
  };
  if (user.user_attributes && Object.keys(user.user_attributes).length) {
    claims.user_attributes = user.user_attributes;
  }
  const token = jwt.sign(claims, env.EMBED_SECRET, {
    algorithm: "HS256",
    header: { alg: "HS256", typ: "JWT", kid: env.CLIENT_ID },
  });
  const options = env.INTERFACE_OPTIONS ? `&${env.INTERFACE_OPTIONS}` : "";
  return { url: `${env.EMBED_URL}?:jwt=${token}&:embed=true${options}`, claims };
}

function escapeHtml(value) {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(url) {
  const html =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" +
    "<title>Sales overview</title></head><body><main>" +
    `<iframe id="sigma-embed" title="Sales overview" data-src="${escapeHtml(url)}"></iframe>` +
    "</main></body></html>";
  // Padded to the Django page's size: the same bytes on the wire.
  const padding = PAGE_BYTES - Buffer.byteLength(html) - 8;
  return padding > 0 ? html + `<!--${" ".repeat(padding)}-->\n` : html;
}

function noStore(res) {
  res.set("Cache-Control", "no-store");
  res.set("Referrer-Policy", "no-referrer");
}

// Sign-in: the quickstarts take the user from the host's own login; the identity
// (what the claims are built from) is kept in the session, in Redis.
app.post("/login", (req, res, next) => {
  if (req.body?.username !== USER.username) return res.status(403).json({ error: "unknown user" });
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = USER;
    res.json({ ok: true });
  });
});

function loginRequired(req, res, next) {
  if (!req.session.user) return res.status(401).json({ error: "login_required" });
  next();
}

app.get("/embeds/:slug/", loginRequired, (req, res) => {
  const { url } = signedUrl(req.session.user);
  noStore(res);
  res.type("html").send(page(url));
});

app.post("/embeds/:slug/url/", loginRequired, (req, res) => {
  const { url, claims } = signedUrl(req.session.user);
  noStore(res);
  res.json({
    url,
    expiresIn: claims.exp - claims.iat,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  });
});

app.get("/readyz", (req, res) => res.json({ ok: redis.isReady }));

redis.connect().then(() => {
  app.listen(PORT, "127.0.0.1", () => console.log(`peer listening on 127.0.0.1:${PORT}`));
});
