"""Azurite quick start: a persistent database of a few thousand short articles.

Run it twice: the second run finds the records the first one stored. Embeddings here come
from a small hashed bag-of-words function so that the example needs no model download;
any embedding function (or your own vectors) works the same way.
"""

from __future__ import annotations

import hashlib
import random
import time

import numpy as np

import azurite

DIMENSION = 256
TOPICS = {
    "astronomy": "telescope galaxy orbit planet comet nebula star moon eclipse",
    "cooking": "recipe oven garlic butter simmer bake flour spice sauce",
    "sailing": "boat wind harbour sail mast anchor tide keel compass",
    "gardening": "soil seed compost tomato prune bloom shovel roots water",
    "music": "guitar chord melody rhythm drum piano tempo choir concert",
}


def embed(texts: list[str]) -> np.ndarray:
    """One unit vector per text: each word adds weight to a few hashed dimensions."""
    vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            for i in range(0, 8, 2):
                vectors[row, int.from_bytes(digest[i : i + 2], "little") % DIMENSION] += 1.0
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def make_articles(count: int) -> tuple[list[str], list[str], list[dict]]:
    rng = random.Random(42)
    ids, documents, metadatas = [], [], []
    for i in range(count):
        topic = rng.choice(sorted(TOPICS))
        words = rng.sample(TOPICS[topic].split(), 5)
        ids.append(f"article-{i:05d}")
        documents.append(f"A note on {topic}: " + " ".join(words))
        metadatas.append(
            {"topic": topic, "year": rng.randint(2015, 2025), "stars": rng.randint(1, 5)}
        )
    return ids, documents, metadatas


def show(title: str, result: dict) -> None:
    print(f"\n{title}")
    for id_, distance, metadata, document in zip(
        result["ids"][0], result["distances"][0], result["metadatas"][0], result["documents"][0]
    ):
        print(f"  {distance:6.3f}  {id_}  {metadata['topic']:<10} {metadata['year']}  {document}")


def main() -> None:
    client = azurite.PersistentClient("./azurite-demo")
    articles = client.get_or_create_collection(
        "articles", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    print(f"Opened ./azurite-demo: the collection holds {articles.count()} records.")

    ids, documents, metadatas = make_articles(5000)
    started = time.perf_counter()
    articles.upsert(ids=ids, embeddings=embed(documents), metadatas=metadatas, documents=documents)
    print(
        f"Stored {len(ids)} records in {time.perf_counter() - started:.2f} s "
        f"(now {articles.count()})."
    )

    question = "which telescope shows a comet near the moon"
    show(
        f"Nearest to {question!r}:", articles.query(query_embeddings=embed([question]), n_results=3)
    )
    show(
        "The same, among articles from 2024 on with 4 stars or more:",
        articles.query(
            query_embeddings=embed([question]),
            n_results=3,
            where={"$and": [{"year": {"$gte": 2024}}, {"stars": {"$gte": 4}}]},
        ),
    )
    show(
        "Cooking notes that mention garlic, nearest to 'butter sauce':",
        articles.query(
            query_embeddings=embed(["butter sauce"]),
            n_results=3,
            where={"topic": "cooking"},
            where_document={"$contains": "garlic"},
        ),
    )
    sailing = articles.get(where={"topic": "sailing"}, limit=3)
    print(f"\nFirst sailing notes by insertion order: {sailing['ids']}")
    client.close()


if __name__ == "__main__":
    main()
