// The client's own logic on a fake fetch: no server needed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CentralError, createCentralClient } from "../dist/index.js";

function fakeFetch(answer) {
  const requests = [];
  const fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request);
    const [status, body, type = "application/json"] = answer(new URL(request.url), request);
    return new Response(typeof body === "string" ? body : JSON.stringify(body), {
      status,
      headers: { "content-type": type },
    });
  };
  return { fetch, requests };
}

test("iterate follows nextCursor, keeps the query, and stops on the last page", async () => {
  const pages = { "": ["a", "b"], c1: ["c", "d"], c2: ["e"] };
  const next = { "": "c1", c1: "c2", c2: "" };
  const { fetch, requests } = fakeFetch((url) => {
    const cursor = url.searchParams.get("cursor") ?? "";
    const tenantUsers = pages[cursor].map((tenantUserId) => ({ __type: "TenantUser", tenantUserId }));
    return [200, { tenantUsers, nextCursor: next[cursor] }];
  });
  const central = createCentralClient({ baseUrl: "https://central.test", fetch });
  const seen = [];
  for await (const user of central.iterate("/tenants/{tenantId}/users", {
    params: { path: { tenantId: "tenant-1" }, query: { limit: 2 } },
  })) {
    seen.push(user.tenantUserId);
  }
  assert.deepEqual(seen, ["a", "b", "c", "d", "e"]);
  assert.deepEqual(
    requests.map((r) => new URL(r.url).search),
    ["?limit=2", "?limit=2&cursor=c1", "?limit=2&cursor=c2"],
  );
  assert.ok(requests.every((r) => r.credentials === "include"));
});

test("an AIP-193 body becomes a CentralError with its reason and field violations", async () => {
  const body = {
    error: {
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "email: not an email",
      details: [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "INVALID_INPUT", domain: "auth.central" },
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ field: "email", description: "not an email" }],
        },
      ],
    },
  };
  const { fetch } = fakeFetch(() => [400, body]);
  const central = createCentralClient({ baseUrl: "https://central.test", fetch });
  const error = await central.GET("/me").catch((e) => e);
  assert.ok(error instanceof CentralError);
  assert.deepEqual(
    [error.status, error.code, error.message, error.reason, error.domain],
    [400, "INVALID_ARGUMENT", "email: not an email", "INVALID_INPUT", "auth.central"],
  );
  assert.deepEqual(error.fieldViolations, [{ field: "email", description: "not an email" }]);
});

test("an answer that is not Central's (a proxy's HTML page) is still a CentralError", async () => {
  const { fetch } = fakeFetch(() => [502, "<html>Bad Gateway</html>", "text/html"]);
  const central = createCentralClient({ baseUrl: "https://central.test", fetch });
  const error = await central.GET("/me").catch((e) => e);
  assert.ok(error instanceof CentralError);
  assert.deepEqual([error.status, error.code, error.reason, error.fieldViolations], [502, "UNKNOWN", undefined, []]);
});
