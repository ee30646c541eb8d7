// Public API of @spark/rdma. Each line re-exports one module; keep it that way.
export { RdmaError } from './errors.js';
export type { Rail } from './rails/types.js';
export { loadBinding } from './native/load.js';
