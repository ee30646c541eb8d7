// Every spark-rdma subcommand, one line each: `export { command as <name> } from './<name>.js';`
// (main.ts registers them in this order; keep it alphabetical).
export { command as bw } from './bw.js';
export { command as config } from './config.js';
export { command as devices } from './devices.js';
export { command as doctor } from './doctor.js';
export { command as exporter } from './exporter.js';
export { command as lat } from './lat.js';
export { command as mesh } from './mesh.js';
export { command as monitor } from './monitor.js';
export { command as ncclCheck } from './nccl-check.js';
