import { findCycle, importGraph, type ImportGraph } from '../../tools/check/import-graph';
import { repoRoot } from '../../tools/repo-root';
import { join } from 'node:path';

const src = join(repoRoot(__dirname), 'src');

describe('the import graph of src/', () => {
  const graph = importGraph(src);

  it('is read whole: every module and the imports between them', () => {
    expect(graph.get('cli/main.ts')?.length).toBeGreaterThan(3);
    expect(graph.get('domain/message.ts')).toEqual(['domain/topic.ts']);
    // `../activities` is the folder's index.ts; type-only imports count too.
    expect(graph.get('workflows/activity-options.ts')).toContain('activities/index.ts');
    // `../config` is config/index.ts; the run's tables (store/) sit on db/, the CLI's Temporal side (client/) under cli/.
    expect(graph.get('log.ts')).toEqual(['config/index.ts']);
    expect(graph.get('store/planner.ts')).toContain('db/pool.ts');
    expect(graph.get('cli/commands/sync.ts')).toContain('client/sync-client.ts');
  });

  it('has no cycle', () => {
    expect(findCycle(graph)).toBeUndefined();
  });
});

describe('findCycle', () => {
  const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('finds a cycle and names the files along it', () => {
    expect(findCycle(graphOf({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'] }))).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
    expect(findCycle(graphOf({ 'a.ts': ['a.ts'] }))).toEqual(['a.ts', 'a.ts']);
    expect(findCycle(graphOf({ 'x.ts': ['a.ts'], 'a.ts': ['b.ts'], 'b.ts': ['a.ts'] }))).toEqual(['a.ts', 'b.ts', 'a.ts']);
  });

  it('accepts a graph where two files import the same third one (a diamond is no cycle)', () => {
    expect(findCycle(graphOf({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['d.ts'], 'c.ts': ['d.ts'], 'd.ts': [] }))).toBeUndefined();
  });
});
