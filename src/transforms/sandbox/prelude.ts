/**
 * The in-isolate runtime (a string of JavaScript compiled once per isolate). It runs in every new
 * context right *after* the user script (which only declares `function __herald_factory()`, so no
 * user code has run yet) and:
 *   - moves the per-context host Reference from the global object into a closure (untrusted code
 *     must never hold an ivm Reference: it could call back into Node with options of its own);
 *   - removes globals that give a mapping function nothing but widen the attack surface:
 *     WebAssembly (compiles on V8 background threads, outside the CPU timeout), SharedArrayBuffer
 *     and Atomics (Atomics.wait blocks a thread), WeakRef/FinalizationRegistry (callbacks firing
 *     during a later run), the RegExp legacy statics (RegExp.$1, .input … keep the previous
 *     sign-in's matched text);
 *   - pins Error.prepareStackTrace/stackTraceLimit so user code never sees CallSite objects;
 *   - captures every intrinsic it uses before user code can replace them;
 *   - when contexts are reused (hardened mode): turns the "override mistake" properties into
 *     accessors, then deep-freezes every intrinsic reachable from the global object plus the
 *     hidden ones (iterator, generator, async, TypedArray prototypes), the ctx object and the
 *     global object. With the module re-evaluated per run, nothing a run writes reaches the next;
 *   - returns `entry(op, …)`, the one function the host calls: `probe` (module top level + export
 *     shape, at load), `invoke` (start a run), `collect` (its result, or never_settled).
 *
 * Only numbers/booleans from configuration are interpolated (JSON.stringify); upstream data never
 * is: it crosses as one JSON string argument and is parsed and deep-frozen inside.
 */

export interface PreludeLimits {
  maxOutputBytes: number;
  maxDepth: number;
  maxKeys: number;
  maxArray: number;
  maxLogLines: number;
  maxLogBytes: number;
}

