export * from './catalog/index.js';
export * from './run/index.js';
export * from './quality/index.js';
export * from './upstream/index.js';
export * from './bronze/index.js';
export * from './silver/index.js';
export * from './gold/index.js';
export * from './ops/index.js';
