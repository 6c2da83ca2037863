"""The Python API: clients and collections that prepare calls for an engine.

- ``engine``: the contract (``Engine`` / ``AsyncEngine``, ``Server`` / ``AsyncServer``,
  ``Connection``) and the dicts that cross it.
- ``collection_core``: preparing a collection's calls and shaping their answers (no I/O).
- ``collection``: ``Collection`` and ``AsyncCollection``, siblings over that core.
- ``client_core``: preparing a client's calls and making collections of their answers.
- ``client``: ``ClientAPI`` / ``AsyncClientAPI`` and ``AdminAPI`` / ``AsyncAdminAPI``, and
  the embedded ``Client`` and ``AdminClient``.
- ``embedded``: the engine of this process and the process-wide systems that share it.
- ``http_client``: the remote engine and server over HTTP, and the HTTP clients.
- ``validation``, ``embedding``: chromadb's argument checks; embedding functions.
"""
