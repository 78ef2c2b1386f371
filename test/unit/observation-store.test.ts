import type { ResultSetHeader } from 'mysql2';
import { newRows } from '../../src/store/observation-store';

const result = (info: string): ResultSetHeader => ({ info }) as ResultSetHeader;

describe('newRows', () => {
  it('reads the rows an INSERT added from its Records and Duplicates', () => {
    expect(newRows(result('Records: 2000  Duplicates: 37  Warnings: 0'))).toBe(1963);
    expect(newRows(result('Records: 2  Duplicates: 2  Warnings: 0'))).toBe(0);
  });

  it('counts nothing when the server reports nothing (a progress figure never fails the writes)', () => {
    expect(newRows(result(''))).toBe(0);
  });
});
