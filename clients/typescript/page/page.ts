/** The sign-in and account page: a tenant by slug, its login options, password sign-in, the account. */

import { CentralError, createCentralClient } from "../src/index.js";

// The page is served by the gateway itself: same origin, so the session cookie goes along.
const central = createCentralClient({ baseUrl: window.location.origin });

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing`);
  return found as T;
}

const status = element("status");
const errorBox = element("error");
const signIn = element("sign-in");
const account = element("account");
let tenantId: string | undefined;

function say(text: string): void {
  status.textContent = text;
}

function fail(error: unknown): void {
  errorBox.hidden = false;
  errorBox.textContent =
    error instanceof CentralError ? `${error.message} (${error.reason ?? error.code})` : String(error);
}

function attempt(action: () => Promise<void>): void {
  errorBox.hidden = true;
  action().catch(fail);
}

async function showSignIn(): Promise<void> {
  account.hidden = true;
  signIn.hidden = false;
  say("Signed out.");
}

async function chooseTenant(slug: string): Promise<void> {
  const { tenant } = await central.GET("/tenants/by-slug/{slug}", { params: { path: { slug } } });
  tenantId = tenant?.tenantId;
  if (tenantId === undefined) return;
  element("tenant-name").textContent = tenant?.displayName ?? slug;
  const { authConnectors = [] } = await central.GET("/tenants/{tenantId}/login-options", {
    params: { path: { tenantId } },
  });
  const list = element("connectors");
  list.replaceChildren(
    ...authConnectors.map((connector) => {
      const item = document.createElement("li");
      item.dataset.kind = connector.kind ?? "";
      if (connector.kind === "oidc" && connector.authConnectorId) {
        // Single sign-on is a top-level navigation: the gateway redirects to the provider and back.
        const link = document.createElement("a");
        link.href = `/auth/oidc/${encodeURIComponent(connector.authConnectorId)}/start`;
        link.textContent = `Sign in with ${connector.name ?? "single sign-on"}`;
        item.append(link);
      } else {
        item.textContent = `${connector.name ?? ""} (${connector.kind ?? ""})`;
      }
      return item;
    }),
  );
  element("password-form").hidden = !authConnectors.some((c) => c.kind === "password");
  element("login-options").hidden = false;
}

async function signInWithPassword(email: string, password: string): Promise<void> {
  if (tenantId === undefined) return;
  await central.POST("/auth/password-login", { body: { tenantId, email, password } });
  await showAccount();
}

async function showAccount(): Promise<void> {
  const { tenantUser } = await central.GET("/me");
  element("who").textContent = tenantUser?.displayName ?? "";
  element("who-detail").textContent = `${tenantUser?.email ?? ""} · ${tenantUser?.role ?? ""}`;
  const items: HTMLLIElement[] = [];
  for await (const session of central.iterate("/me/sessions")) {
    const item = document.createElement("li");
    item.dataset.sessionId = session.sessionId ?? "";
    if (session.current) item.dataset.current = "true";
    const label = session.current ? "this browser" : (session.userAgent ?? "another device");
    item.textContent = `${label}, since ${session.createdAt ?? "?"} `;
    if (!session.current) {
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.textContent = "Revoke";
      revoke.addEventListener("click", () => attempt(() => revokeSession(session.sessionId ?? "")));
      item.append(revoke);
    }
    items.push(item);
  }
  element("sessions").replaceChildren(...items);
  signIn.hidden = true;
  account.hidden = false;
  say("Signed in.");
}

async function revokeSession(sessionId: string): Promise<void> {
  await central.DELETE("/me/sessions/{sessionId}", { params: { path: { sessionId } } });
  await showAccount();
}

async function logOut(): Promise<void> {
  await central.POST("/auth/logout");
  await showSignIn();
}

element<HTMLFormElement>("tenant-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const slug = new FormData(event.target as HTMLFormElement).get("slug");
  attempt(() => chooseTenant(String(slug ?? "")));
});
element<HTMLFormElement>("password-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  attempt(() => signInWithPassword(String(form.get("email") ?? ""), String(form.get("password") ?? "")));
});
element("logout").addEventListener("click", () => attempt(logOut));

// Who is here already? A 401 means nobody: the sign-in form.
showAccount().catch((error: unknown) => {
  if (error instanceof CentralError && error.status === 401) return showSignIn();
  fail(error);
});
