export { putIfAbsent, readTextIfExists, listFiles, listNames, listFilesRecursive, deleteFile, exists } from './file-store.js';
export type { PutResult, FileEntry } from './file-store.js';
