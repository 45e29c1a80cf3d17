/**
 * `WWW-Authenticate` as a pure parser (RFC 9110 §11.6.1, §11.2; RFC 7235 before it):
 *
 *   WWW-Authenticate = #challenge
 *   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param       = token BWS "=" BWS ( token / quoted-string )
 *   token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * Challenges and their parameters are both comma-separated, so a comma followed by
 * `token =` continues the current challenge and a comma followed by a bare token starts the
 * next one. Scheme and parameter names are case-insensitive (lower-cased here); values keep
 * their case, quoted-pairs (`\"`) unescaped. The pull-through mirror reads an upstream's answer
 * with it: `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`
 * (Docker token spec, "How to authenticate") or `Basic realm="…"` (RFC 7617).
 */

export interface Challenge {
  /** Lower-cased auth-scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Parameters by lower-cased name; a repeated name keeps its first value. */
  params: Record<string, string>;
  token68?: string;
}

/** A hostile upstream gets no unbounded parsing: real challenges are a few hundred bytes. */
export const MAX_CHALLENGE_LENGTH = 8192;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Every challenge of the header, in order; malformed trailing parts are dropped. */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header || header.length > MAX_CHALLENGE_LENGTH) return [];
  const scanner = new Scanner(header);
  const challenges: Challenge[] = [];
  for (;;) {
    scanner.skipListSeparators();
    if (scanner.done()) return challenges;
    const scheme = scanner.token();
    if (!scheme) return challenges; // not a token where a scheme must start: stop here
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    if (!scanner.skipSpaces()) continue; // a scheme alone (`Negotiate`) or followed by a comma
    const token68 = scanner.token68();
    if (token68 !== null) {
      challenge.token68 = token68;
      continue;
    }
    // auth-params, until a comma is followed by something that is not `name =`.
    for (;;) {
      const param = scanner.param();
      if (!param) return challenges; // `name=` with no readable value: the rest is not trusted
      const name = param.name.toLowerCase();
      if (!(name in challenge.params)) challenge.params[name] = param.value;
      const mark = scanner.position;
      scanner.skipListSeparators();
      if (!scanner.startsParam()) {
        scanner.position = mark;
        break;
      }
    }
  }
}

/** The first challenge of `scheme` (lower-case), if the header has one. */
export function findChallenge(header: string | null | undefined, scheme: string): Challenge | undefined {
  return parseWwwAuthenticate(header).find((c) => c.scheme === scheme);
}

class Scanner {
  position = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  private peek(offset = 0): string {
    return this.text[this.position + offset] ?? '';
  }

  /** Skips spaces and tabs; true when at least one was skipped. */
  skipSpaces(): boolean {
    const start = this.position;
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
    return this.position > start;
  }

  /** Skips OWS and any number of commas (empty list elements are allowed, RFC 9110 §5.6.1). */
  skipListSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.position++;
  }

  token(): string {
    const start = this.position;
    while (!this.done() && TCHAR.test(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  /** A token68 that fills the element (up to a comma or the end), or null (and no move). */
  token68(): string | null {
    let end = this.text.indexOf(',', this.position);
    if (end === -1) end = this.text.length;
    const candidate = this.text.slice(this.position, end).trimEnd();
    if (!TOKEN68.test(candidate)) return null;
    // `name=value` is an auth-param, not a token68 ending in '='.
    const equals = candidate.indexOf('=');
    if (equals !== -1 && equals < candidate.length - 1 && !/^=+$/.test(candidate.slice(equals))) return null;
    this.position = end;
    return candidate;
  }

  /** True when the text here reads `token BWS "="`: the next element is another parameter. */
  startsParam(): boolean {
    const mark = this.position;
    const name = this.token();
    this.skipSpaces();
    const result = name !== '' && this.peek() === '=';
    this.position = mark;
    return result;
  }

  param(): { name: string; value: string } | null {
    const mark = this.position;
    const name = this.token();
    this.skipSpaces();
    if (!name || this.peek() !== '=') {
      this.position = mark;
      return null;
    }
    this.position++;
    this.skipSpaces();
    const value = this.peek() === '"' ? this.quoted() : this.token();
    if (value === null) {
      this.position = mark;
      return null;
    }
    return { name, value };
  }

  /** A quoted-string with its quoted-pairs unescaped; null when it never closes. */
  private quoted(): string | null {
    let value = '';
    this.position++; // opening quote
    while (!this.done()) {
      const char = this.peek();
      if (char === '"') {
        this.position++;
        return value;
      }
      if (char === '\\' && this.position + 1 < this.text.length) {
        value += this.peek(1);
        this.position += 2;
        continue;
      }
      value += char;
      this.position++;
    }
    return null;
  }
}
