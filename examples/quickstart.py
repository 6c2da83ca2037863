"""Azurite quick start: a persistent database of a few thousand short articles.

Run it twice: the second run finds the records the first one stored. Documents are
embedded by the collection's default embedding function (all-MiniLM-L6-v2 on onnxruntime,
the same vectors as Chroma's); `make demo` installs its weights so that this works offline.
"""

from __future__ import annotations

import random
import time

import azurite

TOPICS = {
    "astronomy": "telescope galaxy orbit planet comet nebula star moon eclipse",
    "cooking": "recipe oven garlic butter simmer bake flour spice sauce",
    "sailing": "boat wind harbour sail mast anchor tide keel compass",
    "gardening": "soil seed compost tomato prune bloom shovel roots water",
    "music": "guitar chord melody rhythm drum piano tempo choir concert",
}


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
    # No embedding_function argument: the collection uses the default one.
    articles = client.get_or_create_collection(
        "articles", configuration={"hnsw": {"space": "cosine"}}
    )
    print(f"Opened ./azurite-demo: the collection holds {articles.count()} records.")

    ids, documents, metadatas = make_articles(5000)
    if articles.count() < len(ids):
        started = time.perf_counter()
        articles.upsert(ids=ids, metadatas=metadatas, documents=documents)
        print(
            f"Embedded and stored {len(ids)} documents in "
            f"{time.perf_counter() - started:.2f} s (now {articles.count()})."
        )

    question = "which telescope shows a comet near the moon"
    show(f"Nearest to {question!r}:", articles.query(query_texts=[question], n_results=3))
    show(
        "The same, among articles from 2024 on with 4 stars or more:",
        articles.query(
            query_texts=[question],
            n_results=3,
            where={"$and": [{"year": {"$gte": 2024}}, {"stars": {"$gte": 4}}]},
        ),
    )
    show(
        "Cooking notes that mention garlic, nearest to 'butter sauce':",
        articles.query(
            query_texts=["butter sauce"],
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
