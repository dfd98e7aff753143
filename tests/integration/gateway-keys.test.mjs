// Guards issue 6 (gateway semantics): tokens signed with a public-key
// algorithm (RS256, ES256 with a PEM public key file), the algorithm pinned
// (an HS256 token signed with the public key's text — algorithm confusion
// — is refused), and the optional issuer and audience checks.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSign, generateKeyPairSync, createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { startGateway } from "./lib.mjs";

const b64 = (x) => Buffer.from(x).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

function signed(alg, key, claims) {
  const head = b64(JSON.stringify({ alg, typ: "JWT" }));
  const body = b64(JSON.stringify({ iat: now(), exp: now() + 3600, ...claims }));
  const input = `${head}.${body}`;
  let sig;
  if (alg === "HS256") sig = createHmac("sha256", key).update(input).digest("base64url");
  else {
    const s = createSign("sha256");
    s.update(input);
    sig = s.sign(alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key).toString("base64url");
  }
  return `${input}.${sig}`;
}

const REFUSED = "refused:Invalid authentication token";

// Resolves "connected:<user>" or "refused:<message>".
function attempt(url, tok) {
  const s = io(url, { auth: { token: tok }, transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    const t = setTimeout(() => { s.close(); resolve("timeout"); }, 10000);
    s.on("connected", (c) => { clearTimeout(t); s.close(); resolve(`connected:${c.user_id}`); });
    s.on("connect_error", (e) => { clearTimeout(t); s.close(); resolve(`refused:${e.message}`); });
  });
}

for (const alg of ["RS256", "ES256"]) {
  describe(`${alg} with jwt_public_key_file, issuer and audience`, () => {
    let gw, keys, pub;
    before(async () => {
      keys = alg === "RS256"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ec", { namedCurve: "P-256" });
      pub = keys.publicKey.export({ type: "spki", format: "pem" });
      const file = join(mkdtempSync(join(tmpdir(), "sgw-keys-")), "key.pub");
      writeFileSync(file, pub);
      gw = await startGateway({ workers: 2, conf:
        `jwt_algorithm ${alg}\njwt_public_key_file "${file}"\n` +
        `jwt_issuer "https://issuer.example"\njwt_audience "chat"\n` });
    });
    after(async () => { await gw?.stop(); });

    const good = { sub: "kim", iss: "https://issuer.example", aud: "chat" };

    test("a token signed with the private key is accepted", async () => {
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, good)), "connected:kim");
    });
    test("another key's signature is refused", async () => {
      const other = alg === "RS256"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ec", { namedCurve: "P-256" });
      assert.equal(await attempt(gw.url, signed(alg, other.privateKey, good)), REFUSED);
    });
    test("algorithm confusion: HS256 signed with the public key's text is refused", async () => {
      assert.equal(await attempt(gw.url, signed("HS256", pub, good)), REFUSED);
    });
    // A wrong or missing iss or aud gets the same answer as a bad
    // signature (src/auth.c): nothing that tells a forger which check failed.
    test("a wrong or missing issuer is refused", async () => {
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, { ...good, iss: "https://evil" })),
        REFUSED);
      const { iss, ...noIss } = good;
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, noIss)), REFUSED);
    });
    test("a wrong audience is refused", async () => {
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, { ...good, aud: "other" })), REFUSED);
      const { aud, ...noAud } = good;
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, noAud)), REFUSED);
      for (const bad of [["other", "more"], [], [7, { chat: 1 }], 7])
        assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, { ...good, aud: bad })), REFUSED,
          `aud ${JSON.stringify(bad)}`);
    });
    test("an audience array that holds ours is accepted (RFC 7519 4.1.3)", async () => {
      assert.equal(await attempt(gw.url, signed(alg, keys.privateKey, { ...good, aud: ["other", "chat"] })),
        "connected:kim");
    });
  });
}
