"""The topic map of the diary: entries embedded, projected to 2-D, clustered and named, drawn, and fed back.

Modules, in the order a map is made:

* ``embed``: an entry's title, description and key points -> a unit vector (WordLlama from its wheel, or an
  OpenAI-compatible ``/v1/embeddings``), cached in the store by text hash;
* ``project``: PCA to a few dozen dimensions (where clusters are found), then t-SNE to 2-D (the picture);
* ``cluster``: K-Means with k by silhouette near the diary's own count of topics (or fixed), or HDBSCAN, compared
  with chance; ids kept across runs by member overlap;
* ``phrases``: each cluster's name, the noun phrase that sets it apart (c-TF-IDF over phrases);
* ``name``: each cluster's most distinctive words (its keywords), or the LLM's name from its titles (``--llm``);
* ``build``: all of the above for the catalog's entries -> a :class:`~paperdiary.diary.map.build.TopicMap`;
* ``render``: the interactive HTML page and the PNG (hulls, names, legend; in the assets folder), the README block's lines;
* ``suggest``: clusters no README theme covers (new-theme suggestions for review), themes split across clusters;
* ``related``: the nearest earlier entries of a new draft (``draft`` links them);
* ``make``: ``paperdiary map`` as one library call, under the diary's write lock.

The heavy libraries are the ``map`` extra: nothing here imports them at module level except the modules
that only run after ``paperdiary.extras.require_extra("map")`` (and the CLI imports those inside its command).
"""
