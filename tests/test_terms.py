"""The shared tokenizer and stemmer (paperdiary.terms) and BM25 (paperdiary.bm25)."""

from __future__ import annotations

import math

from paperdiary.bm25 import BM25, idf
from paperdiary.terms import normalised, stem, terms, words


def test_stemming_meets_word_forms() -> None:
    assert stem("policies") == stem("policy")
    assert stem("training") == stem("trained") == stem("trains") == stem("train")
    assert stem("planning") == stem("plans")
    assert stem("encoding") == stem("encoded") == stem("encode")
    assert stem("RL") == "RL" and stem("gpu") == "gpu" and stem("self-play") == "self-play"


def test_terms_fold_case_possessives_stop_words_and_numbers() -> None:
    assert terms("The Tokens of a Model's rewards") == ["token", "model", "reward"]
    assert terms("We're 3 times better on GPT-4") == ["tim", "better", "gpt"]
    assert terms("GPT 4 on 2 nodes", numbers=True, min_length=1) == ["gpt", "4", "2", "nod"]
    assert terms("an RL agent", min_length=3) == ["agent"]


def test_ligatures_are_read_through_nfkc_but_offsets_point_into_the_text() -> None:
    text = "Signiﬁcantly ﬁne-tuned"
    found = list(words(text))
    assert [w.surface for w in found] == ["Significantly", "fine", "tuned"]
    assert [text[w.start:w.end] for w in found] == ["Signiﬁcantly", "ﬁne", "tuned"]
    assert terms("ﬁne-tuning") == terms("fine-tuning") == ["fin", "tun"]
    assert [w.term for w in words("self-play and pre-training", hyphenated=True)] == ["self-play", "", "pre-training"]
    assert normalised("The  ﬁne, Tuned") == "the fine tuned"


def test_bm25_ranks_by_rare_shared_terms_and_discounts_long_documents() -> None:
    docs = [{"policy": 2.0, "reward": 1.0}, {"robot": 1.0, "grasp": 1.0}, {"reward": 1.0, **{f"w{i}": 1.0 for i in range(20)}}]
    index = BM25.of(docs)
    assert [n for _, n in index.ranked(["reward"])] == [0, 2, 1]  # the shorter document first
    assert index.ranked(["grasp", "robot"])[0][1] == 1
    assert index.scores(["unseen"]) == {}
    assert index.idf("reward") == idf(2, 3) < index.idf("robot") == idf(1, 3) < index.idf("unseen")
    # One term, one document: the textbook formula.
    tf, length, average = 2.0, 3.0, sum([3.0, 2.0, 21.0]) / 3
    expected = idf(1, 3) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average))
    assert math.isclose(index.scores(["policy"])[0], expected)
    # Query weights multiply, and no score reaches the ideal.
    weighted = index.scores({"policy": 3.0})
    assert math.isclose(weighted[0], 3 * expected) and weighted[0] < index.ideal({"policy": 3.0})


def test_topic_names_read_ligatures_as_letters() -> None:
    from paperdiary.diary.map.name import keyword_names, topic_name

    adapters = ["Eﬃcient ﬁne-tuning of language models with low-rank adapters.",
                "Signiﬁcantly cheaper ﬁne-tuning with adapters.", "Adapters for ﬁne-tuning."]
    robots = ["Robots grasp objects with suction cups.", "Grasping policies for robots."]
    assert topic_name(adapters, [robots]) == "Fine-tuning"
    names = keyword_names([adapters, robots])
    assert names[0].keywords == ("adapters", "fine-tuning")
    assert not any("ﬁ" in k or k in ("signi", "cantly", "e", "cient") for n in names for k in n.keywords)
