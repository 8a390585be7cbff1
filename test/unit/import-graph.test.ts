import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const SRC = join(ROOT, 'src');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The modules of src/ a file imports (static, type-only, re-exports and import()), as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'/gms),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
}

const graph = new Map(sources(SRC).map((file) => [relative(SRC, file), importsOf(file)]));

/** The first cycle found among `nodes` following `edges`, or null. */
function findCycle(edges: (node: string) => string[], nodes: string[]): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of edges(node)) {
      const cycle = visit(next);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of nodes) {
    const cycle = visit(node);
    if (cycle !== null) return cycle;
  }
  return null;
}

const topDir = (module: string) => module.split('/')[0]!;

describe('import graph of src/', () => {
  it('the parser sees the imports (a sanity check of this test itself)', () => {
    expect(graph.get('cli/deps.ts')).toContain('store/file/file-store.ts');
    expect(graph.get('secrets/passphrase.ts')).toContain('store/vault.ts');
  });

  it('src/store imports nothing from src/secrets: the store defines the vault interface, secrets implement it', () => {
    const offending = [...graph].flatMap(([module, imports]) =>
      topDir(module) === 'store' ? imports.filter((i) => topDir(i) === 'secrets').map((i) => `${module} -> ${i}`) : [],
    );
    expect(offending).toEqual([]);
  });

  it('no directory of src/store, src/secrets, src/io and src/core imports one that imports it back', () => {
    const layers = new Set(['store', 'secrets', 'io', 'core']);
    const dirEdges = (dir: string) => [
      ...new Set(
        [...graph]
          .filter(([module]) => topDir(module) === dir)
          .flatMap(([, imports]) => imports.map(topDir))
          .filter((d) => d !== dir && layers.has(d)),
      ),
    ];
    expect(findCycle(dirEdges, [...layers])).toBeNull();
  });

  it('no module of src/store, src/secrets, src/io or src/core imports itself back through others', () => {
    const layers = new Set(['store', 'secrets', 'io', 'core']);
    const modules = [...graph.keys()].filter((m) => layers.has(topDir(m)));
    expect(findCycle((m) => graph.get(m) ?? [], modules)).toBeNull();
  });

  it('commands reach the store only through its interface: none imports the file backend', () => {
    const offending = [...graph].flatMap(([module, imports]) =>
      topDir(module) === 'commands'
        ? imports.filter((i) => i.startsWith('store/file/')).map((i) => `${module} -> ${i}`)
        : [],
    );
    expect(offending).toEqual([]);
  });

  it('no module of src/ imports itself back through others', () => {
    expect(findCycle((m) => graph.get(m) ?? [], [...graph.keys()])).toBeNull();
  });
});
