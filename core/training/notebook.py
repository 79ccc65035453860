""""Open as notebook" for the Classifier Zoo's training runs: the embedder (book ch. 10) and the encoder
(ch. 11), reproduced with sentence-transformers / transformers called directly, on the same data
(shipped as ``data/*.json``) and settings. Each notebook measures before and after training and
prints ``LAB_RESULT {...}`` (the numbers a test, or a reader, compares with the lab's card).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from core.notebooks import Notebook
from core.settings import get_settings

EMBED_CHAPTER = {"number": 10, "title": "Creating Text Embedding Models", "section": "§10.3 contrastive learning"}
ENCODER_CHAPTER = {"number": 11, "title": "Fine-Tuning Representation Models for Classification",
                   "section": "§11.1 supervised classification"}


def _chapter(c: Mapping[str, Any]) -> Any:
    from apps.manifest import Chapter  # plain data: no UI import

    return Chapter(c["number"], c["title"], c["section"])


def _base_cell(hub_id: str) -> str:
    return (f"BASE = str(offline_asset('minilm')) if MODE == 'offline' else {hub_id!r}\n"
            "import torch\nDEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'\nBASE, DEVICE")


def _lab_note(lab: Mapping[str, Any] | None) -> str:
    if not lab:
        return "The lab has not trained this yet in your session: the numbers below are this notebook's own."
    return ("The lab's last run in your session measured: "
            + "; ".join(f"{k} {v}" for k, v in lab.items()) + ". Training on another machine (threads, "
            "GPU kernels) may shift the last digits; the direction of the change is the lesson.")


EMBED_EVAL = '''
import numpy as np

def retrieval(model, ks=(1, 5)):
    """hit@k and MRR of the held-out queries over the corpus (a query's own text excluded), as in the lab."""
    q = model.encode(pairs["eval_queries"], batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    c = model.encode(pairs["corpus"], batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    sims, groups = q @ c.T, np.array(pairs["corpus_groups"], dtype=object)
    hits, rr = {k: 0 for k in ks}, 0.0
    for i, query in enumerate(pairs["eval_queries"]):
        order = [j for j in np.argsort(-sims[i]) if pairs["corpus"][j] != query]
        relevant = groups[order] == pairs["eval_groups"][i]
        first = int(np.argmax(relevant)) if relevant.any() else None
        for k in ks:
            hits[k] += int(first is not None and first < k)
        rr += 1.0 / (first + 1) if first is not None else 0.0
    n = len(pairs["eval_queries"])
    return {**{f"hit@{k}": round(v / n, 4) for k, v in hits.items()}, "mrr": round(rr / n, 4)}
'''.strip()


def embedder_notebook(pairs: Any, steps: int, lr: float, batch: int, *, lab: Mapping[str, Any] | None = None,
                      seed: int = 42) -> Notebook:
    """The embedder run: MultipleNegativesRankingLoss on ``pairs`` (:class:`core.training.data.PairData`)."""
    from core.training.embedder import HUB_BASE

    settings = get_settings()
    params = {"pairs": pairs.name, "train_pairs": len(pairs.train), "steps": int(steps), "lr": float(lr),
              "batch": int(batch), "seed": seed}
    nb = Notebook("classifiers-embedder", "Train your own embedder", _chapter(EMBED_CHAPTER), params,
                  models=("embed-minilm",))
    data = {"name": pairs.name, "train": [list(t) for t in pairs.train], "eval_queries": pairs.eval_queries,
            "eval_groups": pairs.eval_groups, "corpus": pairs.corpus, "corpus_groups": pairs.corpus_groups}
    rel = nb.add_data("pairs.json", json.dumps(data).encode())
    nb.setup(["sentence-transformers", "transformers", "torch", "datasets", "accelerate", "numpy"], ["minilm"],
             mode=settings.mode)
    nb.md(_lab_note(lab))
    nb.section("§10.3 The base model and the data",
               "The embedder the lab starts from, and the (anchor, positive[, negative]) pairs it trained on.")
    nb.code(_base_cell(HUB_BASE))
    nb.code(f"import json\npairs = json.load(open({rel!r}))\nlen(pairs['train']), len(pairs['eval_queries'])")
    nb.section("§10.2 Evaluating an embedder", "Retrieval on held-out pairs: does a query's nearest text share its "
               "group (label, or answering passage)?")
    nb.code(EMBED_EVAL)
    nb.code("from sentence_transformers import SentenceTransformer\nfrom transformers import set_seed\n"
            f"set_seed({seed})\nmodel = SentenceTransformer(BASE, device=DEVICE)\nbefore = retrieval(model)\nbefore")
    nb.section("§10.3 Contrastive fine-tuning: MultipleNegativesRankingLoss",
               "Every other positive in the batch serves as a negative (larger batches help); the explicit "
               "negative of each triplet, when there is one, too.")
    nb.code(f'''
import tempfile
from datasets import Dataset
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses
from sentence_transformers.training_args import BatchSamplers

columns = {{"anchor": [a for a, _, _ in pairs["train"]], "positive": [p for _, p, _ in pairs["train"]]}}
if all(n for _, _, n in pairs["train"]):
    columns["negative"] = [n for _, _, n in pairs["train"]]
train = Dataset.from_dict(columns)
args = SentenceTransformerTrainingArguments(
    output_dir=tempfile.mkdtemp(), max_steps={int(steps)}, per_device_train_batch_size=min({int(batch)}, len(train)),
    learning_rate={float(lr)!r}, warmup_steps=0, lr_scheduler_type="linear", logging_steps=5, save_strategy="no",
    report_to=[], seed={seed}, data_seed={seed}, batch_sampler=BatchSamplers.NO_DUPLICATES, use_cpu=DEVICE == "cpu")
trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train,
                                     loss=losses.MultipleNegativesRankingLoss(model))
trainer.train()
after = retrieval(model)
print("LAB_RESULT " + json.dumps({{"before": before, "after": after, "steps": trainer.state.global_step}}))
''')
    nb.md("`model.save('my-embedder')` keeps it; `SentenceTransformer('my-embedder')` loads it back.")
    return nb


def encoder_notebook(data: Any, freeze_blocks: int, head_only: bool, steps: int, lr: float, batch: int = 16,
                     max_length: int = 64, *, lab: Mapping[str, Any] | None = None, seed: int = 42) -> Notebook:
    """The encoder run: a classification head on MiniLM / bert-base-cased, first N blocks frozen."""
    from core.training.data import cap_examples
    from core.training.encoder import HUB_BASE

    settings = get_settings()
    n = cap_examples(len(data.train_texts))
    params = {"data": data.name, "train": n, "test": len(data.test_texts), "freeze_blocks": int(freeze_blocks),
              "head_only": bool(head_only), "steps": int(steps), "lr": float(lr), "batch": int(batch), "seed": seed}
    nb = Notebook("classifiers-finetune", "Fine-tune the encoder", _chapter(ENCODER_CHAPTER), params,
                  models=("embed-minilm",))
    split = {"classes": list(data.classes), "train_texts": data.train_texts[:n], "train_labels": data.train_labels[:n],
             "test_texts": data.test_texts, "test_labels": data.test_labels}
    rel = nb.add_data("split.json", json.dumps(split).encode())
    nb.setup(["transformers", "torch", "datasets", "accelerate", "scikit-learn"], ["minilm"], mode=settings.mode)
    nb.md(_lab_note(lab))
    nb.section("§11.1 The pretrained encoder and a fresh classification head",
               "The same split the Classifier Zoo's Evaluate tab uses.")
    nb.code(_base_cell(HUB_BASE))
    nb.code(f'''
import json
from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed
split = json.load(open({rel!r}))
classes = split["classes"]
set_seed({seed})
tokenizer = AutoTokenizer.from_pretrained(BASE)
model = AutoModelForSequenceClassification.from_pretrained(
    BASE, num_labels=len(classes), id2label=dict(enumerate(classes)), label2id={{c: i for i, c in enumerate(classes)}})
''')
    nb.section("§11.1 Freezing layers", "Freeze the embeddings and the first N blocks (or all but the head): fewer "
               "trainable parameters, faster steps, usually a lower F1.")
    nb.code(f'''
FREEZE, HEAD_ONLY = {int(freeze_blocks)}, {bool(head_only)}
base = getattr(model, model.base_model_prefix)
blocks = base.encoder.layer
n = len(blocks) if HEAD_ONLY else min(FREEZE, len(blocks))
if n or HEAD_ONLY:
    base.embeddings.requires_grad_(False)
for block in list(blocks)[:n]:
    block.requires_grad_(False)
if HEAD_ONLY and getattr(base, "pooler", None) is not None:
    base.pooler.requires_grad_(False)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"{{trainable:,}} of {{total:,}} parameters trainable ({{trainable / total:.1%}})")
''')
    nb.code(f'''
import torch
from sklearn.metrics import f1_score

def f1():
    model.eval()
    pred = []
    for i in range(0, len(split["test_texts"]), 64):
        enc = tokenizer(split["test_texts"][i:i + 64], truncation=True, max_length={int(max_length)}, padding=True,
                        return_tensors="pt").to(model.device)
        with torch.no_grad():
            pred += model(**enc).logits.argmax(-1).tolist()
    return round(float(f1_score(split["test_labels"], [classes[p] for p in pred], average="weighted")), 4)

before = f1()
before
''')
    nb.section("§11.1 Training with the Trainer", "A few steps at the lab's settings (weighted F1 on the test split).")
    nb.code(f'''
import tempfile
from datasets import Dataset
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

index = {{c: i for i, c in enumerate(classes)}}
enc = tokenizer(split["train_texts"], truncation=True, max_length={int(max_length)})
train = Dataset.from_dict({{**enc, "labels": [index[c] for c in split["train_labels"]]}})
args = TrainingArguments(output_dir=tempfile.mkdtemp(), max_steps={int(steps)}, per_device_train_batch_size={int(batch)},
                         learning_rate={float(lr)!r}, warmup_steps=0, lr_scheduler_type="linear", weight_decay=0.01,
                         logging_steps=5, save_strategy="no", report_to=[], seed={seed}, data_seed={seed},
                         use_cpu=DEVICE == "cpu")
trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tokenizer))
trainer.train()
after = f1()
print("LAB_RESULT " + json.dumps({{"f1_before": before, "f1_after": after, "trainable": trainable, "total": total,
                                  "steps": trainer.state.global_step}}))
''')
    return nb
