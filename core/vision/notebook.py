"""Multimodal Captioner's "Open as notebook": zero-shot labels, the template comparison and the
image–text similarity matrix, with the libraries called directly, behind one ``MODE`` switch:

* ``offline`` — what :mod:`core.vision.offline` does: EfficientNet-Lite0 (efficientnet-lite-pytorch)
  ImageNet probabilities, labels matched to the classes by MiniLM (sentence-transformers);
* ``hub`` — the book's CLIP ViT-B/32 (``CLIPModel``/``CLIPProcessor``) and BLIP captions.

Built-in photos are read from scikit-image as the lab does; uploaded images go with the notebook
(``data/``, as the lab decoded them). The last cell prints ``LAB_RESULT`` with the label
probabilities, raw scores and the similarity matrix.
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping, Sequence

from core.notebooks import Notebook


def notebook(state: Mapping[str, Any], uploads: Sequence[tuple[str, bytes]] = (), *, app: Any) -> Notebook:
    """``state``: builtins (keys), labels, template, templates, captions (lists of text), cap_model;
    ``uploads``: (name, PNG bytes) of the other images, in the order the app lists them."""
    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core import catalogue
    from core.settings import get_settings
    from core.vision import offline
    from core.vision.images import BUILTINS, apply_template

    builtins = [b for b in BUILTINS if b.key in list(state.get("builtins") or [])]
    order = {k: i for i, k in enumerate(state.get("builtins") or [])}
    builtins.sort(key=lambda b: order[b.key])
    labels = list(state.get("labels") or [])
    template = str(state.get("template") or "{}")
    templates = [t for t in (state.get("templates") or []) if t]
    captions = list(state.get("captions") or [])
    apply_template(template, labels)  # refuses a template without its {} placeholder
    clip, blip = catalogue.get("clip-vit-b32"), catalogue.get("blip-caption-base")
    parameters = {"images": [b.key for b in builtins] + [n for n, _ in uploads], "labels": labels,
                  "template": template, "templates": templates, "captions": captions}
    nb = Notebook("vision", MANIFEST.title, MANIFEST.chapters[0], parameters=parameters,
                  models=("efficientnet-lite0", "embed-minilm") if get_settings().offline else ("clip-vit-b32",))
    files = [nb.add_data(name if name.lower().endswith(".png") else name + ".png", data) for name, data in uploads]
    nb.setup(["torch", "efficientnet-lite-pytorch", "sentence-transformers", "transformers", "scikit-image",
              "pillow", "numpy"], assets=["efficientnet-lite0", "imagenet-info", "minilm"], mode=get_settings().mode)
    nb.section("§9.1 The images", "Built-in photos come from scikit-image's bundled data (as in the lab); "
               "uploaded images are in `data/`, as the lab decoded them (RGB, downscaled to its size limit).")
    loaders = [(b.key, b.loader) for b in builtins]
    nb.code("import numpy as np\nimport skimage.data\nfrom PIL import Image\n\n"
            f"BUILTINS = {loaders!r}\nUPLOADS = {files!r}\n\n"
            "def builtin(loader):\n"
            "    arr = getattr(skimage.data, loader)()\n"
            "    arr = arr[0] if isinstance(arr, tuple) else arr  # stereo_motorcycle: (left, right, disparity)\n"
            "    return Image.fromarray(arr).convert('RGB')\n\n"
            "names = [k for k, _ in BUILTINS] + [p.split('/')[-1] for p in UPLOADS]\n"
            "images = [builtin(loader) for _, loader in BUILTINS] + [Image.open(p).convert('RGB') for p in UPLOADS]\n"
            "print(names, [im.size for im in images])")
    nb.section("§9.2 CLIP: zero-shot classification",
               "Each label goes through the template. On the Hub: CLIP's softmax over the prompts of "
               "logit scale × cosine. Offline (no CLIP weights in any package): EfficientNet-Lite0's ImageNet "
               "probabilities, each prompt matched to the image's top classes by MiniLM similarity.")
    nb.code(f"LABELS = {labels!r}\nTEMPLATE = {template!r}\nTEMPLATES = {templates!r}\nCAPTIONS = {captions!r}\n\n"
            "def fill(template, labels):\n    return [template.replace('{}', label) for label in labels]\n\n"
            "PROMPTS = fill(TEMPLATE, LABELS)\nprint(PROMPTS)")
    preprocess = "from typing import Any, Sequence\n\n\n" + inspect.getsource(offline.preprocess)
    nb.code("import torch\n\n"
            "if MODE == 'offline':\n"
            "    import contextlib, io\n"
            "    from efficientnet_lite_pytorch import EfficientNet\n"
            "    from sentence_transformers import SentenceTransformer\n\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        effnet = EfficientNet.from_pretrained('efficientnet-lite0', weights_path=str(\n"
            f"            offline_asset('efficientnet-lite0') / {offline.WEIGHTS!r})).eval()\n"
            "    minilm = SentenceTransformer(str(offline_asset('minilm')), device='cpu')\n\n"
            "    def embed(texts):\n"
            "        return minilm.encode(list(texts), batch_size=64, normalize_embeddings=True,\n"
            "                             convert_to_numpy=True, show_progress_bar=False).astype('float32')\n"
            "else:\n"
            "    from transformers import CLIPModel, CLIPProcessor\n\n"
            f"    clip = CLIPModel.from_pretrained({clip.hub_id!r}, revision={clip.hub_revision!r}).eval()\n"
            f"    processor = CLIPProcessor.from_pretrained({clip.hub_id!r}, revision={clip.hub_revision!r})\n\n"
            "    def clip_scores(texts):\n"
            "        inputs = processor(text=list(texts), images=images, return_tensors='pt', padding=True,\n"
            "                           truncation=True, max_length=77)\n"
            "        with torch.inference_mode():\n"
            "            out = clip(**inputs)\n"
            "        img = out.image_embeds / out.image_embeds.norm(dim=-1, keepdim=True)\n"
            "        txt = out.text_embeds / out.text_embeds.norm(dim=-1, keepdim=True)\n"
            "        return (img @ txt.T).numpy(), out.logits_per_image.softmax(dim=-1).numpy()")
    nb.md("Offline: what EfficientNet-Lite0 sees (the lab's preprocessing), its ImageNet probabilities, and the "
          "MiniLM embeddings of the class names and of *name: gloss* (the lab embeds all 1,000 once and caches "
          "them; only each image's top classes are ever compared, so the notebook embeds just those).")
    nb.code(preprocess + "\n\n"
            "if MODE == 'offline':\n"
            "    folder = offline_asset('imagenet-info')\n\n"
            "    def table(name):\n"
            "        rows = (ln.split('\\t', 1) for ln in (folder / name).read_text(encoding='utf-8').splitlines() if '\\t' in ln)\n"
            "        return {k.strip(): v.strip() for k, v in rows}\n\n"
            "    synsets = (folder / 'imagenet_synsets.txt').read_text().split()\n"
            "    lemma, gloss = table('imagenet_synset_to_lemma.txt'), table('imagenet_synset_to_definition.txt')\n"
            "    class_names = [lemma.get(s, s) for s in synsets]\n"
            "    short = [n.split(',')[0].strip() for n in class_names]\n"
            "    with torch.inference_mode():\n"
            "        probs = effnet(preprocess(images)).softmax(dim=-1).numpy()\n"
            "    # only the classes that represent an image (its top TOP_K) are ever compared: embed those\n"
            f"    need = sorted({{int(j) for p in probs for j in np.argsort(-p)[:{offline.TOP_K}]}})\n"
            "    names_emb = np.zeros((len(class_names), 384), dtype='float32')\n"
            "    glossed_emb = np.zeros_like(names_emb)\n"
            "    names_emb[need] = embed([class_names[j].replace(',', ' /') for j in need])\n"
            "    glossed_emb[need] = embed([f'{class_names[j]}: {gloss.get(synsets[j], \"\")}' for j in need])\n"
            "    for name, p in zip(names, probs):\n"
            "        top = np.argsort(-p)[:5]\n"
            "        print(name, [(short[j], round(float(p[j]), 3)) for j in top])")
    nb.code(f"TOP_K, SCALE = {offline.TOP_K}, {offline.LABEL_SCALE}\n\n"
            "def softmax_rows(z):\n    z = np.exp(z - z.max(axis=1, keepdims=True))\n    return z / z.sum(axis=1, keepdims=True)\n\n"
            "def zero_shot(prompts):\n"
            "    \"\"\"(probabilities, raw scores), images × prompts.\"\"\"\n"
            "    if MODE != 'offline':\n"
            "        cosine, p = clip_scores(prompts)\n"
            "        return p, cosine\n"
            "    lab = embed(prompts)\n"
            "    sim = np.maximum(lab @ names_emb.T, lab @ glossed_emb.T)  # label × class\n"
            "    raw = np.zeros((len(images), len(prompts)))\n"
            "    for i, p in enumerate(probs):\n"
            "        idx = np.argsort(-p)[:TOP_K]\n"
            "        raw[i] = sim[:, idx] @ (p[idx] / p[idx].sum())\n"
            "    return softmax_rows(raw * SCALE), raw\n\n"
            "label_probs, label_raw = zero_shot(PROMPTS)\n"
            "for name, row in zip(names, label_probs):\n"
            "    print(name, sorted(zip(LABELS, row.round(3)), key=lambda x: -x[1])[:3])\n"
            "template_probs = {t: zero_shot(fill(t, LABELS))[0].tolist() for t in TEMPLATES}")
    nb.section("§9.2 CLIP: image and text in one embedding space",
               "The similarity matrix of images × captions. Offline, an image is the probability-weighted "
               "MiniLM embedding of its top ImageNet classes (a proxy, not CLIP).")
    nb.code("sim_cosine = sim_probs = None\n"
            "if CAPTIONS:\n"
            "    if MODE == 'offline':\n"
            "        proxies = []\n"
            "        for p in probs:\n"
            "            idx = np.argsort(-p)[:TOP_K]\n"
            "            v = (p[idx][:, None] * glossed_emb[idx]).sum(axis=0)\n"
            "            proxies.append(v / (np.linalg.norm(v) or 1.0))\n"
            "        sim_cosine = np.stack(proxies) @ embed(CAPTIONS).T\n"
            "        sim_probs = softmax_rows(sim_cosine * SCALE)\n"
            "    else:\n"
            "        sim_cosine, sim_probs = clip_scores(CAPTIONS)\n"
            "    for name, row in zip(names, sim_cosine):\n"
            "        print(name, 'best caption:', CAPTIONS[int(np.argmax(row))])")
    nb.section("§9.3 Captions (BLIP, Hub)",
               "On the Hub the lab writes captions with BLIP (beam search) and re-ranks them by CLIP. Offline it has "
               "no captioning model: SmolLM2 writes captions from the top ImageNet classes instead (not shown here).")
    nb.code("if MODE != 'offline':\n"
            "    from transformers import BlipForConditionalGeneration, BlipProcessor\n\n"
            f"    blip_proc = BlipProcessor.from_pretrained({blip.hub_id!r}, revision={blip.hub_revision!r})\n"
            f"    blip = BlipForConditionalGeneration.from_pretrained({blip.hub_id!r}, revision={blip.hub_revision!r}).eval()\n"
            f"    N = {int(state.get('cap_n') or 3)}\n"
            "    for name, image in zip(names, images):\n"
            "        with torch.inference_mode():\n"
            "            out = blip.generate(**blip_proc(images=image, return_tensors='pt'), max_new_tokens=30,\n"
            "                                **({'num_beams': max(N, 3), 'num_return_sequences': N} if N > 1 else {}))\n"
            "        cands = list(dict.fromkeys(blip_proc.batch_decode(out, skip_special_tokens=True)))\n"
            "        cosine, _ = clip_scores(cands)\n"
            "        print(name, sorted(zip(cands, cosine[names.index(name)].round(3)), key=lambda x: -x[1]))")
    nb.section("The figures this notebook reproduces", "Compared by the lab's tests with what the app showed.")
    nb.code("import json\nprint('LAB_RESULT ' + json.dumps({'images': names, 'prompts': PROMPTS,\n"
            "    'probs': np.asarray(label_probs).tolist(), 'raw': np.asarray(label_raw).tolist(),\n"
            "    'templates': template_probs,\n"
            "    'sim_cosine': None if sim_cosine is None else np.asarray(sim_cosine).tolist(),\n"
            "    'sim_probs': None if sim_probs is None else np.asarray(sim_probs).tolist()}))")
    return nb

