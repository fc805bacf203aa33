/**
 * storage: the file-system port, the lowest room above core. Put-if-absent writes, whole-file and
 * ranged reads, listings and deletes on local disk; nothing here knows Delta. May use core only.
 */
export { putIfAbsent, replaceFile, readTextIfExists, readFileIfExists, readRangeIfExists, statIfExists, listNames, listFilesRecursive, deleteFile, exists } from './file-store.js';
export type { PutResult, PutFaults, FileEntry } from './file-store.js';
