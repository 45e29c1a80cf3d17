/**
 * The repository explains itself: no committed file points a reader at notes that live outside
 * it (the team's shared design and measurement files), since a clone never has them.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Built from parts so this file does not match itself.
const OUTSIDE_FILES = ['FACTS', 'ARCHITECTURE', 'STYLE'].map((name) => `${name}.md`);
const OUTSIDE_DIR = ['..', 'shared'].join('/');

it('no committed file cites a file outside the repository', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  const offenders: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // deleted in the working tree
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (OUTSIDE_FILES.some((name) => line.includes(name)) || line.includes(OUTSIDE_DIR)) offenders.push(`${file}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});
