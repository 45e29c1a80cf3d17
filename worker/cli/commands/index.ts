/**
 * Every `berth` command, in the order `berth --help` lists them. A new command is one module in
 * this folder and one line here.
 */
import type { Command } from './command.ts';
import { gcCommand } from './gc.ts';
import { reposCommand } from './repos.ts';
import { tagsCommand } from './tags.ts';
import { showCommand } from './show.ts';
import { deleteCommand } from './delete.ts';
import { tagCommand } from './tag.ts';
import { policyCommand } from './policy.ts';
import { retentionCommand } from './retention.ts';
import { pushCommand } from './push.ts';
import { webhooksCommand } from './webhooks.ts';
import { tokensCommand } from './tokens.ts';
import { rulesCommand, usersCommand } from './users.ts';
import { whoamiCommand } from './whoami.ts';

export const COMMANDS: readonly Command[] = [reposCommand, tagsCommand, showCommand, deleteCommand, whoamiCommand, usersCommand, rulesCommand, tokensCommand, tagCommand, policyCommand, retentionCommand, webhooksCommand, gcCommand, pushCommand];
