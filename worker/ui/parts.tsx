/** Small pieces the UI pages share. */
import type { Child } from 'hono/jsx';
import { formatBytes, formatTime, shortDigest } from './format.ts';

/** The form token; every state-changing form carries one (routes/ui/session.ts checks it). */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="csrf" value={token} />;
}

/**
 * A one-button form that changes something (revoke, delete): the form token, hidden fields,
 * and a question the script asks first (`data-confirm`).
 */
export function ActionButton(props: { action: string; csrf: string; fields: Record<string, string>; label: string; name: string; confirm: string }) {
  return (
    <form method="post" action={props.action} class="inline" data-confirm={props.confirm}>
      <Csrf token={props.csrf} />
      {Object.entries(props.fields).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class="danger small" aria-label={props.name}>
        {props.label}
      </button>
    </form>
  );
}

/** A read-only text field with a copy button (the button appears only with the script). */
export function CopyLine({ id, label, value }: { id: string; label: string; value: string }) {
  return (
    <div class="copy">
      <label for={id} class="vh">
        {label}
      </label>
      <input type="text" id={id} value={value} readonly />
      <button type="button" class="secondary js-only" data-copy={id}>
        Copy<span class="vh"> {label.toLowerCase()}</span>
      </button>
      <span class="copied" role="status" aria-live="polite"></span>
    </div>
  );
}

export function Notice({ kind, children }: { kind: 'info' | 'ok' | 'error' | 'warn'; children: Child }) {
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Time({ iso }: { iso: string | undefined }) {
  const text = formatTime(iso);
  return text ? <time datetime={iso}>{text}</time> : <span class="muted">unknown</span>;
}

export function Bytes({ value }: { value: number }) {
  return <span title={`${value} bytes`}>{formatBytes(value)}</span>;
}

export function ShortDigest({ digest }: { digest: string }) {
  return <code>{shortDigest(digest)}</code>;
}

/** A table that scrolls sideways on narrow screens instead of breaking the page. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: Child }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="vh">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
