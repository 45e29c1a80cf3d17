/**
 * First start: create the `admin` account so a fresh deployment can be administered. The
 * password is BERTH_ADMIN_PASSWORD, or a random one printed once (the account exists
 * afterwards, so it is never printed again). Later starts leave a stored password alone unless
 * BERTH_ADMIN_PASSWORD_RESET=true, so an old env value cannot silently undo a password change.
 */
import type { EnvLike } from '../config.ts';
import type { ObjectStore } from '../storage/types.ts';
import { randomBytes, toBase64Url } from './bytes.ts';
import { hashPassword } from './password.ts';
import { authSettingsFromEnv, type AuthRuntime } from './settings.ts';
import { newStamp, UserStore, type UserRecord } from './users.ts';

export const ADMIN_ACCOUNT = 'admin';

export interface BootstrapOptions {
  /**
   * The command that changes the generated password, printed with it: the Node server knows its
   * URL and passes one that runs as printed from the clone (`npx berth` runs its own CLI).
   */
  changePasswordCommand?: string;
  /** What the runtime allows (the Workers entry caps PBKDF2 iterations). */
  runtime?: AuthRuntime;
}

export async function bootstrapAdmin(store: ObjectStore, env: EnvLike, log: (line: string) => void, options: BootstrapOptions = {}): Promise<void> {
  const settings = authSettingsFromEnv(env, options.runtime);
  if (settings.mode === 'none') return;
  const users = new UserStore(store);
  const existing = await users.get(ADMIN_ACCOUNT);
  const now = new Date().toISOString();

  if (existing) {
    if (settings.adminPassword && settings.adminPasswordReset) {
      const passwordHash = await hashPassword(settings.adminPassword, settings.pbkdf2Iterations);
      await users.put({ ...existing, passwordHash, admin: true, stamp: newStamp(), updatedAt: now });
      log('berth auth: admin password reset from BERTH_ADMIN_PASSWORD (BERTH_ADMIN_PASSWORD_RESET=true); unset the reset flag now');
    }
    return;
  }

  const generated = settings.adminPassword === undefined;
  const password = settings.adminPassword ?? toBase64Url(randomBytes(18));
  const user: UserRecord = {
    account: ADMIN_ACCOUNT,
    passwordHash: await hashPassword(password, settings.pbkdf2Iterations),
    admin: true,
    rules: [],
    stamp: newStamp(),
    createdAt: now,
    updatedAt: now,
  };
  // Create-if-absent: when several instances start at once, only the winner's password counts,
  // and only the winner prints it.
  if (!(await users.put(user, { create: true }))) return;
  if (generated) {
    const change = options.changePasswordCommand ?? 'npx berth --url <this registry\'s URL> --password-stdin users passwd admin';
    log(`berth auth: created user "admin" with password ${password} — shown once; change it with: ${change}`);
  } else {
    log('berth auth: created user "admin" with the password from BERTH_ADMIN_PASSWORD');
  }
}
