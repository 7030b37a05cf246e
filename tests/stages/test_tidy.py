"""A paper's sentence as an entry shows it (stages/drafting/tidy.py): citations, footnote marks and pointers to
figures, tables and sections go; a sentence that cannot do without them is not shown."""

from __future__ import annotations

import pytest

from paperdiary.stages.drafting.tidy import tidy


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        # numeric citations, escaped ones as an earlier draft rendered them, LaTeX's \cite
        ("Large language models are increasingly fine-tuned with verifiable rewards [3, 7].",
         "Large language models are increasingly fine-tuned with verifiable rewards."),
        ("This is consistent with prior findings \\[30\\] on large language models and their scaling.",
         "This is consistent with prior findings on large language models and their scaling."),
        ("Recurrent networks \\citep{hochreiter1997} were long the default for sequence modeling tasks.",
         "Recurrent networks were long the default for sequence modeling tasks."),
        # a citation the grammar leans on: the pointing phrase goes with it
        ("We share the same weight matrix between the two embedding layers, similar to [30].",
         "We share the same weight matrix between the two embedding layers."),
        ("We use label smoothing of value 0.1 in every run, as in [12, 15], for all models.",
         "We use label smoothing of value 0.1 in every run, for all models."),
        # author-year forms
        ("Schulman et al. [12] introduced proximal policy optimization, which clips the policy ratio.",
         "Schulman et al. introduced proximal policy optimization, which clips the policy ratio."),
        ("We use the same setup as Nye et al. [2021] for all arithmetic experiments here.",
         "We use the same setup as Nye et al. for all arithmetic experiments here."),
        ("Recurrent models have been widely used (Hochreiter and Schmidhuber, 1997; Cho et al., 2014) "
         "for sequence modeling tasks.", "Recurrent models have been widely used for sequence modeling tasks."),
        ("This idea was first explored by (Smith and Doe, 2020) in the context of machine translation.",
         "This idea was first explored by Smith and Doe in the context of machine translation."),
        # footnote marks
        ("The model is trained on public data\u00b9 and evaluated on held-out tasks\u2020 only.",
         "The model is trained on public data and evaluated on held-out tasks only."),
        ("We evaluate on all benchmark tasks2, using float16 precision for every transformer model.",
         "We evaluate on all benchmark tasks, using float16 precision for every transformer model."),
        # pointers to the paper's own parts
        ("On the WMT 2014 English-to-German translation task, the big transformer model (Transformer (big) in "
         "Table 2) outperforms the best previously reported models by more than 2.0 BLEU.",
         "On the WMT 2014 English-to-German translation task, the big transformer model outperforms the best "
         "previously reported models by more than 2.0 BLEU."),
        ("In Fig. 2 (left), we see that even though FlashAttention has higher FLOP count, it has fewer HBM accesses.",
         "Even though FlashAttention has higher FLOP count, it has fewer HBM accesses."),
        ("Table 4 shows that that GPT-2 with FlashAttention is still 30% faster than GPT-2 from Megatron.",
         "GPT-2 with FlashAttention is still 30% faster than GPT-2 from Megatron."),
        ("As shown in Table 3, the gains hold across all model sizes we tried.",
         "The gains hold across all model sizes we tried."),
        ("The rationale generation bootstrapping algorithm described in Algorithm 1 carries one major limitation.",
         "The rationale generation bootstrapping algorithm carries one major limitation."),
        ("The gains are largest on long sequences (see Section 4.2 and Appendix B).",
         "The gains are largest on long sequences."),
        ("We show in Section 5 that the memory footprint scales linearly with sequence length.",
         "We show that the memory footprint scales linearly with sequence length."),
        # openers that lean on the sentence before
        ("Second, we show that restricting the gradient to forking tokens improves sample efficiency by 2.1x.",
         "We show that restricting the gradient to forking tokens improves sample efficiency by 2.1x."),
        ("For example, it is difficult to evaluate the contribution of the larger dataset alone.",
         "It is difficult to evaluate the contribution of the larger dataset alone."),
        # names that end in digits are not footnote marks; markdown characters go
        ("We compare **GPT2** and `BERT` on the GLUE benchmark with a fixed compute budget.",
         "We compare GPT2 and BERT on the GLUE benchmark with a fixed compute budget."),
    ],
)
def test_what_only_makes_sense_inside_the_paper_goes(sentence: str, shown: str) -> None:
    vocabulary = {"tasks": 4, "tasks2": 1, "float": 3, "float16": 3, "gpt2": 3}
    assert tidy(sentence, vocabulary) == shown


@pytest.mark.parametrize(
    "sentence",
    [
        "The method of [5] improves accuracy on all tasks by a wide margin.",
        "Our approach outperforms [5] on every benchmark we tried here.",
        "We follow \\cite{vaswani2017attention} and use label smoothing in all runs.",
        "Table 1 reports accuracy on AIME 2024, AIME 2025 and MATH-500.",
        "Figure 3 plots the loss of every model against the number of training steps.",
        "Results for the other datasets are in Appendix C and follow the same trend.",
    ],
)
def test_a_sentence_that_needs_its_reference_is_not_shown(sentence: str) -> None:
    assert tidy(sentence) is None


def test_tidy_only_removes_words() -> None:
    sentence = "Our model achieves 28.4 BLEU [7] on WMT 2014 (Table 2), improving over the best results by 2 BLEU."
    shown = tidy(sentence)
    assert shown == "Our model achieves 28.4 BLEU on WMT 2014, improving over the best results by 2 BLEU."
    assert set(shown.replace(",", " ").split()) <= set(sentence.replace(",", " ").split())
