/**
 * Splits message bodies into platform calls: at most `maxCount` bodies and `maxBytes` bytes a
 * call, in the order given. Returns each call's indices into `bytes`. A body over `maxBytes` by
 * itself is the caller's to refuse first (it fits no call).
 */
export function chunkIndices(bytes: readonly number[], maxCount: number, maxBytes: number): number[][] {
  const calls: number[][] = [];
  let current: number[] = [];
  let size = 0;
  bytes.forEach((n, index) => {
    if (current.length > 0 && (current.length >= maxCount || size + n > maxBytes)) {
      calls.push(current);
      current = [];
      size = 0;
    }
    current.push(index);
    size += n;
  });
  if (current.length > 0) calls.push(current);
  return calls;
}

/** UTF-8 length of a string, which is what queue limits count. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}
