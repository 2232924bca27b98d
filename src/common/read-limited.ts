/**
 * Reads a response body while counting bytes, and stops as soon as it exceeds `limit`: a large
 * (or endless, chunked) answer from an upstream never ends up in memory whole.
 */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

type Body = AsyncIterable<Uint8Array> & { cancel?: () => Promise<void> };

export async function readLimited(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | null | undefined, limit: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as Body) {
    size += chunk.byteLength;
    if (size > limit) {
      await (body as Body).cancel?.().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** As readLimited, as UTF-8 text. */
export async function readLimitedText(body: Parameters<typeof readLimited>[0], limit: number): Promise<string> {
  return (await readLimited(body, limit)).toString('utf8');
}
