export { createCentralClient } from "./client.js";
export type { Answer, CentralClient, CentralClientOptions, Item, ListPath } from "./client.js";
export { CentralError } from "./errors.js";
export type { FieldViolation } from "./errors.js";
export type { components, paths } from "./generated/paths.js";
