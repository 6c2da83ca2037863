// The official chromadb JavaScript client's `collection.search` against a running
// `azurite run`, each answer compared with one computed from the client's own `query`
// results and the ranking formulas. Usage: node search.mjs <host> <port>. Exits non-zero
// (with the failed assertion) on any difference; prints "ok <n> checks" at the end.
import assert from "node:assert/strict";
import { ChromaClient, GroupBy, K, Knn, MinK, Rrf, Search } from "chromadb";

const [host, port] = process.argv.slice(2);
const client = new ChromaClient({ host, port: Number(port) });
let checks = 0;
const ranked = (result, expected, what) => {
  assert.deepEqual(result.ids[0], expected.map(([id]) => id), `${what}: ids`);
  result.scores[0].forEach((score, i) =>
    assert.ok(Math.abs(score - expected[i][1]) <= 1e-5 * Math.max(1, Math.abs(expected[i][1])),
      `${what}: score ${i}: ${score} vs ${expected[i][1]}`));
  checks += 1;
};
// Chroma's order: ascending score, ties by insertion order.
const ordered = (scores, order) =>
  [...scores.entries()].sort((a, b) => a[1] - b[1] || order.indexOf(a[0]) - order.indexOf(b[0]));

const collection = await client.createCollection({ name: `js-search-${Date.now()}`, embeddingFunction: null });
const ids = [];
const embeddings = [];
const metadatas = [];
const documents = [];
for (let i = 0; i < 60; i += 1) {
  ids.push(`r${String(i).padStart(2, "0")}`);
  embeddings.push([Math.sin(i), Math.cos(i * 1.7), (i % 7) / 7, Math.sin(i * 0.3)]);
  metadatas.push({ category: ["a", "b", "c"][i % 3], i });
  documents.push(i % 4 === 0 ? `fox number ${i}` : `dog number ${i}`);
}
await collection.add({ ids, embeddings, metadatas, documents });
const q1 = [0.2, 0.5, 0.1, -0.3];
const q2 = [-0.6, 0.1, 0.9, 0.4];
const nearest = async (query, n, where) => {
  const found = await collection.query({ queryEmbeddings: [query], nResults: n, where, include: ["distances"] });
  return found.ids[0].map((id, i) => [id, found.distances[0][i]]);
};

// Dense Knn: the nearest records and their distances.
ranked(
  await collection.search(new Search().rank(Knn({ query: q1, limit: 6 })).select(K.SCORE)),
  await nearest(q1, 6),
  "knn",
);

// A filter limits the candidates first; offset and limit page the ranking.
ranked(
  await collection.search(
    new Search().where(K("category").eq("b")).rank(Knn({ query: q2, limit: 10 })).limit(4, 2).select(K.SCORE),
  ),
  (await nearest(q2, 10, { category: "b" })).slice(2, 6),
  "where + limit",
);

// Rrf: -Σ wᵢ/(k + rankᵢ), ranks from 0; a record missing from a list takes its default.
const lists = [await nearest(q1, 20), await nearest(q2, 20)];
const positions = lists.map((list) => new Map(list.map(([id], rank) => [id, rank])));
const weights = [0.7, 0.3];
const fused = new Map();
for (const id of new Set([...positions[0].keys(), ...positions[1].keys()])) {
  fused.set(id, -weights.reduce((sum, w, j) => sum + w / (60 + (positions[j].get(id) ?? 20)), 0));
}
ranked(
  await collection.search(
    new Search()
      .rank(Rrf({
        ranks: [
          Knn({ query: q1, limit: 20, returnRank: true, default: 20 }),
          Knn({ query: q2, limit: 20, returnRank: true, default: 20 }),
        ],
        weights,
        k: 60,
      }))
      .limit(10)
      .select(K.SCORE),
  ),
  ordered(fused, ids).slice(0, 10),
  "rrf",
);

// Group by category, the best two of each, then by score.
const candidates = await nearest(q1, 30);
const kept = new Map();
for (const category of ["a", "b", "c"]) {
  candidates.filter(([id]) => metadatas[ids.indexOf(id)].category === category).slice(0, 2)
    .forEach(([id, d]) => kept.set(id, d));
}
ranked(
  await collection.search(
    new Search()
      .rank(Knn({ query: q1, limit: 30 }))
      .groupBy(new GroupBy([K("category")], new MinK([K.SCORE], 2)))
      .select(K.SCORE),
  ),
  ordered(kept, ids),
  "group by",
);

// Select: rows carry what was asked for; several searches answer in order.
const both = await collection.search([
  new Search().where(K.DOCUMENT.contains("fox")).limit(3).selectAll(),
  new Search().rank(Knn({ query: q2, limit: 2 })).select("i"),
]);
const rows = both.rows();
assert.deepEqual(rows[0].map((row) => row.id), ["r00", "r04", "r08"]);
assert.deepEqual(rows[0][1].document, "fox number 4");
assert.deepEqual(rows[0][1].metadata, { category: "b", i: 4 });
assert.ok(rows[0][1].embedding.every((v, j) => Math.abs(v - embeddings[4][j]) < 1e-6));
assert.deepEqual(rows[0].map((row) => row.score), [0, 1, 2]);
assert.deepEqual(rows[1].map((row) => Object.keys(row).sort()), [["id", "metadata"], ["id", "metadata"]]);
assert.deepEqual(both.select, [["#document", "#embedding", "#metadata", "#score"], ["i"]]);
checks += 1;

console.log(`ok ${checks} checks`);
