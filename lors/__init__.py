"""LORS: low-rank residual structure for stacks of layers, and the AdaMixer detector it serves.

Vocabulary of the method (shared/docs/method.md is the specification):

- **stack**: N layers of the same shape applied one after another (the N decoder stages).
- **shared weight**: the one weight all N layers of a stack use (``W_shared``, or the shared
  generator ``G_s`` for weights made from the query).
- **private term**: the per-layer low-rank residual added to the shared weight; it is exactly
  zero at initialisation, so every layer starts as the shared weight.
- **LORS_T** (static): ``W_i = W_shared + sum_k B_ik A_ik`` for learned weights.
- **LORS_A** (adaptive): ``W_i(q) = reshape(G_s q + g_s) + sum_k L_ik Z_ik(q) R_ik`` for weights
  generated from a query vector ``q``; only the ``r x r`` cores ``Z`` are generated per query.
- **rank** ``r`` and **groups** ``K``: a private term is ``K`` rank-``r`` pairs (``K`` may differ
  per layer).
- **parts**: ``both`` (the method), ``shared`` (no private term), ``private`` (no shared weight).

Importing this package is cheap and pulls in no torch: ``lors.counting`` is used at planning
time. The layers live in ``lors.layers`` and the mmdet modules in ``lors.models``.
"""
