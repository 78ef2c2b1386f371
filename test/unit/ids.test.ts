import { allocateIdBlock } from '../../src/domain/ids';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

describe('allocateIdBlock', () => {
  it('gives a contiguous block just above the highest id', () => {
    expect(allocateIdBlock(41n, 3)).toEqual([42n, 43n, 44n]);
  });

  it('starts at 1 on an empty table', () => {
    expect(allocateIdBlock(null, 2)).toEqual([1n, 2n]);
  });

  it('gives nothing for a count of 0', () => {
    expect(allocateIdBlock(41n, 0)).toEqual([]);
  });

  it('keeps 16-digit ids of the original tool exact', () => {
    expect(allocateIdBlock(1731331234987654n, 2)).toEqual([1731331234987655n, 1731331234987656n]);
  });

  it('may end exactly at Number.MAX_SAFE_INTEGER', () => {
    expect(allocateIdBlock(MAX - 2n, 2)).toEqual([MAX - 1n, MAX]);
  });

  it.each([
    ['one past it', MAX - 2n, 3],
    ['starting above it', MAX, 1],
  ])('refuses a block that passes Number.MAX_SAFE_INTEGER (%s)', (_case, highest, count) => {
    expect(() => allocateIdBlock(highest, count)).toThrow(/refusing to create unsafe ids/);
  });

  it('does not refuse when there is nothing to create, whatever the highest id', () => {
    expect(allocateIdBlock(MAX, 0)).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the count %p', (count) => {
    expect(() => allocateIdBlock(10n, count)).toThrow(RangeError);
  });

  it('never gives the same id twice over many runs (10,000 ids)', () => {
    // Successive runs, each taking its block above the highest id the previous one left: block sizes from a
    // fixed pseudo-random sequence so that a failure is reproducible.
    let seed = 12345;
    const nextSize = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 50;
    };
    const seen = new Set<bigint>();
    let highest: bigint | null = 1731331234987654n;
    let total = 0;
    let notAbove = 0;
    while (total < 10_000) {
      const block = allocateIdBlock(highest, Math.min(nextSize(), 10_000 - total));
      for (const id of block) {
        if (highest !== null && id <= highest) notAbove++;
        seen.add(id);
      }
      total += block.length;
      highest = block.at(-1) ?? highest;
    }
    expect(notAbove).toBe(0);
    expect(seen.size).toBe(10_000);
  });
});
