/**
 * A tiny browser for end-to-end tests: a cookie jar (tough-cookie), manual redirect following
 * with a record of every hop, and helpers to read and submit the forms on Herald's pages.
 */
import { CookieJar } from 'tough-cookie';

export interface Hop {
  url: string;
  status: number;
  location?: string;
}

export interface BrowserResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  hops: Hop[];
}

export class TestBrowser {
  readonly jar = new CookieJar();

  /** Fetches `url`, following redirects until `stopAt(url)` is true or a non-redirect answer. */
  async go(url: string, init: RequestInit = {}, stopAt?: (url: string) => boolean): Promise<BrowserResponse> {
    const hops: Hop[] = [];
    let current = url;
    let request: RequestInit = init;
    for (let i = 0; i < 25; i++) {
      if (stopAt?.(current)) return { url: current, status: 0, headers: new Headers(), body: '', hops };
      const response = await this.fetch(current, request);
      const location = response.headers.get('location') ?? undefined;
      hops.push({ url: current, status: response.status, location });
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        current = new URL(location, current).href;
        // 303 (and 301/302 after POST) become GET; 307/308 keep the method and body.
        if (response.status !== 307 && response.status !== 308) request = {};
        continue;
      }
      return { url: current, status: response.status, headers: response.headers, body: await response.text(), hops };
    }
    throw new Error(`too many redirects starting at ${url}`);
  }

  /** One request with cookies, no redirect following. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set('cookie', cookie);
    if (!headers.has('accept')) headers.set('accept', 'text/html,application/json;q=0.9');
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    return response;
  }

  /** Submits the form with `formId` (or the first form) on `page`, with overrides. */
  async submit(page: BrowserResponse, fields: Record<string, string> = {}, formSelector?: { id?: string; action?: string }, stopAt?: (url: string) => boolean): Promise<BrowserResponse> {
    const form = findForm(page.body, formSelector);
    const body = new URLSearchParams({ ...form.fields, ...fields });
    const action = new URL(form.action || page.url, page.url).href;
    return this.go(action, { method: form.method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.method === 'GET' ? undefined : body }, stopAt);
  }
}

export interface ParsedForm {
  id?: string;
  action: string;
  method: string;
  fields: Record<string, string>;
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export function findForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = match[1]!;
    const attr = (name: string) => attrs.match(new RegExp(`${name}="([^"]*)"`, 'i'))?.[1];
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = input[1]!.match(/name="([^"]*)"/i)?.[1];
      const value = input[1]!.match(/value="([^"]*)"/i)?.[1] ?? '';
      if (name) fields[decode(name)] = decode(value);
    }
    for (const area of match[2]!.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const name = area[1]!.match(/name="([^"]*)"/i)?.[1];
      if (name) fields[decode(name)] = decode(area[2]!);
    }
    forms.push({ id: attr('id'), action: decode(attr('action') ?? ''), method: (attr('method') ?? 'GET').toUpperCase(), fields });
  }
  return forms;
}

export function findForm(html: string, selector: { id?: string; action?: string } = {}): ParsedForm {
  const forms = findForms(html);
  const form = forms.find((f) => (!selector.id || f.id === selector.id) && (!selector.action || f.action.includes(selector.action)));
  if (!form) throw new Error(`no matching form in page:\n${html.slice(0, 2000)}`);
  return form;
}

/** The href of the first link matching `pattern` on the page. */
export function findLink(html: string, pattern: RegExp): string {
  for (const match of html.matchAll(/href="([^"]*)"/g)) {
    const href = decode(match[1]!);
    if (pattern.test(href)) return href;
  }
  throw new Error(`no link matching ${pattern} in page:\n${html.slice(0, 2000)}`);
}
