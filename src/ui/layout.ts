/**
 * The frame of every page Herald renders (login, consent, errors, logout, dev tools):
 * accessible markup, no external assets, themable by config (title, colour, logo, CSS file),
 * and a strict Content-Security-Policy with `frame-ancestors 'none'`.
 */
import { randomBytes } from 'node:crypto';
import { html, raw, type SafeHtml } from './html.js';

export interface Theme {
  title: string;
  primaryColor: string;
  hasLogo: boolean;
  hasCustomCss: boolean;
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Script nonce, when the page has an inline script. */
  nonce?: string;
  /** Extra CSP sources for forms that auto-post to an upstream (SAML POST binding). */
  formTargets?: string[];
  /** A wider card (token viewers, tables). */
  wide?: boolean;
  /** Allow http(s) images from these origins (e.g. QR is inline; normally unused). */
}

export interface RenderedPage {
  html: string;
  headers: Record<string, string>;
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(options: { nonce?: string; formTargets?: string[] } = {}): string {
  const directives = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    options.nonce ? `script-src 'nonce-${options.nonce}'` : "script-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
}

export function securityHeaders(options: { nonce?: string; formTargets?: string[] } = {}): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(options),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export function renderPage(theme: Theme, options: PageOptions): RenderedPage {
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${options.title} · ${theme.title}</title>
<link rel="stylesheet" href="/assets/herald.css">
<link rel="stylesheet" href="/assets/theme.css">
</head>
<body>
<div class="frame">
<header class="brand">${theme.hasLogo ? html`<img class="logo" src="/assets/logo" alt="${theme.title}">` : html`<span class="wordmark">${theme.title}</span>`}</header>
<main id="main" class="${options.wide ? 'card wide' : 'card'}">
${options.body}
</main>
<footer class="footer"><span>Secured by Herald</span></footer>
</div>
</body>
</html>`;
  return { html: page.value, headers: { ...securityHeaders(options), 'content-type': 'text/html; charset=utf-8' } };
}

/** The base stylesheet; the theme colour arrives as a CSS variable in /assets/theme.css. */
export const BASE_CSS = `
:root{--accent:#0b5fff;--on-accent:#fff;--fg:#1b1f24;--muted:#57606a;--bg:#f4f6f8;--card:#fff;--border:#d0d7de;--code:#f6f8fa;--danger:#b42318;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--border:#3d444d;--code:#0d1117;--danger:#ff7b72}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);line-height:1.5}
.frame{min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:2rem 1rem}
.brand{margin:1rem 0 1.5rem}.logo{max-height:48px;max-width:220px}.wordmark{font-weight:700;font-size:1.4rem;color:var(--accent)}
.card{background:var(--card);width:100%;max-width:420px;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:2rem}
h1{font-size:1.35rem;margin:0 0 .5rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}p{margin:.25rem 0 1rem;color:var(--muted)}
a{color:var(--accent)}
.connectors{list-style:none;padding:0;margin:1.5rem 0 0;display:grid;gap:.75rem}
.button{display:block;width:100%;text-align:center;padding:.75rem 1rem;border-radius:8px;border:1px solid var(--border);background:var(--card);color:var(--fg);font-size:1rem;text-decoration:none;cursor:pointer;font-family:inherit}
.button:hover{border-color:var(--accent)}.button.primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}
.button.connector{display:flex;align-items:center;gap:.75rem;text-align:left;font-weight:500}
.connector .mark{flex:none;display:inline-flex;align-items:center;justify-content:center;width:2rem;height:2rem;border-radius:50%;background:var(--accent);color:var(--on-accent);font-weight:700}
.button.subtle{border-color:transparent;background:transparent;color:var(--muted);font-size:.95rem;padding:.5rem 1rem}
.button.subtle:hover{color:var(--fg);border-color:var(--border)}
.secondary{margin-top:1.25rem;padding-top:1rem;border-top:1px solid var(--border)}
.button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.error{color:var(--danger)}.footer{margin-top:2rem;font-size:.8rem;color:var(--muted)}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}input,textarea,select{width:100%;padding:.6rem;border:1px solid var(--border);border-radius:6px;font:inherit;background:var(--card);color:var(--fg)}
textarea{min-height:10rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
.scopes{padding-left:1.2rem}.scopes li{margin:.3rem 0}.claims{color:var(--muted);font-size:.9rem}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}.actions>*{flex:1}
.qr{display:block;margin:1rem auto;width:260px;height:260px;image-rendering:pixelated}
pre.token{white-space:pre-wrap;word-break:break-all;background:var(--code);border:1px solid var(--border);padding:.75rem;border-radius:6px;font-size:.8rem;text-align:left;overflow-x:auto}
.card.wide{max-width:860px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;border:1px solid var(--border)}.badge.ok{color:#1a7f37;border-color:#1a7f37}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;

export function themeCss(primaryColor: string, customCss: string | undefined): string {
  return `:root{--accent:${primaryColor}}\n${customCss ?? ''}`;
}

export { raw };
