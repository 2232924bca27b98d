import { BodyTooLargeError, readLimited, readLimitedText } from './read-limited.js';

async function* chunks(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

describe('readLimited', () => {
  test('reads a body within the limit', async () => {
    expect(await readLimitedText(chunks('ab', 'cd'), 4)).toBe('abcd');
    expect((await readLimited(null, 10)).length).toBe(0);
  });

  test('stops at the first chunk past the limit', async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield Buffer.alloc(1024);
      }
    }
    await expect(readLimited(endless(), 4096)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(pulled).toBe(5);
  });
});
