import pytest
import torch

from lts_ros.config import TextConfig
from lts_ros.errors import LtsError
from lts_ros.model.text import WordTokenizer, build_text


def test_word_tokenizer_vocab_unknown_and_truncation():
    tok = WordTokenizer.build(["The red mug", "the duck, left"], max_tokens=4)
    assert tok.vocab[:2] == ["<pad>", "<unk>"] and "mug" in tok.vocab and "," in tok.vocab
    ids, mask = tok(["the RED giraffe", "the duck , left of the mug"])
    assert ids.shape == (2, 4) and ids.dtype == torch.long
    assert ids[0, 2] == 1  # unknown word -> <unk>
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]  # padded / truncated to max_tokens


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_expression_is_rejected(text):
    tok = WordTokenizer.build(["a"], 4)
    with pytest.raises(LtsError, match="expression is empty"):
        tok([text])


def test_bigru_needs_vocab():
    with pytest.raises(LtsError, match="vocabulary"):
        build_text(TextConfig(encoder="bigru"), None)


def test_minilm_offline_and_frozen():
    encoder, tokenizer = build_text(TextConfig(encoder="minilm", max_tokens=16, trainable=False), None)
    ids, mask = tokenizer(["the red mug", "a very long expression " * 10])
    assert ids.shape == (2, 16) and mask[1].all() and mask[0].sum() == 5  # [CLS] the red mug [SEP]
    features = encoder(ids, mask)
    assert features.words.shape == (2, 16, 384) and features.sentence.shape == (2, 384)
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.encoder.training  # frozen: no dropout noise
    again = encoder(ids, mask)
    assert torch.allclose(features.sentence, again.sentence)
