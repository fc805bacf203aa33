/**
 * storage: the storage port, the lowest room above core. Put-if-absent writes, whole-file and
 * ranged reads, listings and deletes, on local disk (file-store.ts) or S3 (s3-store.ts), picked
 * by the location's scheme (store.ts); locations are built with location.ts. Nothing here knows
 * Delta. May use core only.
 */
export { putIfAbsent, replaceFile, readTextIfExists, readFileIfExists, readRangeIfExists, statIfExists, folderStamp, listNames, listEntries, listFilesRecursive, deleteFile, exists, ensureDir, hasEntries, assertSafeStore } from './store.js';
export type { PutResult, PutFaults, FileEntry } from './file-store.js';
export { isRemote, schemeOf, joinLocation, dirnameLocation, basenameLocation, relativeLocation, resolveLocation, parseS3Location, localStateDir } from './location.js';
export { s3Settings, s3Credentials, assertConditionalPut, s3ListStats } from './s3-store.js';
export type { S3Settings } from './s3-store.js';
export { writeCacheEntry, writeCacheEntrySync, touchCacheEntry } from './cache-folder.js';
export type { CacheFolderLimits } from './cache-folder.js';
