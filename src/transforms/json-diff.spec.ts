import { firstDifference, jsonEqual, lineDiff } from './json-diff.js';

describe('fixture diffs', () => {
  test('equality ignores key order, not array order', () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual({ b: [1, 2] }, { b: [2, 1] })).toBe(false);
  });

  test('names the first differing path', () => {
    expect(firstDifference({ claims: { roles: ['a', 'b'] } }, { claims: { roles: ['a', 'c'] } })).toBe('claims.roles[1]: expected "b", got "c"');
    expect(firstDifference({ claims: { x: 1 } }, { claims: {} })).toBe('claims.x: expected 1, got (nothing)');
    expect(firstDifference({ a: 1 }, { a: 1 })).toBeUndefined();
  });

  test('shows changed lines with - and + and elides distant context', () => {
    const expected = { claims: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i])) };
    const actual = structuredClone(expected);
    actual.claims.k11 = 99;
    const diff = lineDiff(expected, actual, 1);
    expect(diff).toContain('-     "k11": 11');
    expect(diff).toContain('+     "k11": 99');
    expect(diff).toContain('  …');
    expect(diff.filter((l) => l.startsWith('-') || l.startsWith('+'))).toHaveLength(2);
  });
});
