// The official chromadb JavaScript client against a running `azurite run`.
// Usage: node scenario.mjs <host> <port>. Exits non-zero (with the failed assertion) on
// any difference; prints "ok <n> checks" when every step passed.
import assert from "node:assert/strict";
import { ChromaClient, ChromaNotFoundError, ChromaUniqueError } from "chromadb";

const [host, port] = process.argv.slice(2);
const client = new ChromaClient({ host, port: Number(port) });
let checks = 0;
const check = (actual, expected, what) => {
  assert.deepEqual(actual, expected, what);
  checks += 1;
};
const close = (values, expected, what) => {
  assert.equal(values.length, expected.length, what);
  values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${what}: ${values}`));
  checks += 1;
};

assert.ok((await client.heartbeat()) > 0);
assert.match(await client.version(), /^\d+\.\d+\.\d+/);

// Collections
const name = `js-${Date.now()}`;
const collection = await client.createCollection({
  name,
  metadata: { topic: "js" },
  embeddingFunction: null,
});
check(collection.name, name, "created name");
check(collection.metadata, { topic: "js" }, "created metadata");
const fetched = await client.getCollection({ name });
check(fetched.id, collection.id, "get by name");
const again = await client.getOrCreateCollection({ name, embeddingFunction: null });
check(again.id, collection.id, "get or create");
assert.ok((await client.countCollections()) >= 1);
assert.ok((await client.listCollections()).some((c) => c.name === name));
await assert.rejects(
  client.createCollection({ name, embeddingFunction: null }),
  (error) => error instanceof ChromaUniqueError || /already exists/.test(error.message),
);
await assert.rejects(client.getCollection({ name: "js-missing" }), ChromaNotFoundError);

// Records
await collection.add({
  ids: ["a", "b", "c", "d"],
  embeddings: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 0],
  ],
  metadatas: [
    { genre: "poem", year: 2020 },
    { genre: "essay", year: 2021 },
    { genre: "poem", year: 2022 },
    { year: 2023 },
  ],
  documents: ["the quick fox", "a lazy dog", "quick thinking", "brown bread"],
});
check(await collection.count(), 4, "count after add");
const all = await collection.get({ include: ["embeddings", "metadatas", "documents"] });
check(all.ids, ["a", "b", "c", "d"], "get ids");
check(all.embeddings, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], "get embeddings");
check(all.documents, ["the quick fox", "a lazy dog", "quick thinking", "brown bread"], "get documents");
check(all.metadatas[0], { genre: "poem", year: 2020 }, "get metadata");
check((await collection.get({ where: { genre: "poem" } })).ids, ["a", "c"], "where");
check((await collection.get({ where: { year: { $gte: 2021 } } })).ids, ["b", "c", "d"], "where $gte");
check(
  (await collection.get({ whereDocument: { $contains: "quick" } })).ids,
  ["a", "c"],
  "where_document",
);
check((await collection.get({ limit: 2, offset: 1 })).ids, ["b", "c"], "limit offset");
check((await collection.peek({ limit: 1 })).ids, ["a"], "peek");

const result = await collection.query({
  queryEmbeddings: [[1, 0.1, 0]],
  nResults: 2,
  include: ["distances", "documents"],
});
check(result.ids, [["a", "d"]], "query ids");
close(result.distances[0], [0.01, 0.81], "query distances");
const filtered = await collection.query({
  queryEmbeddings: [[1, 0, 0]],
  nResults: 5,
  where: { genre: "poem" },
});
check(filtered.ids, [["a", "c"]], "query where");

await collection.update({
  ids: ["a"],
  embeddings: [[1, 0, 0]],
  metadatas: [{ genre: "memo" }],
  documents: ["updated"],
});
const updated = await collection.get({ ids: ["a"] });
check(updated.metadatas, [{ genre: "memo", year: 2020 }], "update merges metadata");
check(updated.documents, ["updated"], "update document");
await collection.upsert({ ids: ["a", "e"], embeddings: [[2, 0, 0], [0, 2, 0]] });
check(await collection.count(), 5, "count after upsert");
await collection.delete({ ids: ["e"] });
await collection.delete({ where: { genre: "essay" } });
check((await collection.get()).ids, ["a", "c", "d"], "after deletes");
await assert.rejects(
  collection.add({ ids: ["x"], embeddings: [[1, 2]] }),
  (error) => /dimension/.test(error.message),
);

// Modify and delete the collection
const renamed = `${name}-renamed`;
await collection.modify({ name: renamed, metadata: { topic: "renamed" } });
check((await client.getCollection({ name: renamed })).metadata, { topic: "renamed" }, "modify");
await client.deleteCollection({ name: renamed });
await assert.rejects(client.getCollection({ name: renamed }), ChromaNotFoundError);

console.log(`ok ${checks} checks`);
