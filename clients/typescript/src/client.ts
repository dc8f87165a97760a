/** `createCentralClient`: openapi-fetch on Central's generated paths, sending the session cookie. */

import createClient, { type Client, type MaybeOptionalInit } from "openapi-fetch";
import type { HttpMethod, PathsWithMethod, RequiredKeysOf } from "openapi-typescript-helpers";

import { CentralError } from "./errors.js";
import type { paths } from "./generated/paths.js";

export interface CentralClientOptions {
  /** The gateway's origin, such as `https://central.example.com` (no trailing slash). */
  baseUrl: string;
  /** A fetch of one's own (tests, server-side rendering); the global fetch otherwise. */
  fetch?: typeof globalThis.fetch;
}

/** What a route answers with 200, as the document describes it. */
export type Answer<P extends keyof paths, M extends HttpMethod> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer D } } };
}
  ? D
  : never;

type Init<P extends keyof paths, M extends HttpMethod> = MaybeOptionalInit<paths[P], M>;
type InitArgs<I> = RequiredKeysOf<I> extends never ? [I?] : [I];

type Call<M extends HttpMethod> = <P extends PathsWithMethod<paths, M>, I extends Init<P, M>>(
  url: P,
  ...init: InitArgs<I>
) => Promise<Answer<P, M>>;

/** The routes that answer a page: their 200 carries `nextCursor`. */
export type ListPath = {
  [P in PathsWithMethod<paths, "get">]: Answer<P, "get"> extends { nextCursor?: unknown } ? P : never;
}[PathsWithMethod<paths, "get">];

/** One item of a list route's page: the element of its one array field. */
export type Item<P extends ListPath> = {
  [K in keyof Answer<P, "get">]-?: NonNullable<Answer<P, "get">[K]> extends readonly (infer E)[] ? E : never;
}[keyof Answer<P, "get">];

export interface CentralClient {
  GET: Call<"get">;
  POST: Call<"post">;
  PATCH: Call<"patch">;
  DELETE: Call<"delete">;
  /** Every item of a list route, page after page, following `nextCursor` until the last page. */
  iterate<P extends ListPath, I extends Init<P, "get">>(url: P, ...init: InitArgs<I>): AsyncGenerator<Item<P>>;
  /** The openapi-fetch client underneath (middleware, raw responses). */
  raw: Client<paths>;
}

export function createCentralClient(options: CentralClientOptions): CentralClient {
  const raw = createClient<paths>({
    baseUrl: options.baseUrl,
    // The session is an HttpOnly cookie: every request carries it, cross-origin too.
    credentials: "include",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const call =
    <M extends HttpMethod>(method: M): Call<M> =>
    async (url, ...init) => {
      const request = raw.request as (m: string, u: string, i?: object) => Promise<Outcome>;
      const { data, error, response } = await request(method, url, init[0] as object | undefined);
      if (error !== undefined || !response.ok) throw CentralError.fromResponse(response.status, error);
      return data as never;
    };
  const GET = call("get");
  return {
    GET,
    POST: call("post"),
    PATCH: call("patch"),
    DELETE: call("delete"),
    iterate: (url, ...init) => pages(GET as LooseGet, url, init[0]) as never,
    raw,
  };
}

interface Outcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

type LooseGet = (url: string, init?: RequestInit & { params?: Params }) => Promise<Record<string, unknown>>;

interface Params {
  query?: Record<string, unknown>;
  [location: string]: unknown;
}

async function* pages(get: LooseGet, url: string, init?: { params?: Params }): AsyncGenerator<unknown> {
  let cursor: string | undefined;
  do {
    const query = { ...init?.params?.query, ...(cursor ? { cursor } : {}) };
    const page = await get(url, { ...init, params: { ...init?.params, query } });
    const items = Object.values(page).find(Array.isArray) ?? [];
    yield* items;
    cursor = typeof page.nextCursor === "string" && page.nextCursor !== "" ? page.nextCursor : undefined;
  } while (cursor !== undefined);
}
