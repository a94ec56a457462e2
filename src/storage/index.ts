// The storage seam: what the engine and the manager may import (docs/storage.md).
export { LocalStorage } from './local-storage.ts';
export { s3OptionsFromEnv, type S3StorageOptions } from './s3-options.ts';
export { S3Storage } from './s3-storage.ts';
export { isStorageError, StorageError, type StorageErrorReason } from './storage-errors.ts';
export { isRemoteUri, parseStorageUri, storageFor, type StorageAt, type StorageLocation } from './storage-uri.ts';
export { checkKey, checkRange, compareStorageKeys, isHiddenKey, keyProblem, listVisible, writeFrom } from './storage.ts';
export type { CreateIfAbsentMode, ListOptions, ListPage, ObjectWriter, PendingWrite, PendingWriter, ReadOptions, Storage, StorageEntry, StorageStat, Tail, WriteResult } from './storage.ts';
