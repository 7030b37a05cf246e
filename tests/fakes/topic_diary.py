"""Generated diaries whose entries come from a few clearly separated topics, for the topic map's tests and benchmark.

Each topic has its own titles and sentences (written like real entries: what the
paper does, how, what it found), with slots filled from the topic's own
vocabulary, so no two entries are copies while every entry reads like its topic.
The same seed gives the same diary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

TOPICS: dict[str, dict[str, list[str]]] = {
    "rl": {
        "titles": [
            "{algo} with {trick} for Sparse-Reward {env}", "Scaling {algo} to Long-Horizon {env}",
            "Off-Policy Correction for {algo} Agents", "Reward Shaping Revisited in {env}",
            "Value Estimation Errors in {algo}", "Exploration Bonuses for {env} Agents",
        ],
        "sentences": [
            "The agent learns a policy with {algo} and a learned value function as a baseline.",
            "Sparse rewards in {env} make exploration the bottleneck, so they add {trick} to the return.",
            "Policy gradient updates are clipped to keep the new policy close to the behaviour policy.",
            "They compare on-policy and off-policy returns across {n} seeds of {env}.",
            "The critic overestimates action values, and a double estimator removes most of the bias.",
            "Reward models trained from preferences replace the hand-written reward of {env}.",
            "Advantage normalisation per batch stabilises {algo} when the episode returns vary widely.",
            "The replay buffer keeps {n} thousand transitions and samples them by temporal-difference error.",
            "An entropy bonus keeps the policy stochastic early in training and is annealed later.",
            "Agents trained with {trick} reach the goal in {env} {n} times more often than the baseline.",
        ],
        "algo": ["PPO", "GRPO", "Q-learning", "actor-critic", "REINFORCE", "SAC"],
        "trick": ["count-based bonuses", "curiosity rewards", "reward normalisation", "hindsight relabelling"],
        "env": ["Atari", "MiniGrid", "NetHack", "Procgen", "MuJoCo locomotion"],
    },
    "diffusion": {
        "titles": [
            "Faster Sampling for {model} Image Generation", "{model} with {trick} Guidance",
            "Denoising Schedules for High-Resolution {data}", "Latent {model} Models for {data}",
            "Distilling {model} Samplers into Few Steps", "Score Matching Meets {data} Synthesis",
        ],
        "sentences": [
            "The model learns to reverse a noising process that gradually corrupts {data} with Gaussian noise.",
            "A denoising network predicts the noise added at each timestep of the diffusion schedule.",
            "{trick} guidance trades sample diversity for fidelity at inference time.",
            "They sample images in {n} denoising steps instead of a thousand with a distilled sampler.",
            "Working in the latent space of an autoencoder cuts the cost of generating {data}.",
            "A cosine noise schedule keeps more signal at the early timesteps than the linear one.",
            "The U-Net denoiser is replaced by a transformer over image patches for {data}.",
            "Sample quality is measured by FID, which drops to {n} on the {data} benchmark.",
            "Score matching estimates the gradient of the log density of the noisy {data}.",
            "An ODE solver for the probability flow generates images deterministically from noise.",
        ],
        "model": ["DDPM", "diffusion", "score-based", "consistency"],
        "trick": ["Classifier-free", "Classifier", "Self-attention", "Autoguidance"],
        "data": ["images", "ImageNet images", "video frames", "text-to-image samples"],
    },
    "retrieval": {
        "titles": [
            "Dense Retrieval with {encoder} for {task}", "Retrieval-Augmented Generation over {corpus}",
            "Reranking Passages for {task}", "Learning to Index {corpus} for Search",
            "Hybrid Sparse and Dense Search over {corpus}", "Query Rewriting for {task}",
        ],
        "sentences": [
            "A {encoder} encoder maps queries and passages into one vector space for nearest-neighbour search.",
            "Retrieved passages from {corpus} are prepended to the prompt before the language model answers.",
            "BM25 remains a strong baseline for {task}, and combining it with dense scores helps further.",
            "Hard negatives mined from {corpus} make the contrastive training of the retriever much harder.",
            "A cross-encoder reranks the top {n} passages returned by the first-stage retriever.",
            "Recall at {n} improves when queries are rewritten before they reach the search index.",
            "The approximate nearest-neighbour index keeps search latency under ten milliseconds per query.",
            "Grounding answers in retrieved documents reduces hallucinated citations in {task}.",
            "They chunk documents of {corpus} into passages of a few hundred tokens before indexing.",
            "Late interaction keeps one vector per token and scores passages by maximum similarity.",
        ],
        "encoder": ["BERT", "ColBERT", "bi-encoder", "contriever"],
        "corpus": ["Wikipedia", "MS MARCO", "scientific papers", "web documents"],
        "task": ["open-domain question answering", "fact checking", "passage search", "multi-hop questions"],
    },
    "robotics": {
        "titles": [
            "{policy} Policies for Dexterous {skill}", "Sim-to-Real Transfer of {skill}",
            "Teleoperation Data for {robot} Manipulation", "Learning {skill} from Demonstrations on a {robot}",
            "Vision-Language-Action Models for {robot} Control", "Whole-Body Control of a {robot}",
        ],
        "sentences": [
            "The {robot} learns {skill} from {n} teleoperated demonstrations collected in a real kitchen.",
            "Policies trained in simulation transfer to the real {robot} with domain randomisation of friction.",
            "A {policy} policy predicts chunks of future joint actions from camera images.",
            "The gripper succeeds at {skill} in {n} out of twenty trials on unseen objects.",
            "Tactile sensors on the fingertips help the {robot} recover from slipping grasps.",
            "Action chunking smooths the motion of the arm and reduces compounding errors.",
            "The controller runs at fifty hertz on the onboard computer of the {robot}.",
            "Language instructions condition the {policy} policy so one model performs many {skill} tasks.",
            "Contact-rich {skill} needs force feedback that cameras alone do not provide.",
            "A low-level impedance controller tracks the end-effector poses the policy outputs.",
        ],
        "policy": ["diffusion", "transformer", "behaviour-cloning", "vision-language-action"],
        "skill": ["grasping", "in-hand manipulation", "cloth folding", "locomotion", "pick-and-place"],
        "robot": ["robot arm", "humanoid robot", "quadruped robot", "mobile manipulator"],
    },
}


@dataclass(frozen=True)
class GeneratedEntry:
    relpath: str
    topic: str
    title: str


def _fill(template: str, topic: dict[str, list[str]], rng: random.Random) -> str:
    slots = {key: rng.choice(values) for key, values in topic.items() if key not in ("titles", "sentences")}
    slots["n"] = str(rng.randint(3, 64))
    return template.format(**slots)


def write_topic_entry(root: Path, topic: str, day: date, rng: random.Random, *, serial: int) -> GeneratedEntry:
    """One hand-written-looking entry about ``topic``, read on ``day``, in its month folder."""
    spec = TOPICS[topic]
    title = _fill(rng.choice(spec["titles"]), spec, rng)
    sentences = [_fill(s, spec, rng) for s in rng.sample(spec["sentences"], 6)]
    name = f"{day.day}{day:%B}{topic.title()}{serial}.md"
    relpath = f"{day:%B %Y}/{name}"
    text = (f"# {title}\nDate read: {day.day} {day:%B %Y}\n\n"
            f"[arXiv link](https://arxiv.org/abs/{2400 + serial // 9000}.{10000 + serial % 9000:05d})\n\n"
            "## Key Points\n" + "".join(f"- {s}\n" for s in sentences[:3]) + "\n"
            "## Key Methods\n" + "".join(f"- {s}\n" for s in sentences[3:5]) + "\n"
            f"## Results\n- {sentences[5]}\n\n## My Notes\n")
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return GeneratedEntry(relpath, topic, title)


def write_topic_diary(root: Path, per_topic: int, *, topics: tuple[str, ...] = tuple(TOPICS), seed: int = 0,
                      start: date = date(2025, 1, 6)) -> list[GeneratedEntry]:
    """``per_topic`` entries of each topic, one a day, topics interleaved; returns them in date order."""
    rng = random.Random(seed)
    written = []
    for n in range(per_topic * len(topics)):
        written.append(write_topic_entry(root, topics[n % len(topics)], start + timedelta(days=n), rng, serial=n))
    return written
