// The package's entry point: the generated SDK (one function per operation, every schema as a
// type), the client factory, `followChanges` (src/follow.ts) and `importStudentsFile` (src/import.ts), written by hand. Everything under ./generated is regenerated; do not edit it.
export * from './generated/index.js';
// Every schema of the spec as a JSON Schema value (`StudentCreateSchema`, …): the published rules.
export * from './generated/schemas.gen.js';
export { client } from './generated/client.gen.js';
export { createClient, createConfig } from './generated/client/index.js';
export type { Client, Config } from './generated/client/index.js';
export { FeedError, type FollowOptions, followChanges } from './follow.js';
export { type ImportFormat, type ImportOptions, importStudentsFile } from './import.js';
