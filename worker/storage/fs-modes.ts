/**
 * Who may read the fs store's files: only the user running Berth. The store holds the token
 * signing key (`auth/signing-key`: with it anyone forges an admin token) and password hashes, so
 * every file is created 0600 and every directory 0700, and at start the store's own directories
 * and everything under `objects/auth/` are set so as well (stores written before this kept the
 * process umask's 0644/0755). A root directory of 0700 alone already keeps other local users out
 * of everything below it, whatever older files say; the auth subtree is fixed too in case the
 * root is ever opened up again.
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_MODE, errnoCode, FILE_MODE } from './fs-io.ts';

/** Sets the store's directories and its auth subtree to owner-only; missing paths are skipped. */
export function secureStoreModes(root: string, storeDirs: readonly string[], authDir: string): void {
  for (const dir of [root, ...storeDirs]) setMode(dir, DIR_MODE);
  secureTree(authDir);
}

function secureTree(dir: string): void {
  if (!setMode(dir, DIR_MODE)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) secureTree(path);
    else if (entry.isFile()) setMode(path, FILE_MODE);
  }
}

/** False when `path` does not exist (or is a symbolic link, which is never followed). */
function setMode(path: string, mode: number): boolean {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return false;
    if ((stat.mode & 0o777) !== mode) chmodSync(path, mode);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
