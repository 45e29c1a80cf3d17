/**
 * Access rules: repository glob patterns with actions, chosen like zot's policies — among the
 * patterns that match a repository, the longest one decides (it is the most specific), so
 * `team/**=pull` plus `team/app=pull,push` gives push on team/app only.
 *
 * Pattern syntax (glob.ts): the repository name grammar plus `*` (any run of characters within
 * one path segment) and `**` (any run of characters, across segments, possibly none).
 */
import { globMatches, isValidGlob } from './glob.ts';
import { ALL_REPOSITORY_ACTIONS, isAction } from './scope.ts';
import type { Action } from './types.ts';

export interface AccessRule {
  pattern: string;
  actions: Action[];
}

export const MAX_RULES = 200;

/** Rules match repositories with the one glob matcher (glob.ts), as public repositories and robot scopes do. */
export { globMatches as patternMatches, isValidGlob as isValidPattern } from './glob.ts';

/** `*` means every repository action; the result lists actions explicitly. */
export function expandActions(actions: readonly Action[]): Action[] {
  return actions.includes('*') ? [...ALL_REPOSITORY_ACTIONS] : [...new Set(actions)];
}

/** The actions the longest matching rule allows on `name` (none when nothing matches). */
export function matchRules(rules: readonly AccessRule[], name: string): Action[] {
  let best: AccessRule | undefined;
  for (const rule of rules) {
    if (globMatches(rule.pattern, name) && (!best || rule.pattern.length > best.pattern.length)) best = rule;
  }
  return best ? expandActions(best.actions) : [];
}

/** Parses `pattern=action,action` (CLI and admin API form). */
export function parseRuleSpec(spec: string): AccessRule | null {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) return null;
  const pattern = spec.slice(0, eq).trim();
  const names = spec.slice(eq + 1).split(',').map((a) => a.trim()).filter(Boolean);
  if (!isValidGlob(pattern) || names.length === 0 || !names.every(isAction)) return null;
  return { pattern, actions: [...new Set(names as Action[])] };
}

/** Checks an untrusted rule list (admin API bodies, stored records). */
export function validateRules(value: unknown): AccessRule[] | null {
  if (!Array.isArray(value) || value.length > MAX_RULES) return null;
  const rules: AccessRule[] = [];
  for (const item of value) {
    if (typeof item === 'string') {
      const parsed = parseRuleSpec(item);
      if (!parsed) return null;
      rules.push(parsed);
      continue;
    }
    if (typeof item !== 'object' || item === null) return null;
    const { pattern, actions } = item as { pattern?: unknown; actions?: unknown };
    if (typeof pattern !== 'string' || !isValidGlob(pattern)) return null;
    if (!Array.isArray(actions) || actions.length === 0) return null;
    if (!actions.every((a): a is Action => typeof a === 'string' && isAction(a))) return null;
    rules.push({ pattern, actions: [...new Set(actions)] });
  }
  return rules;
}
