/**
 * The import graph of a source folder, read with the TypeScript compiler's own pre-processor (no type checking, so
 * it is quick), and the search for a cycle in it. test/unit/import-graph.test.ts keeps src/ free of cycles; the
 * layer rules in eslint.config.mjs keep its imports pointing downwards.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Each file (relative to the folder, with `/`) and the files of the folder it imports, type-only imports included. */
export type ImportGraph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names: `x.ts` or `x/index.ts`; undefined for a package or a file outside the folder. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const key = (file: string): string => relative(root, file).split('\\').join('/');
  for (const file of sourceFiles(root)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, false);
    const targets = importedFiles.map((imported) => resolveImport(file, imported.fileName)).filter((target): target is string => target !== undefined);
    graph.set(key(file), [...new Set(targets.filter((target) => target.startsWith(root)).map(key))].sort());
  }
  return graph;
}

/** A cycle as the files along it, the first one repeated at the end; undefined when the graph has none. */
export function findCycle(graph: ImportGraph): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | undefined => {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return undefined;
    path.push(file);
    onPath.add(file);
    for (const target of graph.get(file) ?? []) {
      const cycle = visit(target);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return undefined;
  };
  for (const file of [...graph.keys()].sort()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}
