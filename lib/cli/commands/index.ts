// Every spark-rdma subcommand, one line each: `export { command as <name> } from './<name>.js';`
// (main.ts registers them in this order; keep it alphabetical).
export { command as devices } from './devices.js';
