import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeGrants } from '../../src/db/grants';

describe("README's least-privilege grants", () => {
  it('are exactly the grants every e2e worker runs with (runtimeGrants), for the default databases', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### A least-privilege database user'));
    const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const grants = block.split('\n').filter((line) => line.startsWith('GRANT '));
    expect(grants).toEqual(runtimeGrants({ database: 'ocpp', toolDatabase: 'cp_sync' }, "'cp_sync'@'%'").map((g) => `${g};`));
  });
});
