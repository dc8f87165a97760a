// The sign-in page in Debian's Chromium, driven by playwright-core (no browser download).
// Run by tests/clients/test_browser.py, which starts the gateway over HTTPS with a certificate
// it made, serves a page of another origin, and creates the tenant and the user:
// CENTRAL_URL, OTHER_ORIGIN_URL, TENANT_SLUG, USER_EMAIL, USER_PASSWORD, USER_NAME.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
};
const gateway = env("CENTRAL_URL");
const otherOrigin = env("OTHER_ORIGIN_URL");
const user = { slug: env("TENANT_SLUG"), email: env("USER_EMAIL"), password: env("USER_PASSWORD"), name: env("USER_NAME") };
const COOKIE = "__Host-central-session";

let browser;
let profile;

before(async () => {
  profile = await mkdtemp(join(tmpdir(), "central-chromium-"));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // The flags this machine needs: no sandbox as root, and no calls home on a closed network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await rm(profile, { recursive: true, force: true });
});

// The certificate is the test's own, made for this run: the context accepts it.
const newContext = () => browser.newContext({ ignoreHTTPSErrors: true });

async function signIn(page) {
  await page.goto(gateway + "/");
  await page.locator("#sign-in").waitFor();
  await page.fill("#tenant-form input[name=slug]", user.slug);
  await page.click("#tenant-form button");
  await page.locator("#password-form").waitFor();
  assert.match(await page.textContent("#connectors"), /password/);
  await page.fill("#password-form input[name=email]", user.email);
  await page.fill("#password-form input[name=password]", user.password);
  await page.click("#password-form button");
  await page.locator("#account").waitFor();
  assert.equal(await page.textContent("#who"), user.name);
}

const sessionCookie = async (context) => (await context.cookies(gateway)).find((c) => c.name === COOKIE);

test("sign in, an HttpOnly cookie, reload, revoke from elsewhere, log out", async () => {
  const first = await newContext();
  const page = await first.newPage();
  const violations = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await signIn(page);

  const cookie = await sessionCookie(first);
  assert.ok(cookie, "the session cookie is set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(await page.evaluate(() => document.cookie.includes("central-session")), false);

  await page.reload();
  await page.locator("#account").waitFor();
  assert.equal(await page.textContent("#who"), user.name);
  const mine = await page.getAttribute("#sessions li[data-current]", "data-session-id");
  assert.ok(mine);

  // A second browser signs in as the same user and revokes the first one's session.
  const second = await newContext();
  const other = await second.newPage();
  await signIn(other);
  await other.click(`#sessions li[data-session-id="${mine}"] button`);
  await other.locator(`#sessions li[data-session-id="${mine}"]`).waitFor({ state: "detached" });

  await page.reload();
  await page.locator("#sign-in").waitFor();
  assert.equal(await page.isVisible("#account"), false);
  assert.equal(await sessionCookie(first), undefined, "a 401 clears the dead cookie");

  await other.click("#logout");
  await other.locator("#sign-in").waitFor();
  assert.equal(await sessionCookie(second), undefined);
  await other.reload();
  await other.locator("#sign-in").waitFor();
  assert.deepEqual(violations, []);
  await first.close();
  await second.close();
});

test("a form posted from another site is refused, and the session lives on", async () => {
  const context = await newContext();
  const page = await context.newPage();
  await signIn(page);

  const attacker = await context.newPage();
  // The other origin's page holds a plain form that posts to the gateway's logout.
  await attacker.goto(`${otherOrigin}/`);
  const [answer] = await Promise.all([
    attacker.waitForResponse((r) => r.url() === gateway + "/auth/logout"),
    attacker.click("button"),
  ]);
  assert.equal(answer.status(), 403);
  const { error } = await answer.json();
  assert.ok(error.details.some((d) => d.reason === "CROSS_ORIGIN_REQUEST"), JSON.stringify(error));

  await page.reload();
  await page.locator("#account").waitFor();
  assert.ok(await sessionCookie(context));
  await context.close();
});
