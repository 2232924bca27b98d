/**
 * Secret values never leave the sandbox layer. Every text a transform controls and Herald keeps —
 * deny reasons, risk reasons, failure messages and stacks, ctx.log lines, http.getJson error texts —
 * passes through `scrubSecrets`, which masks each granted secret value wherever it appears.
 * Claims and account updates are different: a result carrying a secret is refused
 * (transform-output.validator.ts), because a masked claim would be silently wrong data.
 */

export const SECRET_MASK = '[secret]';
/** Shorter values are not masked: 1–3 characters match ordinary text everywhere. */
export const MIN_MASKED_SECRET_LENGTH = 4;
/** The sandbox's truncation mark (prelude `cut`). */
const CLIP_MARK = '…';

const patternCache = new WeakMap<readonly string[], string[]>();

/** The forms a secret takes in the texts we see: as is, JSON-escaped, URL-encoded. Longest first. */
function patternsOf(secrets: readonly string[]): string[] {
  let patterns = patternCache.get(secrets);
  if (!patterns) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret.length < MIN_MASKED_SECRET_LENGTH) continue;
      forms.add(secret);
      forms.add(JSON.stringify(secret).slice(1, -1));
      for (const encode of [encodeURIComponent, encodeURI]) {
        try {
          forms.add(encode(secret));
        } catch {
          /* a lone surrogate has no URL form */
        }
      }
    }
    patterns = [...forms].sort((a, b) => b.length - a.length);
    patternCache.set(secrets, patterns);
  }
  return patterns;
}

/**
 * `text` with every occurrence of a secret value (≥ 4 characters) replaced by `[secret]`, leftmost
 * and longest first. A text ending in `…` may have been cut inside a secret, so the beginning of a
 * secret right before the mark goes too.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const patterns = patternsOf(secrets);
  if (!patterns.length) return text;
  const clipped = text.endsWith(CLIP_MARK);
  const body = clipped ? text.slice(0, -CLIP_MARK.length) : text;
  const next = patterns.map((p) => body.indexOf(p));
  let out = '';
  let i = 0;
  for (;;) {
    let at = -1;
    let length = 0;
    for (let k = 0; k < patterns.length; k++) {
      if (next[k]! !== -1 && next[k]! < i) next[k] = body.indexOf(patterns[k]!, i);
      const j = next[k]!;
      if (j !== -1 && (at === -1 || j < at)) {
        at = j;
        length = patterns[k]!.length;
      }
    }
    if (at === -1) break;
    out += body.slice(i, at) + SECRET_MASK;
    i = at + length;
  }
  let tail = body.slice(i);
  if (clipped) {
    let cut = 0;
    for (const p of patterns) {
      for (let k = Math.min(p.length - 1, tail.length); k > cut; k--) {
        if (tail.endsWith(p.slice(0, k))) {
          cut = k;
          break;
        }
      }
    }
    tail = tail.slice(0, tail.length - cut) + CLIP_MARK;
  }
  return out + tail;
}

/** A JSON value (parsed) with `scrubSecrets` applied to every string and object key. */
export function scrubSecretsIn(value: unknown, secrets: readonly string[]): unknown {
  if (!patternsOf(secrets).length) return value;
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubSecretsIn(item, secrets));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties: a "__proto__" key stays data.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [scrubSecrets(key, secrets), scrubSecretsIn(item, secrets)]));
  }
  return value;
}