export function preludeSource(limits: PreludeLimits, { harden }: { harden: boolean }): string {
  const L = JSON.stringify({
    maxOutputChars: limits.maxOutputBytes,
    maxDepth: limits.maxDepth,
    maxKeys: limits.maxKeys,
    maxArray: limits.maxArray,
    maxLogLines: limits.maxLogLines,
    maxLogChars: limits.maxLogBytes,
    harden: Boolean(harden),
  });
  return `"use strict";
(function heraldPrelude(g) {
  const LIMITS = ${L};
  const host = g.__herald_host;
  delete g.__herald_host;
  const factory = g.__herald_factory; // a non-configurable global binding; calling it again is harmless
  for (const k of ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry']) delete g[k];
  for (const k of ['input', '$_', 'lastMatch', '$&', 'lastParen', '$+', 'leftContext', '$\`', 'rightContext', "$'",
    '$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8', '$9']) delete RegExp[k];
  const O = Object;
  const defineProperty = O.defineProperty;
  defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  defineProperty(Error, 'stackTraceLimit', { value: 20, writable: false, configurable: false });

  const freeze = O.freeze, getProto = O.getPrototypeOf, ownKeys = Reflect.ownKeys, getDesc = O.getOwnPropertyDescriptor;
  const hasOwn = O.hasOwn, OP = O.prototype, AP = Array.prototype, isArray = Array.isArray;
  const parse = JSON.parse, stringify = JSON.stringify, apply = Reflect.apply;
  const P = Promise, then = P.prototype.then, isFinite = Number.isFinite;
  const ErrorCtor = Error, TypeErrorCtor = TypeError, StringCtor = String;
  const slice = String.prototype.slice, push = AP.push, pop = AP.pop;
  const WS = WeakSet, wsHas = WeakSet.prototype.has, wsAdd = WeakSet.prototype.add;
  const hostCall = host.applySyncPromise;
  const PENDING = '{"ok":false,"kind":"never_settled","message":"run() returned a promise that never settled (nothing can settle it: the sandbox has no timers and http.getJson completes synchronously)"}';

  const cut = (s, n) => (s.length > n ? apply(slice, s, [0, n]) + '…' : s);

  function deepFreeze(v) {
    if (v !== null && typeof v === 'object') {
      freeze(v);
      const keys = ownKeys(v);
      for (let i = 0; i < keys.length; i++) deepFreeze(v[keys[i]]);
    }
    return v;
  }

  function describe(e) {
    let name = 'Error', message, stack;
    try {
      if (e !== null && typeof e === 'object') {
        name = StringCtor(e.name);
        message = StringCtor(e.message);
        const s = e.stack;
        if (typeof s === 'string') stack = cut(s, 4000);
      } else {
        message = 'threw a non-Error value: ' + StringCtor(e);
      }
    } catch (_) {
      message = 'threw a value that cannot be printed';
    }
    return { name: cut(name, 100), message: cut(message, 1000), stack };
  }
  let logs = [], logChars = 0;
  const fail = (kind, e) => { const d = describe(e); return stringify({ ok: false, kind, name: d.name, message: d.message, stack: d.stack, logs }); };
  const failMsg = (kind, message) => stringify({ ok: false, kind, message, logs });

  // Friendly, path-precise JSON check. The host re-validates authoritatively.
  const isForbidden = (k) => k === '__proto__' || k === 'constructor' || k === 'prototype';
  function checkJson(v, path, depth, stack) {
    if (depth > LIMITS.maxDepth) return path + ': nested deeper than ' + LIMITS.maxDepth + ' levels';
    switch (typeof v) {
      case 'string': case 'boolean': return '';
      case 'number': return isFinite(v) ? '' : path + ': ' + v + ' is not a JSON number';
      case 'object': {
        if (v === null) return '';
        for (let i = 0; i < stack.length; i++) if (stack[i] === v) return path + ': cycle (refers back to ' + (i === 0 ? 'the result' : 'an enclosing object') + ')';
        apply(push, stack, [v]);
        const arr = isArray(v);
        const proto = getProto(v);
        if (arr) {
          if (proto !== AP) return path + ': array with a foreign prototype';
          if (v.length > LIMITS.maxArray) return path + ': array longer than ' + LIMITS.maxArray;
        } else if (proto !== OP && proto !== null) {
          return path + ': not a plain object (Date, Map, class instances … are not JSON)';
        }
        const keys = ownKeys(v);
        if (keys.length > LIMITS.maxKeys + (arr ? 1 : 0)) return path + ': more than ' + LIMITS.maxKeys + ' keys';
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i];
          if (typeof k !== 'string') return path + ': symbol-keyed property';
          if (arr && k === 'length') continue;
          if (isForbidden(k)) return path + ': forbidden key "' + k + '"';
          const d = getDesc(v, k);
          if (!hasOwn(d, 'value')) return path + '.' + k + ': accessor property (getter/setter)';
          if (d.value === undefined && !arr) continue; // omitted, like JSON.stringify
          const r = checkJson(d.value, arr ? path + '[' + k + ']' : path + '.' + k, depth + 1, stack);
          if (r) return r;
        }
        apply(pop, stack, []);
        return '';
      }
      case 'function': return path + ': a function is not JSON';
      default:
        return path + ': ' + typeof v + ' is not JSON';
    }
  }

  let state = null, secrets = null, active = false;

  function finish(value) {
    active = false;
    try {
      if (value === undefined) { state = failMsg('invalid_output', 'run() returned undefined'); return; }
      const problem = checkJson(value, 'result', 0, []);
      if (problem) { state = failMsg('invalid_output', problem); return; }
      const out = stringify(value);
      if (out.length > LIMITS.maxOutputChars) {
        state = failMsg('output_too_large', 'result is ' + out.length + ' characters, limit ' + LIMITS.maxOutputChars);
        return;
      }
      state = '{"ok":true,"out":' + out + ',"logs":' + stringify(logs) + '}';
    } catch (e) {
      state = fail('invalid_output', e);
    }
  }
  function failed(e) { active = false; state = fail('error', e); }

  const ctx = {
    http: {
      getJson: async function getJson(url, options) {
        if (!active) throw new ErrorCtor('http.getJson is only available while run() is executing');
        if (typeof url !== 'string') throw new TypeErrorCtor('http.getJson(url): url must be a string');
        const o = {};
        if (options !== undefined && options !== null) {
          const ttl = options.cacheTtlSeconds;
          if (ttl !== undefined) o.cacheTtlSeconds = +ttl;
          const h = options.headers;
          if (h !== undefined && h !== null) {
            const hs = {};
            const ks = ownKeys(h);
            for (let i = 0; i < ks.length; i++) {
              const k = ks[i], val = h[k];
              if (typeof k !== 'string' || typeof val !== 'string') throw new TypeErrorCtor('http.getJson: header names and values must be strings');
              hs[k] = val;
            }
            o.headers = hs;
          }
        }
        // Blocks this isolate (not Node) until the host promise settles; the CPU timer is paused.
        const envelope = apply(hostCall, host, [undefined, [url, stringify(o)]]);
        const r = parse(envelope);
        if (!r.ok) throw new ErrorCtor(r.error); // "http.getJson(<url>): <why>", composed and secret-scrubbed by the host
        return r.body;
      },
    },
    secrets: {
      get: function get(name) {
        if (typeof name !== 'string' || secrets === null || !hasOwn(secrets, name)) {
          throw new ErrorCtor('secret "' + cut(StringCtor(name), 64) + '" is not granted to this transform');
        }
        return secrets[name];
      },
    },
    log: function log(message, data) {
      if (logs.length >= LIMITS.maxLogLines) return;
      let line;
      try { line = stringify([cut(StringCtor(message), 500), data === undefined ? null : data]); } catch (_) { line = stringify([cut(StringCtor(message), 500), '[unserializable]']); }
      if (line === undefined || logChars + line.length > LIMITS.maxLogChars) return;
      logChars += line.length;
      apply(push, logs, [line]);
    },
  };
  deepFreeze(ctx);
  freeze(ctx.http.getJson); freeze(ctx.secrets.get); freeze(ctx.log);

  function load() {
    const mod = factory(); // fresh module instance: module-level state never outlives a run
    const d = mod && mod.default;
    if (d === null || (typeof d !== 'object' && typeof d !== 'function') || typeof d.run !== 'function') {
      throw new TypeErrorCtor('the default export is not a transform: export default defineTransform({ run(input, ctx) { … } })');
    }
    return d;
  }

  function entry(op, inputJson, secretsJson) {
    if (op === 'collect') {
      const s = state === null ? PENDING : state;
      state = null;
      secrets = null;
      return s;
    }
    if (op === 'probe') {
      try {
        const d = load();
        const declared = d.protocols;
        if (declared === undefined) return '{"ok":true}';
        if (!isArray(declared)) return failMsg('module_error', 'protocols must be a list of upstream kinds (oidc, saml, wallet)');
        const kinds = [];
        for (let i = 0; i < declared.length; i++) {
          const k = declared[i];
          if (k !== 'oidc' && k !== 'saml' && k !== 'wallet') return failMsg('module_error', 'protocols: unknown upstream kind ' + cut(StringCtor(k), 40));
          apply(push, kinds, [k]);
        }
        return stringify({ ok: true, protocols: kinds });
      } catch (e) { return fail('module_error', e); }
    }
    if (op !== 'invoke') return '';
    state = null; logs = []; logChars = 0; active = true;
    secrets = parse(secretsJson);
    const input = deepFreeze(parse(inputJson));
    let r;
    try {
      const def = load();
      r = apply(def.run, def, [input, ctx]);
    } catch (e) {
      failed(e);
      return '';
    }
    let isThenable = false;
    try { isThenable = r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function'; }
    catch (e) { failed(e); return ''; }
    if (isThenable) apply(then, new P((resolve) => resolve(r)), [finish, failed]);
    else finish(r);
    return '';
  }

  if (LIMITS.harden) {
    // Override-mistake enablement: assigning e.g. \`this.name = 'MyError'\` on an instance must
    // keep working once Error.prototype is frozen.
    const enable = (obj, key) => {
      const d = getDesc(obj, key);
      if (!d || !hasOwn(d, 'value') || !d.writable) return;
      const value = d.value;
      defineProperty(obj, key, {
        get: function () { return value; },
        set: function (v) {
          if (this === obj) throw new TypeErrorCtor('Cannot assign to read only property ' + StringCtor(key));
          defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable,
        configurable: false,
      });
    };
    for (const k of ['constructor', 'toString', 'valueOf', 'toLocaleString', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']) enable(OP, k);
    for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError]) {
      for (const k of ['name', 'message', 'constructor', 'toString']) enable(E.prototype, k);
    }
    for (const k of ['constructor', 'toString']) { enable(Function.prototype, k); enable(AP, k); enable(P.prototype, k); }

    const roots = [g, ctx,
      getProto(function* () {}), getProto(async function () {}), getProto(async function* () {}),
      getProto([][Symbol.iterator]()), getProto(new Map()[Symbol.iterator]()), getProto(new Set()[Symbol.iterator]()),
      getProto(''[Symbol.iterator]()), getProto(/a/[Symbol.matchAll]('a')), getProto(Int8Array),
    ];
    try { const s = new Intl.Segmenter().segment('a'); apply(push, roots, [getProto(s), getProto(s[Symbol.iterator]())]); } catch (_) {}
    const seen = new WS();
    const todo = roots;
    while (todo.length) {
      const o = apply(pop, todo, []);
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || apply(wsHas, seen, [o])) continue;
      apply(wsAdd, seen, [o]);
      freeze(o);
      apply(push, todo, [getProto(o)]);
      const keys = ownKeys(o);
      for (let i = 0; i < keys.length; i++) {
        const d = getDesc(o, keys[i]);
        if (hasOwn(d, 'value')) apply(push, todo, [d.value]);
        else apply(push, todo, [d.get, d.set]);
      }
    }
  }
  return entry;
})(globalThis);
`;
}
