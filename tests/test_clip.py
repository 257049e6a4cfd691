"""The CLIP code path, offline. No CLIP ships in any package, so this builds a tiny randomly initialised
CLIPModel from a config and a word-level tokenizer in memory: it checks the mechanics (shapes, batching,
vectors for every frame and keyframe, the FAISS index, fusion with text hits), not meaning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

from videoqa import IndexSettings, VideoQA
from videoqa.models.clip import ClipEmbedder
from videoqa.models.registry import IndexModels
from videoqa.memory.ingest import ingest_video, models_for

from .conftest import video_path


@pytest.fixture(scope="module")
def tiny_clip() -> ClipEmbedder:
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 2,
                     "vocab_size": 64, "max_position_embeddings": 77},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 2,
                       "image_size": 64, "patch_size": 16},
        projection_dim=24,
    )
    model = CLIPModel(config).eval()
    vocab = {"[UNK]": 0, "[PAD]": 1, **{w: i + 2 for i, w in enumerate("a red car taxi bird street people frame".split())}}
    word_level = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, unk_token="[UNK]", pad_token="[PAD]")
    processor = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    return ClipEmbedder("tiny-random-clip", loaded=model, processor=processor, tokenizer=tokenizer)


def test_clip_embeds_images_and_texts_into_one_normalised_space(tiny_clip):
    images = [np.full((90, 160, 3), v, np.uint8) for v in (0, 128, 255)]
    vectors = tiny_clip.embed_images(images)
    queries = tiny_clip.embed_texts(["a red car", "bird"])
    assert vectors.shape == (3, 24) and queries.shape == (2, 24)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[2])


def test_ingest_with_clip_keeps_tags_and_adds_frame_vectors_that_search_uses(tmp_path, tiny_clip):
    settings = IndexSettings(clip_model="tiny-random-clip", speech_model=None, ocr=False)
    base = models_for(IndexSettings(speech_model=None, ocr=False))
    models = IndexModels(text=base.text, tagger=base.tagger, clip=tiny_clip)
    with VideoQA(store=tmp_path, index=settings) as api:
        video = ingest_video(api.store, video_path("bikes"), settings, models=models)
        conn = api.store.conn
        counts = dict(conn.execute("SELECT modality, count(*) FROM vectors WHERE kind IN ('frame','keyframe') GROUP BY modality"))
        assert counts["clip"] == counts["visual"] == video.frames + video.keyframes
        assert api.store.embedder("clip") == ("tiny-random-clip", 24)
        index = api.store.vector_index("clip")
        index.sync()
        assert index.index.ntotal == counts["clip"]
        from videoqa.memory.search import search

        moments = search(api.store, models, "a red car", None, k=5)
        assert moments and any({"frame", "keyframe"} & set(m.sources) for m in moments)
        assert all(0.0 <= m.score <= 1.0 and m.end <= video.duration + 1 for m in moments)
