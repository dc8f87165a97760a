export { createCentralClient } from "./client.ts";
export type { Answer, CentralClient, CentralClientOptions, Item, ListPath } from "./client.ts";
export { CentralError } from "./errors.ts";
export type { FieldViolation } from "./errors.ts";
export type { components, paths } from "./generated/paths.ts";
