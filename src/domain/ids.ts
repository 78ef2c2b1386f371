/**
 * New charging_points ids. The table's primary key is not auto-increment; the original's timestamp+random ids
 * collided once a run created a few hundred rows. Ids are taken as one contiguous block above the highest id,
 * read with a locking read inside the insert transaction, so no two rows can get the same id.
 */

/**
 * Other services read these ids with Sequelize as JavaScript numbers, so an id above 2^53 would be silently
 * rounded there: the block must stay within Number.MAX_SAFE_INTEGER.
 */
export function allocateIdBlock(highestExistingId: bigint | null, count: number): bigint[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
  const first = (highestExistingId ?? 0n) + 1n;
  const last = first + BigInt(count) - 1n;
  if (count > 0 && last > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`charging_points.id would pass ${Number.MAX_SAFE_INTEGER} (highest id is ${highestExistingId}); refusing to create unsafe ids`);
  }
  return Array.from({ length: count }, (_, i) => first + BigInt(i));
}

/**
 * The id at `offset` (0-based) of the block that allocateIdBlock would allocate above `highestExistingId`, for a
 * block streamed row by row; refuses an unsafe id the same way.
 */
export function idInBlock(highestExistingId: bigint | null, offset: number): bigint {
  const id = (highestExistingId ?? 0n) + 1n + BigInt(offset);
  if (id > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`charging_points.id would pass ${Number.MAX_SAFE_INTEGER} (highest id is ${highestExistingId}); refusing to create unsafe ids`);
  }
  return id;
}
