// A real OpenID Connect provider for the portal's SSO tests (npm "oidc-provider").
//
//   node server.js PORT CONFIG.json
//
// CONFIG.json: {"clients": [{client_id, client_secret, redirect_uris}],
//               "accounts": {"alice": {"email": ..., "email_verified": true,
//                                      "groups": [...], "amr": ["pwd", "otp"]}}}
// The file is read again at every sign-in, so a test changes a user's claims between
// two logins by rewriting it. The sign-in page is a plain form (POST login=<sub>):
// the account's "amr"/"acr" become the session's authentication methods, as a
// provider that asked for a second factor would report them. Consent is implied
// (first-party client).
import fs from "node:fs";
import http from "node:http";

import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const configPath = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;

function readConfig() {
  return JSON.parse(fs.readFileSync(configPath, "utf8"));
}

const provider = new Provider(issuer, {
  clients: readConfig().clients.map((c) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
    ...c,
  })),
  claims: {
    // acr and amr come from the sign-in (interactionFinished), not from the account
    openid: ["sub", "acr", "amr", "auth_time"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => false },
  cookies: { keys: ["portal-test-only"] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = readConfig().accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { amr, acr, ...claims } = account;
        return { sub, ...claims };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const callback = provider.callback();

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  if (req.method === "GET") {
    res.setHeader("content-type", "text/html");
    res.end(
      `<form method="post" action="/interaction/${uid}">` +
        `<input name="login"><button>Sign in</button></form>`,
    );
    return;
  }
  let body = "";
  for await (const chunk of req) body += chunk;
  const login = new URLSearchParams(body).get("login");
  const account = readConfig().accounts[login];
  if (!account) {
    res.statusCode = 400;
    res.end("unknown account");
    return;
  }
  const result = { login: { accountId: login } };
  if (account.amr) result.login.amr = account.amr;
  if (account.acr) result.login.acr = account.acr;
  await provider.interactionFinished(req, res, result, {
    mergeWithLastSubmission: false,
  });
}

http
  .createServer(async (req, res) => {
    const match = req.url.match(/^\/interaction\/([^/?]+)$/);
    if (match) {
      try {
        await interaction(req, res, match[1]);
      } catch (err) {
        res.statusCode = 400;
        res.end(String(err));
      }
      return;
    }
    callback(req, res);
  })
  .listen(port, "127.0.0.1", () => {
    console.log(`oidc-provider listening on ${issuer}`);
  });
