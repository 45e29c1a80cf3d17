/**
 * Access rules: repository glob patterns with actions, chosen like zot's policies — among the
 * patterns that match a repository, the longest one decides (it is the most specific), so
 * `team/**=pull` plus `team/app=pull,push` gives push on team/app only.
 *
 * Pattern syntax: the repository name grammar plus `*` (any run of characters within one path
 * segment) and `**` (any run of characters, across segments, possibly none).
 */
import { ALL_REPOSITORY_ACTIONS, isAction } from './scope.ts';
import type { Action } from './types.ts';

export interface AccessRule {
  pattern: string;
  actions: Action[];
}

export const MAX_RULES = 200;
const MAX_PATTERN_LENGTH = 255;
const PATTERN_CHARS = /^[a-z0-9._\-/*]+$/;

export function isValidPattern(pattern: string): boolean {
  return (
    pattern.length > 0 &&
    pattern.length <= MAX_PATTERN_LENGTH &&
    PATTERN_CHARS.test(pattern) &&
    !/\*{3,}/.test(pattern) &&
    !pattern.split('/').includes('')
  );
}

const compiled = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .split('**')
      .map((part) => part.split('*').map((s) => s.replace(/[.\-/]/g, '\\$&')).join('[^/]*'))
      .join('.*');
    re = new RegExp(`^${body}$`);
    if (compiled.size > 5000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

export function patternMatches(pattern: string, name: string): boolean {
  return isValidPattern(pattern) && compile(pattern).test(name);
}

/** `*` means every repository action; the result lists actions explicitly. */
export function expandActions(actions: readonly Action[]): Action[] {
  return actions.includes('*') ? [...ALL_REPOSITORY_ACTIONS] : [...new Set(actions)];
}

/** The actions the longest matching rule allows on `name` (none when nothing matches). */
export function matchRules(rules: readonly AccessRule[], name: string): Action[] {
  let best: AccessRule | undefined;
  for (const rule of rules) {
    if (patternMatches(rule.pattern, name) && (!best || rule.pattern.length > best.pattern.length)) best = rule;
  }
  return best ? expandActions(best.actions) : [];
}

/** Parses `pattern=action,action` (CLI and admin API form). */
export function parseRuleSpec(spec: string): AccessRule | null {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) return null;
  const pattern = spec.slice(0, eq).trim();
  const names = spec.slice(eq + 1).split(',').map((a) => a.trim()).filter(Boolean);
  if (!isValidPattern(pattern) || names.length === 0 || !names.every(isAction)) return null;
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
    if (typeof pattern !== 'string' || !isValidPattern(pattern)) return null;
    if (!Array.isArray(actions) || actions.length === 0) return null;
    if (!actions.every((a): a is Action => typeof a === 'string' && isAction(a))) return null;
    rules.push({ pattern, actions: [...new Set(actions)] });
  }
  return rules;
}
