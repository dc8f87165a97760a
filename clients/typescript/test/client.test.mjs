// @central/client against a real stack: CENTRAL_URL is its gateway (tests/clients/test_typescript_client.py).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { CentralError, createCentralClient } from "../dist/index.js";
import { fetchWithCookies } from "./cookie-jar.mjs";

const baseUrl = process.env.CENTRAL_URL;
assert.ok(baseUrl, "CENTRAL_URL names the gateway");
const password = "a long enough password";

test("signup, login, /me, paging, a 409, logout", async () => {
  const slug = `ts-${randomBytes(4).toString("hex")}`;
  const email = `admin@${slug}.example.com`;
  const admin = createCentralClient({ baseUrl, fetch: fetchWithCookies() });

  const signedUp = await admin.POST("/signup", {
    body: { tenantSlug: slug, tenantDisplayName: "TS Inc.", email, password, displayName: "Ada" },
  });
  const tenantId = signedUp.tenant?.tenantId;
  assert.ok(tenantId);

  // A second client, a second cookie jar: a fresh login.
  const central = createCentralClient({ baseUrl, fetch: fetchWithCookies() });
  await assert.rejects(central.GET("/me"), (error) => error instanceof CentralError && error.status === 401);
  const login = await central.POST("/auth/password-login", { body: { tenantId, email, password } });
  assert.equal(login.tenantUser?.email, email);
  const me = await central.GET("/me");
  assert.equal(me.tenantUser?.displayName, "Ada");
  assert.equal(me.tenantUser?.role, "admin");

  const created = [];
  for (let i = 0; i < 4; i++) {
    const { tenantUser } = await central.POST("/tenants/{tenantId}/users", {
      params: { path: { tenantId } },
      body: { email: `user${i}@${slug}.example.com`, displayName: `User ${i}`, role: "member", password },
    });
    created.push(tenantUser?.tenantUserId);
  }
  // Pages of two: three pages for five users, each followed by its nextCursor.
  const seen = [];
  for await (const user of central.iterate("/tenants/{tenantId}/users", {
    params: { path: { tenantId }, query: { limit: 2 } },
  })) {
    seen.push(user.tenantUserId);
  }
  assert.equal(seen.length, 5);
  assert.equal(new Set(seen).size, 5);
  for (const id of created) assert.ok(seen.includes(id));

  const taken = await central
    .POST("/tenants/{tenantId}/users", {
      params: { path: { tenantId } },
      body: { email: `user0@${slug}.example.com`, displayName: "Again", role: "member", password },
    })
    .then(
      () => assert.fail("a taken email is a conflict"),
      (error) => error,
    );
  assert.ok(taken instanceof CentralError);
  assert.equal(taken.status, 409);
  assert.equal(taken.code, "ALREADY_EXISTS");
  assert.equal(taken.reason, "EMAIL_TAKEN");

  await central.POST("/auth/logout");
  await assert.rejects(central.GET("/me"), (error) => error instanceof CentralError && error.status === 401);
  // The other session, the signup's, is untouched.
  assert.equal((await admin.GET("/me")).tenantUser?.email, email);
});

test("a bad field is a 400 with its field violation", async () => {
  const central = createCentralClient({ baseUrl, fetch: fetchWithCookies() });
  const error = await central
    .POST("/signup", {
      body: { tenantSlug: "NOT A SLUG", tenantDisplayName: "x", email: "nobody", password, displayName: "x" },
    })
    .catch((e) => e);
  assert.ok(error instanceof CentralError);
  assert.equal(error.status, 400);
  assert.equal(error.code, "INVALID_ARGUMENT");
  const fields = error.fieldViolations.map((v) => v.field);
  assert.ok(fields.includes("tenantSlug") || fields.includes("tenant_slug"), JSON.stringify(fields));
});
